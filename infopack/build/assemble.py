"""Cards from finished encodes: card paths, the FAT rules, the self-scan, the image, the seal.

Each card folder is filled with its items' files (renamed from the work folder), checked
against the FAT rules, given the fixed file time, scanned with the scanner QA uses (a
finding at error level fails the build), written into its FAT image (with --image), then
sealed: its manifest (recording the image's size and SHA-256, so the signature covers every
byte of it), the curator's signature and SHA256SUMS go beside it, never on it. report.json
records what happened.
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infopack.build.cache import Cache
from infopack.build.cache_keys import scan_token
from infopack.build.jobs import ItemResult
from infopack.checks import ERROR
from infopack.errors import CheckFailed
from infopack.fat.catalog import CardType
from infopack.fat.image import build_image, content_image_size, image_digest
from infopack.fat.names import check_card_paths
from infopack.manifest import Bundle
from infopack.plan.layout import card_layout
from infopack.plan.packing import CardPlan
from infopack.profiles import Profile
from infopack.release.card_manifest import BundleInfo, CardInfo, CardManifest, FileEntry, ImageRecord, ItemEntry
from infopack.release.outdir import OutDir
from infopack.release.seal import entries_for, fix_mtimes, sha256sums, sign_manifest
from infopack.scan import scan_file


@dataclass
class CardResult:
    card_id: str
    items: list[str]
    used_bytes: int
    usable_bytes: int
    files: int
    scans: dict[str, list[dict]] = field(default_factory=dict)   # card path -> the self-scan's findings


@dataclass(frozen=True)
class ImageSpec:
    """What `build --image` asked for: `size` "card" (the card class's) or "content", and the layout."""
    size: str
    layout: str


@dataclass(frozen=True)
class ScanMemo:
    """Scan verdicts kept in the cache: identical bytes at the same card path scan the same."""
    cache: Cache
    scanner: str

    def recall(self, entry: FileEntry) -> list[dict] | None:
        found = self.cache.recall("scanned", scan_token(self.scanner, entry.sha256, entry.path))
        return found if isinstance(found, list) else None

    def remember(self, entry: FileEntry, findings: list[dict]) -> None:
        self.cache.remember("scanned", scan_token(self.scanner, entry.sha256, entry.path), findings)


def assign_paths(results: list[ItemResult], profile: Profile) -> None:
    """Each result's card paths (role -> path), from titles, groups and kinds (infopack.plan.layout)."""
    layout = card_layout([(r.item, r.info.kind, {p.role: p.extension for p in r.produced}) for r in results],
                         ascii_only=profile.ascii_names)
    for r in results:
        r.paths = layout.paths[r.item.id]
        r.shortened = layout.shortened.get(r.item.id, [])


def assemble_card(staging: Path, bundle: Bundle, profile: Profile, card: CardType, plan_card: CardPlan,
                  card_count: int, results: list[ItemResult], key, scan_memo: ScanMemo | None = None,
                  image: ImageSpec | None = None, progress: Callable[[dict], None] | None = None) -> CardResult:
    """Fill, check, scan, image (when asked) and seal one card in the staging folder."""
    folder = OutDir(staging)
    card_id = plan_card.card_id
    card_dir = folder.card_dir(card_id)
    card_dir.mkdir()
    sizes = {}
    for r in results:
        for prod in r.produced:
            rel = r.paths[prod.role]
            target = card_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(prod.path, target)
            sizes[rel] = target.stat().st_size
    problems = [f for f in check_card_paths(sizes, card) if f.level == ERROR]
    if problems:
        raise CheckFailed(bundle.manifest_path, f"{card_id}: {problems[0].path}: {problems[0].message}")
    fix_mtimes(card_dir)
    entries = entries_for(card_dir)
    scans = scan_card(card_dir, card_id, entries, scan_memo)
    record = None
    if image is not None:
        if progress is not None:
            progress({"event": "image", "card": card_id})
        record = write_image(staging, card_id, card, image.size, image.layout)
    manifest = CardManifest.create(
        bundle=BundleInfo(bundle.id, bundle.title, bundle.version),
        card=CardInfo(card_id, card_count, card.name, card.usable_bytes), profile=profile.id, files=entries,
        items=[ItemEntry(r.item.id, r.item.title, r.info.kind, tuple(sorted(r.paths.values())), r.item.title_allow)
               for r in results],
        image=record,
    ).to_bytes()
    folder.manifest_path(card_id).write_bytes(manifest)
    folder.build_signature_path(card_id).write_text(
        sign_manifest(manifest, key, bundle_id=bundle.id, bundle_version=bundle.version, card_id=card_id),
        encoding="utf-8")
    folder.sums_path(card_id).write_bytes(sha256sums(entries))
    return CardResult(card_id, [r.item.id for r in results], plan_card.used_bytes, card.usable_bytes, len(entries),
                      scans)


def scan_card(card_dir: Path, card_id: str, entries: list[FileEntry] | None = None,
              memo: ScanMemo | None = None) -> dict[str, list[dict]]:
    """The build checks its own output with the same scanner QA uses (skipping files the same
    scanner already passed, when `memo` and their `entries` are given).

    Returns each file's findings (warnings: an error fails the build) for report.html.
    """
    known = {e.path: e for e in entries or []}
    findings = {}
    for path in sorted(p for p in card_dir.rglob("*") if p.is_file()):
        rel = unicodedata.normalize("NFC", path.relative_to(card_dir).as_posix())
        entry = known.get(rel)
        remembered = memo.recall(entry) if memo and entry else None
        if remembered is not None:
            findings[rel] = remembered
            continue
        found = scan_file(str(path), display_path=rel)
        errors = [f for f in found if f.level == ERROR]
        if errors:
            raise CheckFailed(path, f"{card_id}/{rel}: identifying metadata remains after stripping: "
                                    f"{errors[0].check}: {errors[0].message}")
        findings[rel] = [f.to_dict() for f in found]
        if memo and entry:
            memo.remember(entry, findings[rel])
    return findings


def write_image(staging: Path, card_id: str, card: CardType, image_size: str, layout: str) -> ImageRecord:
    """The card's FAT image in `layout`: as large as the card class, or (`content`) just large
    enough; returns what the manifest records of it."""
    folder = OutDir(staging)
    size = content_image_size(folder.card_dir(card_id), card, layout) if image_size == "content" else None
    path = build_image(folder.card_dir(card_id), folder.image_path(card_id), card, size=size, layout=layout)
    return ImageRecord(layout, *image_digest(path))


def write_report(path: Path, bundle: Bundle, profile: Profile, results: list[ItemResult],
                 cards: list[CardResult], left_out: list[str], reasons: dict[str, str] | None = None,
                 notes: dict | None = None) -> None:
    """Off-card build report for the curator and reviewers; `notes`: more top-level keys."""
    report = {
        "bundle": {"id": bundle.id, "title": bundle.title, "version": bundle.version},
        "profile": profile.id,
        "cards": [{"id": c.card_id, "items": c.items, "used_bytes": c.used_bytes, "usable_bytes": c.usable_bytes,
                   "fill_percent": round(100 * c.used_bytes / c.usable_bytes, 2), "files": c.files}
                  for c in cards],
        "items": [{"id": r.item.id, "title": r.item.title, "kind": r.info.kind,
                   "duration": round(r.info.duration, 3), "files": r.paths,
                   "subtitles": r.subtitles} | ({"report": r.report} if r.report is not None else {}) | _notes(r)
                  for r in results],
        "left_out": left_out,
        "no_korean_subtitles": [r.item.id for r in results if (r.subtitles or {}).get("subtitles_missing")],
    }
    if reasons:
        report["left_out_reasons"] = reasons
    report.update(notes or {})
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _notes(result: ItemResult) -> dict:
    """What report.json says of an item only when there is something to say (encoder
    warnings, shortened names), so a report without any keeps its bytes."""
    notes = {}
    if result.warnings:
        notes["encoder_warnings"] = result.warnings
    if result.shortened:
        notes["shortened_names"] = result.shortened
    return notes


def check_approved(staging: Path, approved: dict[str, dict[str, str]]) -> None:
    """Every approved item must be, file for file, the bytes its reviewers approved."""
    folder = OutDir(staging)
    built: dict[str, dict[str, str]] = {}
    for card_id in folder.cards():
        built.update(CardManifest.from_bytes(folder.manifest_path(card_id).read_bytes()).item_files())
    for item_id, files in sorted(approved.items()):
        if item_id in built and built[item_id] != files:
            changed = sorted(set(built[item_id].items()) ^ set(files.items()))[0][0]
            raise CheckFailed(changed, f"item {item_id} is not what the reviewers approved (this file "
                                       f"differs: its source or subtitles changed since); have it reviewed again")
