"""Bare MP4/M4A/MP3 files, proven bare natively, without starting ffprobe.

ffprobe is a separate program: starting it costs 50-200 ms per file, more than hashing
and searching a 10 MB song. What infopack writes (MP4/M4A with -map_metadata -1 and
bitexact, MP3 without ID3/Xing) has a box layout simple enough to prove bare here: no
tags, no chapters, no extra tracks, zero creation times, the standard handler names and
vendor, no SEI in the first video frame (x264 settings, closed captions). Anything else,
however harmless, goes to ffprobe, whose findings and messages stay authoritative.
"""

from __future__ import annotations

import os
import re
import struct

from infopack.scan.container import ALLOWED_TAGS

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
