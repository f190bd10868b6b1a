"""`infopack plan`: which items land on which card, before any encode."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infopack.manifest import load_manifest
from infopack.plan import make_plan


@click.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("--fit", is_flag=True, help="Plan at fitted video rates, as `build --fit` would encode them.")
def plan(manifest: Path, fit: bool) -> None:
    """Show which items land on which card and how full each is, before any transcoding."""
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
    print_subtitles(console, result)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    for problem in result.result.problems + result.subtitle_problems:
        console.print(f"[red]problem:[/red] {problem}")
    if result.result.problems or result.subtitle_problems:
        sys.exit(1)


def print_subtitles(console: Console, result) -> None:
    """Which source each video's subtitles come from; a video without Korean subtitles stands out."""
    planned = [(item_id, p.subtitles) for item_id, p in result.items.items() if p.subtitles is not None]
    if planned:
        console.print("subtitles:")
    for item_id, subs in planned:
        style = "red" if subs.problem or subs.flagged else ""
        line = escape(subs.line())
        console.print(f"  {item_id}: " + (f"[{style}]{line}[/{style}]" if style else line))
