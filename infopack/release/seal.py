"""Sealing a card: hashes, its signature and SHA256SUMS, all kept off the card.

The manifest itself is `infopack.release.card_manifest.CardManifest`: canonical bytes;
signatures are separate files over those exact bytes. Nothing here is ever written onto
the card.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

from infopack.cardtime import CARD_EPOCH
from infopack.release.card_manifest import FileEntry
from infopack.release.comments import trusted_comment
from infopack.release.minisign import sign

CHUNK = 1 << 20


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
        os.utime(path, (CARD_EPOCH, CARD_EPOCH), follow_symlinks=False)
    os.utime(card_dir, (CARD_EPOCH, CARD_EPOCH))


def sha256sums(files: list[FileEntry]) -> bytes:
    """`sha256sum -c` format; run from inside the card folder."""
    return "".join(f"{f.sha256}  {f.path}\n" for f in sorted(files, key=lambda f: f.path)).encode("utf-8")


def sign_manifest(manifest: bytes, key, *, bundle_id: str, bundle_version: int, card_id: str) -> str:
    return sign(manifest, key.private, key.key_id,
                trusted_comment=trusted_comment(bundle_id, bundle_version, card_id, key.role),
                untrusted_comment=f"signature from infopack {key.role} key {key.public.key_id_hex}")
