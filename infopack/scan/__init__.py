"""`infopack scan`: report identifying metadata left in media, image, subtitle and document files.

A seized card must say nothing about who made it: no tool name or version, person,
place, machine or date. The build scans its own output with this package and QA scans
anything with it, so it reads files the way an investigator would:

    walk             which files, and the files operating systems leave behind (os-residue)
    file_kinds       media, image, subtitle, document or other: which handler reads a file
    container        container tags, extra streams and chapters, as ffprobe sees them (meta-*)
    bare_containers  what the build writes (bare MP4/M4A/MP3), proven bare without ffprobe
    images           EXIF, GPS, XMP, ICC, comments, thumbnails (Pillow)
    subtitle_text    subtitle files and text tracks (infopack.subtitles: sub-*)
    documents        PDF, EPUB and TXT books (infopack.documents: doc-*)
    raw_bytes        the bytes themselves: encoder strings that survive `-map_metadata -1`,
                     searched for the patterns of scan_strings, joined by joined_search
    redstar          the trailer Red Star OS appends (redstar-trailer)

Each file is read once, in chunks: every chunk feeds the byte-pattern search and, for
verify, the SHA-256. Every result is a `Finding` of a check declared in
`infopack/data/checks.toml`.

Scanning never raises on bad media: a file that cannot be read is itself a finding
(`scan-unreadable`), because "could not check" must never look like "clean".
"""

from __future__ import annotations

import os
import stat

from infopack.checks import Finding
from infopack.documents import document_findings
from infopack.errors import InfopackError
from infopack.scan.bare_containers import bare_container
from infopack.scan.container import container_findings
from infopack.scan.file_kinds import DOCUMENT, IMAGE, MEDIA, SUBTITLE, file_kind
from infopack.scan.images import image_findings
from infopack.scan.messages import unreadable
from infopack.scan.raw_bytes import raw_pass, raw_searcher
from infopack.scan.redstar import redstar_findings
from infopack.scan.subtitle_text import subtitle_findings
from infopack.scan.walk import ScanTarget, iter_scan_targets, residue_findings
from infopack.tools import ffmpeg_info, parallel_map

__all__ = ["scan_file", "scan_paths", "count_files", "iter_scan_targets", "ScanTarget"]


def media_findings(path: str, where: str) -> list[Finding]:
    """Audio/video: what the build writes is proven bare natively; anything else goes to ffprobe."""
    return [] if bare_container(path) else container_findings(path, where)


KIND_HANDLERS = {MEDIA: media_findings, IMAGE: image_findings, SUBTITLE: subtitle_findings,
                 DOCUMENT: document_findings}


def scan_file(path: str, *, display_path: str | None = None, digest=None,
              metadata: bool = True) -> list[Finding]:
    """All findings for one file; bad media becomes a `scan-unreadable` finding.

    `display_path` is the name used in findings (e.g. the path relative to the card).
    The file's bytes are read once, in large chunks: each chunk feeds `digest` (a hashlib
    object, for verify) and the byte-pattern search; headers, tags and the Red Star trailer
    are read from where they are, not by reading the whole file again. `metadata=False`
    (verify --hash-only) keeps only the hashing and the Red Star trailer.
    Only a broken environment (ffprobe missing) raises `InfopackError`.
    """
    where = display_path if display_path is not None else os.fspath(path)
    findings = residue_findings(os.path.basename(path), where) if metadata else []
    try:
        st = os.stat(path)
    except OSError as exc:
        return findings + [unreadable(where, f"cannot open: {exc.strerror or exc}")]
    if not stat.S_ISREG(st.st_mode):                 # a FIFO would block the read
        return findings + [unreadable(where, "not a regular file")]
    size = st.st_size
    kind = file_kind(path)
    if size == 0:
        if metadata and kind in (MEDIA, IMAGE):
            findings.append(unreadable(where, f"empty file (0 bytes) with a {kind} extension"))
        return findings
    if metadata:
        if kind == MEDIA:
            ffmpeg_info()                      # environment problems raise, they are not findings
        handler = KIND_HANDLERS.get(kind)
        if handler is not None:
            findings += _guarded(handler, path, where, kind)
    searcher = raw_searcher(kind) if metadata else None
    findings += _guarded(lambda p, w: raw_pass(p, w, searcher, digest), path, where, "raw bytes")
    findings += _guarded(redstar_findings, path, where, "Red Star trailer")
    return findings


def scan_paths(paths: list[str], workers: int = 0, progress=None) -> list[Finding]:
    """Scan files and folders (recursively, in sorted order); findings in that order.

    Files are scanned by a few threads at once: ffprobe runs and hashing/reading wait
    outside the GIL, so one file's regex search overlaps another's ffprobe. `progress`
    gets {"event": "scanning", "files"} once, then {"event": "scanned", "path"} per file.
    """
    targets = list(iter_scan_targets(paths))
    report = progress or (lambda event: None)
    report({"event": "scanning", "files": len(targets)})

    def one(target: ScanTarget) -> list[Finding]:
        found = [target.problem] if target.problem else scan_file(target.path)
        report({"event": "scanned", "path": target.path})
        return found

    findings: list[Finding] = []
    for found in parallel_map(one, targets, workers):
        findings += found
    return findings


def count_files(paths: list[str]) -> int:
    """How many files `scan_paths(paths)` looks at (for the "clean: N files" line)."""
    return sum(1 for t in iter_scan_targets(paths) if t.problem is None)


def _guarded(handler, path: str, where: str, what: str) -> list[Finding]:
    """Run one handler; any failure on this file becomes one `scan-unreadable` finding.

    Broad on purpose: a scanner that stops at one odd file leaves the rest of the card
    unchecked. (A missing ffprobe is found before, by `scan_file`, and does raise.)
    """
    try:
        return handler(path, where)
    except InfopackError as exc:
        return [unreadable(where, f"cannot read as {what}: {exc.problem}")]
    except Exception as exc:  # noqa: BLE001 - see docstring
        return [unreadable(where, f"cannot read as {what}: {type(exc).__name__}: {exc}")]
