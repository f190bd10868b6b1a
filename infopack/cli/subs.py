"""`infopack subs ...`: a thin command layer over the subtitles library API.

Errors are raised as InfopackError; the main CLI prints them as one line (exit 2).
`check` exits 1 when any file cannot be read.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from infopack.cli.jsonout import emit
from infopack.errors import InfopackError, UsageError
from infopack.release.glossary_review import review_files, trusted_confirmations
from infopack.release.trust import load_policy
from infopack.subtitles.clean import clean
from infopack.subtitles.encoding import SIDECAR_ENCODINGS, encode_text
from infopack.subtitles.lint import apply_glossary, lint
from infopack.subtitles.model import SubtitleDoc
from infopack.subtitles.readers import read_subtitles
from infopack.subtitles.scrub import scrub
from infopack.subtitles.timing import scale_fps, shift
from infopack.subtitles.writers import to_ass, to_sami, to_srt, to_vtt

WRITERS = {".srt": to_srt, ".vtt": to_vtt, ".smi": to_sami, ".sami": to_sami, ".ass": to_ass, ".ssa": to_ass}
_SHIFT = re.compile(r"^([+-]?\d+(?:\.\d+)?)(ms|s)$")
_FPS = re.compile(r"^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$")


def parse_shift(value: str) -> int:
    """'1.5s' -> 1500, '-200ms' -> -200 (a unit is required: seconds or milliseconds?)."""
    match = _SHIFT.match(value.strip().lower())
    if not match:
        raise UsageError(None, f"--shift {value!r}: write it like 1.5s or -200ms")
    amount = float(match.group(1))
    return int(round(amount * 1000 if match.group(2) == "s" else amount))


def parse_fps(value: str) -> tuple[float, float]:
    """'23.976:25' -> (23.976, 25.0)."""
    match = _FPS.match(value.strip())
    if not match or float(match.group(1)) == 0 or float(match.group(2)) == 0:
        raise UsageError(None, f"--fps {value!r}: write it like 23.976:25 (from:to)")
    return float(match.group(1)), float(match.group(2))


def writer_for(out: str):
    writer = WRITERS.get(Path(out).suffix.lower())
    if writer is None:
        raise UsageError(out, f"cannot tell the output format; use one of {', '.join(WRITERS)}")
    return writer


def write_output(doc: SubtitleDoc, out: str, encoding: str) -> None:
    """Render by the output's extension and replace the file atomically."""
    data = encode_text(writer_for(out)(doc), encoding)
    temporary = f"{out}.partial"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, out)
    except OSError as exc:
        raise InfopackError(out, f"cannot write the subtitle: {exc.strerror or exc}") from None


def _echo_notes(doc: SubtitleDoc) -> None:
    for fix in doc.fixes:
        click.echo(f"  fixed: {fix}")
    for removal in doc.removals:
        click.echo(f"  removed: {removal}")
    for warning in doc.warnings:
        click.echo(f"  warning: {warning}")


@click.group("subs")
def subs() -> None:
    """Check, convert and lint subtitle files (SRT, SAMI, WebVTT, ASS/SSA)."""


@subs.command("check")
@click.argument("files", nargs=-1, required=True)
@click.option("--class", "language_class", help="SAMI language class to read, e.g. KRCC.")
@click.option("--glossary", help="Glossary TOML to lint with (default: the shipped one).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (schema infopack/subs-check/1).")
@click.pass_context
def check_command(ctx: click.Context, files: tuple[str, ...], language_class: str | None,
                  glossary: str | None, as_json: bool) -> None:
    """Parse each file and report encoding, repairs, what scrubbing removes and lint."""
    failed = 0
    results = []
    for name in files:
        try:
            doc = scrub(read_subtitles(name, language_class=language_class))
        except InfopackError as exc:
            results.append({"file": name, "ok": False, "error": exc.problem})
            if not as_json:
                click.echo(f"FAIL {exc.line()}")
            failed += 1
            continue
        findings = lint(doc, glossary)
        results.append({"file": name, "ok": True, "format": doc.format, "encoding": doc.encoding,
                        "cues": len(doc.cues), "fixes": doc.fixes, "removals": doc.removals,
                        "warnings": doc.warnings, "lint": [f.to_dict() for f in findings]})
        if as_json:
            continue
        click.echo(f"ok   {name}: {doc.format}, {doc.encoding}, {len(doc.cues)} cues")
        _echo_notes(doc)
        for finding in findings:
            click.echo(f"  {finding.level} {finding.check}: {finding.message}")
    if as_json:
        emit("subs-check", {"files": results, "failed": failed})
    elif failed:
        click.echo(f"{failed} of {len(files)} file(s) failed")
    if failed:
        ctx.exit(1)


@subs.command("convert")
@click.argument("source")
@click.option("--out", required=True, help="Output file; its extension picks the format.")
@click.option("--encoding", type=click.Choice(SIDECAR_ENCODINGS), default="utf-8", show_default=True)
@click.option("--shift", "shift_by", help="Move all cues, e.g. 1.5s or -200ms.")
@click.option("--fps", help="Retime from:to frame rate, e.g. 23.976:25.")
@click.option("--class", "language_class", help="SAMI language class to read, e.g. KRCC.")
def convert_command(source: str, out: str, encoding: str, shift_by: str | None, fps: str | None,
                    language_class: str | None) -> None:
    """Read, scrub, clean, retime and write SOURCE as OUT."""
    writer_for(out)  # fail on a bad extension before doing any work
    offset = parse_shift(shift_by) if shift_by else 0
    rates = parse_fps(fps) if fps else None
    doc = clean(scrub(read_subtitles(source, language_class=language_class)))
    if rates:
        doc = scale_fps(doc, *rates)
    if offset:
        doc = shift(doc, offset)
    write_output(doc, out, encoding)
    click.echo(f"{source} ({doc.format}, {doc.encoding}) -> {out} ({encoding}): {len(doc.cues)} cues, "
               f"{len(doc.fixes)} fixes, {len(doc.removals)} removals, {len(doc.warnings)} warnings")
    _echo_notes(doc)


@subs.command("lint")
@click.argument("source")
@click.option("--glossary", help="Glossary TOML (default: the shipped one).")
@click.option("--apply", "apply_", is_flag=True, help="Rewrite words of confirmed glossary entries.")
@click.option("--out", help="Where --apply writes the result (format from its extension).")
@click.option("--policy", "policy_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Trust policy: --apply also rewrites entries its reviewers confirmed in signed glossary reviews.")
@click.option("--reviews", "review_paths", multiple=True, type=click.Path(path_type=Path),
              help="With --policy: a build folder (its reviews/ folder), a reviews folder or a glossary-KEYID.toml "
                   "file; repeat for more.")
@click.option("--encoding", type=click.Choice(SIDECAR_ENCODINGS), default="utf-8", show_default=True)
@click.option("--class", "language_class", help="SAMI language class to read, e.g. KRCC.")
def lint_command(source: str, glossary: str | None, apply_: bool, out: str | None, policy_path: Path | None,
                 review_paths: tuple[Path, ...], encoding: str, language_class: str | None) -> None:
    """Report South Korean vocabulary and fast cues; --apply rewrites confirmed entries only:
    the glossary's own `confirmed = true`, and with --policy those the policy's reviewers confirmed."""
    if apply_ and not out:
        raise UsageError(None, "--apply needs --out FILE for the rewritten subtitles")
    if out and not apply_:
        raise UsageError(None, "--out is only used with --apply")
    if bool(policy_path) != bool(review_paths):
        raise UsageError(policy_path, "--policy and --reviews go together: the policy says whose signed "
                                      "glossary reviews (found in --reviews) count")
    if out:
        writer_for(out)
    reviewed = reviewed_entries(policy_path, review_paths) if policy_path else {}
    doc = read_subtitles(source, language_class=language_class)
    findings = lint(doc, glossary)
    for finding in findings:
        click.echo(f"{finding.level} {finding.check}: {finding.message}")
    click.echo(f"{source}: {len(findings)} finding(s)")
    if apply_:
        rewritten = apply_glossary(doc, glossary, reviewed=reviewed)
        changes = [fix for fix in rewritten.fixes if fix not in doc.fixes]
        for change in changes:
            click.echo(f"  {change}")
        write_output(rewritten, out, encoding)
        click.echo(f"wrote {out}: {len(changes)} word(s) rewritten")


def reviewed_glossary(out: Path, policy_path: Path) -> dict:
    """`build --glossary-policy`: the entries confirmed in OUT's signed glossary reviews (none yet: none)."""
    return reviewed_entries(policy_path, (out,)) if Path(out).is_dir() else {}


def reviewed_entries(policy_path: Path, review_paths: tuple[Path, ...]) -> dict:
    """Glossary entries the policy's reviewers confirmed; files that do not count are said, not fatal."""
    files = review_files(list(review_paths))
    reviewed, problems = trusted_confirmations(load_policy(policy_path), files)
    for problem in problems:
        click.echo(f"infopack: warning: {problem}", err=True)
    click.echo(f"{len(reviewed)} glossary entr{'y' if len(reviewed) == 1 else 'ies'} confirmed by reviewers "
               f"the policy trusts ({len(files) - len(problems)} of {len(files)} signed review file(s) used)",
               err=True)
    return reviewed
