"""Audio and video containers as ffprobe sees them: tags, extra streams, chapters.

What stays after the build's stripping recipe is a small technical minimum that is the
same for every ffmpeg user (`ALLOWED_TAGS`); anything beyond it is a finding.
"""

from __future__ import annotations

import json
import re

from infopack.checks import ERROR, WARNING, Finding
from infopack.errors import InfopackError
from infopack.scan.messages import shown
from infopack.scan.subtitle_text import TEXT_SUBTITLE_CODECS, embedded_subtitle_findings
from infopack.tools import ffmpeg_info, last_error_line, run, safe_arg

FFPROBE_TIMEOUT = 120      # headers only; generous for a 4 GB file on a slow card

# The technical minimum that stays after the stripping recipe and is the same for every
# ffmpeg user: values must match in full (re.fullmatch), keys are compared lower-case.
# Measured with ffmpeg 5.1 and `-map_metadata -1 -fflags +bitexact ...`: MP4 keeps only
# the brand tags, "VideoHandler"/"SoundHandler", vendor "[0][0][0][0]" (MOV: "FFMP")
# and the stream encoder "Lavc libx264" (no version); MKV/WebM write encoder "Lavf"
# and per-track DURATION; MPEG-TS names its service "Service01" by "FFmpeg". With
# bitexact, no version number is written anywhere, so any "Lavf59.27.100" means the
# recipe was not used.
ALLOWED_TAGS: dict[str, dict[str, str]] = {
    "format": {
        "major_brand": r"[ -~]{4}",
        "minor_version": r"\d{1,10}",
        "compatible_brands": r"(?:[ -~]{4})*",
        "encoder": r"Lavf",
    },
    "stream": {
        "language": r"und",
        "handler_name": r"VideoHandler|SoundHandler|SubtitleHandler",
        "vendor_id": r"\[0\]\[0\]\[0\]\[0\]|FFMP",
        "encoder": r"Lavc [a-z0-9_]+",
        "duration": r"\d{2}:\d{2}:\d{2}\.\d{1,9}",
    },
    "program": {
        "service_name": r"Service01",
        "service_provider": r"FFmpeg",
    },
}

ISO6709 = re.compile(r"[+-]\d{1,3}(?:\.\d+)?[+-]\d{1,3}(?:\.\d+)?")
_GPS_KEY = re.compile(r"location|gps|\bxyz\b|iso6709|coordinates", re.I)
_TIME_KEY = re.compile(r"creation_time|date|^year$|^icrd$|^time$|timestamp", re.I)


def container_findings(path: str, where: str) -> list[Finding]:
    """Tags, chapters and extra streams of an audio/video file, as ffprobe sees them.

    When ffprobe reads the headers but complains (e.g. "File ended prematurely"), the
    metadata verdicts stand and a `scan-damaged` warning says the file may be cut short.
    """
    info, complaint = probe(path)
    findings = probe_findings(info, where)
    for stream in info.get("streams", []):
        if stream.get("codec_type") == "subtitle" and stream.get("codec_name") in TEXT_SUBTITLE_CODECS:
            findings += embedded_subtitle_findings(path, stream, where)
    if complaint:
        findings.append(Finding("scan-damaged", WARNING, where,
                                f"ffprobe reports a problem: {complaint}"))
    return findings


def probe(path: str) -> tuple[dict, str]:
    """ffprobe's JSON for format, streams, programs and chapters, and its last complaint.

    Raises InfopackError when ffprobe cannot read the file at all.
    """
    args = [ffmpeg_info().ffprobe, "-v", "error", "-show_format", "-show_streams",
            "-show_programs", "-show_chapters", "-of", "json", safe_arg(path)]
    proc = run(args, timeout=FFPROBE_TIMEOUT, what="ffprobe", subject=path)
    info = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    if not info.get("streams"):
        raise InfopackError(path, "ffprobe found no audio or video stream")
    complaint = last_error_line(proc.stderr) if proc.stderr.strip() else ""
    return info, re.sub(r"^\[[^\]]* @ 0x[0-9a-f]+\]\s*", "", complaint)   # drop "[demuxer @ 0x55..]"


def probe_findings(info: dict, where: str) -> list[Finding]:
    """Findings from ffprobe JSON (pure, so tests can feed it crafted probe data)."""
    findings = _tag_findings("format", "format", info.get("format", {}).get("tags", {}), where)
    for program in info.get("programs", []):
        label = f"program {program.get('program_id', '?')}"
        findings += _tag_findings("program", label, program.get("tags", {}), where)
    findings += _stream_findings(info.get("streams", []), where)
    findings += _chapter_findings(info.get("chapters", []), where)
    return findings


def classify_tag(scope: str, key: str, value) -> tuple[str, str] | None:
    """(check, level) for a tag, or None when it is part of the allowed minimum."""
    value = str(value)
    allowed = ALLOWED_TAGS.get(scope, {}).get(key.lower())
    if allowed is not None and re.fullmatch(allowed, value):
        return None
    if _GPS_KEY.search(key) or ISO6709.fullmatch(value.rstrip("/")):
        return "meta-gps", ERROR
    if _TIME_KEY.search(key):
        return "meta-creation-time", ERROR
    if key.lower() == "language" and re.fullmatch(r"[a-z]{3}", value):
        return "meta-tag", WARNING     # names the content's language, not the curator
    return "meta-tag", ERROR


def _tag_findings(scope: str, label: str, tags: dict, where: str) -> list[Finding]:
    findings = []
    for key, value in tags.items():
        verdict = classify_tag(scope, key, value)
        if verdict:
            check, level = verdict
            findings.append(Finding(check, level, where,
                                    f"{label} tag {key}={shown(value)} is not part of the "
                                    f"allowed technical minimum; strip with -map_metadata -1"))
    return findings


def _stream_findings(streams: list[dict], where: str) -> list[Finding]:
    findings = []
    main_videos = 0
    for stream in streams:
        label = f"stream {stream.get('index', '?')} ({stream.get('codec_type', '?')})"
        extra = _extra_stream_finding(stream, label, where)
        if extra:
            findings.append(extra)
            continue                        # its tags are quoted in that finding
        if stream.get("codec_type") == "video":
            main_videos += 1
            if main_videos > 1:
                findings.append(Finding("meta-attachment", WARNING, where,
                                        f"{label}: a second video stream (cover art encoded "
                                        f"as video?); map only 0:V:0"))
        if str(stream.get("closed_captions", 0)) == "1":
            findings.append(Finding("meta-captions", ERROR, where,
                                    f"{label}: closed captions (ATSC A/53) inside the video "
                                    f"stream; encode with -a53cc 0"))
        findings += _tag_findings("stream", label, stream.get("tags", {}), where)
    return findings


def _extra_stream_finding(stream: dict, label: str, where: str) -> Finding | None:
    """Cover art, attachments, data tracks and embedded subtitles: things to drop."""
    kind = stream.get("codec_type")
    disposition = stream.get("disposition", {})
    tags = stream.get("tags", {})
    about = ", ".join(f"{k}={shown(v, 40)}" for k, v in tags.items())
    about = f" [{about}]" if about else ""
    codec = stream.get("codec_name") or stream.get("codec_tag_string") or "?"
    if disposition.get("attached_pic") or disposition.get("timed_thumbnails"):
        return Finding("meta-attachment", ERROR, where,
                       f"{label}: attached picture / cover art ({codec}){about}; map only 0:V:0")
    if kind == "attachment":
        return Finding("meta-attachment", ERROR, where,
                       f"{label}: attached file ({codec}){about}; drop attachments")
    if kind == "data":
        return Finding("meta-attachment", ERROR, where,
                       f"{label}: data stream ({codec}: timecode, GPS telemetry or other "
                       f"sensor data){about}; map only audio and video")
    if kind == "subtitle" and codec not in TEXT_SUBTITLE_CODECS:
        return Finding("meta-subtitle-stream", WARNING, where,
                       f"{label}: picture-based subtitle track ({codec}){about}; its text cannot "
                       f"be scanned: ship subtitles as checked sidecar files or burn them in")
    return None


def _chapter_findings(chapters: list[dict], where: str) -> list[Finding]:
    if not chapters:
        return []
    titles = [c.get("tags", {}).get("title") for c in chapters]
    named = [shown(t, 40) for t in titles if t]
    detail = f" (titles: {', '.join(named[:5])}{', …' if len(named) > 5 else ''})" if named else ""
    return [Finding("meta-chapters", ERROR, where,
                    f"{len(chapters)} chapter(s){detail}; strip with -map_chapters -1")]
