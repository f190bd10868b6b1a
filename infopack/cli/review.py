"""`infopack review ...`: serve the review app, summarise, sign, export and import decisions.

What a reviewer reads (start-up lines, sign-off results, status) comes from the message
catalogues in the language given with --lang (Korean by default).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infopack.cli.jsonout import emit
from infopack.errors import UsageError
from infopack.notes import Note, finding_text
from infopack.release.approve import load_approver_key
from infopack.release.keys import role_of
from infopack.release.outdir import OutDir
from infopack.release.trust import REVIEWER, load_policy
from infopack.review import decisions as dec
from infopack.review.export import write_export_html
from infopack.review.model import BundleView, load_bundle
from infopack.review.render import messages
from infopack.review.server import ReviewApp, make_server, url_for
from infopack.review.signoff import reviewer_id, reviewer_public_key, sign_review, withdraw_approval
from infopack.review.status import review_status

LANG = click.Choice(["ko", "en"])
LANG_OPTION = click.option("--lang", type=LANG, default="ko", show_default=True, help="Language of what is shown.")
ROLE = click.option("--role", type=click.Choice(["reviewer", "qa"]), default=None,
                    help="The key's role, for a key made by `minisign -G` (which records none).")
STATE_STYLE = {"approved-signed": "green", "approved-unsigned": "yellow", "approved-unchecked": "yellow",
               "changes-but-signed": "red", "reject-but-signed": "red", "signed-only": "green",
               "signed-unchecked": "yellow", "changes": "yellow", "reject": "red", "undecided": "dim"}


def _warn(message: str) -> None:
    click.echo(f"infopack: warning: {message}", err=True)


def titles(view: BundleView, item_ids: list[str]) -> str:
    """Items as a reviewer knows them: by title."""
    return ", ".join(item.title if (item := view.item(i)) else i for i in item_ids)


@click.group()
def review() -> None:
    """Review a built bundle in Korean (or English) and record decisions per item."""


@review.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@LANG_OPTION
@click.option("--key", "key_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Reviewer's key: decisions are saved under its key id; a private key (.key) also "
                   "enables the sign-off button. Without it the review is 'anonymous' and cannot be signed.")
@ROLE
def serve(out: Path, port: int, lang: str, key_path: Path | None, role: str | None) -> None:
    """Serve the review app on 127.0.0.1 and print its URL (with its access token)."""
    view = load_bundle(out)
    key = public = None
    if key_path is not None and key_path.suffix != ".pub":
        key = load_approver_key(key_path, out, prompt=click.prompt, role=role, warn=_warn)
        reviewer = key.public.key_id_hex
    else:
        public = reviewer_public_key(key_path)
        reviewer = reviewer_id(key_path)
    app = ReviewApp(view, lang, reviewer, signing_key=key, public_key=public,
                    role=key.role if key else (public and role_of(public)) or role or REVIEWER)
    server = make_server(app, port)
    click.echo(url_for(server, app), nl=True)
    click.echo(Note("review-serving").text(lang), err=True)
    if app.make_proxies():
        click.echo(Note("review-proxies", count=len(app.proxied), folder=app.proxies.folder).text(lang), err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@review.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--policy", "policy_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Trust policy: check every approval signature as `verify --policy` does. Without it, "
                   "approval files are listed as present but not checked.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable (schema infopack/review-status/1).")
@LANG_OPTION
def status(out: Path, policy_path: Path | None, as_json: bool, lang: str) -> None:
    """Every reviewer's decision per item, and apart from it whether a signature covers it."""
    view = load_bundle(out, transcripts=False)
    policy = load_policy(policy_path) if policy_path else None
    report = review_status(view, policy, str(policy_path) if policy_path else None)
    if as_json:
        emit("review-status", {key: value for key, value in report.items() if key != "schema"})
        return
    m = messages(lang)
    if not report["reviewers"]:
        click.echo(m["status_none"].format(folder=dec.reviews_dir(out)))
        return
    signed_header = m["status_signed"] + (f" ({m['status_needed'].format(count=report['threshold'])})"
                                          if report["threshold"] is not None else "")
    table = Table(m["status_item"], m["status_title"], *report["reviewers"], signed_header)
    for item in report["items"]:
        cells = []
        for reviewer in report["reviewers"]:
            entry = item["reviews"][reviewer]
            label = m[f"state_{entry['state'].replace('-', '_')}"]
            cells.append(f"[{STATE_STYLE[entry['state']]}]{escape(label)}[/]"
                         + (f": {escape(entry['comment'])}" if entry["comment"] else ""))
        count = len(item["signed_by"])
        table.add_row(item["id"], escape(item["title"]), *cells,
                      f"{count}/{report['threshold']}" if report["threshold"] is not None else str(count))
    console = Console(highlight=False, soft_wrap=True, width=200)
    console.print(table)
    if not report["signatures_checked"]:
        console.print(escape(m["status_unchecked"]))
    for problem in report["problems"]:
        console.print(f"[red]{escape(problem['path'])}: {escape(finding_text(problem, lang))}[/]")


@review.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Reviewer's private key.")
@click.option("--note", default="", help="One line recorded in the signed comment.")
@LANG_OPTION
@ROLE
def sign(out: Path, key_path: Path, note: str, lang: str, role: str | None) -> None:
    """Sign the review: approve (infopack approve) the items approved in the app, added to what this
    key signed before, and sign the reviewer's glossary decisions."""
    view = load_bundle(out, transcripts=False)
    key = load_approver_key(key_path, out, prompt=click.prompt, role=role, warn=_warn)
    items = sign_review(out, key, note)
    if items:
        click.echo(Note("review-signed", titles=titles(view, items), key=key.public.key_id_hex).text(lang))
    glossary = OutDir(out).glossary_review_path(key.public.key_id_hex)
    if glossary.is_file():
        click.echo(Note("review-glossary-signed", key=key.public.key_id_hex, path=glossary).text(lang))


@review.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Reviewer's private key.")
@click.option("--items", required=True, metavar="ID,ID", help="The items whose signed approval to take back.")
@LANG_OPTION
@ROLE
def withdraw(out: Path, key_path: Path, items: str, lang: str, role: str | None) -> None:
    """Withdraw this reviewer's signed approval of some items (and their "approve" decisions)."""
    view = load_bundle(out, transcripts=False)
    wanted = [i.strip() for i in items.split(",") if i.strip()]
    unknown = [i for i in wanted if view.item(i) is None]
    if not wanted or unknown:
        raise UsageError(out, f"unknown item(s) {', '.join(unknown) or '(none given)'}; "
                              f"items here: {', '.join(i.id for i in view.items)}")
    key = load_approver_key(key_path, out, prompt=click.prompt, role=role, warn=_warn)
    done = withdraw_approval(out, key, view.bundle, wanted)
    code = "review-withdrawn" if done else "review-withdraw-none"
    click.echo(Note(code, titles=titles(view, done or wanted), key=key.public.key_id_hex).text(lang))


@review.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--html", "html_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The HTML file to write.")
@click.option("--lang", type=LANG, default="ko", show_default=True)
@click.option("--key", "key_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Reviewer's key (.pub is enough): the downloaded decisions carry its key id, and the page "
                   "shows what it has signed.")
def export(out: Path, html_path: Path, lang: str, key_path: Path | None) -> None:
    """Write the review app as one self-contained HTML file (no server needed)."""
    public = reviewer_public_key(key_path)
    path = write_export_html(out, html_path, lang=lang, reviewer=reviewer_id(key_path), public_key=public)
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
