"""QA's verifier: a card (folder, mounted card) against its signed, off-card manifest.

Every finding is a named check with a level; the same findings feed the table, the JSON
and the exit code. The signature is checked over the manifest's exact bytes before the
manifest is trusted for anything; hashing is streamed.
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from infopack.checks import ERROR, WARNING, Finding, has_errors
from infopack.errors import InfopackError, UsageError
from infopack.seal import MANIFEST_FORMAT, sha256_file

HIDDEN_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "system volume information", ".trashes",
                ".spotlight-v100", ".fseventsd", ".trash", "$recycle.bin"}


@dataclass
class CardReport:
    card_id: str
    target: str
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    signer: str = ""

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)

    def to_dict(self) -> dict:
        return {"card": self.card_id, "target": self.target, "ok": self.ok, "files": self.files,
                "bytes": self.bytes, "signer": self.signer, "findings": [f.to_dict() for f in self.findings]}


def signature_paths(manifest_path: Path) -> list[Path]:
    return [manifest_path.with_name(manifest_path.name + ".minisig")]


def verify_out(out: Path, public_key) -> list[CardReport]:
    """Verify every card folder of a build output folder."""
    manifests = sorted(out.glob("card-*.manifest.json"))
    if not manifests:
        raise UsageError(out, "no card manifests here (expected card-NN.manifest.json); is this a build folder?")
    reports = []
    for manifest in manifests:
        card_id = manifest.name.removesuffix(".manifest.json")
        reports.append(verify_card(out / card_id, manifest, public_key))
    return reports


def verify_card(card_dir: Path, manifest_path: Path, public_key) -> CardReport:
    report = CardReport(card_id=manifest_path.name.removesuffix(".manifest.json"), target=str(card_dir))
    try:
        manifest_bytes = manifest_path.read_bytes()
    except OSError as exc:
        raise UsageError(manifest_path, f"cannot read manifest ({exc.strerror})") from None
    report.findings += check_signature(manifest_path, manifest_bytes, public_key, report)
    manifest = parse_manifest(manifest_path, manifest_bytes, report)
    if manifest is None:
        return report
    report.card_id = manifest["card"]["id"]
    if not card_dir.is_dir():
        report.findings.append(Finding("card-missing", ERROR, str(card_dir), "card folder not found"))
        return report
    report.findings += check_files(card_dir, manifest["files"], report)
    return report


def check_signature(manifest_path: Path, data: bytes, public_key, report: CardReport) -> list[Finding]:
    from infopack.minisign import verify as minisign_verify
    sig_path = signature_paths(manifest_path)[0]
    if not sig_path.is_file():
        return [Finding("signature", ERROR, sig_path.name, "signature file is missing")]
    try:
        minisign_verify(data, sig_path.read_text(encoding="utf-8", errors="replace"), public_key)
    except InfopackError as exc:
        return [Finding("signature", ERROR, manifest_path.name, exc.problem)]
    report.signer = public_key.key_id_hex
    return []


def parse_manifest(path: Path, data: bytes, report: CardReport) -> dict | None:
    try:
        manifest = json.loads(data.decode("utf-8"))
        if manifest.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unknown format {manifest.get('format')!r}")
        for entry in manifest["files"]:
            entry["path"], entry["size"], entry["sha256"]
        manifest["card"]["id"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        report.findings.append(Finding("manifest-format", ERROR, path.name, f"not a card manifest ({exc})"))
        return None
    return manifest


def is_hidden(name: str) -> bool:
    lowered = name.casefold()
    return lowered.startswith(".") or lowered in HIDDEN_NAMES


def walk_card(card_dir: Path):
    """Yield (relpath as on disk, is_dir) for everything below the card root, hidden files included."""
    for dirpath, dirnames, filenames in os.walk(card_dir):
        dirnames.sort()
        base = Path(dirpath)
        for name in dirnames:
            yield (base / name).relative_to(card_dir).as_posix(), True
        for name in sorted(filenames):
            yield (base / name).relative_to(card_dir).as_posix(), False


def check_files(card_dir: Path, expected_files: list[dict], report: CardReport) -> list[Finding]:
    findings: list[Finding] = []
    expected = {e["path"]: e for e in expected_files}
    expected_dirs = {str(Path(p).parent.as_posix()) for p in expected} - {"."}
    expected_dirs |= {d for p in list(expected_dirs) for d in _parents(p)}
    seen: set[str] = set()
    for rel, is_dir in walk_card(card_dir):
        key = unicodedata.normalize("NFC", rel)
        name = rel.rsplit("/", 1)[-1]
        if key != rel:
            findings.append(Finding("name-not-nfc", ERROR, rel, "name is not NFC (decomposed Hangul?); "
                                                                "players may not show it"))
        if is_hidden(name):
            findings.append(Finding("hidden-file", ERROR, rel, "hidden or system file that is not in the manifest"))
            continue
        if is_dir:
            if key not in expected_dirs:
                findings.append(Finding("extra-folder", ERROR, rel, "folder not in the manifest"))
            continue
        entry = expected.get(key)
        if entry is None:
            findings.append(Finding("extra-file", ERROR, rel, "file not in the manifest"))
            continue
        seen.add(key)
        path = card_dir / rel
        size = path.stat().st_size
        report.files += 1
        report.bytes += size
        if size != entry["size"]:
            findings.append(Finding("size-mismatch", ERROR, rel, f"{size} bytes, manifest says {entry['size']}"))
        elif sha256_file(path) != entry["sha256"]:
            findings.append(Finding("hash-mismatch", ERROR, rel, "content differs from the signed manifest"))
    for missing in sorted(set(expected) - seen):
        findings.append(Finding("missing-file", ERROR, missing, "in the manifest but not on the card"))
    return findings


def _parents(path: str):
    parts = path.split("/")
    for n in range(1, len(parts)):
        yield "/".join(parts[:n])


def summary_level(reports: list[CardReport]) -> int:
    """Exit code: 0 all good, 1 a check failed."""
    return 0 if all(r.ok for r in reports) else 1


__all__ = ["CardReport", "verify_out", "verify_card", "summary_level", "WARNING"]
