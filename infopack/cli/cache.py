"""`infopack cache stats|prune`: the content-addressed encode cache."""

from __future__ import annotations

import time
from pathlib import Path

import click

from infopack.build.cache import Cache
from infopack.cli.jsonout import emit
from infopack.errors import UsageError

CACHE_OPTION = click.option("--cache", "cache_dir", type=click.Path(path_type=Path), default=None,
                            help="Cache folder (default: $INFOPACK_CACHE, else ~/.cache/infopack).")


@click.group()
def cache() -> None:
    """Inspect and prune the encode cache (~/.cache/infopack by default)."""


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "-"


@cache.command()
@CACHE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (schema infopack/cache-stats/1; times in "
              "seconds since 1970).")
def stats(cache_dir: Path | None, as_json: bool) -> None:
    """Entries, bytes, and the oldest and newest use."""
    store = Cache(cache_dir)
    s = store.stats()
    if as_json:
        emit("cache-stats", {"cache": str(store.root), "entries": s.entries, "bytes": s.bytes,
                             "oldest_use": s.oldest_use, "newest_use": s.newest_use})
        return
    click.echo(f"cache {store.root}: {s.entries} entries, {s.bytes:,} bytes, "
               f"oldest use {_when(s.oldest_use)}, newest use {_when(s.newest_use)}")


@cache.command()
@CACHE_OPTION
@click.option("--max-bytes", type=click.IntRange(0), default=None,
              help="Remove the least recently used entries until at most this many bytes remain.")
@click.option("--older-than", "older_than", type=click.FloatRange(0), default=None, metavar="DAYS",
              help="Remove entries not used for this many days.")
@click.option("--all", "everything", is_flag=True, help="Empty the cache.")
def prune(cache_dir: Path | None, max_bytes: int | None, older_than: float | None, everything: bool) -> None:
    """Remove entries; the next build encodes what it needs again."""
    if max_bytes is None and older_than is None and not everything:
        raise UsageError(None, "say what to prune: --max-bytes N, --older-than DAYS or --all")
    store = Cache(cache_dir)
    removed, freed = store.prune(max_bytes=max_bytes, older_than_days=older_than, everything=everything)
    left = store.stats()
    click.echo(f"removed {removed} entries ({freed:,} bytes); {left.entries} entries, {left.bytes:,} bytes left")
