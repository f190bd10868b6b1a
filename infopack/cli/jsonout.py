"""`--json` output: one envelope for every listing, so scripts read every command alike.

Each document is one JSON object whose `schema` names what it holds and its version
(`infopack/plan/1`); the other keys are the command's own. A script checks `schema`
before it trusts a field: a version changes only when a field changes meaning or goes.
Errors under `--json` are documents too (`infopack/error/1`, see infopack.cli).
"""

from __future__ import annotations

import json

import click

VERSION = 1


def schema(name: str) -> str:
    return f"infopack/{name}/{VERSION}"


def document(name: str, payload: dict, indent: int | None = 2) -> str:
    """The JSON text of one envelope: `schema` first, then the payload's keys."""
    return json.dumps({"schema": schema(name), **payload}, ensure_ascii=False, indent=indent)


def emit(name: str, payload: dict) -> None:
    click.echo(document(name, payload))
