"""The `infopack` command: a thin layer over the library, one module per command or group.

Errors meant for people become one line and a non-zero exit (2 for bad input, 1 for a
failed check); a traceback appears only with --debug. A command given `--json` prints its
errors as JSON on stdout too (`{"schema": "infopack/error/1", "error", "path", "exit"}`).
"""

from __future__ import annotations

import os
import sys

import click

from infopack import __version__
from infopack.cli.build import build
from infopack.cli.cache import cache
from infopack.cli.cards import cards
from infopack.cli.copy import copy
from infopack.cli.init import init
from infopack.cli.jsonout import document
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

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["infopack.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CheckFailed as exc:
            _fail(ctx, f"infopack: {exc.line()}", exc, 1)
        except InfopackError as exc:
            _fail(ctx, f"infopack: {exc.line()}", exc, 2)
        except KeyboardInterrupt:
            _fail(ctx, "infopack: interrupted; nothing half-written was left in place", None, 130)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if os.environ.get("INFOPACK_DEBUG"):
                raise
            _fail(ctx, f"infopack: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                  None, 3)


def _fail(ctx: click.Context, line: str, exc: InfopackError | None, code: int) -> None:
    """The error's line on stderr; under --json also a JSON document on stdout, for the script."""
    click.echo(line, err=True)
    if ctx.meta.get("infopack.json"):        # one line: `build --json` prints one JSON event per line
        click.echo(document("error", {"error": exc.problem if exc else line.removeprefix("infopack: "),
                                      "path": exc.path if exc else None, "exit": code}, indent=None))
    sys.exit(code)


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


for _command in (init, plan, build, copy, keygen, key, scan, subs, cards, verify, approve, clean_card, profiles,
                 review, cache):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="infopack")
