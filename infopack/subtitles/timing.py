"""Timestamps: lenient parsing, canonical formatting, timeline repair, shift and fps.

Readers accept the damage seen in the wild (one-digit fields, missing milliseconds,
`.` instead of `,`) through `parse_timestamp`, and every reader hands its cues to
`repair_timeline`, so overlap and duration rules are the same for every format.
"""

from __future__ import annotations

import math
import re

from infopack.errors import UsageError
from infopack.notes import Note
from infopack.subtitles.model import Cue, ParseNotes, RawCue, SubtitleDoc, renumber

DEFAULT_DURATION_MS = 2000      # for cues whose end is missing or not after their start
UNKNOWN_FRAME_MS = 40           # one frame at 25 fps, the margin when the frame rate is unknown

_TIMESTAMP = re.compile(
    r"^(?:(?P<h>\d{1,3})\s*:\s*)?(?P<m>\d{1,2})\s*:\s*(?P<s>\d{1,2})"
    r"(?:\s*[,.:;]\s*(?P<frac>\d{1,3}))?$"
)


def parse_timestamp(value: str) -> int:
    """'0:1:2.5', '00:01:02,500', '01:02.500' -> milliseconds; ValueError otherwise.

    The fraction is a decimal fraction of a second ('2.5' is 2500 ms, ASS '2.50' too).
    """
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise ValueError(f"unreadable timestamp {value.strip()!r}")
    hours = int(match["h"] or 0)
    minutes, seconds = int(match["m"]), int(match["s"])
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"timestamp {value.strip()!r} has minutes or seconds over 59")
    millis = int((match["frac"] or "0").ljust(3, "0"))
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def _split_ms(ms: int) -> tuple[int, int, int, int]:
    ms = max(0, ms)
    return ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000


def format_srt_time(ms: int) -> str:
    return "%02d:%02d:%02d,%03d" % _split_ms(ms)


def format_vtt_time(ms: int) -> str:
    return "%02d:%02d:%02d.%03d" % _split_ms(ms)


def format_ass_time(ms: int) -> str:
    """ASS counts centiseconds; round to the nearest one."""
    h, m, s, millis = _split_ms(int(round(max(0, ms) / 10.0)) * 10)
    return "%d:%02d:%02d.%02d" % (h, m, s, millis // 10)


def repair_timeline(raw: list[RawCue], notes: ParseNotes) -> list[Cue]:
    """Turn a reader's cues into a clean timeline, recording each repair.

    Empty cues go, cues are put in start order, missing or non-positive durations get a
    default, an overlapping cue's predecessor is trimmed (cheap players show one cue at
    a time), and cues starting together are merged into one.
    """
    cues = [c for c in raw if _keep_nonempty(c, notes)]
    for cue in cues:
        if cue.start_ms < 0:
            notes.fixes.append(Note("cue-negative-start", cue=cue.number))
            cue.start_ms = 0
    if any(a.start_ms > b.start_ms for a, b in zip(cues, cues[1:])):
        notes.fixes.append(Note("file-sorted"))
        cues.sort(key=lambda c: c.start_ms)
    for position, cue in enumerate(cues):
        next_start = next((c.start_ms for c in cues[position + 1:] if c.start_ms > cue.start_ms), None)
        _fix_end(cue, next_start, notes)
    merged: list[RawCue] = []
    for cue in cues:
        if merged and _resolve_overlap(merged[-1], cue, notes):
            continue
        merged.append(cue)
    return renumber([Cue(0, c.start_ms, c.end_ms, c.text) for c in merged])


def _keep_nonempty(cue: RawCue, notes: ParseNotes) -> bool:
    if cue.text.strip():
        return True
    notes.fixes.append(Note("cue-empty-dropped", cue=cue.number))
    return False


def _fix_end(cue: RawCue, next_start: int | None, notes: ParseNotes) -> None:
    default_end = cue.start_ms + DEFAULT_DURATION_MS
    if next_start is not None:
        default_end = min(default_end, next_start)
    if cue.end_ms is None:
        cue.end_ms = default_end
        notes.fixes.append(Note("cue-no-end", cue=cue.number, end=format_srt_time(default_end)))
    elif cue.end_ms <= cue.start_ms:
        notes.fixes.append(Note("cue-zero-duration" if cue.end_ms == cue.start_ms else "cue-negative-duration",
                                cue=cue.number, end=format_srt_time(default_end)))
        cue.end_ms = default_end


def _resolve_overlap(previous: RawCue, cue: RawCue, notes: ParseNotes) -> bool:
    """Trim or merge; True when `cue` was merged into `previous`."""
    if cue.start_ms == previous.start_ms:
        previous.text = f"{previous.text}\n{cue.text}"
        previous.end_ms = max(previous.end_ms, cue.end_ms)
        notes.fixes.append(Note("cue-merged", cue=cue.number, first=previous.number))
        return True
    if previous.end_ms > cue.start_ms:
        notes.fixes.append(Note("cue-overlap-trimmed", cue=previous.number, other=cue.number,
                                old=format_srt_time(previous.end_ms), new=format_srt_time(cue.start_ms)))
        previous.end_ms = cue.start_ms
    return False


def shift(doc: SubtitleDoc, offset_ms: int) -> SubtitleDoc:
    """Move every cue by `offset_ms` (negative = earlier); cues pushed before 0 go."""
    new = doc.evolve()
    kept = []
    for cue in new.cues:
        start, end = cue.start_ms + offset_ms, cue.end_ms + offset_ms
        if end <= 0:
            new.fixes.append(Note("cue-shifted-out", cue=cue.index, offset=offset_ms))
            continue
        cue.start_ms, cue.end_ms = max(0, start), end
        kept.append(cue)
    new.cues = renumber(kept)
    return new


def scale_fps(doc: SubtitleDoc, from_fps: float, to_fps: float) -> SubtitleDoc:
    """Retime subtitles made for a `from_fps` video onto the same video played at `to_fps`.

    A 23.976 fps film sped up to 25 fps (PAL) is shorter by 23.976/25, and so are all
    its timestamps.
    """
    if from_fps <= 0 or to_fps <= 0:
        raise UsageError(None, f"frame rates must be positive, got {from_fps}:{to_fps}")
    factor = from_fps / to_fps
    new = doc.evolve()
    for cue in new.cues:
        cue.start_ms = int(round(cue.start_ms * factor))
        cue.end_ms = max(cue.start_ms + 1, int(round(cue.end_ms * factor)))
    return new


def end_limit_ms(duration_s: float, fps: float | None = None) -> int:
    """The last moment a cue may show: the media's end less one frame of the output video.

    The margin is one frame (ceil(1000/fps) ms: 40 ms at 25 fps, 42 ms at 23.976 fps;
    40 ms when there is no frame rate): the encoded video ends with its last frame, which
    can be a few milliseconds before the source's container duration (audio often runs a
    little longer), and a subtitle sample ending after it would lengthen the output file.
    """
    frame_ms = math.ceil(1000 / fps) if fps and fps > 0 else UNKNOWN_FRAME_MS
    return max(0, math.floor(duration_s * 1000) - frame_ms)


def fit_to_end(doc: SubtitleDoc, limit_ms: int) -> SubtitleDoc:
    """Cues past `limit_ms` would lengthen the file and never show: clip them, or drop
    (as a recorded removal) those that start at or after it."""
    new = doc.evolve()
    kept = []
    for cue in new.cues:
        if cue.start_ms >= limit_ms:
            new.removals.append(Note("cue-after-end-removed", cue=cue.index, start=format_srt_time(cue.start_ms),
                                     limit=format_srt_time(limit_ms), text=cue.text))
            continue
        if cue.end_ms > limit_ms:
            new.fixes.append(Note("cue-end-clipped", cue=cue.index, limit=format_srt_time(limit_ms)))
            cue.end_ms = limit_ms
        kept.append(cue)
    new.cues = renumber(kept)
    return new
