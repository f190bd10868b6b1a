"""`infopack copy OUT/card-NN /media/card`: a thin layer over `infopack.qa.copy`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from infopack.cli.jsonout import emit
from infopack.cli.progress import bar_feed, step_bar
from infopack.cli.verify import print_reports, trust_from
from infopack.errors import UsageError
from infopack.qa.copy import copy_card
from infopack.qa.verify import summary_level
from infopack.release.outdir import OutDir


@click.command("copy")
@click.argument("card_dir", metavar="OUT/card-NN", type=click.Path(path_type=Path, file_okay=False))
@click.argument("target", metavar="MOUNTED_CARD", type=click.Path(path_type=Path, file_okay=False))
@click.option("--pubkey", type=click.Path(path_type=Path), help="Curator's public key.")
@click.option("--policy", type=click.Path(path_type=Path), help="Trust policy instead of --pubkey.")
@click.option("--manifest", type=click.Path(path_type=Path, dir_okay=False),
              help="The card's manifest (default: OUT/card-NN.manifest.json beside the card folder).")
@click.option("--clean", is_flag=True, help="Remove what is on the target but not on the card (after asking).")
@click.option("--yes", is_flag=True, help="With --clean: remove without asking.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (schema infopack/copy/1).")
def copy(card_dir: Path, target: Path, pubkey: Path | None, policy: Path | None, manifest: Path | None,
         clean: bool, yes: bool, as_json: bool) -> None:
    """Copy a built card onto a mounted card, flush it, and verify it there against the signed manifest.

    Checks the signature and the free space (in the card's clusters) before writing;
    refuses a card holding other files unless --clean. Safe to run again after an
    interruption: whole files already there are kept. Exit 0: copied and verified.
    """
    trust = trust_from(pubkey, policy)
    if not card_dir.is_dir():
        raise UsageError(card_dir, "no such card folder (give OUT/card-NN of a build)")
    manifest = manifest or OutDir(card_dir.parent).manifest_path(card_dir.name)
    bar = step_bar(f"copying {card_dir.name}", in_bytes=True)
    try:
        result = copy_card(card_dir, manifest, target, trust, clean=clean, confirm=_confirmer(yes, as_json),
                           progress=bar_feed(bar, "copying", "copied"))
    finally:
        bar.close()
    if as_json:
        emit("copy", result.to_dict())
    else:
        for removed in result.removed:
            click.echo(f"removed {removed}")
        click.echo(f"{card_dir.name} -> {target}: {len(result.copied)} file(s) copied ({result.bytes_written:,} "
                   f"bytes), {len(result.kept)} already there; flushed")
        print_reports([result.report])
    sys.exit(summary_level([result.report]))


def _confirmer(yes: bool, as_json: bool):
    def confirm(paths: list[str]) -> bool:
        if yes:
            return True
        if as_json:
            raise UsageError(None, "--clean under --json needs --yes (nobody can answer the question)")
        for path in paths[:20]:
            click.echo(f"  {path}", err=True)
        if len(paths) > 20:
            click.echo(f"  ... and {len(paths) - 20} more", err=True)
        return click.confirm(f"Remove these {len(paths)} file(s) and folder(s) from the card?", err=True)
    return confirm
