"""`infopack init FOLDER`: a starter manifest, with the titles it read from the file names."""

from __future__ import annotations

from pathlib import Path

import click

from infopack.manifest import load_manifest
from infopack.manifest.init import init_manifest


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing infopack.toml.")
@click.option("--profile", default="notel-480p", show_default=True)
@click.option("--card", default="8GB", show_default=True)
def init(folder: Path, force: bool, profile: str, card: str) -> None:
    """Write a starter manifest (FOLDER/infopack.toml) from a folder of media.

    Prints the title, series and episode read from each file name: titles become the file
    names on the card, so check them.
    """
    starter = init_manifest(folder, force=force, profile=profile, card=card)
    for line in starter.lines:
        click.echo(f"  {line}")
    bundle = load_manifest(starter.path)
    click.echo(f"wrote {starter.path} with {len(bundle.items)} items; check the titles above "
               f"(they become the names on the card), then run `infopack plan {starter.path}`")
