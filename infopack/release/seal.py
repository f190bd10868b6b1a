"""Sealing a card: the off-card manifest (canonical JSON), its signature and SHA256SUMS.

The manifest is canonical bytes; signatures are separate files over those exact bytes;
verification never re-serialises. Nothing here is ever written onto the card.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from infopack import __version__

MANIFEST_FORMAT = "infopack-card-manifest/1"
FIXED_MTIME = 946684800      # 2000-01-01 00:00:00 UTC: says nothing about when a card was made
CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    path: str      # relative to the card root, "/"-separated, NFC
    size: int
    sha256: str


def sha256_file(path: Path) -> str:
    """Streamed: memory stays flat whatever the file size."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def card_files(card_dir: Path) -> list[Path]:
    return sorted((p for p in card_dir.rglob("*") if p.is_file()), key=lambda p: p.relative_to(card_dir).as_posix())


def entries_for(card_dir: Path) -> list[FileEntry]:
    entries = []
    for path in card_files(card_dir):
        rel = unicodedata.normalize("NFC", path.relative_to(card_dir).as_posix())
        entries.append(FileEntry(rel, path.stat().st_size, sha256_file(path)))
    return entries


def fix_mtimes(card_dir: Path) -> None:
    """Every file and folder gets the same fixed time, deepest first."""
    for path in sorted(card_dir.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        os.utime(path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
    os.utime(card_dir, (FIXED_MTIME, FIXED_MTIME))


def canonical_json(data: dict) -> bytes:
    return (json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def card_manifest(*, bundle_id: str, bundle_title: str, bundle_version: int, card_id: str, card_count: int,
                  card_class: str, usable_bytes: int, profile: str, files: list[FileEntry],
                  items: list[dict]) -> bytes:
    return canonical_json({
        "format": MANIFEST_FORMAT,
        "bundle": {"id": bundle_id, "title": bundle_title, "version": bundle_version},
        "card": {"id": card_id, "count": card_count, "class": card_class, "usable_bytes": usable_bytes},
        "profile": profile,
        "tool": {"name": "infopack", "version": __version__},
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in sorted(files, key=lambda f: f.path)],
        "items": items,
    })


def item_files(manifest: dict) -> dict[str, dict[str, str]]:
    """Each item of a parsed card manifest: {card path: sha256} of its files."""
    hashes = {f["path"]: f["sha256"] for f in manifest["files"]}
    return {entry["id"]: {path: hashes[path] for path in entry["files"]} for entry in manifest["items"]}


def sha256sums(files: list[FileEntry]) -> bytes:
    """`sha256sum -c` format; run from inside the card folder."""
    return "".join(f"{f.sha256}  {f.path}\n" for f in sorted(files, key=lambda f: f.path)).encode("utf-8")


def trusted_comment(bundle_id: str, bundle_version: int, card_id: str, role: str) -> str:
    """No timestamp: the same build gives the same signature bytes."""
    return f"infopack {role} signature: bundle={bundle_id} version={bundle_version} card={card_id}"


def sign_manifest(manifest: bytes, key, *, bundle_id: str, bundle_version: int, card_id: str) -> str:
    from infopack.release.minisign import sign
    return sign(manifest, key.private, key.key_id,
                trusted_comment=trusted_comment(bundle_id, bundle_version, card_id, key.role),
                untrusted_comment=f"signature from infopack {key.role} key {key.public.key_id_hex}")
