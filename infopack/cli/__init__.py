"""The `infopack` command: a thin layer over the library, one module per command or group.

Errors meant for people become one line and a non-zero exit (2 for bad input, 1 for a
failed check); a traceback appears only with --debug.
"""

from __future__ import annotations

import os
import sys

import click

from infopack import __version__
from infopack.cli.build import build
from infopack.cli.cache import cache
from infopack.cli.cards import cards
from infopack.cli.init import init
from infopack.cli.keys import key, keygen
from infopack.cli.plan import plan
from infopack.cli.profiles import profiles
from infopack.cli.review import review
from infopack.cli.scan import scan
from infopack.cli.subs import subs
from infopack.cli.verify import approve, clean_card, verify
from infopack.errors import CheckFailed, InfopackError
from infopack.profiles import add_profile_dir
from infopack.tools import set_ffmpeg


class InfopackGroup(click.Group):
    """Turns InfopackError into one line; anything unexpected too, unless --debug."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CheckFailed as exc:
            click.echo(f"infopack: {exc.line()}", err=True)
            sys.exit(1)
        except InfopackError as exc:
            click.echo(f"infopack: {exc.line()}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("infopack: interrupted; nothing half-written was left in place", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if os.environ.get("INFOPACK_DEBUG"):
                raise
            click.echo(f"infopack: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                       err=True)
            sys.exit(3)


@click.group(cls=InfopackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="infopack")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.option("--ffmpeg", "ffmpeg_path", metavar="PATH", help="ffmpeg binary to use (or set INFOPACK_FFMPEG).")
@click.option("--profiles", "profiles_dir", metavar="DIR", help="Extra folder of device profiles (TOML).")
def cli(debug: bool, ffmpeg_path: str | None, profiles_dir: str | None) -> None:
    """infopack: package media for USB sticks and microSD cards, stripped, signed and verifiable."""
    if debug:
        os.environ["INFOPACK_DEBUG"] = "1"
    if ffmpeg_path:
        set_ffmpeg(ffmpeg_path)
    if profiles_dir:
        add_profile_dir(profiles_dir)


for _command in (init, plan, build, keygen, key, scan, subs, cards, verify, approve, clean_card, profiles, review,
                 cache):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="infopack")
