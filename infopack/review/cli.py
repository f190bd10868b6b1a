"""`infopack review ...`: serve the review app, summarise, export and import decisions."""

from __future__ import annotations

import click


@click.group()
def review() -> None:
    """Review a built bundle in Korean (or English) and record decisions per item."""
