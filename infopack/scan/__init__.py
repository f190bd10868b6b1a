"""`infopack scan`: report identifying metadata left in media, image and subtitle files.

A seized card must say nothing about who made it: no tool name or version, person,
place, machine or date. The build scans its own output with this module and QA scans
anything with it, so it reads files the way an investigator would: container tags
(ffprobe, or natively for bare MP4/M4A/MP3), image metadata (Pillow), subtitle text (the
subtitles module), the raw bytes (encoder strings that survive `-map_metadata -1`) and the
trailer Red Star OS appends.

Each file is read once, in chunks: every chunk feeds the byte-pattern search (the data
file's patterns joined into a few regex passes) and, for verify, the SHA-256.

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
from infopack.data import DATA_DIR
from infopack.errors import InfopackError
from infopack.tools import ffmpeg_info, last_error_line, run, safe_arg


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
    findings = _name_findings(os.path.basename(path), where) if metadata else []
    try:
        st = os.stat(path)
    except OSError as exc:
        return findings + [_unreadable(where, f"cannot open: {exc.strerror or exc}")]
    if not stat.S_ISREG(st.st_mode):                 # a FIFO would block the read
        return findings + [_unreadable(where, "not a regular file")]
    size = st.st_size
    kind = file_kind(path)
    if size == 0:
        if metadata and kind in (MEDIA, IMAGE):
            findings.append(_unreadable(where, f"empty file (0 bytes) with a {kind} extension"))
        return findings
    if metadata:
        if kind == MEDIA:
            ffmpeg_info()                      # environment problems raise, they are not findings
        handler = KIND_HANDLERS.get(kind)
        if handler is not None:
            findings += _guarded(handler, path, where, kind)
    searcher = raw_searcher(kind) if metadata else None
    findings += _guarded(lambda p, w: _raw_pass(p, w, searcher, digest), path, where, "raw bytes")
    findings += _guarded(redstar_findings, path, where, "Red Star trailer")
    return findings


def scan_paths(paths: list[str], workers: int = 0) -> list[Finding]:
    """Scan files and folders (recursively, in sorted order); findings in that order.

    Files are scanned by a few threads at once: ffprobe runs and hashing/reading wait
    outside the GIL, so one file's regex search overlaps another's ffprobe.
    """
    targets = list(iter_scan_targets(paths))

    def one(target: ScanTarget) -> list[Finding]:
        return [target.problem] if target.problem else scan_file(target.path)

    findings: list[Finding] = []
    for found in parallel_map(one, targets, workers):
        findings += found
    return findings


SCAN_WORKERS = 3      # threads: enough to keep ffprobe and hashing busy beside the GIL-bound search


def parallel_map(fn, items: list, workers: int = 0) -> Iterator:
    """`map(fn, items)` on a few threads, results in the order of `items` (reproducible output)."""
    workers = workers or SCAN_WORKERS
    if workers <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="infopack-scan") as pool:
        yield from pool.map(fn, items)


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
    if bare_container(path):
        return []
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
# Bare containers, read natively
# ---------------------------------------------------------------------------------------
#
# ffprobe is a separate program: starting it costs 50-200 ms per file, more than hashing
# and searching a 10 MB song. What infopack writes (MP4/M4A with -map_metadata -1 and
# bitexact, MP3 without ID3/Xing) has a box layout simple enough to prove bare here: no
# tags, no chapters, no extra tracks, zero creation times, the standard handler names and
# vendor, no SEI in the first video frame (x264 settings, closed captions). Anything else,
# however harmless, goes to ffprobe, whose findings and messages stay authoritative.

_MP4_TOP = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"}
_MP4_MAX_MOOV = 32 << 20
_MP4_MAX_SAMPLE = 16 << 20
_MP4_HANDLERS = {b"vide": b"VideoHandler", b"soun": b"SoundHandler"}
_MP4_VENDORS = {b"\0\0\0\0", b"FFMP"}


def bare_container(path: str) -> bool:
    """True when ffprobe provably has nothing to report about this file; False: ask ffprobe."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if head[4:8] == b"ftyp":
                return _bare_mp4(f)
            if os.path.splitext(path)[1].lower() == ".mp3":
                return _bare_mp3(f, head)
    except (OSError, ValueError, struct.error, IndexError):
        pass
    return False


def _boxes(buf: bytes, start: int = 0):
    """(type, payload) of consecutive ISO BMFF boxes; ValueError when sizes do not add up."""
    off = start
    while off < len(buf):
        size, kind = struct.unpack_from(">I4s", buf, off)
        head = 8
        if size == 1:
            size, head = struct.unpack_from(">Q", buf, off + 8)[0], 16
        elif size == 0:
            size = len(buf) - off
        if size < head or off + size > len(buf):
            raise ValueError("box size")
        yield kind, buf[off + head:off + size]
        off += size


def _bare_mp4(f) -> bool:
    size = os.fstat(f.fileno()).st_size
    off, moov = 0, None
    while off < size:                           # top level: read headers only, seek past mdat
        f.seek(off)
        header = f.read(16)
        box, kind = struct.unpack_from(">I4s", header)
        head = 8
        if box == 1:
            box, head = struct.unpack_from(">Q", header, 8)[0], 16
        elif box == 0:
            box = size - off
        if box < head or off + box > size or kind not in _MP4_TOP:
            return False                        # cut short, fragmented, uuid/meta boxes, ...
        if kind == b"moov":
            if moov is not None or box > _MP4_MAX_MOOV:
                return False
            f.seek(off + head)
            moov = f.read(box - head)
        off += box
    if moov is None:
        return False
    videos = 0
    for kind, body in _boxes(moov):
        if kind == b"mvhd":
            if _mp4_created(body):
                return False
        elif kind == b"trak":
            handler = _bare_trak(body, f)
            if handler is None:
                return False
            videos += handler == b"vide"
        elif kind == b"udta":
            if not _empty_udta(body):
                return False
        elif kind != b"iods":
            return False
    return videos <= 1


def _mp4_created(body: bytes) -> bool:
    """A non-zero creation time in an mvhd/tkhd/mdhd (version 0: 32-bit, 1: 64-bit)."""
    return any(body[4:12] if body[0] == 1 else body[4:8])


def _empty_udta(body: bytes) -> bool:
    """What ffmpeg always writes: udta/meta with an 'mdir' handler and an empty ilst."""
    children = list(_boxes(body))
    if [k for k, _ in children] != [b"meta"]:
        return False
    meta = list(_boxes(children[0][1], 4))
    return ([k for k, _ in meta] == [b"hdlr", b"ilst"] and meta[0][1][8:12] == b"mdir"
            and meta[1][1] == b"")


def _bare_trak(body: bytes, f) -> bytes | None:
    """The track's handler ('vide'/'soun') when it is bare, else None."""
    handler = None
    for kind, box in _boxes(body):
        if kind == b"tkhd":
            if _mp4_created(box):
                return None
        elif kind == b"mdia":
            handler = _bare_mdia(box, f)
            if handler is None:
                return None
        elif kind != b"edts":
            return None                          # tref (chapters, thumbnails), udta, meta, ...
    return handler


def _bare_mdia(body: bytes, f) -> bytes | None:
    handler, minf = None, None
    for kind, box in _boxes(body):
        if kind == b"mdhd":
            language = 32 if box[0] == 1 else 20
            if _mp4_created(box) or box[language:language + 2] != b"\x55\xc4":     # "und"
                return None
        elif kind == b"hdlr":
            handler = box[8:12]
            if box[24:].rstrip(b"\0") != _MP4_HANDLERS.get(handler):
                return None
        elif kind == b"minf":
            minf = box
        else:
            return None
    if handler not in _MP4_HANDLERS or minf is None:
        return None
    stbl = dict(_boxes(dict(_boxes(minf)).get(b"stbl", b"")))
    stsd = stbl.get(b"stsd", b"")
    entries = list(_boxes(stsd, 8))
    if len(entries) != 1:
        return None
    codec, entry = entries[0]
    if entry[12:16] not in _MP4_VENDORS:
        return None
    if handler == b"vide":
        name = entry[43:43 + entry[42]].decode("latin-1") if entry[42] < 32 else None
        if name is None or (name and not re.fullmatch(ALLOWED_TAGS["stream"]["encoder"], name)):
            return None
        if codec != b"avc1" or _first_sample_has_sei(entry, stbl, f):
            return None
    return handler


def _first_sample_has_sei(entry: bytes, stbl: dict, f) -> bool:
    """SEI NAL units in the first H.264 frame: x264's settings, closed captions (A/53)."""
    config = dict(_boxes(entry, 78)).get(b"avcC")
    if not config:
        return True
    length_size = (config[4] & 3) + 1
    stsz, stco, co64 = stbl.get(b"stsz"), stbl.get(b"stco"), stbl.get(b"co64")
    if not stsz or not (stco or co64):
        return True
    sample = struct.unpack_from(">I", stsz, 4)[0] or struct.unpack_from(">I", stsz, 12)[0]
    offset = struct.unpack_from(">I", stco, 8)[0] if stco else struct.unpack_from(">Q", co64, 8)[0]
    if sample > _MP4_MAX_SAMPLE:
        return True
    f.seek(offset)
    data = f.read(sample)
    pos = 0
    while pos + length_size <= len(data):
        n = int.from_bytes(data[pos:pos + length_size], "big")
        if n == 0 or pos + length_size + n > len(data) or data[pos + length_size] & 0x1F == 6:
            return True
        pos += length_size + n
    return pos != len(data)


def _bare_mp3(f, head: bytes) -> bool:
    """An MPEG audio frame first (no ID3v2), no Xing/Info/VBRI header, no ID3v1/APE/Lyrics3 tail."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0 or (head[1] >> 3) & 3 == 1 \
            or (head[1] >> 1) & 3 == 0 or head[2] >> 4 in (0, 15) or (head[2] >> 2) & 3 == 3:
        return False
    f.seek(0)
    first = f.read(200)
    if any(tag in first for tag in (b"Xing", b"Info", b"VBRI")):
        return False
    size = os.fstat(f.fileno()).st_size
    f.seek(max(0, size - 512))
    tail = f.read()
    return not (tail[-128:].startswith(b"TAG") or b"APETAGEX" in tail or b"LYRICS" in tail)


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
        if im.format == "JPEG":                  # decode at 1/8 scale: every byte is still read,
            im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))   # at a tenth the work
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

CHUNK_SIZE = 1 << 20          # read size: fits the L2 cache, so the few search passes re-read it cheaply
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
    return _raw_pass(path, where, raw_searcher(kind), None)


def _raw_pass(path: str, where: str, searcher: "RawSearcher | None", digest) -> list[Finding]:
    """One read of the file: every chunk goes to `digest` (if any) and to the pattern search.

    Reading stops early only when there is nothing left to hash or search for.
    """
    found: list[tuple[int, int, bytes]] = []          # (spec index, offset, matched)
    pending = set(range(len(searcher.specs))) if searcher else set()
    overlap = CHUNK_OVERLAP
    buf = bytearray(overlap + CHUNK_SIZE)
    view = memoryview(buf)
    kept = 0                             # bytes carried over from the previous chunk
    consumed = 0                         # file offset of buf[0]
    with open(path, "rb", buffering=0) as f:
        while pending or digest is not None:
            n = f.readinto(view[kept:kept + CHUNK_SIZE])
            if not n:
                break
            # hashlib releases the GIL: the chunk is hashed on another core while it is searched
            hashing = _hash_pool().submit(digest.update, view[kept:kept + n]) if digest is not None else None
            end = kept + n
            if pending:
                for index, start, matched in searcher.search(buf, end, pending):
                    found.append((index, consumed + start, matched))
            if hashing is not None:
                hashing.result()
            kept = min(overlap, end)
            buf[:kept] = bytes(view[end - kept:end])
            consumed += end - kept
    view.release()
    findings = []
    for index, offset, matched in found:
        spec = searcher.specs[index]
        findings.append(Finding(spec.check, spec.level, where,
                                f"{spec.description}: {_shown(matched, 60)} at byte {offset}"))
    return findings


@lru_cache(maxsize=None)
def _hash_pool():
    from concurrent.futures import ThreadPoolExecutor
    return ThreadPoolExecutor(max_workers=SCAN_WORKERS, thread_name_prefix="infopack-hash")


# The search is the scanner's cost: every byte of every file. Python's regex engine finds
# a pattern's leading literal at about memory speed, but one pattern at a time, so 26
# patterns meant 26 passes. Instead, each pattern's fixed-width start ("Lav[fc]\d{2}\." is
# 7 bytes wide) is pinned on one of its literal bytes (the pivot), patterns sharing a pivot
# byte are joined into one regex `<pivot>(?:...|...)`, and a small set of pivots covers all
# patterns: about a third as many passes, with the same matches at the same offsets.

@dataclass(frozen=True)
class _Token:
    source: str                  # regex source of one byte-wide element
    literal: int | None          # its byte when it is a literal, else None (a class)
    zero: bool = False           # a lookbehind: no width, checked where it stands


@dataclass(frozen=True)
class _Gate:
    regex: re.Pattern            # pivot byte, then the alternatives of its members
    members: tuple[int, ...]     # spec indexes that this gate can find


class RawSearcher:
    """The data file's patterns for one kind of file, joined into as few passes as possible."""

    def __init__(self, specs: tuple[ScanString, ...]):
        self.specs = specs
        self._starts, self._alone = _fixed_starts(specs)
        self._plans: dict[frozenset, tuple[tuple[_Gate, ...], tuple[int, ...]]] = {}

    def plan(self, pending: frozenset) -> tuple[tuple[_Gate, ...], tuple[int, ...]]:
        """Gates for the patterns still pending (fewer once some are found), cached."""
        plan = self._plans.get(pending)
        if plan is None:
            starts = {i: s for i, s in self._starts.items() if i in pending}
            gates, failed = _build_gates(starts)
            plan = self._plans[pending] = (gates, tuple(sorted({*failed, *(pending & set(self._alone))})))
        return plan

    def search(self, buf, end: int, pending: set[int]) -> list[tuple[int, int, bytes]]:
        """First match of each pending pattern in buf[:end], in data-file order; found ones
        are removed from `pending`."""
        gates, alone = self.plan(frozenset(pending))
        hits: dict[int, re.Match] = {}
        candidates = list(alone)
        for gate in gates:
            if gate.regex.search(buf, 0, end):          # rare: a real trace somewhere in buf
                candidates += gate.members
        for i in candidates:
            match = self.specs[i].pattern.search(buf, 0, end)
            if match:
                hits[i] = match
        pending.difference_update(hits)
        return [(i, hits[i].start(), bytes(hits[i].group(0))) for i in sorted(hits)]


@lru_cache(maxsize=None)
def raw_searcher(kind: str) -> RawSearcher:
    return RawSearcher(tuple(s for s in scan_data().strings if kind in s.kinds))


_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11, "0": 0}
_CLASS_ESCAPES = set("dDwWsS")
_MAX_BRANCHES = 8


def fixed_start(source: str) -> tuple[list[list[_Token]], str]:
    """A pattern's fixed-width start (one token list per branch) and the regex after it.

    Understood: literal characters, escapes (\\. \\x00 \\d ...), [classes], exact repeats
    {n}, an optional literal (s?) and a group of literal alternatives (?:home|Users).
    Anything else ends the start; what follows is kept as regex source.
    """
    branches: list[list[_Token]] = [[]]
    i = 0
    while i < len(source):
        if source.startswith(("(?<=", "(?<!"), i):
            end = _group_end(source, i)
            if end is None or source[end:end + 1] in ("?", "*", "+", "{"):
                break
            branches = [b + [_Token(source[i:end], None, zero=True)] for b in branches]
            i = end
            continue
        if source.startswith("(?:", i):
            alternatives, after = _literal_group(source, i)
            if alternatives is None or len(branches) * len(alternatives) > _MAX_BRANCHES:
                break
            branches = [b + a for b in branches for a in alternatives]
            i = after
            continue
        token, after = _one_token(source, i)
        if token is None:
            break
        quantifier = source[after:after + 1]
        if quantifier == "?" and token.literal is not None and source[after + 1:after + 2] not in ("?", "+") \
                and len(branches) * 2 <= _MAX_BRANCHES:
            branches = [b + extra for b in branches for extra in ([], [token])]
            i = after + 1
            continue
        repeat = re.match(r"\{(\d+)\}(?![?+])", source[after:])
        if repeat and int(repeat.group(1)) <= 16:
            branches = [b + [token] * int(repeat.group(1)) for b in branches]
            i = after + repeat.end()
            continue
        at_least = re.match(r"(?:\+|\{(\d+),(\d*)\})(?![?+])", source[after:])
        if at_least and 1 <= int(at_least.group(1) or 1) <= 16:
            # X{m,n} is X*m then X{0,n-m}: the m copies join the start, the rest stays regex
            low, high = int(at_least.group(1) or 1), at_least.group(2)
            more = "*" if not high else f"{{0,{int(high) - low}}}"
            return [b + [token] * low for b in branches], token.source + more + source[after + at_least.end():]
        if quantifier and quantifier in "?*+{":
            break
        branches = [b + [token] for b in branches]
        i = after
    return branches, source[i:]


def _structure(source: str, i: int = 0):
    """(index, character, depth after it) of the regex characters outside escapes and [classes]."""
    depth, in_class = 0, False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            i += 1 + (source[i + 1:i + 2] == "]")           # "[]...]": that ] is a member
            continue
        else:
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth
        i += 1


def _group_end(source: str, i: int) -> int | None:
    """Index just after the group that opens at source[i]."""
    return next((j + 1 for j, ch, depth in _structure(source, i) if ch == ")" and depth == 0), None)


def _one_token(source: str, i: int) -> tuple[_Token | None, int]:
    ch = source[i]
    if ch == "\\":
        if i + 1 >= len(source):
            return None, i
        nxt = source[i + 1]
        if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", source[i + 2:i + 4]):
            return _Token(source[i:i + 4], int(source[i + 2:i + 4], 16)), i + 4
        if nxt in _CLASS_ESCAPES:
            return _Token(source[i:i + 2], None), i + 2
        if nxt in _SIMPLE_ESCAPES:
            return _Token(source[i:i + 2], _SIMPLE_ESCAPES[nxt]), i + 2
        if not nxt.isalnum() and nxt.isascii():
            return _Token(source[i:i + 2], ord(nxt)), i + 2
        return None, i
    if ch == "[":
        j = i + 1 + (source[i + 1:i + 2] == "^")
        j += source[j:j + 1] == "]"
        while j < len(source) and source[j] != "]":
            j += 2 if source[j] == "\\" else 1
        if j >= len(source):
            return None, i
        return _Token(source[i:j + 1], None), j + 1
    if ch in ".^$|()*+?{}" or not ch.isascii() or not ch.isprintable():
        return None, i
    return _Token(ch, ord(ch)), i + 1


def _literal_group(source: str, i: int) -> tuple[list[list[_Token]] | None, int]:
    """(?:abc|de) of plain literals: its alternatives as token lists."""
    close = source.find(")", i)
    if close < 0:
        return None, i
    body = source[i + 3:close]
    alternatives = []
    for alternative in body.split("|"):
        tokens, j = [], 0
        while j < len(alternative):
            token, j2 = _one_token(alternative, j)
            if token is None or token.literal is None or alternative[j2:j2 + 1] in ("?", "*", "+", "{"):
                return None, i
            tokens.append(token)
            j = j2
        if not tokens:
            return None, i
        alternatives.append(tokens)
    if source[close + 1:close + 2] in ("?", "*", "+", "{"):
        return None, i
    return alternatives, close + 1


def _fixed_starts(specs: tuple[ScanString, ...]) -> tuple[dict, tuple[int, ...]]:
    """Each pattern's fixed-width start and the literal bytes every branch of it contains;
    patterns that cannot be joined safely (groups, flags, a top-level |, no literal) are
    searched on their own."""
    starts, alone = {}, []
    for index, spec in enumerate(specs):
        source = spec.pattern.pattern.decode("ascii")
        branches, rest = fixed_start(source)
        common = set.intersection(*({t.literal for t in b if t.literal is not None} for b in branches))
        if spec.pattern.groups or _top_level_bar(source) or not common:
            alone.append(index)
        else:
            starts[index] = (branches, rest, common)
    return starts, tuple(alone)


def _top_level_bar(source: str) -> bool:
    return any(ch == "|" and depth == 0 for _, ch, depth in _structure(source))


def _build_gates(starts: dict) -> tuple[tuple[_Gate, ...], tuple[int, ...]]:
    """Pick pivot bytes (greedy set cover) and join each pivot's patterns into one regex."""
    gates, alone = [], []
    uncovered = set(starts)
    while uncovered:
        counts: dict[int, int] = {}
        for index in uncovered:
            for byte in starts[index][2]:
                counts[byte] = counts.get(byte, 0) + 1
        pivot = min(counts, key=lambda b: (-counts[b], b))
        members = sorted(i for i in uncovered if pivot in starts[i][2])
        alternatives = []
        for index in members:
            branches, rest, _ = starts[index]
            for tokens in branches:
                # the first occurrence that leaves a token after it: the regex engine rejects
                # an alternative at its first literal or class for free, a lookbehind costs
                at = [n for n, t in enumerate(tokens) if t.literal == pivot]
                k = next((n for n in at if n < len(tokens) - 1), at[0])
                # the bytes after the pivot first (rejected for free), then one lookbehind
                # over the whole start (lookbehinds of the pattern stay where they stand in it)
                after = "".join(t.source for t in tokens[k + 1:] if not t.zero)
                whole = "".join(t.source for t in tokens)
                check = k or any(t.zero for t in tokens)
                alternatives.append(after + (f"(?<={whole})" if check else "") + rest)
        prefix = re.escape(bytes([pivot])).decode("ascii")
        try:
            regex = re.compile((prefix + "(?:" + "|".join(alternatives) + ")").encode("ascii"))
        except re.error:
            alone.extend(members)
        else:
            gates.append(_Gate(regex, tuple(members)))
        uncovered -= set(members)
    return tuple(gates), tuple(sorted(alone))


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
