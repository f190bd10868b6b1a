"""MPEG audio Layer III: zero the ancillary bits, where LAME writes its name and version.

libmp3lame fills the bits of the main-data areas that no granule uses (the ancillary data)
with `LAME3.100` and `U` padding, not always byte-aligned, in ordinary frames whatever
ffmpeg is told. A decoder reads, for each frame, only the `part2_3_length` bits of each
granule and channel, starting `main_data_begin` bytes back in the bit reservoir (the
main-data areas of the frames before, headers and side information skipped). Every other
main-data bit is unused, so zeroing exactly those bits (from the last bit a frame uses to
the first bit the next frame uses) leaves headers, side information, CRCs and used main
data as they were, and decoders produce identical PCM.

Decisions:
- Strict: a stream must be Layer III frames back to back, all of one MPEG version and
  sample rate, to its last byte; main data must lie within the reservoir the standard
  allows. Anything else raises `MpegAudioError` (a ValueError) and nothing is changed:
  a stream we cannot read completely is a stream we cannot promise clean. Main data
  reaching back before the stream's first byte (a stream cut from a longer one, e.g. an
  AVI part) is allowed: the bits that are there are kept.
- Bare `.mp3`: leading ID3v2 tags and a trailing ID3v1 tag are stripped (metadata;
  infopack writes none). A Xing/Info/VBRI tag frame first in the stream (empty granules,
  the tag in its main data) is dropped: it names the encoder, and infopack encodes with
  `-write_xing 0`. Its gapless fields go with it, so a gapless-aware decoder then plays
  the encoder delay and padding (tens of ms of near-silence) that the tag trimmed.
- MP3 in AVI: sizes never change (indexes stay valid), so a tag frame stays as an
  empty frame with its tag zeroed (nothing uses its main data).

`find_bitshifted` and `BitShiftedSearch` look for a byte string at all 8 bit offsets,
for scanners checking that no such string survives.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from infopack.errors import CheckFailed

_BITRATES_KBPS = {   # bitrate index 1-14 (0 is free format, 15 forbidden)
    "mpeg1": (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    "lsf": (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),   # MPEG-2 and 2.5
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_VERSION_NAMES = {3: "MPEG-1", 2: "MPEG-2", 0: "MPEG-2.5"}
WAVE_FORMAT_MPEGLAYER3 = 0x55
# In the recipe (cache key) of every encode whose MP3 audio is cleaned here: change it when
# the cleaning changes, so no cached output made otherwise is reused.
MP3_CLEANED = "mp3-ancillary-zeroed/1"


class MpegAudioError(ValueError):
    """The bytes are not a Layer III stream this module can clean; `offset` is where it failed."""

    def __init__(self, offset: int, problem: str):
        self.offset = offset
        super().__init__(f"byte {offset}: {problem}")


@dataclass(frozen=True)
class Cleaned:
    """What cleaning did: frames read, ancillary bits zeroed, and what was removed whole."""
    frames: int
    ancillary_bits: int
    removed: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------
# Frames and the bit reservoir
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Layout:
    """Where the fields this module needs lie in the side information of one frame kind."""
    side_bytes: int
    begin_bits: int                 # width of main_data_begin (9, or 8 for MPEG-2/2.5)
    part23_shifts: tuple[int, ...]  # right shifts of each granule/channel's part2_3_length


def _layout(mpeg1: bool, channels: int) -> _Layout:
    side_bytes = (17 if channels == 1 else 32) if mpeg1 else (9 if channels == 1 else 17)
    if mpeg1:      # main_data_begin 9, private 5/3, scfsi 4 per channel, 2 granules of 59 bits
        start, entry, granules = 9 + (5 if channels == 1 else 3) + 4 * channels, 59, 2
    else:          # main_data_begin 8, private 1/2, 1 granule of 63 bits
        start, entry, granules = 8 + channels, 63, 1
    total = side_bytes * 8
    shifts = tuple(total - (start + i * entry) - 12 for i in range(granules * channels))
    return _Layout(side_bytes, 9 if mpeg1 else 8, shifts)


_LAYOUTS = {(mpeg1, channels): _layout(mpeg1, channels) for mpeg1 in (True, False) for channels in (1, 2)}


@dataclass(frozen=True)
class _Frame:
    offset: int          # first byte of the header in the stream
    size: int
    area: int            # first byte of the main-data area (after header, CRC, side info)
    main_data_begin: int
    used_bits: int       # sum of part2_3_length over granules and channels
    side_end: int        # first byte after side info without a CRC (where Xing sits)


def _frame_at(data, pos: int, end: int) -> tuple[_Frame, tuple[int, int]]:
    """The frame whose header is at `pos` (ending by `end`), and its (version, sample rate)."""
    if pos + 4 > end:
        raise MpegAudioError(pos, f"{end - pos} bytes after the last frame that are not an MPEG audio frame")
    b0, b1, b2, b3 = data[pos], data[pos + 1], data[pos + 2], data[pos + 3]
    if b0 != 0xFF or b1 & 0xE0 != 0xE0:
        raise MpegAudioError(pos, "no MPEG audio frame sync where a frame should start")
    version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    if version == 1:
        raise MpegAudioError(pos, "frame header with the reserved MPEG version")
    if layer != 1:
        raise MpegAudioError(pos, f"Layer {4 - layer if layer else '(reserved)'} frame, not Layer III")
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if bitrate_index == 0:
        raise MpegAudioError(pos, "free-format bitrate (not supported)")
    if bitrate_index == 15 or rate_index == 3:
        raise MpegAudioError(pos, "frame header with a forbidden bitrate or sample rate")
    mpeg1 = version == 3
    rate = _SAMPLE_RATES[version][rate_index]
    kbps = _BITRATES_KBPS["mpeg1" if mpeg1 else "lsf"][bitrate_index - 1]
    size = (144 if mpeg1 else 72) * kbps * 1000 // rate + ((b2 >> 1) & 1)
    if pos + size > end:
        raise MpegAudioError(pos, f"last frame cut short ({end - pos} of {size} bytes)")
    channels = 1 if b3 >> 6 == 3 else 2
    layout = _LAYOUTS[(mpeg1, channels)]
    side = pos + 4 + (0 if b1 & 1 else 2)        # protection bit 0: a 16-bit CRC follows the header
    area = side + layout.side_bytes
    if area > pos + size:
        raise MpegAudioError(pos, "frame too short for its side information")
    bits = int.from_bytes(data[side:area], "big")
    begin = bits >> (layout.side_bytes * 8 - layout.begin_bits)
    used = sum((bits >> shift) & 0xFFF for shift in layout.part23_shifts)
    return _Frame(pos, size, area, begin, used, pos + 4 + layout.side_bytes), (version, rate)


def _frames(data, start: int, end: int) -> list[_Frame]:
    """Every frame of data[start:end], back to back and all of the first frame's version and rate."""
    frames: list[_Frame] = []
    stream_kind = None
    pos = start
    while pos < end:
        frame, kind = _frame_at(data, pos, end)
        if stream_kind is None:
            stream_kind = kind
        elif kind != stream_kind:
            raise MpegAudioError(pos, f"{_VERSION_NAMES[kind[0]]} {kind[1]} Hz frame in a "
                                      f"{_VERSION_NAMES[stream_kind[0]]} {stream_kind[1]} Hz stream")
        frames.append(frame)
        pos += frame.size
    if not frames:
        raise MpegAudioError(start, "no MPEG audio frames")
    return frames


def _ancillary_spans(frames: list[_Frame]) -> list[tuple[int, int]]:
    """Bit ranges [start, end) of the reservoir (the main-data areas end to end) that no frame uses.

    Frame n's main data starts main_data_begin bytes before its own area in the reservoir
    and must end within its own area; each frame's main data begins where or after the
    previous frame's ends. Main data reaching back before the stream keeps what is there.
    """
    spans = []
    used_end = None              # reservoir bit after the last bit used so far (< 0: before the stream)
    area_start = 0               # reservoir byte where the current frame's area starts
    for frame in frames:
        area_bytes = frame.offset + frame.size - frame.area
        if frame.used_bits:
            first = (area_start - frame.main_data_begin) * 8
            last = first + frame.used_bits
            if last > (area_start + area_bytes) * 8:
                raise MpegAudioError(frame.offset, "main data runs past the end of its frame")
            if used_end is not None and first < used_end:
                raise MpegAudioError(frame.offset, "main data overlaps the previous frame's "
                                                   "(main_data_begin too large)")
            gap = max(used_end or 0, 0)
            if first > gap:
                spans.append((gap, first))
            used_end = last
        area_start += area_bytes
    tail = max(used_end or 0, 0)
    if area_start * 8 > tail:
        spans.append((tail, area_start * 8))
    return spans


def _zero_bits(buf: bytearray, first: int, end: int) -> None:
    """Clear bits [first, end) of buf, bit 0 being the most significant bit of buf[0]."""
    lo, hi = first >> 3, (end - 1) >> 3
    keep_before = (0xFF << (8 - (first & 7))) & 0xFF      # bits of buf[lo] before `first`
    keep_after = 0xFF >> (((end - 1) & 7) + 1)            # bits of buf[hi] from `end` on
    if lo == hi:
        buf[lo] &= keep_before | keep_after
        return
    buf[lo] &= keep_before
    buf[lo + 1:hi] = bytes(hi - lo - 1)
    buf[hi] &= keep_after


def _clean_frames(buf: bytearray, frames: list[_Frame]) -> int:
    """Zero the ancillary bits of these frames in buf; the number of bits zeroed."""
    spans = _ancillary_spans(frames)
    zeroed = 0
    index = 0
    area_start = 0               # reservoir bit of the current area's first bit
    for frame in frames:
        area_end = area_start + (frame.offset + frame.size - frame.area) * 8
        while index < len(spans) and spans[index][0] < area_end:
            first, end = max(spans[index][0], area_start), min(spans[index][1], area_end)
            if first < end:
                _zero_bits(buf, frame.area * 8 + first - area_start, frame.area * 8 + end - area_start)
                zeroed += end - first
            if spans[index][1] > area_end:
                break            # the span goes on in the next frame's area
            index += 1
        area_start = area_end
    return zeroed


def clean_stream(buf: bytearray) -> Cleaned:
    """Zero, in place, the ancillary bits of a Layer III stream that is frames from first byte to last.

    Raises MpegAudioError (leaving buf unchanged) if it is not one.
    """
    frames = _frames(buf, 0, len(buf))
    return Cleaned(len(frames), _clean_frames(buf, frames))


# ---------------------------------------------------------------------------------------
# Bare .mp3 files
# ---------------------------------------------------------------------------------------

def _id3v2_end(data: bytes, pos: int) -> int:
    """The byte after the ID3v2 tag at pos (header, body and footer)."""
    if len(data) < pos + 10 or data[pos + 3] == 0xFF or data[pos + 4] == 0xFF \
            or any(b & 0x80 for b in data[pos + 6:pos + 10]):
        raise MpegAudioError(pos, "broken ID3v2 tag header")
    size = 0
    for b in data[pos + 6:pos + 10]:
        size = size << 7 | b
    end = pos + 10 + size + (10 if data[pos + 5] & 0x10 else 0)
    if end > len(data):
        raise MpegAudioError(pos, "ID3v2 tag runs past the end of the file")
    return end


def _is_tag_frame(data, frame: _Frame) -> bool:
    """A Xing/Info/VBRI header frame: empty granules, the tag where the main data would be."""
    if frame.used_bits:
        return False
    return (bytes(data[frame.side_end:frame.side_end + 4]) in (b"Xing", b"Info")
            or bytes(data[frame.area:frame.area + 4]) in (b"Xing", b"Info")
            or bytes(data[frame.offset + 36:frame.offset + 40]) == b"VBRI")


def clean_mp3(data: bytes) -> bytes:
    """A bare MP3 stream with its ancillary bits zeroed, ID3 tags stripped and a first
    Xing/Info/VBRI frame dropped (see the module's decisions). Raises MpegAudioError."""
    return _clean_mp3(data)[0]


def clean_mp3_file(path: str | os.PathLike) -> Cleaned:
    """Clean a bare .mp3 file: written to a temporary file beside it, then renamed over it.

    Raises CheckFailed naming the file if it is not a stream this module can clean.
    """
    path = Path(path)
    try:
        cleaned, summary = _clean_mp3(path.read_bytes())
    except MpegAudioError as exc:
        raise _not_cleanable(path, exc) from None
    tmp = path.with_name(path.name + ".clean-tmp")
    try:
        tmp.write_bytes(cleaned)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return summary


def _clean_mp3(data: bytes) -> tuple[bytes, Cleaned]:
    start, removed = 0, []
    while data[start:start + 3] == b"ID3":
        start = _id3v2_end(data, start)
        removed.append("ID3v2 tag")
    end = len(data)
    frames = None
    if end - start >= 128 and data[end - 128:end - 125] == b"TAG":
        try:                     # only if the frames end just there: "TAG" may sit in audio bytes
            frames = _frames(data, start, end - 128)
            end -= 128
            removed.append("ID3v1 tag")
        except MpegAudioError:
            pass
    if frames is None:
        frames = _frames(data, start, end)
    if _is_tag_frame(data, frames[0]):
        if len(frames) == 1:
            raise MpegAudioError(start, "no audio frames after the Xing/Info tag frame")
        frames = frames[1:]
        start = frames[0].offset
        removed.append("Xing/Info tag frame")
    buf = bytearray(data)
    zeroed = _clean_frames(buf, frames)
    return bytes(buf[start:end]), Cleaned(len(frames), zeroed, tuple(removed))


def _not_cleanable(path: Path, exc: MpegAudioError) -> CheckFailed:
    return CheckFailed(path, f"cannot remove the encoder's version string from the MP3 audio: {exc}; "
                             f"the encode is not a plain Layer III stream, report this with the ffmpeg version")


# ---------------------------------------------------------------------------------------
# MP3 inside AVI
# ---------------------------------------------------------------------------------------

def clean_avi_mp3(path: str | os.PathLike) -> Cleaned:
    """Zero, in place, the ancillary bits of every MP3 audio stream of an AVI file.

    The payloads of a stream's `NNwb` chunks (in every `movi` list, AVIX extensions too)
    are read as one stream, so frames may straddle chunks; only changed chunks are
    rewritten, and no size changes, so the indexes stay valid. Raises CheckFailed naming
    the file if the AVI or its MP3 audio cannot be read completely (nothing is changed then).
    """
    path = Path(path)
    cleaned = []                 # every stream cleaned in memory before anything is written
    with open(path, "r+b") as f:
        try:
            for chunks in _avi_mp3_chunks(f, os.fstat(f.fileno()).st_size).values():
                if not chunks:
                    continue         # a declared MP3 stream without audio: nothing to clean
                payloads = []
                for offset, size in chunks:
                    f.seek(offset)
                    payloads.append(f.read(size))
                buf = bytearray(b"".join(payloads))
                cleaned.append((chunks, payloads, buf, clean_stream(buf)))
        except MpegAudioError as exc:
            raise _not_cleanable(path, exc) from None
        for chunks, payloads, buf, _ in cleaned:
            _write_changed(f, chunks, payloads, buf)
    return Cleaned(sum(c[3].frames for c in cleaned), sum(c[3].ancillary_bits for c in cleaned))


def _write_changed(f, chunks: list[tuple[int, int]], payloads: list[bytes], buf: bytearray) -> None:
    at = 0
    for (offset, size), old in zip(chunks, payloads):
        new = buf[at:at + size]
        if new != old:
            f.seek(offset)
            f.write(new)
        at += size


def _avi_mp3_chunks(f, file_size: int) -> dict[int, list[tuple[int, int]]]:
    """{stream number: [(file offset, size) of each audio chunk's payload, in order]} for the
    streams whose format is MPEG Layer III (WAVE_FORMAT_MPEGLAYER3)."""
    mp3_streams: set[int] | None = None
    chunks: dict[int, list[tuple[int, int]]] = {}
    pos = 0
    while pos + 12 <= file_size:
        f.seek(pos)
        riff, size, form = struct.unpack("<4sI4s", f.read(12))
        if riff != b"RIFF" or form != (b"AVI " if pos == 0 else b"AVIX"):
            if pos == 0:
                raise MpegAudioError(0, "not an AVI file (no RIFF 'AVI ' header)")
            break                # trailing bytes after the RIFF lists: nothing of ours
        end = pos + 8 + size
        if end > file_size:
            raise MpegAudioError(pos, "RIFF list runs past the end of the file")
        for kind, start, length in _subchunks(f, pos + 12, end):
            if kind == b"LIST:hdrl":
                mp3_streams = _mp3_stream_numbers(f, start, start + length)
            elif kind == b"LIST:movi":
                if mp3_streams is None:
                    raise MpegAudioError(start, "'movi' list before the stream headers")
                _collect_audio(f, start, start + length, mp3_streams, chunks)
        pos = end + (size & 1)
    if mp3_streams is None:
        raise MpegAudioError(0, "AVI without stream headers")
    return {number: chunks.get(number, []) for number in sorted(mp3_streams)}


def _subchunks(f, start: int, end: int):
    """(id, payload offset, payload size) of the chunks in [start, end); lists as b"LIST:type"."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        ident, size = struct.unpack("<4sI", f.read(8))
        payload = pos + 8
        if payload + size > end:
            raise MpegAudioError(pos, f"AVI chunk {ident!r} runs past its list")
        if ident == b"LIST" and size >= 4:
            yield b"LIST:" + f.read(4), payload + 4, size - 4
        else:
            yield ident, payload, size
        pos = payload + size + (size & 1)


def _mp3_stream_numbers(f, start: int, end: int) -> set[int]:
    numbers = set()
    strl = 0
    for kind, pos, length in _subchunks(f, start, end):
        if kind != b"LIST:strl":
            continue
        parts = {}
        for ident, at, size in _subchunks(f, pos, pos + length):
            if ident in (b"strh", b"strf") and size >= 4:
                f.seek(at)
                parts[ident] = f.read(4)
        if parts.get(b"strh") == b"auds" and b"strf" in parts \
                and struct.unpack("<H", parts[b"strf"][:2])[0] == WAVE_FORMAT_MPEGLAYER3:
            numbers.add(strl)
        strl += 1
    return numbers


def _collect_audio(f, start: int, end: int, streams: set[int], chunks: dict) -> None:
    for kind, pos, size in _subchunks(f, start, end):
        if kind.startswith(b"LIST:"):               # 'rec ' groups
            _collect_audio(f, pos, pos + size, streams, chunks)
        elif kind[2:] == b"wb" and kind[:2].isdigit() and int(kind[:2]) in streams:
            chunks.setdefault(int(kind[:2]), []).append((pos, size))


# ---------------------------------------------------------------------------------------
# Searching at every bit offset
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BitHit:
    """`needle` found with its first bit `shift` bits into byte `offset` (0: byte-aligned);
    `text` is the needle and up to `context` following bytes, realigned."""
    needle: bytes
    offset: int
    shift: int
    text: bytes


@dataclass(frozen=True)
class _Shifted:
    needle: bytes
    shift: int
    middle: bytes        # the bytes the shifted needle fills completely (all of it when shift is 0)
    head_mask: int       # the needle's bits in the window's first byte, and their value
    head: int
    tail_mask: int       # the needle's bits in the window's last byte, and their value
    tail: int


def _shifted(needle: bytes, shift: int) -> _Shifted:
    if shift == 0:
        return _Shifted(needle, 0, needle, 0, 0, 0, 0)
    window = (int.from_bytes(needle, "big") << (8 - shift)).to_bytes(len(needle) + 1, "big")
    head_mask, tail_mask = 0xFF >> shift, (0xFF << (8 - shift)) & 0xFF
    return _Shifted(needle, shift, window[1:-1], head_mask, window[0], tail_mask, window[-1])


class BitShiftedSearch:
    """Find byte strings at any of the 8 bit offsets in a stream fed chunk by chunk.

    One regex pass per chunk looks for the bytes each shifted needle fills completely (an
    alternation of 8 literals per needle); the rare candidates are checked bit by bit. The
    last bytes of each chunk are kept, so a needle across a chunk border is found, once.
    One object per stream: feed() its chunks in order, then finish().

    `context` following bytes come with each hit (realigned) so a caller can check what
    follows, e.g. a version number after "Lavc": at 8 bit offsets a 4-byte needle matches
    random compressed bytes about once per 540 MB (several times on a 4 GB card), a 6-byte
    one about once per 35 TB. Speed: printed by tests/test_mpeg_audio.py; Python's `re`
    holds the GIL, so more cores need more processes.
    """

    def __init__(self, needles: Iterable[bytes], context: int = 0):
        needles = list(dict.fromkeys(bytes(n) for n in needles))
        if not needles or any(len(n) < 2 for n in needles) or context < 0:
            raise ValueError("needles must be at least 2 bytes long, context not negative")
        self._context = context
        self._keep = max(map(len, needles)) + context      # enough for any window not yet complete
        self._by_first: dict[int, list[_Shifted]] = {}
        for needle in needles:
            for shift in range(8):
                item = _shifted(needle, shift)
                self._by_first.setdefault(item.middle[0], []).append(item)
        # grouped by first byte, so a candidate position costs one test per distinct first byte
        self._regex = re.compile(b"|".join(
            re.escape(bytes([first])) + b"(?:" + b"|".join(sorted({re.escape(s.middle[1:]) for s in items},
                                                                  key=len, reverse=True)) + b")"
            for first, items in sorted(self._by_first.items())))
        self._carry = b""
        self._base = 0           # stream offset of self._carry[0]

    def feed(self, chunk) -> list[BitHit]:
        """Hits whose needle and context are now complete, in stream order."""
        buf = self._carry + chunk
        hits = [hit for hit, window_end in self._hits(buf)
                if len(self._carry) < window_end <= len(buf)]
        self._base += max(0, len(buf) - self._keep)
        self._carry = buf[-self._keep:] if len(buf) > self._keep else buf
        return hits

    def finish(self) -> list[BitHit]:
        """Hits near the end of the stream, with what context there is."""
        buf, self._carry = self._carry, b""
        return [hit for hit, window_end in self._hits(buf) if window_end > len(buf)]

    def _hits(self, buf: bytes) -> list[tuple[BitHit, int]]:
        """(hit, end of its window with full context) for every needle wholly inside buf."""
        found = []
        pos = 0
        while (match := self._regex.search(buf, pos)) is not None:
            at = match.start()
            for item in self._by_first[buf[at]]:
                offset = at - 1 if item.shift else at
                needle_end = offset + len(item.needle) + (1 if item.shift else 0)
                if offset < 0 or needle_end > len(buf) or not buf.startswith(item.middle, at):
                    continue
                if item.shift and (buf[offset] & item.head_mask != item.head
                                   or buf[needle_end - 1] & item.tail_mask != item.tail):
                    continue
                text = _realigned(buf, offset, item.shift, len(item.needle) + self._context)
                found.append((BitHit(item.needle, self._base + offset, item.shift, text),
                              needle_end + self._context))
            pos = at + 1
        found.sort(key=lambda pair: (pair[0].offset, pair[0].shift, pair[0].needle))
        return found


def _realigned(buf: bytes, offset: int, shift: int, length: int) -> bytes:
    """Up to `length` bytes starting `shift` bits into buf[offset]."""
    length = min(length, (len(buf) - offset) * 8 - shift >> 3)
    if not shift:
        return buf[offset:offset + length]
    span = buf[offset:offset + length + 1]
    value = int.from_bytes(span, "big") >> (len(span) * 8 - shift - length * 8)
    return (value & ((1 << length * 8) - 1)).to_bytes(length, "big")


def find_bitshifted(data: bytes, needle: bytes) -> list[tuple[int, int]]:
    """Every (byte offset, bit shift) where `needle` starts in data, at any of the 8 bit offsets."""
    search = BitShiftedSearch([needle])
    return [(hit.offset, hit.shift) for hit in search.feed(data) + search.finish()]
