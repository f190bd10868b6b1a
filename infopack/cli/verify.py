"""`infopack verify`, `infopack approve` and `infopack clean-card`: a thin layer over
`infopack.qa.verify` and `infopack.release.approve`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infopack.cli.jsonout import emit
from infopack.cli.progress import bar_feed, step_bar
from infopack.errors import CheckFailed, UsageError
from infopack.qa.verify import VerifyOptions, summary_level, verify_card, verify_out, verify_target
from infopack.qa.verify import clean_card as clean_card_folder
from infopack.release.approve import approve as approve_cards
from infopack.release.approve import check_approvable, load_approver_key
from infopack.release.keys import load_public_key
from infopack.release.trust import load_policy


def trust_from(pubkey: Path | None, policy: Path | None):
    if pubkey and policy:
        raise UsageError(None, "give --pubkey (curator signature only) or --policy, not both")
    if policy:
        return load_policy(policy)
    if pubkey:
        return load_public_key(pubkey)
    raise UsageError(None, "give --pubkey CURATOR.pub or --policy POLICY.toml")


@click.command("verify")
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--pubkey", type=click.Path(path_type=Path), help="Curator's public key (minisign format); "
              "checks the curator's build signature only.")
@click.option("--policy", type=click.Path(path_type=Path), help="Trust policy (TOML): keys per role, "
              "thresholds, revoked keys; checks reviewer approvals too.")
@click.option("--manifest", type=click.Path(path_type=Path),
              help="Manifest of the card, when TARGET is a card folder or a FAT image (.img).")
@click.option("--expect-bundle", metavar="ID", help="Refuse a manifest of any other bundle.")
@click.option("--min-version", type=int, metavar="N", help="Refuse a bundle version older than N.")
@click.option("--deep", is_flag=True, help="Also decode every media file in full and parse every subtitle.")
@click.option("--hash-only", is_flag=True, help="Skip the metadata scan (signatures, names, sizes, "
              "hashes and Red Star trailers are still checked).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
def verify(target: Path, pubkey: Path | None, policy: Path | None, manifest: Path | None,
           expect_bundle: str | None, min_version: int | None, deep: bool, hash_only: bool,
           as_json: bool) -> None:
    """Verify the cards of a build folder, or one card (folder or FAT image) against its manifest.

    Exit 0: all checks passed; 1: a check failed; 2: usage or input error.
    """
    trust = trust_from(pubkey, policy)
    if not target.exists():
        raise UsageError(target, "no such file or folder")
    bar = step_bar("verifying", in_bytes=True)
    options = VerifyOptions(expect_bundle=expect_bundle, min_version=min_version, scan=not hash_only, deep=deep,
                            progress=bar_feed(bar, "verifying", "verified"))
    try:
        if manifest:
            if not manifest.is_file():
                raise UsageError(manifest, "no such manifest file")
            reports = [verify_target(target, manifest, trust, options)]
        elif target.is_file():
            raise UsageError(target, "a card image needs --manifest CARD.manifest.json")
        else:
            reports = verify_out(target, trust, options)
    finally:
        bar.close()
    if as_json:
        emit("verify", {"ok": all(r.ok for r in reports), "cards": [r.to_dict() for r in reports]})
    else:
        print_reports(reports)
    sys.exit(summary_level(reports))


def print_reports(reports) -> None:
    console = Console(highlight=False, soft_wrap=True)
    for report in reports:
        status = "[green]OK[/green]" if report.ok else "[red]FAILED[/red]"
        what = "FAT image, " if report.image else ""
        console.print(f"{escape(report.card_id)}: {status} - {what}{report.files} files, "
                      f"{report.bytes:,} bytes checked"
                      + (f", signed by key {escape(report.signer)}" if report.signer else ""))
        if report.findings:
            table = Table("check", "level", "file", "message", show_lines=False)
            for f in report.findings:
                table.add_row(f.check, f.level, escape(f.path), escape(f.message))
            console.print(table)


@click.command("approve")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path), help="Reviewer's private key.")
@click.option("--items", metavar="ID,ID", help="Approve only these items (default: every item); added to the "
              "items this key approved before.")
@click.option("--withdraw", is_flag=True, help="Take the approval of --items (default: every item) back instead.")
@click.option("--note", default="", help="One line recorded in the signed comment (shortened to 200 characters).")
@click.option("--pubkey", type=click.Path(path_type=Path),
              help="Curator's public key: verify every card before approving it.")
@click.option("--role", type=click.Choice(["reviewer", "qa"]), default=None,
              help="The key's role, for a key made by `minisign -G` (which records none).")
def approve(out: Path, key_path: Path, items: str | None, withdraw: bool, note: str, pubkey: Path | None,
            role: str | None) -> None:
    """Sign every card manifest in OUT as a reviewer (card-NN.manifest.json.<KEYID>.minisig).

    Approving adds to what the same key approved of these manifests before; --withdraw takes
    items back (a card left with none loses its approval file).
    """
    wanted = None if items is None else [i.strip() for i in items.split(",") if i.strip()]
    check_approvable(out, wanted)
    if pubkey and not withdraw:
        failed = [r for r in verify_out(out, load_public_key(pubkey), VerifyOptions()) if not r.ok]
        if failed:
            first = next(f for f in failed[0].findings if f.level == "error")
            raise CheckFailed(out, f"{failed[0].card_id} does not verify ({first.check}: {first.path}: "
                              f"{first.message}); nothing was approved")
    key = load_approver_key(key_path, out, prompt=click.prompt, role=role,
                            warn=lambda msg: click.echo(f"infopack: warning: {msg}", err=True))
    approved = 0
    for done in approve_cards(out, key, items=wanted, note=note, withdraw=withdraw):
        if done.withdrawn:
            click.echo(f"{done.card_id}: withdrew {', '.join(done.withdrawn)}"
                       + (f"; still approved: {', '.join(done.items)}" if done.items else "; no approval left"))
        elif done.signature is None:
            click.echo(f"{done.manifest.name}: " + ("no approval of these items by this key to withdraw" if withdraw
                                                    else "none of the items is on this card; not approved"))
            continue
        else:
            added = f" (new: {', '.join(done.added)})" if done.before and done.added else ""
            click.echo(f"{done.card_id}: approved {', '.join(done.items)}{added} -> {done.signature.name}")
        approved += done.signature is not None
    click.echo(f"{approved} card(s) approved with {key.role} key {key.public.key_id_hex}")


@click.command("clean-card")
@click.argument("card_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--manifest", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--pubkey", type=click.Path(path_type=Path), help="Curator's public key.")
@click.option("--policy", type=click.Path(path_type=Path), help="Trust policy instead of --pubkey.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
def clean_card(card_dir: Path, manifest: Path, pubkey: Path | None, policy: Path | None, as_json: bool) -> None:
    """Remove Red Star OS trailers from a returned card, where the signed manifest proves the original."""
    trust = trust_from(pubkey, policy)
    if not card_dir.is_dir():
        raise UsageError(card_dir, "no such card folder")
    if not manifest.is_file():
        raise UsageError(manifest, "no such manifest file")
    restored, skipped = clean_card_folder(card_dir, manifest, trust)
    report = verify_card(card_dir, manifest, trust, VerifyOptions())
    if as_json:
        emit("clean-card", {
            "restored": [{"path": r.path, "old_size": r.old_size, "new_size": r.new_size} for r in restored],
            "not_restored": [f.to_dict() for f in skipped],
            "ok": report.ok, "cards": [report.to_dict()]})
    else:
        for r in restored:
            click.echo(f"restored {r.path}: {r.old_size:,} -> {r.new_size:,} bytes "
                       f"(Red Star trailer of {r.old_size - r.new_size} bytes removed)")
        for f in skipped:
            click.echo(f"not restored {f.path}: {f.message}")
        if not restored and not skipped:
            click.echo("no Red Star trailers found")
        print_reports([report])
    sys.exit(summary_level([report]))
