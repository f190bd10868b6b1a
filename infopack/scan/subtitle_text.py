"""Subtitle text, in sidecar files and in text tracks inside media, scanned by the subtitles module."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

from infopack.checks import WARNING, Finding
from infopack.subtitles import scan_subtitle_file
from infopack.tools import ffmpeg_info, run, safe_arg

TEXT_SUBTITLE_CODECS = {"mov_text", "subrip", "srt", "ass", "ssa", "webvtt", "text"}
EXTRACT_TIMEOUT = 120      # one track's text; generous for a 4 GB file on a slow card


def subtitle_findings(path: str, where: str) -> list[Finding]:
    """The subtitles module's scan of a file, its findings named `where`."""
    return [dataclasses.replace(f, path=where) if f.path in (path, os.fspath(path)) else f
            for f in scan_subtitle_file(path)]


def embedded_subtitle_findings(path: str, stream: dict, where: str) -> list[Finding]:
    """A text subtitle track is scanned like a sidecar file: extracted to SRT, then read."""
    index = stream.get("index", 0)
    label = f"stream {index} (subtitle)"
    with tempfile.TemporaryDirectory(prefix="infopack-scan-") as tmp:
        extracted = Path(tmp) / "track.srt"
        proc = run([ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", safe_arg(path),
                    "-map", f"0:{index}", "-c:s", "srt", "-f", "srt", str(extracted)],
                   timeout=EXTRACT_TIMEOUT, what="subtitle track extraction", check=False)
        if proc.returncode != 0 or not extracted.exists():
            return [Finding("meta-subtitle-stream", WARNING, where,
                            f"{label}: embedded subtitle track could not be extracted to be scanned")]
        if extracted.stat().st_size == 0:
            return []
        return [Finding(f.check, f.level, where, f"{label}: {f.message}")
                for f in subtitle_findings(str(extracted), where)]
