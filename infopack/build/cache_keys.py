"""The cache's keys: what an encode, a probe or a scan verdict depends on, hashed.

An encode's key covers the input bytes' hash, the kind's recipe (its commands with paths
turned into tokens by the kind itself, so neither the work folder nor the source's place
leaks in), the prepared subtitles' bytes, their source and the burn-in font, the profile's recipe, the
bitrate from size fitting, the ffmpeg version and the cache format. Equal keys mean equal
output bytes. Computing a key never runs a program: everything it needs was recorded
when the source was probed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from infopack.build.cache import CACHE_FORMAT, json_digest
from infopack.kinds.base import EncodeJob, Kind
from infopack.kinds.probe import PROBE_MEMO_FORMAT
from infopack.release.seal import sha256_file

PACKAGE = Path(__file__).resolve().parent.parent       # the infopack package


def encode_key(job: EncodeJob, kind: Kind, ffmpeg_version: str, file_hash: Callable[[Path], str],
               profile_recipe: dict | None = None) -> str:
    """The cache key of one item's encode; `file_hash(path)` hashes an input's bytes.

    `profile_recipe`: job.profile.recipe(), passed in when many keys are computed at once.
    """
    subs = job.subtitles
    parts = {
        "format": CACHE_FORMAT,
        "kind": job.info.kind,
        "input": file_hash(job.info.path),
        "recipe": kind.recipe(job),
        "profile": profile_recipe if profile_recipe is not None else job.profile.recipe(),
        "video_bitrate": job.video_bitrate,
        "ffmpeg": ffmpeg_version,
        "subtitles": None,
    }
    if subs:
        parts["subtitles"] = {
            "mux_srt": sha256_file(subs.mux_srt) if subs.mux_srt else None,      # work files: not memoised
            "burn_ass": sha256_file(subs.burn_ass) if subs.burn_ass else None,
            "sidecar": hashlib.sha256(subs.sidecar).hexdigest() if subs.sidecar is not None else None,
            "fonts": sorted((p.name, file_hash(p.resolve())) for p in subs.fonts_dir.iterdir())
            if subs.fonts_dir else None,
            "source": subs.source_key,          # file or track (stream index), OCR language and tesseract
        }
    return json_digest(parts)


def probe_key(content_hash: str, ffmpeg_version: str, suffix: str) -> str:
    """The memo key of a source's MediaInfo: its bytes, the ffprobe version and the memo format."""
    return json_digest([CACHE_FORMAT, PROBE_MEMO_FORMAT, content_hash, ffmpeg_version, suffix.lower()])


def scanner_identity(ffmpeg_version: str) -> str:
    """What a scan verdict depends on besides the file: infopack's code and data, and ffmpeg."""
    digest = hashlib.sha256(ffmpeg_version.encode())
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix in (".py", ".toml", ".json", ".txt")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def scan_token(scanner: str, sha256: str, card_path: str) -> str:
    """Identical bytes at the same card path scan the same with the same scanner."""
    return hashlib.sha256(f"{scanner}\0{sha256}\0{card_path}".encode()).hexdigest()
