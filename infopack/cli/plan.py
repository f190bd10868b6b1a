"""`infopack plan`: which items land on which card, before the build."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infopack.build.cache import Cache
from infopack.cli.jsonout import emit
from infopack.cli.progress import step_bar
from infopack.manifest import load_manifest
from infopack.plan import Plan, make_plan


@click.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("--fit", is_flag=True, help="Plan at fitted video rates, as `build --fit` would encode them.")
@click.option("--fast", is_flag=True, help="No sample encodes: plan at the profile's caps (an upper side, "
              "often three times the real size).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None,
              help="Sample encodes side by side (default: number of cores).")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), default=None,
              help="Encode cache folder, where sample sizes are kept for the next plan and the build "
                   "(default: $INFOPACK_CACHE, else ~/.cache/infopack).")
@click.option("--no-cache", is_flag=True, help="Neither read nor keep sample sizes.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (schema infopack/plan/1).")
def plan(manifest: Path, fit: bool, fast: bool, jobs: int | None, cache_dir: Path | None, no_cache: bool,
         as_json: bool) -> None:
    """Show which items land on which card and how full each is, before the build.

    Videos are estimated from short sample encodes with the profile's own command (a few
    seconds each, kept in the encode cache: the build reuses them); the build makes the
    cards printed here unless a card's real sizes overflow it, and then says why.
    """
    bundle = load_manifest(manifest)
    bar = step_bar("sample encodes")

    def progress(event: dict) -> None:
        if event["event"] == "sampling":
            bar.update(total=event["windows"], completed=event["windows"] - event["to_encode"])
        elif event["event"] == "sampled":
            bar.update(completed=event["done"])

    try:
        result = make_plan(bundle, fit=fit, fast=fast, memo=None if no_cache else Cache(cache_dir), jobs=jobs,
                           progress=progress)
    finally:
        bar.close()
    if as_json:
        emit("plan", result.to_dict())
    else:
        _print_plan(result)
    if result.result.problems or result.subtitle_problems:
        sys.exit(1)


def _print_plan(result: Plan) -> None:
    console = Console(highlight=False, soft_wrap=True)
    card = result.card
    console.print(f"bundle {escape(result.bundle.id)}: {len(result.bundle.items)} items, profile {result.profile.id}, "
                  f"card {card.name} ({card.usable_bytes:,} usable bytes, "
                  f"{card.cluster_bytes // 1024} KiB clusters, {card.filesystem})")
    if result.fast:
        console.print("--fast: sizes are the profile's caps (an upper side); the build packs sample estimates "
                      "and may need fewer cards")
    else:
        sampled = sum(p.sampled for p in result.items.values())
        if sampled:
            console.print(f"{sampled} video(s) estimated from sample encodes; cards packed with "
                          f"{result.to_dict()['headroom']:.0%} headroom on those sizes")
    if result.fitted:
        console.print(f"video rates fitted to the card (two-pass) for {len(result.fitted)} items")
    titles = {item.id: item.title for item in result.bundle.items}
    table = Table("card", "item", "title", "kind", "duration", "video kb/s", "estimated bytes")
    for plan_card in result.result.cards:
        for item_id in plan_card.items:
            planned = result.items[item_id]
            table.add_row(plan_card.card_id, item_id, escape(titles[item_id]), planned.info.kind,
                          f"{planned.info.duration:.1f} s" if planned.info.duration else "-",
                          f"{planned.video_bitrate // 1000}" if planned.video_bitrate else "-",
                          f"{sum(planned.sizes.values()):,}" + ("" if planned.sampled or result.fast else " *"))
        used = result.estimated_bytes(plan_card.card_id)
        table.add_row(plan_card.card_id, "[b]fill[/b]", "", "", "", "",
                      f"[b]{used:,} ({100 * used / card.usable_bytes:.1f}%)[/b]", end_section=True)
    console.print(table)
    if any(not p.sampled for p in result.items.values()) and not result.fast:
        console.print("* by the kind's model (audio at its bitrate, images by their pixels, fitted videos "
                      "at their fitted rate)")
    for split in result.splits:
        console.print(f"[yellow]{escape(split.line())}[/yellow]")
    if result.result.left_out:
        console.print("left out (does not fit within max_cards): " + ", ".join(result.result.left_out))
    print_subtitles(console, result)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    for problem in result.result.problems + result.subtitle_problems:
        console.print(f"[red]problem:[/red] {escape(problem)}")


def print_subtitles(console: Console, result: Plan) -> None:
    """Which source each video's subtitles come from; a video without Korean subtitles stands out."""
    planned = [(item_id, p.subtitles) for item_id, p in result.items.items() if p.subtitles is not None]
    if planned:
        console.print("subtitles:")
    for item_id, subs in planned:
        style = "red" if subs.problem or subs.flagged else ""
        line = escape(subs.line())
        console.print(f"  {item_id}: " + (f"[{style}]{line}[/{style}]" if style else line))
