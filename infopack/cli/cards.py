"""`infopack cards ...`: the card classes, and measuring a real card. A thin layer over cards.py."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from infopack.cli.jsonout import emit
from infopack.fat.catalog import card_names, load_card, measure_card


@click.group("cards")
def cards() -> None:
    """Card classes and measured card types."""


@cards.command("list")
@click.option("--measured-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of measured card types (default ~/.config/infopack/cards).")
@click.option("--json", "as_json", is_flag=True, help="Print the card types as JSON (schema infopack/cards/1).")
def list_cards(measured_dir: str | None, as_json: bool) -> None:
    """Show every card class: bytes usable for files, cluster size, file system."""
    found = [load_card(name, measured_dir) for name in card_names(measured_dir)]
    if as_json:
        emit("cards", {"cards": [{"name": c.name, "usable_bytes": c.usable_bytes, "cluster_bytes": c.cluster_bytes,
                                  "filesystem": c.filesystem, "nominal_bytes": c.nominal_bytes,
                                  "source": "measured" if c.measured else "catalog"} for c in found]})
        return
    table = Table("card", "usable bytes", "cluster", "file system", "source")
    for card in found:
        table.add_row(card.name, f"{card.usable_bytes:,}", f"{card.cluster_bytes // 1024} KiB"
                      if card.cluster_bytes >= 1024 else f"{card.cluster_bytes} B",
                      card.filesystem.upper(), "measured" if card.measured else "catalog")
    Console().print(table)


@cards.command("measure")
@click.argument("mountpoint", type=click.Path(exists=True, file_okay=False))
@click.option("--name", required=True, help="Name for this card type, e.g. 'batch-16gb-blue'.")
@click.option("--measured-dir", type=click.Path(file_okay=False), default=None,
              help="Where to save it (default ~/.config/infopack/cards).")
def measure(mountpoint: str, name: str, measured_dir: str | None) -> None:
    """Record the free space of a mounted, freshly formatted card as card type NAME.

    Measure the smallest card of a batch; then pack with `--card NAME`.
    """
    path = measure_card(mountpoint, name, measured_dir)
    card = load_card(name, measured_dir=str(path.parent))
    click.echo(f"{card.name}: {card.usable_bytes:,} bytes usable, {card.cluster_bytes:,}-byte clusters, "
               f"{card.filesystem.upper()} -> {path}")
