"""Thumbnails for the review, made by each item's kind (infopack.kinds.thumbnails) and
cached by content hash, never inside a card folder."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from infopack.kinds.base import Kind
from infopack.kinds.thumbnails import POSTER_WIDTH, SHEET_TILE_WIDTH


class ThumbCache:
    """PNGs kept in a folder by (file hash, what): a rebuilt item never shows a stale frame."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    def get(self, kind: Kind, path: Path, sha256: str, duration: float, what: str) -> bytes | None:
        """`what` is "poster" or "sheet"; a kind makes only its own `thumbnails`."""
        key = hashlib.sha256(f"{sha256}:{what}:{POSTER_WIDTH}:{SHEET_TILE_WIDTH}".encode()).hexdigest()[:32]
        cached = self.folder / f"{key}.png" if self.folder else None
        if cached is not None and cached.is_file():
            return cached.read_bytes()
        data = kind.thumbnail(path, duration, what) if what in kind.thumbnails else None
        if data is not None and cached is not None:
            _keep(cached, data)
        return data


def _keep(cached: Path, data: bytes) -> None:
    """Keep a thumbnail for next time; a full or read-only folder only costs speed."""
    tmp = None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, cached)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
