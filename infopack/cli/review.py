"""`infopack review ...`: serve the review app, summarise, sign, export and import decisions."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infopack.cli.jsonout import emit
from infopack.errors import UsageError
from infopack.review import decisions as dec
from infopack.review.export import write_export_html
from infopack.review.model import load_bundle
from infopack.review.server import ReviewApp, make_server, url_for
from infopack.release.approve import load_approver_key
from infopack.review.signoff import reviewer_id, sign_review

LANG = click.Choice(["ko", "en"])
ROLE = click.option("--role", type=click.Choice(["reviewer", "qa"]), default=None,
                    help="The key's role, for a key made by `minisign -G` (which records none).")


def _warn(message: str) -> None:
    click.echo(f"infopack: warning: {message}", err=True)


@click.group()
def review() -> None:
    """Review a built bundle in Korean (or English) and record decisions per item."""


@review.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--lang", type=LANG, default="ko", show_default=True, help="Interface language.")
@click.option("--key", "key_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Reviewer's key: decisions are saved under its key id; a private key (.key) also "
                   "enables the sign-off button. Without it the review is 'anonymous' and cannot be signed.")
@ROLE
def serve(out: Path, port: int, lang: str, key_path: Path | None, role: str | None) -> None:
    """Serve the review app on 127.0.0.1 and print its URL (with its access token)."""
    view = load_bundle(out)
    key = None
    if key_path is not None and key_path.suffix != ".pub":
        key = load_approver_key(key_path, out, prompt=click.prompt, role=role, warn=_warn)
        reviewer = key.public.key_id_hex
    else:
        reviewer = reviewer_id(key_path)
    app = ReviewApp(view, lang, reviewer, signing_key=key)
    server = make_server(app, port)
    click.echo(url_for(server, app), nl=True)
    click.echo("press Ctrl+C to stop; decisions are saved after every click", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@review.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (schema infopack/review-status/1).")
def status(out: Path, as_json: bool) -> None:
    """Summarise every reviewer's decisions per item."""
    view = load_bundle(out, transcripts=False)
    reviews = dec.load_all(out)
    if as_json:
        emit("review-status", {"reviewers": list(reviews), "items": [
            {"id": item.id, "title": item.title,
             "decisions": {who: found[item.id].to_dict() for who, found in reviews.items() if item.id in found},
             "approvals": sum(1 for found in reviews.values()
                              if item.id in found and found[item.id].decision == dec.APPROVE)}
            for item in view.items]})
        return
    if not reviews:
        click.echo(f"no reviews yet in {dec.reviews_dir(out)}")
        return
    style = {dec.APPROVE: "green", dec.CHANGES: "yellow", dec.REJECT: "red"}
    table = Table("item", "title", *reviews.keys(), "approved")
    for item in view.items:
        cells = []
        for decisions in reviews.values():
            d = decisions.get(item.id)
            cells.append("-" if d is None else f"[{style[d.decision]}]{d.decision}[/]"
                         + (f": {escape(d.comment)}" if d.comment else ""))
        approvals = sum(1 for r in reviews.values() if item.id in r and r[item.id].decision == dec.APPROVE)
        table.add_row(item.id, escape(item.title), *cells, f"{approvals}/{len(reviews)}")
    Console(highlight=False, soft_wrap=True, width=200).print(table)


@review.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Reviewer's private key.")
@click.option("--note", default="", help="One line recorded in the signed comment.")
@ROLE
def sign(out: Path, key_path: Path, note: str, role: str | None) -> None:
    """Sign the review: approve (infopack approve) exactly the items approved in the app."""
    key = load_approver_key(key_path, out, prompt=click.prompt, role=role, warn=_warn)
    items = sign_review(out, key, note)
    click.echo(f"signed approval of {', '.join(items)} with reviewer key {key.public.key_id_hex}")


@review.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--html", "html_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The HTML file to write.")
@click.option("--lang", type=LANG, default="ko", show_default=True)
@click.option("--key", "key_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Reviewer's key (.pub is enough): the downloaded decisions carry its key id.")
def export(out: Path, html_path: Path, lang: str, key_path: Path | None) -> None:
    """Write the review app as one self-contained HTML file (no server needed)."""
    path = write_export_html(out, html_path, lang=lang, reviewer=reviewer_id(key_path))
    click.echo(f"wrote {path}; decisions made in it are downloaded as JSON for `infopack review import`")


@review.command("import")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
def import_(out: Path, source: Path) -> None:
    """Merge decisions downloaded from an exported page into OUT/reviews/<reviewer>.json."""
    view = load_bundle(out, transcripts=False)
    if not source.is_file():
        raise UsageError(source, "no such file")
    reviewer, count = dec.import_file(out, source, view.bundle, {i.id for i in view.items})
    click.echo(f"imported {count} decision(s) of reviewer {reviewer} into {dec.review_path(out, reviewer)}")
