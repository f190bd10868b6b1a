"""`infopack build`: a thin layer over `infopack.build.build` (keys, approvals, progress, reports)."""

from __future__ import annotations

import shlex
import sys
import threading
from pathlib import Path

import click

from infopack.build import build as run_build
from infopack.cli.executor import executor_choice, executor_options
from infopack.cli.progress import make_reporter
from infopack.cli.subs import reviewed_glossary
from infopack.errors import CheckFailed
from infopack.fat.image import DEFAULT_LAYOUT, LAYOUTS
from infopack.manifest import load_manifest
from infopack.manifest.titles import refuse_identifying_titles
from infopack.notes import localise
from infopack.release.gate import review_gate
from infopack.release.keys import load_curator_key
from infopack.review.report import write_report_html
from infopack.tools import set_command_log


@click.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path), help="Curator's private key.")
@click.option("--role", "key_role", type=click.Choice(["curator"]), default=None,
              help="The key's role, for a key made by `minisign -G` (which records none).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Items encoded side by side "
              "(default: number of cores).")
@click.option("--image", is_flag=True, help="Also write OUT/card-NN.img, a FAT32 image to flash onto cards.")
@click.option("--image-size", type=click.Choice(["card", "content"]), default="card", show_default=True,
              help="Image as large as the card class, or just large enough for the content.")
@click.option("--image-layout", type=click.Choice(list(LAYOUTS)), default=DEFAULT_LAYOUT, show_default=True,
              help="With --image: 'mbr' writes a partition table with one FAT32 partition from 4 MiB, as SD "
                   "cards ship; 'superfloppy' writes the bare file system, to write into an existing partition.")
@click.option("--fit", is_flag=True, default=None, help="Fit video bitrates so the bundle fills its cards "
              "(default: the manifest's `fit`).")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), default=None,
              help="Encode cache folder (default: $INFOPACK_CACHE, else ~/.cache/infopack).")
@click.option("--no-cache", is_flag=True, help="Encode everything; neither read nor write the cache.")
@click.option("--json", "json_events", is_flag=True, help="Print one JSON event per line on stdout.")
@click.option("--print-commands", is_flag=True, help="Print every encode and validation command (ffmpeg, "
              "ffprobe) as it runs, shell-quoted.")
@click.option("--require-approval", "policy_path", type=click.Path(path_type=Path), default=None,
              metavar="POLICY", help="Build only items the policy's reviewers approved in OUT's signed manifests.")
@click.option("--unapproved", type=click.Choice(["leave-out", "fail"]), default="leave-out", show_default=True,
              help="With --require-approval: leave unapproved items out (listed), or fail the build.")
@click.option("--glossary-policy", "glossary_policy", type=click.Path(path_type=Path), default=None,
              metavar="POLICY", help="Rewrite subtitle words of glossary entries the policy's reviewers confirmed "
              "in signed glossary reviews in OUT/reviews (the changed items need reviewing again).")
@executor_options
def build(manifest: Path, out: Path, key_path: Path, jobs: int | None, image: bool, image_size: str,
          image_layout: str,
          fit: bool | None, cache_dir: Path | None, no_cache: bool, json_events: bool, print_commands: bool,
          policy_path: Path | None, unapproved: str, key_role: str | None, glossary_policy: Path | None,
          **executor) -> None:
    """Build and sign the cards of a bundle into OUT (reusing cached encodes; safe to rerun after a kill)."""
    bundle = load_manifest(manifest)             # fail on a bad manifest before asking for a passphrase
    refuse_identifying_titles(bundle.manifest_path, bundle.items)
    exclude, approved = _approval_gate(bundle, out, policy_path, unapproved) if policy_path else ({}, None)
    reviewed = reviewed_glossary(out, glossary_policy) if glossary_policy else None
    key = load_curator_key(key_path, out, prompt=click.prompt, role=key_role,
                           warn=lambda msg: click.echo(f"infopack: warning: {msg}", err=True))
    report = _progress_printer(json_events)
    if print_commands:
        set_command_log(_command_printer(json_events))
    try:
        result = run_build(bundle, out, key, jobs=jobs, image=image, progress=report, fit=fit,
                           image_size=image_size, image_layout=image_layout, cache=cache_dir, use_cache=not no_cache,
                           exclude=exclude, approved=approved, report_writers=[write_report_html],
                           reviewed_glossary=reviewed, executor=executor_choice(**executor))
    finally:
        report.close()
        set_command_log(None)
    if json_events:
        return                                   # the "done" event is the summary
    for card in result.cards:
        click.echo(f"{card.card_id}: {len(card.items)} items, {card.files} files, "
                   f"{card.used_bytes:,} of {card.usable_bytes:,} usable bytes "
                   f"({100 * card.used_bytes / card.usable_bytes:.2f}%)")
    for item_id in result.left_out:
        click.echo(f"left out: {item_id} ({result.left_out_reasons.get(item_id, 'did not fit')})")
    for item in result.items:
        if (item.subtitles or {}).get("subtitles_missing"):
            click.echo(f"warning: {localise(item.subtitles['missing_message'], 'en')}")
    for split in result.splits:
        click.echo(split.line())
    if result.repacked:
        click.echo(f"the cards differ from the plan: {result.repacked}")
    click.echo(f"signed manifests and SHA256SUMS are in {out} (keep them off the cards)")


def _approval_gate(bundle, out: Path, policy_path: Path, unapproved: str):
    """(items to leave out -> reason, approved items -> their approved files) from OUT's approvals."""
    reasons, approved = review_gate(out, policy_path, [item.id for item in bundle.items])
    if reasons and unapproved == "fail":
        listed = "; ".join(f"{item}: {why}" for item, why in reasons.items())
        raise CheckFailed(policy_path, f"{len(reasons)} item(s) not approved as the policy requires: {listed}")
    if len(reasons) == len(bundle.items):
        raise CheckFailed(policy_path, f"no item of {bundle.id} is approved as the policy requires "
                                       f"(approvals are read from the signed manifests in {out})")
    return reasons, approved


def _progress_printer(json_events: bool = False):
    """Bars on a terminal, one line per finished item otherwise, JSON lines with --json."""
    return make_reporter(json_lines=json_events, stream=sys.stdout if json_events else None)


def _command_printer(json_events: bool):
    """--print-commands: one shell-quoted command per line (stderr when stdout carries JSON events),
    ending with `# on WORKER` for a command a cluster worker ran."""
    lock = threading.Lock()

    def show(args: list[str], worker: str | None = None) -> None:
        with lock:
            click.echo(shlex.join(args) + (f"  # on {worker}" if worker else ""), err=json_events)
    return show
