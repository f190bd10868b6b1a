"""`infopack cache stats|prune`: the content-addressed encode cache."""

from __future__ import annotations

import click


@click.group()
def cache() -> None:
    """Inspect and prune the encode cache (~/.cache/infopack by default)."""
