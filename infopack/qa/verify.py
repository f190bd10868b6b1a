"""QA's verifier: a card (folder, mounted card or FAT image) against its signed, off-card manifest.

Every finding is a named check with a level; the same findings feed the table, the JSON
and the exit code. The signatures are checked over the manifest's exact bytes before the
manifest is trusted for anything; hashing is streamed, so memory stays flat.

The checks it can report are declared in `infopack/data/checks.toml` (the areas in
`VERIFY_AREAS`); docs/qa.md's table of them is made from the registry.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infopack.checks import CHECKS, ERROR, INFO, WARNING, Check, Finding, has_errors
from infopack.documents import EPUB, PDF, epub_problems, pdf_problems, sniff_document
from infopack.errors import CheckFailed, InfopackError, UsageError
from infopack.fat.catalog import CardType, load_card
from infopack.fat.cost import card_cost
from infopack.fat.image import extract_image, image_digest
from infopack.fat.names import fat_name_problems
from infopack.fat.residue import image_residue
from infopack.manifest.titles import card_name_matches, describe
from infopack.release.card_manifest import CardManifest, CardManifestError, ImageRecord
from infopack.release.outdir import OutDir, card_of
from infopack.release.seal import CHUNK
from infopack.release.trust import TrustPolicy, check_signatures
from infopack.scan import scan_file
from infopack.scan.file_kinds import DOCUMENT, IMAGE, MEDIA, SUBTITLE, file_kind
from infopack.scan.redstar import find_redstar_trailer
from infopack.subtitles.readers import read_subtitles
from infopack.tools import ffmpeg_info, last_error_line, parallel_map, run, safe_arg

HIDDEN_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "system volume information", ".trashes",
                ".spotlight-v100", ".fseventsd", ".trash", "$recycle.bin"}
DEEP_BYTES_PER_SECOND = 2 * 10**6     # a slow decode; timeouts are generous multiples of this
MISMATCH_FRACTION = 0.5               # fewer of the manifest's files than this: another card


# The areas of infopack/data/checks.toml whose checks verify reports (docs/qa.md's table).
VERIFY_AREAS = ("signatures", "manifest", "files", "names", "card", "metadata", "subtitles", "documents",
                "scanner", "deep", "fat-image")


def verify_checks() -> list[Check]:
    """Every check `infopack verify` can report, in the registry's order."""
    return [c for c in CHECKS.values() if c.area in VERIFY_AREAS]


@dataclass(frozen=True)
class VerifyOptions:
    expect_bundle: str | None = None
    min_version: int | None = None
    scan: bool = True                  # metadata scan of every file (infopack scan)
    deep: bool = False                 # full decode of media, parse of subtitles
    # Called with {"event": "verifying", "files", "bytes"} per card, then {"event": "verified",
    # "path", "bytes"} per file as it is done (from reading threads): a progress bar's feed.
    progress: Callable[[dict], None] | None = field(default=None, compare=False)


@dataclass
class CardReport:
    card_id: str
    target: str
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    signer: str = ""
    signers: list = field(default_factory=list)
    image: bool = False

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)

    def to_dict(self) -> dict:
        return {"card": self.card_id, "target": self.target, "ok": self.ok, "files": self.files,
                "bytes": self.bytes, "signer": self.signer, "image": self.image,
                "signers": [s.to_dict() for s in self.signers],
                "findings": [f.to_dict() for f in self.findings]}


def as_policy(trust) -> TrustPolicy:
    """A TrustPolicy, or a bare curator public key (what `--pubkey` means)."""
    return trust if isinstance(trust, TrustPolicy) else TrustPolicy.curator_only(trust)


def verify_out(out: Path, trust, options: VerifyOptions = VerifyOptions()) -> list[CardReport]:
    """Verify every card of a build output folder (a card folder, or else a card-NN.img; a
    card-NN.img beside the folder is checked byte for byte when the manifest records it)."""
    out_dir = OutDir(out)
    reports = []
    for card_id in out_dir.require_cards():
        manifest = out_dir.manifest_path(card_id)
        target, image = out_dir.card_target(card_id), out_dir.image_path(card_id)
        report = verify_target(target, manifest, trust, options)
        if target != image and image.is_file() and _recorded_image(manifest) is not None:
            report.findings += check_image_bytes(image, manifest)
        if report.card_id != card_id:
            report.findings.append(Finding(
                "card-mismatch", ERROR, manifest.name,
                f"{manifest.name} is the signed manifest of {report.card_id}, not of {card_id}; "
                "manifests were swapped or copied"))
        reports.append(report)
    return reports


def verify_target(target: Path, manifest_path: Path, trust, options: VerifyOptions = VerifyOptions()) -> CardReport:
    """A card folder, or a FAT image file (extracted to a temporary folder first)."""
    if target.is_file():
        return verify_image(target, manifest_path, trust, options)
    return verify_card(target, manifest_path, trust, options)


def verify_image(image: Path, manifest_path: Path, trust, options: VerifyOptions = VerifyOptions()) -> CardReport:
    """The image's bytes first (`check_image_bytes`), then its files, extracted, as a card folder's."""
    findings = [Finding("image", INFO, image.name, "a FAT image: its files were extracted with mtools and checked")]
    findings += check_image_bytes(image, manifest_path)
    with tempfile.TemporaryDirectory(prefix="infopack-verify-") as tmp:
        extracted = extract_image(image, Path(tmp) / "card")
        report = verify_card(extracted, manifest_path, trust, options)
    report.target = str(image)
    report.image = True
    report.findings[:0] = findings
    return report


def check_image_bytes(image: Path, manifest_path: Path) -> list[Finding]:
    """Size and SHA-256 of the whole image against the image its manifest records (the
    manifest's signatures are checked with its files). An image that is not those bytes, or
    that no manifest records, is also searched for what it holds besides its files: data in
    free clusters, slack or outside the file system, deleted entries, a label."""
    record = _recorded_image(manifest_path)
    if record is None:
        found = [Finding("image-unsigned", WARNING, image.name,
                         "the signed manifest records no image (built before images were signed, or made by "
                         "hand): only its files, free space, slack and label were checked, not every byte")]
    else:
        size = image.stat().st_size
        if size == record.size and image_digest(image) == (record.size, record.sha256):
            return []
        found = [Finding("image-hash", ERROR, image.name,
                         f"{size:,} bytes" + (f", not the {record.size:,} the manifest records"
                                              if size != record.size else " whose SHA-256 differs from the "
                                              "manifest's") + ": the image was changed after it was signed")]
    try:
        return found + image_residue(image)
    except InfopackError:
        return found                                   # not a FAT image: extracting it says so


def verify_card(card_dir: Path, manifest_path: Path, trust, options: VerifyOptions = VerifyOptions()) -> CardReport:
    policy = as_policy(trust)
    report = CardReport(card_id=card_of(manifest_path), target=str(card_dir))
    try:
        manifest_bytes = manifest_path.read_bytes()
    except OSError as exc:
        raise UsageError(manifest_path, f"cannot read manifest ({exc.strerror})") from None
    manifest = parse_manifest(manifest_path, manifest_bytes, report)
    signatures = check_signatures(manifest_path, manifest_bytes, policy, manifest)
    report.findings += signatures.findings
    report.signers = signatures.signers
    report.signer = ", ".join(f"{s.key_id} ({s.role})" for s in signatures.signers if s.valid)
    if manifest is None:
        return report
    report.card_id = manifest.card.id
    fields = manifest.to_dict()                    # the checks below read the manifest as plain data
    report.findings += check_release(fields, options, manifest_path.name)
    if not card_dir.is_dir():
        report.findings.append(Finding("card-missing", ERROR, str(card_dir), "card folder not found"))
        return report
    report.findings += check_files(card_dir, fields, report, options, manifest_path)
    return report


def _recorded_image(manifest_path: Path) -> ImageRecord | None:
    """The image a manifest records (None: none, or no readable manifest: verify_card reports that)."""
    try:
        return CardManifest.from_bytes(manifest_path.read_bytes()).image
    except (OSError, CardManifestError):
        return None


def parse_manifest(path: Path, data: bytes, report: CardReport) -> CardManifest | None:
    try:
        return CardManifest.from_bytes(data)
    except CardManifestError as exc:
        report.findings.append(Finding("manifest-format", ERROR, path.name, f"not a card manifest ({exc})"))
        return None


def check_release(manifest: dict, options: VerifyOptions, where: str) -> list[Finding]:
    """Replay: a genuine manifest of another bundle, or of an older release, is refused."""
    findings = []
    bundle = manifest["bundle"]
    if options.expect_bundle is not None and bundle["id"] != options.expect_bundle:
        findings.append(Finding("bundle-mismatch", ERROR, where,
                                f"manifest is of bundle {bundle['id']!r}, expected {options.expect_bundle!r}"))
    if options.min_version is not None and (not isinstance(bundle["version"], int)
                                            or bundle["version"] < options.min_version):
        findings.append(Finding("version-too-old", ERROR, where,
                                f"bundle version {bundle['version']} is older than the required "
                                f"{options.min_version}; an old release (replayed?)"))
    return findings


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


def check_files(card_dir: Path, manifest: dict, report: CardReport, options: VerifyOptions,
                manifest_path: Path) -> list[Finding]:
    findings: list[Finding] = []
    expected = {e["path"]: e for e in manifest["files"]}
    expected_dirs = {str(Path(p).parent.as_posix()) for p in expected} - {"."}
    expected_dirs |= {d for p in list(expected_dirs) for d in _parents(p)}
    seen: set[str] = set()
    allowed = _allowed_patterns(manifest)
    on_card: dict[str, int] = {}
    to_read: list[tuple[int, Path, str, dict]] = []      # (where its findings go, path, rel, entry)
    for rel, is_dir in walk_card(card_dir):
        key = unicodedata.normalize("NFC", rel)
        name = rel.rsplit("/", 1)[-1]
        if key != rel:
            findings.append(Finding("name-not-nfc", ERROR, rel, "name is not NFC (decomposed Hangul?); "
                                                                "players may not show it"))
        for problem in _fat_problems(name):
            findings.append(Finding("fat-name", ERROR, rel, f"'{name}': {problem}"))
        for match in card_name_matches(unicodedata.normalize("NFC", name), allowed.get(key, ())):
            findings.append(Finding("name-identifying", ERROR, rel, f"'{name}' contains {describe(match)}"))
        path = card_dir / rel
        if not is_dir:
            try:
                on_card[rel] = path.lstat().st_size
            except OSError:
                on_card[rel] = 0
        if is_hidden(name):
            findings.append(Finding("hidden-file", ERROR, rel, "hidden or system file that is not in the manifest"))
            continue
        if is_dir:
            if key not in expected_dirs:
                findings.append(Finding("extra-folder", ERROR, rel, "folder not in the manifest"))
            continue
        entry = expected.get(key)
        if entry is None or path.is_symlink():
            findings.append(Finding("extra-file", ERROR, rel, "file not in the manifest"
                                    if entry is None else "a link, not a file"))
            continue
        seen.add(key)
        report.files += 1
        report.bytes += on_card[rel]
        to_read.append((len(findings), path, rel, entry))
        findings.append(None)                            # placeholder, filled in order below
    results = check_all([(path, rel, entry) for _, path, rel, entry in to_read], options)
    for (slot, *_), file_findings in zip(to_read, results):
        findings[slot] = file_findings
    findings = [f for item in findings for f in (item if isinstance(item, list) else [item])]
    for missing in sorted(set(expected) - seen):
        findings.append(Finding("missing-file", ERROR, missing, "in the manifest but not on the card"))
    findings += check_card_mismatch(on_card, manifest, manifest_path)
    findings += check_overflow(on_card, manifest)
    return findings


def check_all(items: list[tuple[Path, str, dict]], options: VerifyOptions) -> list[list[Finding]]:
    """check_file for every file, results in the order given (the report is the same every run).

    Reading is the cost: each file is read once (hash and scan together), a few files at a
    time on threads: hashing, reading and ffprobe run outside the GIL, beside the byte-pattern
    search, which holds it. (A second process for the search helps only on an idle machine:
    measured on a busy 2-core one, its start-up made verify slower.)
    """
    report = options.progress or (lambda event: None)
    report({"event": "verifying", "files": len(items), "bytes": sum(entry["size"] for _, _, entry in items)})

    def checked(item: tuple[Path, str, dict]) -> list[Finding]:
        found = check_file(*item, options)
        report({"event": "verified", "path": item[1], "bytes": item[2]["size"]})
        return found
    return list(parallel_map(checked, items))


def check_file(path: Path, rel: str, entry: dict, options: VerifyOptions) -> list[Finding]:
    """Size, SHA-256 and content of one file, from one streamed read of it."""
    try:
        size = path.lstat().st_size
    except OSError:
        size = -1
    digest = hashlib.sha256() if size == entry["size"] else None
    content = scan_file(str(path), display_path=rel, digest=digest, metadata=options.scan)
    if digest is None:
        findings = [Finding("size-mismatch", ERROR, rel, f"{max(size, 0)} bytes, manifest says {entry['size']}")]
    elif digest.hexdigest() != entry["sha256"]:
        findings = [Finding("hash-mismatch", ERROR, rel, "content differs from the signed manifest")]
    else:
        findings = []
    findings += content
    if options.deep:
        findings += deep_findings(path, rel)
    return findings


def _allowed_patterns(manifest: dict) -> dict[str, set[str]]:
    """{card path or folder: the name patterns its items' `title_allow` lets it match}."""
    allowed: dict[str, set[str]] = {}
    for item in manifest["items"]:
        for path in item["files"]:
            for place in [path, *_parents(path)]:
                allowed.setdefault(place, set()).update(item.get("title_allow", ()))
    return allowed


def _fat_problems(name: str) -> list[str]:
    # NFC has its own check (name-not-nfc); do not report it twice.
    return [p for p in fat_name_problems(name) if "NFC" not in p]


def deep_findings(path: Path, rel: str) -> list[Finding]:
    """Decode every frame of media (ffmpeg errors fatal); parse every subtitle file; open
    every PDF and EPUB as a reader does."""
    kind = file_kind(str(path))
    if kind in (MEDIA, IMAGE):
        ffmpeg = ffmpeg_info().ffmpeg
        timeout = 120 + path.stat().st_size / DEEP_BYTES_PER_SECOND
        try:
            proc = run([ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-xerror", "-i", safe_arg(path),
                        "-f", "null", "-"], timeout=timeout, what="ffmpeg decode", check=False, subject=rel)
        except InfopackError as exc:
            return [Finding("deep-decode", ERROR, rel, exc.problem)]
        if proc.returncode != 0 or proc.stderr.strip():
            return [Finding("deep-decode", ERROR, rel, f"does not decode cleanly: {last_error_line(proc.stderr)}")]
    elif kind == SUBTITLE:
        try:
            read_subtitles(path)
        except InfopackError as exc:
            return [Finding("deep-subtitle", ERROR, rel, f"does not parse: {exc.problem}")]
    elif kind == DOCUMENT:
        opens = {PDF: pdf_problems, EPUB: epub_problems}.get(sniff_document(path))
        problems = opens(path) if opens else []
        if problems:
            return [Finding("deep-document", ERROR, rel, f"does not open as a reader opens it: {problems[0]}")]
    return []


def check_card_mismatch(on_card: dict[str, int], manifest: dict, manifest_path: Path) -> list[Finding]:
    """A card checked against another card's manifest: say so, instead of a wall of missing files."""
    fingerprint = _fingerprint(on_card)
    expected = _fingerprint({e["path"]: e["size"] for e in manifest["files"]})
    if not fingerprint or not expected:
        return []
    matching = len(fingerprint & expected)
    other = _matching_sibling(fingerprint, manifest_path)
    if fingerprint == expected or (matching >= MISMATCH_FRACTION * len(expected) and other is None):
        return []
    card_id = manifest["card"]["id"]
    message = (f"only {matching} of the {len(expected)} files of {card_id}'s manifest are on this card "
               "with the right size; this is another card")
    if other is not None:
        message += f": its files match {other}"
    return [Finding("card-mismatch", ERROR, manifest_path.name, message)]


def _fingerprint(files: dict[str, int]) -> frozenset[tuple[str, int]]:
    return frozenset((unicodedata.normalize("NFC", p), s) for p, s in files.items())


def _matching_sibling(fingerprint: frozenset, manifest_path: Path) -> str | None:
    """Another manifest beside this one that lists exactly the files on the card (unsigned hint)."""
    for other in OutDir(manifest_path.parent).all_manifests():
        if other.resolve() == manifest_path.resolve():
            continue
        try:
            files = CardManifest.from_bytes(other.read_bytes()).files
            if _fingerprint({e.path: e.size for e in files}) == fingerprint:
                return other.name
        except (OSError, CardManifestError):
            continue
    return None


def check_overflow(on_card: dict[str, int], manifest: dict) -> list[Finding]:
    """Cluster-rounded total of what is on the card against the usable bytes of its class."""
    card_info = manifest["card"]
    name = str(card_info.get("class", ""))
    try:
        card = load_card(name)
    except InfopackError:
        usable = card_info.get("usable_bytes")
        if not isinstance(usable, int):
            return [Finding("card-overflow", WARNING, "", f"unknown card class {name!r}; total not checked")]
        card = CardType(name, usable, 32768, "fat32", usable)
    usable = card_info.get("usable_bytes") if isinstance(card_info.get("usable_bytes"), int) else card.usable_bytes
    usable = min(usable, card.usable_bytes)
    files = {unicodedata.normalize("NFC", p): s for p, s in on_card.items()}
    used = card_cost(files, card) if files else 0
    if used > usable:
        return [Finding("card-overflow", ERROR, "",
                        f"files take {used:,} bytes on a {card.name} card "
                        f"({card.cluster_bytes:,}-byte clusters), which holds {usable:,}; "
                        f"{used - usable:,} bytes too many")]
    return []


def _parents(path: str):
    parts = path.split("/")
    for n in range(1, len(parts)):
        yield "/".join(parts[:n])


def summary_level(reports: list[CardReport]) -> int:
    """Exit code: 0 all good, 1 a check failed."""
    return 0 if all(r.ok for r in reports) else 1


# --------------------------------------------------------------------------- returned cards

@dataclass(frozen=True)
class Restored:
    path: str
    old_size: int
    new_size: int
    serials: tuple[bytes, ...]


def clean_card(card_dir: Path, manifest_path: Path, trust) -> tuple[list[Restored], list[Finding]]:
    """Cut Red Star trailers off a returned card's files, where the manifest proves the original.

    The signatures are checked first; nothing is changed unless they hold. A file is truncated
    only when the SHA-256 of the bytes before its trailer equals the manifest's hash: never guessed.
    """
    policy = as_policy(trust)
    data = manifest_path.read_bytes()
    probe = CardReport(card_id="", target=str(card_dir))
    manifest = parse_manifest(manifest_path, data, probe)
    if manifest is None:
        raise UsageError(manifest_path, probe.findings[0].message)
    sig_errors = [f for f in check_signatures(manifest_path, data, policy, manifest).findings if f.level == ERROR]
    if sig_errors:
        raise CheckFailed(manifest_path, f"{sig_errors[0].check}: {sig_errors[0].message}; nothing was changed")
    restored: list[Restored] = []
    skipped: list[Finding] = []
    for entry in manifest.to_dict()["files"]:
        parts = entry["path"].split("/")
        if entry["path"].startswith("/") or ".." in parts or "" in parts:
            continue                              # never follow a path out of the card
        path = card_dir / entry["path"]
        if path.is_symlink() or not path.is_file():
            continue
        trailer = find_redstar_trailer(str(path))
        if trailer is None:
            continue
        size = path.stat().st_size
        if trailer.original_size != entry["size"]:
            skipped.append(Finding("redstar-trailer", ERROR, entry["path"],
                                   f"not restored: {trailer.original_size} bytes before the trailer, "
                                   f"manifest says {entry['size']}"))
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            left = trailer.original_size
            while left and (chunk := fh.read(min(CHUNK, left))):
                digest.update(chunk)
                left -= len(chunk)
        if digest.hexdigest() != entry["sha256"]:
            skipped.append(Finding("redstar-trailer", ERROR, entry["path"],
                                   "not restored: the bytes before the trailer differ from the signed manifest"))
            continue
        os.truncate(path, trailer.original_size)
        restored.append(Restored(entry["path"], size, trailer.original_size, trailer.serials))
    return restored, skipped


__all__ = ["CardReport", "VerifyOptions", "verify_out", "verify_card", "verify_target", "verify_image",
           "check_image_bytes", "clean_card", "summary_level", "WARNING"]
