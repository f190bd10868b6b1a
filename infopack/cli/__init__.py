"""The `infopack` command: a thin layer over the library.

Errors meant for people become one line and a non-zero exit (2 for bad input, 1 for a
failed check); a traceback appears only with --debug.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from infopack import __version__
from infopack.errors import CheckFailed, InfopackError


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
        from infopack.tools import set_ffmpeg
        set_ffmpeg(ffmpeg_path)
    if profiles_dir:
        from infopack.profiles import add_profile_dir
        add_profile_dir(profiles_dir)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing infopack.toml.")
@click.option("--profile", default="notel-480p", show_default=True)
@click.option("--card", default="8GB", show_default=True)
def init(folder: Path, force: bool, profile: str, card: str) -> None:
    """Write a starter manifest (FOLDER/infopack.toml) from a folder of media."""
    from infopack.manifest.init import init_manifest
    from infopack.manifest import load_manifest
    path = init_manifest(folder, force=force, profile=profile, card=card)
    bundle = load_manifest(path)
    click.echo(f"wrote {path} with {len(bundle.items)} items; edit the titles, then run `infopack plan {path}`")


@cli.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path), help="Curator's private key.")
@click.option("--role", "key_role", type=click.Choice(["curator"]), default=None,
              help="The key's role, for a key made by `minisign -G` (which records none).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Items encoded side by side "
              "(default: number of cores).")
@click.option("--image", is_flag=True, help="Also write OUT/card-NN.img, a FAT32 image to flash onto cards.")
@click.option("--image-size", type=click.Choice(["card", "content"]), default="card", show_default=True,
              help="Image as large as the card class, or just large enough for the content.")
@click.option("--fit", is_flag=True, default=None, help="Fit video bitrates so the bundle fills its cards "
              "(default: the manifest's `fit`).")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), default=None,
              help="Encode cache folder (default: $INFOPACK_CACHE, else ~/.cache/infopack).")
@click.option("--no-cache", is_flag=True, help="Encode everything; neither read nor write the cache.")
@click.option("--json", "json_events", is_flag=True, help="Print one JSON event per line on stdout.")
@click.option("--print-commands", is_flag=True, help="Print every encode and validation command (ffmpeg, "
              "ffprobe) as it runs, shell-quoted.")
@click.option("--require-approval", "policy_path", type=click.Path(path_type=Path), default=None,
              metavar="POLICY", help="Build only items the policy's reviewers approved in OUT's signed manifests.")
@click.option("--unapproved", type=click.Choice(["leave-out", "fail"]), default="leave-out", show_default=True,
              help="With --require-approval: leave unapproved items out (listed), or fail the build.")
def build(manifest: Path, out: Path, key_path: Path, jobs: int | None, image: bool, image_size: str,
          fit: bool | None, cache_dir: Path | None, no_cache: bool, json_events: bool, print_commands: bool,
          policy_path: Path | None, unapproved: str, key_role: str | None) -> None:
    """Build and sign the cards of a bundle into OUT (reusing cached encodes; safe to rerun after a kill)."""
    from infopack.build import build as run_build
    from infopack.release.keys import load_curator_key
    from infopack.manifest import load_manifest
    from infopack.tools import set_command_log

    bundle = load_manifest(manifest)             # fail on a bad manifest before asking for a passphrase
    exclude, approved = _approval_gate(bundle, out, policy_path, unapproved) if policy_path else ({}, None)
    key = load_curator_key(key_path, out, prompt=click.prompt, role=key_role,
                           warn=lambda msg: click.echo(f"infopack: warning: {msg}", err=True))
    report = _progress_printer(json_events)
    if print_commands:
        set_command_log(_command_printer(json_events))
    try:
        result = run_build(bundle, out, key, jobs=jobs, image=image, progress=report, fit=fit,
                           image_size=image_size, cache=cache_dir, use_cache=not no_cache,
                           exclude=exclude, approved=approved)
    finally:
        report.close()
        set_command_log(None)
    if json_events:
        return                                   # the "done" event is the summary
    for card in result.cards:
        click.echo(f"{card.card_id}: {len(card.items)} items, {card.files} files, "
                   f"{card.used_bytes:,} of {card.usable_bytes:,} usable bytes "
                   f"({100 * card.used_bytes / card.usable_bytes:.2f}%)")
    for item_id in result.left_out:
        click.echo(f"left out: {item_id} ({result.left_out_reasons.get(item_id, 'did not fit')})")
    click.echo(f"signed manifests and SHA256SUMS are in {out} (keep them off the cards)")


def _approval_gate(bundle, out: Path, policy_path: Path, unapproved: str):
    """(items to leave out -> reason, approved items -> their approved files) from OUT's approvals."""
    from infopack.release.gate import review_gate
    reasons, approved = review_gate(out, policy_path, [item.id for item in bundle.items])
    if reasons and unapproved == "fail":
        listed = "; ".join(f"{item}: {why}" for item, why in reasons.items())
        raise CheckFailed(policy_path, f"{len(reasons)} item(s) not approved as the policy requires: {listed}")
    if len(reasons) == len(bundle.items):
        raise CheckFailed(policy_path, f"no item of {bundle.id} is approved as the policy requires "
                                       f"(approvals are read from the signed manifests in {out})")
    return reasons, approved


def _progress_printer(json_events: bool = False):
    """Bars on a terminal, one line per finished item otherwise, JSON lines with --json."""
    from infopack.progress import make_reporter
    return make_reporter(json_lines=json_events, stream=sys.stdout if json_events else None)


def _command_printer(json_events: bool):
    """--print-commands: one shell-quoted command per line (stderr when stdout carries JSON events)."""
    import shlex
    import threading
    lock = threading.Lock()

    def show(args: list[str]) -> None:
        with lock:
            click.echo(shlex.join(args), err=json_events)
    return show


@cli.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("--fit", is_flag=True, help="Plan at fitted video rates, as `build --fit` would encode them.")
def plan(manifest: Path, fit: bool) -> None:
    """Show which items land on which card and how full each is, before any transcoding."""
    from rich.console import Console
    from rich.table import Table
    from infopack.manifest import load_manifest
    from infopack.plan import make_plan
    result = make_plan(load_manifest(manifest), fit=fit)
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"bundle {result.bundle.id}: {len(result.bundle.items)} items, profile {result.profile.id}, "
                  f"card {result.card.name} ({result.card.usable_bytes:,} usable bytes, "
                  f"{result.card.cluster_bytes // 1024} KiB clusters, {result.card.filesystem})")
    if result.fitted:
        console.print(f"video rates fitted to the card (two-pass) for {len(result.fitted)} items")
    table = Table("card", "item", "title", "kind", "duration", "video kb/s", "estimated bytes")
    for card in result.result.cards:
        for item_id in card.items:
            planned = result.items[item_id]
            item = next(i for i in result.bundle.items if i.id == item_id)
            table.add_row(card.card_id, item_id, item.title, planned.info.kind,
                          f"{planned.info.duration:.1f} s" if planned.info.duration else "-",
                          f"{planned.video_bitrate // 1000}" if planned.video_bitrate else "-",
                          f"{sum(planned.sizes.values()):,}")
        table.add_row(card.card_id, "[b]fill[/b]", "", "", "", "",
                      f"[b]{card.used_bytes:,} ({card.fill_percent:.1f}%)[/b]", end_section=True)
    console.print(table)
    if result.result.left_out:
        console.print("left out (does not fit within max_cards): " + ", ".join(result.result.left_out))
    for problem in result.result.problems:
        console.print(f"[red]problem:[/red] {problem}")
    if result.result.problems:
        sys.exit(1)


def _register_plugins() -> None:
    """Command groups that live beside their stage's module."""
    from infopack.cli.cache import cache
    from infopack.cli.cards import cards
    from infopack.cli.keys import key, keygen
    from infopack.cli.profiles import profiles
    from infopack.cli.review import review
    from infopack.cli.scan import scan
    from infopack.cli.subs import subs
    from infopack.cli.verify import approve, clean_card, verify
    for command in (keygen, key, scan, subs, cards, verify, approve, clean_card, profiles, review, cache):
        cli.add_command(command)


_register_plugins()


def main() -> None:
    cli(prog_name="infopack")
