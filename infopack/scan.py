"""`infopack scan`: report identifying metadata left in media, image and subtitle files.

A seized card must say nothing about who made it: no tool name or version, person,
place, machine or date. The build scans its own output with this module and QA scans
anything with it, so it reads files the way an investigator would: container tags
(ffprobe), image metadata (Pillow), subtitle text (the subtitles module), the raw bytes
(encoder strings that survive `-map_metadata -1`) and the trailer Red Star OS appends.

Every result is a `Finding` with a stable check name:

    meta-tag, meta-creation-time, meta-gps      container/stream/program tags
    meta-chapters, meta-attachment, meta-captions, meta-subtitle-stream
    meta-exif, meta-xmp, meta-icc, meta-comment, meta-thumbnail, meta-iptc   images
    meta-encoder-string, meta-path, meta-url, meta-email, ...   raw bytes (data file)
    sub-url, sub-email, sub-credit, ...          subtitles (infopack.subtitles)
    redstar-trailer                              Red Star OS watermark trailer
    os-residue                                   .DS_Store, ._*, Thumbs.db, ...
    scan-unreadable                              the file could not be read as its kind
    scan-damaged (warning)                       ffprobe read it but complained

Scanning never raises on bad media: a file that cannot be read is itself a finding,
because "could not check" must never look like "clean".
"""

from __future__ import annotations

import dataclasses
import fnmatch
import io
import json
import os
import re
import tempfile
import stat
import struct
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from infopack.checks import ERROR, INFO, WARNING, Finding
from infopack.errors import InfopackError
from infopack.tools import ffmpeg_info, last_error_line, run, safe_arg

DATA_DIR = Path(__file__).parent / "data"
SCAN_STRINGS_FILE = DATA_DIR / "scan-strings.toml"

MEDIA, IMAGE, SUBTITLE, OTHER = "media", "image", "subtitle", "other"
KINDS = (MEDIA, IMAGE, SUBTITLE, OTHER)

MEDIA_EXTENSIONS = frozenset(
    ".mp4 .m4v .mkv .webm .avi .mov .mpg .mpeg .ts .m2ts .mts .vob .3gp .3g2 .flv .wmv .asf "
    ".ogv .mp3 .m4a .m4b .aac .ogg .oga .opus .flac .wav .wma .amr .mka .ac3".split())
IMAGE_EXTENSIONS = frozenset(".jpg .jpeg .png .webp .gif .bmp .tif .tiff .mpo".split())
SUBTITLE_EXTENSIONS = frozenset(".srt .smi .sami .vtt .ass .ssa".split())

FFPROBE_TIMEOUT = 120      # headers only; generous for a 4 GB file on a slow card
MAX_SHOWN_VALUE = 80       # characters of a tag value quoted in a message


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------

def scan_file(path: str, *, display_path: str | None = None) -> list[Finding]:
    """All findings for one file; bad media becomes a `scan-unreadable` finding.

    `display_path` is the name used in findings (e.g. the path relative to the card).
    Only a broken environment (ffprobe missing) raises `InfopackError`.
    """
    where = display_path if display_path is not None else os.fspath(path)
    findings = _name_findings(os.path.basename(path), where)
    try:
        st = os.stat(path)
    except OSError as exc:
        return findings + [_unreadable(where, f"cannot open: {exc.strerror or exc}")]
    if not stat.S_ISREG(st.st_mode):                 # a FIFO would block the read
        return findings + [_unreadable(where, "not a regular file")]
    size = st.st_size
    kind = file_kind(path)
    if size == 0:
        if kind in (MEDIA, IMAGE):
            findings.append(_unreadable(where, f"empty file (0 bytes) with a {kind} extension"))
        return findings
    if kind == MEDIA:
        ffmpeg_info()                      # environment problems raise, they are not findings
    handler = KIND_HANDLERS.get(kind)
    if handler is not None:
        findings += _guarded(handler, path, where, kind)
    findings += _guarded(lambda p, w: raw_findings(p, w, kind), path, where, "raw bytes")
    findings += _guarded(redstar_findings, path, where, "Red Star trailer")
    return findings


def scan_paths(paths: list[str]) -> list[Finding]:
    """Scan files and folders (recursively, in sorted order)."""
    findings: list[Finding] = []
    for target in iter_scan_targets(paths):
        findings += [target.problem] if target.problem else scan_file(target.path)
    return findings


@dataclass(frozen=True)
class ScanTarget:
    path: str
    problem: Finding | None = None     # set when the path itself is the finding


def iter_scan_targets(paths: list[str]) -> Iterator[ScanTarget]:
    """Files to scan, in the order given; each folder's files sorted by path.

    Symlinked folders are not followed (no loops). Folders that only an operating
    system leaves behind (`.Spotlight-V100`, ...) are reported, not entered.
    """
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path)
        elif os.path.lexists(path):
            yield ScanTarget(path)
        else:
            yield ScanTarget(path, _unreadable(path, "no such file or folder"))


def count_files(paths: list[str]) -> int:
    """How many files `scan_paths(paths)` looks at (for the "clean: N files" line)."""
    return sum(1 for t in iter_scan_targets(paths) if t.problem is None)


def _walk(root: str) -> list[ScanTarget]:
    """Every file under `root`, sorted by path components ("a/z" before "b", "b" before "c/a")."""
    found: list[tuple[tuple[str, ...], ScanTarget]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in list(dirnames):
            residue = _residue_description(name)
            if residue:
                dirnames.remove(name)
                full = os.path.join(dirpath, name)
                found.append((_parts(full, root), ScanTarget(full, Finding(
                    "os-residue", ERROR, full, f"{residue}; remove the whole folder"))))
        found += [(_parts(os.path.join(dirpath, n), root), ScanTarget(os.path.join(dirpath, n)))
                  for n in filenames]
    return [target for _, target in sorted(found, key=lambda item: item[0])]


def _parts(path: str, root: str) -> tuple[str, ...]:
    return Path(os.path.relpath(path, root)).parts


# ---------------------------------------------------------------------------------------
# Kinds of file
# ---------------------------------------------------------------------------------------

_MAGIC = [  # (offset, bytes, kind): content wins over the extension
    (4, b"ftyp", MEDIA), (0, b"\x1a\x45\xdf\xa3", MEDIA), (0, b"OggS", MEDIA),
    (0, b"fLaC", MEDIA), (0, b"ID3", MEDIA), (0, b"FLV\x01", MEDIA),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", MEDIA), (0, b"\x00\x00\x01\xba", MEDIA),
    (0, b"\xff\xd8\xff", IMAGE), (0, b"\x89PNG\r\n\x1a\n", IMAGE), (0, b"GIF8", IMAGE),
    (0, b"II*\x00", IMAGE), (0, b"MM\x00*", IMAGE),
]


def file_kind(path: str) -> str:
    """media, image, subtitle or other: by content signature first, then by extension.

    Content first, so that a JPEG renamed `.mp4` is still read for EXIF; text has no
    signature, so a text file renamed `.mp4` goes to ffprobe and comes back unreadable.
    """
    sniffed = sniff_kind(path)
    if sniffed:
        return sniffed
    ext = os.path.splitext(path)[1].lower()
    if ext in MEDIA_EXTENSIONS:
        return MEDIA
    if ext in IMAGE_EXTENSIONS:
        return IMAGE
    if ext in SUBTITLE_EXTENSIONS:
        return SUBTITLE
    return OTHER


def sniff_kind(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(400)
    except OSError:
        return None
    if head[:4] == b"RIFF" and len(head) >= 12:
        return IMAGE if head[8:12] == b"WEBP" else MEDIA        # AVI, WAV
    for offset, magic, kind in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return kind
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return MEDIA                                             # MPEG-TS sync bytes
    return None


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------

def _unreadable(where: str, problem: str) -> Finding:
    return Finding("scan-unreadable", ERROR, where,
                   f"{problem}; it could not be checked, so treat it as not clean")


def _guarded(handler, path: str, where: str, what: str) -> list[Finding]:
    """Run one handler; any failure on this file becomes one `scan-unreadable` finding.

    Broad on purpose: a scanner that stops at one odd file leaves the rest of the card
    unchecked. (A missing ffprobe is found before, by `scan_file`, and does raise.)
    """
    try:
        return handler(path, where)
    except InfopackError as exc:
        return [_unreadable(where, f"cannot read as {what}: {exc.problem}")]
    except Exception as exc:  # noqa: BLE001 - see docstring
        return [_unreadable(where, f"cannot read as {what}: {type(exc).__name__}: {exc}")]


def _shown(value, limit: int = MAX_SHOWN_VALUE) -> str:
    """A tag value quoted for a message: printable, one line, bounded length."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = "".join(ch if ch.isprintable() else "." for ch in str(value).strip("\x00 "))
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _name_findings(name: str, where: str) -> list[Finding]:
    residue = _residue_description(name)
    return [Finding("os-residue", ERROR, where, f"{residue}; delete it")] if residue else []


def _residue_description(name: str) -> str | None:
    for glob, description in scan_data().file_names:
        if fnmatch.fnmatchcase(name, glob):
            return description
    return None


# ---------------------------------------------------------------------------------------
# Media containers (ffprobe)
# ---------------------------------------------------------------------------------------

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
                                    f"{label} tag {key}={_shown(value)} is not part of the "
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
    about = ", ".join(f"{k}={_shown(v, 40)}" for k, v in tags.items())
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


TEXT_SUBTITLE_CODECS = {"mov_text", "subrip", "srt", "ass", "ssa", "webvtt", "text"}


def embedded_subtitle_findings(path: str, stream: dict, where: str) -> list[Finding]:
    """A text subtitle track is scanned like a sidecar file: extracted to SRT, then read."""
    index = stream.get("index", 0)
    label = f"stream {index} (subtitle)"
    with tempfile.TemporaryDirectory(prefix="infopack-scan-") as tmp:
        extracted = Path(tmp) / "track.srt"
        proc = run([ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", safe_arg(path),
                    "-map", f"0:{index}", "-c:s", "srt", "-f", "srt", str(extracted)],
                   timeout=FFPROBE_TIMEOUT, what="subtitle track extraction", check=False)
        if proc.returncode != 0 or not extracted.exists():
            return [Finding("meta-subtitle-stream", WARNING, where,
                            f"{label}: embedded subtitle track could not be extracted to be scanned")]
        if extracted.stat().st_size == 0:
            return []
        return [Finding(f.check, f.level, where, f"{label}: {f.message}")
                for f in subtitle_findings(str(extracted), where)]


def _chapter_findings(chapters: list[dict], where: str) -> list[Finding]:
    if not chapters:
        return []
    titles = [c.get("tags", {}).get("title") for c in chapters]
    named = [_shown(t, 40) for t in titles if t]
    detail = f" (titles: {', '.join(named[:5])}{', …' if len(named) > 5 else ''})" if named else ""
    return [Finding("meta-chapters", ERROR, where,
                    f"{len(chapters)} chapter(s){detail}; strip with -map_chapters -1")]


# ---------------------------------------------------------------------------------------
# Images (Pillow)
# ---------------------------------------------------------------------------------------

# EXIF tags worth naming one by one, with the check they belong to.
_EXIF_TIME_TAGS = {0x0132: "DateTime", 0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized",
                   0x9010: "OffsetTime", 0x9011: "OffsetTimeOriginal", 0x9012: "OffsetTimeDigitized"}
_EXIF_NAMED_TAGS = {0x010F: "Make", 0x0110: "Model", 0x013B: "Artist", 0x8298: "Copyright",
                    0x0131: "Software", 0x013C: "HostComputer", 0x010E: "ImageDescription",
                    0xA430: "CameraOwnerName", 0xA431: "BodySerialNumber",
                    0xA433: "LensMake", 0xA434: "LensModel", 0xA435: "LensSerialNumber",
                    0xA420: "ImageUniqueID", 0x927C: "MakerNote", 0x9286: "UserComment",
                    0x9C9B: "XPTitle", 0x9C9C: "XPComment", 0x9C9D: "XPAuthor"}
_EXIF_POINTERS = {0x8769, 0x8825, 0xA005}          # Exif, GPS, Interop IFD offsets
_TIFF_STRUCTURE_TAGS = {0x00FE, 0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0111, 0x0112,
                        0x0115, 0x0116, 0x0117, 0x011A, 0x011B, 0x011C, 0x0128, 0x013D,
                        0x0140, 0x0142, 0x0143, 0x0144, 0x0145, 0x0152, 0x0153, 0x0155}
_XMP_KEYS = ("xmp", "XML:com.adobe.xmp")
_PNG_TEXT_XMP = "XML:com.adobe.xmp"


def image_findings(path: str, where: str) -> list[Finding]:
    """EXIF, XMP, ICC, comments and thumbnails of a still image."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()                                # truncated data raises here
        findings = _exif_findings(im.getexif(), where, tiff=im.format == "TIFF")
        findings += _image_info_findings(im, where)
        if im.format == "MPO" and getattr(im, "n_frames", 1) > 1:
            findings.append(Finding("meta-thumbnail", ERROR, where,
                                    f"{im.n_frames} images in one file (MPO: preview or depth "
                                    f"images); rebuild from pixels"))
    return findings


def _exif_findings(exif, where: str, *, tiff: bool = False) -> list[Finding]:
    """Named findings for the telling tags, one summary for the rest.

    In a TIFF, IFD0 *is* the image structure (width, strips, ...): those tags are not
    metadata and are skipped; in a JPEG/PNG/WebP any EXIF at all is reported.
    """
    from PIL import ExifTags

    if not exif:
        return []
    findings = []
    ifd0 = {t: v for t, v in exif.items() if not (tiff and t in _TIFF_STRUCTURE_TAGS)}
    ifds = {"IFD0": ifd0, "Exif": dict(exif.get_ifd(ExifTags.IFD.Exif))}
    gps = dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
    if gps:
        findings.append(Finding("meta-gps", ERROR, where, f"EXIF GPS position {_gps_text(gps)}"))
    thumb = dict(exif.get_ifd(ExifTags.IFD.IFD1))
    if 0x0201 in thumb or 0x0111 in thumb:
        findings.append(Finding("meta-thumbnail", ERROR, where,
                                "EXIF thumbnail (IFD1): a small copy of the original picture, "
                                "possibly before cropping; rebuild from pixels"))
    others = []
    for ifd in ifds.values():
        for tag, value in ifd.items():
            if tag in _EXIF_POINTERS:
                continue
            if tag in _EXIF_TIME_TAGS:
                findings.append(Finding("meta-creation-time", ERROR, where,
                                        f"EXIF {_EXIF_TIME_TAGS[tag]}={_shown(value)}"))
            elif tag in _EXIF_NAMED_TAGS:
                findings.append(Finding("meta-exif", ERROR, where,
                                        f"EXIF {_EXIF_NAMED_TAGS[tag]}={_shown(value)}"))
            else:
                others.append(ExifTags.TAGS.get(tag, f"0x{tag:04X}"))
    if others:
        findings.append(Finding("meta-exif", ERROR, where,
                                f"{len(others)} other EXIF tag(s) ({', '.join(sorted(others)[:8])}"
                                f"{', …' if len(others) > 8 else ''}); rebuild from pixels"))
    return findings


def _gps_text(gps: dict) -> str:
    def degrees(value) -> float:
        d, m, s = (float(x) for x in value)
        return d + m / 60 + s / 3600
    try:
        lat = degrees(gps[2]) * (-1 if str(gps.get(1, "N")).startswith("S") else 1)
        lon = degrees(gps[4]) * (-1 if str(gps.get(3, "E")).startswith("W") else 1)
        return f"{lat:+.5f} {lon:+.5f}"
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return f"({len(gps)} GPS tags)"


def _image_info_findings(im, where: str) -> list[Finding]:
    """XMP, ICC, comments and Photoshop blocks from Pillow's `info`/`text`."""
    info = im.info
    findings = []
    xmp = next((info[k] for k in _XMP_KEYS if info.get(k)), None)
    if xmp:
        findings.append(Finding("meta-xmp", ERROR, where,
                                f"XMP packet ({len(xmp)} bytes: tool, history, paths, people)"))
    if info.get("icc_profile"):
        findings.append(Finding("meta-icc", ERROR, where,
                                f"ICC profile {_icc_description(info['icc_profile'])}"
                                f"({len(info['icc_profile'])} bytes; can name the device or "
                                f"software); rebuild from pixels without icc_profile"))
    if info.get("comment"):
        findings.append(Finding("meta-comment", ERROR, where,
                                f"{im.format} comment {_shown(info['comment'])}"))
    for key, value in (getattr(im, "text", None) or {}).items():
        if key != _PNG_TEXT_XMP:
            findings.append(Finding("meta-comment", ERROR, where,
                                    f"{im.format} text chunk {key}={_shown(value)}"))
    if info.get("photoshop"):
        findings.append(Finding("meta-iptc", ERROR, where,
                                "Photoshop resource block (APP13: IPTC captions, credits, "
                                "places, thumbnail)"))
    return findings


def _icc_description(icc: bytes) -> str:
    try:
        from PIL import ImageCms
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
        return f"{_shown(desc.strip(), 50)} "
    except Exception:  # noqa: BLE001 - the description is a courtesy; the finding stands
        return ""


# ---------------------------------------------------------------------------------------
# Subtitles
# ---------------------------------------------------------------------------------------

_SUB_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.I)
_SUB_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SUB_CREDIT = re.compile(
    r"(?:subtitles?|subbed|translat\w*|synced?|ripped|encoded|timing|caption\w*)\s+by\b"
    r"|자막\s*(?:제작|번역|싱크)|번역\s*[:：]|싱크\s*[:：]|제작\s*[:：]", re.I)


def subtitle_findings(path: str, where: str) -> list[Finding]:
    """The subtitles module's scan when it exists; a minimal built-in check otherwise."""
    try:
        from infopack.subtitles import scan_subtitle_file
    except ImportError:
        return builtin_subtitle_findings(path, where)
    return [dataclasses.replace(f, path=where) if f.path in (path, os.fspath(path)) else f
            for f in scan_subtitle_file(path)]


def builtin_subtitle_findings(path: str, where: str) -> list[Finding]:
    """URLs, e-mail addresses and credit lines: the traces that name a person or group."""
    text = _decode_subtitle(Path(path).read_bytes())
    findings = []
    for check, pattern, what in (("sub-url", _SUB_URL, "web address"),
                                 ("sub-email", _SUB_EMAIL, "e-mail address"),
                                 ("sub-credit", _SUB_CREDIT, "credit line")):
        hits = [(n, m) for n, line in enumerate(text.splitlines(), 1)
                for m in pattern.finditer(line)]
        if hits:
            line_no, match = hits[0]
            findings.append(Finding(check, ERROR, where,
                                    f"{len(hits)} {what}(s), first on line {line_no}: "
                                    f"{_shown(match.group(0), 60)}"))
    return findings


def _decode_subtitle(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16", "cp949"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


KIND_HANDLERS = {MEDIA: container_findings, IMAGE: image_findings, SUBTITLE: subtitle_findings}


# ---------------------------------------------------------------------------------------
# Raw bytes
# ---------------------------------------------------------------------------------------

CHUNK_SIZE = 1 << 20
CHUNK_OVERLAP = 256        # longest match the data file may describe


@dataclass(frozen=True)
class ScanString:
    pattern: re.Pattern
    check: str
    level: str
    description: str
    kinds: frozenset


@dataclass(frozen=True)
class ScanData:
    strings: tuple[ScanString, ...]
    file_names: tuple[tuple[str, str], ...]       # (glob, description)


@lru_cache(maxsize=None)
def scan_data(path: Path = SCAN_STRINGS_FILE) -> ScanData:
    """Load and check the QA-editable data file; one clear line if it is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InfopackError(path, f"cannot read the scan patterns: {exc}") from None
    strings = tuple(_scan_string(entry, n, path) for n, entry in enumerate(raw.get("string", []), 1))
    names = tuple((e["glob"], e.get("description", "left behind by an operating system"))
                  for e in raw.get("file_name", []))
    return ScanData(strings, names)


def _scan_string(entry: dict, number: int, path: Path) -> ScanString:
    where = f"[[string]] entry {number}"
    try:
        level = entry.get("level", ERROR)
        kinds = frozenset(entry.get("kinds", KINDS))
        if level not in (ERROR, WARNING, INFO) or not kinds <= set(KINDS):
            raise ValueError(f"level must be error/warning/info and kinds among {KINDS}")
        return ScanString(re.compile(entry["pattern"].encode("ascii")), entry["check"], level,
                          entry.get("description", entry["check"]), kinds)
    except KeyError as exc:
        raise InfopackError(path, f"{where} has no {exc.args[0]!r}") from None
    except (ValueError, re.error, UnicodeEncodeError) as exc:
        raise InfopackError(path, f"{where}: {exc}") from None


def raw_findings(path: str, where: str, kind: str) -> list[Finding]:
    """Search the bytes for the data file's patterns, reading in chunks (constant memory).

    Each pattern is reported once, at its first match; chunks overlap by CHUNK_OVERLAP
    bytes so that a match across a chunk border is still seen.
    """
    pending = [s for s in scan_data().strings if kind in s.kinds]
    findings = []
    for spec, offset, matched in _first_matches(path, pending):
        findings.append(Finding(spec.check, spec.level, where,
                                f"{spec.description}: {_shown(matched, 60)} at byte {offset}"))
    return findings


def _first_matches(path: str, specs: list[ScanString]) -> Iterator[tuple[ScanString, int, bytes]]:
    pending = list(specs)
    tail = b""
    consumed = 0                         # file offset of the start of `tail`
    with open(path, "rb") as f:
        while pending:
            chunk = f.read(CHUNK_SIZE)
            if not chunk:
                break
            window = tail + chunk
            for spec in list(pending):
                match = spec.pattern.search(window)
                if match:
                    pending.remove(spec)
                    yield spec, consumed + match.start(), match.group(0)
            tail = window[-CHUNK_OVERLAP:]
            consumed += len(window) - len(tail)


# ---------------------------------------------------------------------------------------
# Red Star OS watermark trailer
# ---------------------------------------------------------------------------------------
#
# Layout, from ERNW's Red Star OS 3.0 research (Florian Grunow & Niklaus Schiess, 32C3
# talk "Lifting the Fog on Red Star OS", Dec 2015, and their published redstar-tools,
# folder "watermarked"): the OS appends to a file
#
#     [24-byte block] ... [24-byte block] [uint32 little-endian: total block bytes] "EOF"
#
# Each block is DES-ECB under the fixed, unsalted key 07 06 05 04 03 02 01 00 and
# decrypts to b"WM" + the disk serial, NUL-padded to 24 bytes. Each further Red Star
# machine adds one block and rewrites the length (24, 48, ...). Their published sample
# decrypts 79 08 df d0 ... 75 b1 to "WM8295FF513293A" (our tests use it).
# We also accept trailers stacked on trailers (a trailer followed by another one).

REDSTAR_DES_KEY = bytes.fromhex("0706050403020100")
REDSTAR_BLOCK_SIZE = 24
REDSTAR_MAGIC = b"EOF"
REDSTAR_MAX_BLOCKS = 1000          # sanity bound on the length field
_REDSTAR_FOOTER = 4 + len(REDSTAR_MAGIC)


@dataclass(frozen=True)
class TrailerInfo:
    original_size: int              # offset where the original file ends: truncate here
    trailer_size: int               # bytes appended after it, all trailers together
    blocks: int                     # 24-byte watermark blocks found
    serials: tuple[bytes, ...]      # decrypted disk serials, in file order
    decrypted: bool                 # every block decrypted to b"WM..."


def _des_ecb(key: bytes, decrypt: bool):
    """A single-DES ECB context, or None when this cryptography build has no DES.

    Three-key TDES with K1=K2=K3 is single DES (EDE collapses to one encryption).
    """
    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    except ImportError:
        try:
            from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
        except ImportError:
            return None
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    try:
        cipher = Cipher(TripleDES(key * 3), modes.ECB())
        return cipher.decryptor() if decrypt else cipher.encryptor()
    except Exception:  # noqa: BLE001 - e.g. a FIPS build that refuses DES
        return None


def make_redstar_trailer(serial: bytes, *more_serials: bytes) -> bytes:
    """The bytes Red Star OS would append for these disk serials (used to plant one)."""
    blocks = b""
    for s in (serial, *more_serials):
        plain = b"WM" + s
        if len(plain) > REDSTAR_BLOCK_SIZE:
            raise ValueError(f"serial {s!r} is longer than {REDSTAR_BLOCK_SIZE - 2} bytes")
        encryptor = _des_ecb(REDSTAR_DES_KEY, decrypt=False)
        if encryptor is None:
            raise RuntimeError("DES is not available in this cryptography build")
        blocks += encryptor.update(plain.ljust(REDSTAR_BLOCK_SIZE, b"\0")) + encryptor.finalize()
    return blocks + struct.pack("<I", len(blocks)) + REDSTAR_MAGIC


def find_redstar_trailer(path: str) -> TrailerInfo | None:
    """The Red Star trailer(s) at the end of the file, or None.

    Detection is by structure (length field + "EOF", a whole number of 24-byte blocks
    that fits in the file); decryption, when DES is available, adds the serials.
    """
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        end = size
        blocks: list[bytes] = []
        while end >= _REDSTAR_FOOTER + REDSTAR_BLOCK_SIZE:
            f.seek(end - _REDSTAR_FOOTER)
            footer = f.read(_REDSTAR_FOOTER)
            if footer[4:] != REDSTAR_MAGIC:
                break
            length = struct.unpack("<I", footer[:4])[0]
            start = end - _REDSTAR_FOOTER - length
            if (length == 0 or length % REDSTAR_BLOCK_SIZE
                    or length > REDSTAR_MAX_BLOCKS * REDSTAR_BLOCK_SIZE or start < 0):
                break
            f.seek(start)
            data = f.read(length)
            blocks[:0] = [data[i:i + REDSTAR_BLOCK_SIZE] for i in range(0, length, REDSTAR_BLOCK_SIZE)]
            end = start
    if not blocks:
        return None
    serials = [_redstar_serial(b) for b in blocks]
    found = tuple(s for s in serials if s is not None)
    return TrailerInfo(end, size - end, len(blocks), found, len(found) == len(blocks))


def _redstar_serial(block: bytes) -> bytes | None:
    decryptor = _des_ecb(REDSTAR_DES_KEY, decrypt=True)
    if decryptor is None:
        return None
    plain = decryptor.update(block) + decryptor.finalize()
    return plain[2:].rstrip(b"\0") if plain.startswith(b"WM") else None


def redstar_findings(path: str, where: str) -> list[Finding]:
    trailer = find_redstar_trailer(path)
    if trailer is None:
        return []
    cut = f"truncate the file to its first {trailer.original_size} bytes"
    if trailer.decrypted:
        serials = ", ".join(_shown(s, 30) for s in trailer.serials)
        return [Finding("redstar-trailer", ERROR, where,
                        f"Red Star OS watermark: {trailer.blocks} block(s) naming disk serial(s) "
                        f"{serials} in the last {trailer.trailer_size} bytes; {cut}")]
    if trailer.serials:
        return [Finding("redstar-trailer", ERROR, where,
                        f"Red Star OS watermark: {len(trailer.serials)} of {trailer.blocks} "
                        f"block(s) decrypt to disk serials; {cut}")]
    why = ("does not decrypt with the known key" if des_available()
           else "not decrypted: this cryptography build has no DES")
    return [Finding("redstar-trailer", WARNING, where,
                    f"a trailer shaped like Red Star OS's watermark ({trailer.blocks} block(s) "
                    f"+ length + 'EOF'), {why}; check it and {cut}")]


def des_available() -> bool:
    return _des_ecb(REDSTAR_DES_KEY, decrypt=True) is not None
