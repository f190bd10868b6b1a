"""`infopack scan PATH... [--json]`: a thin layer over `infopack.scan`.

Prints one row per finding (check, level, file, message) or, when nothing is found,
"clean: N files, no identifying metadata found". Exit status 1 when any finding is an
error, 0 otherwise, so the build and QA scripts can gate on it.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from infopack.checks import has_errors
from infopack.cli.jsonout import emit
from infopack.cli.progress import bar_feed, step_bar
from infopack.scan import count_files, scan_paths

_LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


@click.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON for scripts.")
def scan(paths: tuple[str, ...], as_json: bool) -> None:
    """Report identifying metadata (tags, EXIF, encoder strings, Red Star trailers) in
    media, image and subtitle files; folders are scanned recursively."""
    paths_list = list(paths)
    bar = step_bar("scanning")
    try:
        findings = scan_paths(paths_list, progress=bar_feed(bar, "scanning", "scanned", size="files"))
    finally:
        bar.close()
    files = count_files(paths_list)
    if as_json:
        emit("scan", {"files": files, "clean": not findings, "findings": [f.to_dict() for f in findings]})
    elif findings:
        _print_table(findings)
    else:
        click.echo(f"clean: {files} files, no identifying metadata found")
    sys.exit(1 if has_errors(findings) else 0)


def _print_table(findings) -> None:

    table = Table(show_lines=False)
    for column in ("check", "level", "file", "message"):
        table.add_column(column, overflow="fold")
    for f in findings:   # Text, not markup: messages quote tags such as "[0][0][0][0]"
        table.add_row(Text(f.check), Text(f.level, style=_LEVEL_STYLE.get(f.level, "")),
                      Text(f.path), Text(f.message))
    console = Console(soft_wrap=False)
    console.print(table)
    errors = sum(f.level == "error" for f in findings)
    console.print(f"{len(findings)} finding(s), {errors} error(s)", markup=False)
