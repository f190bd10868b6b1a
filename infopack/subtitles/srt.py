"""SubRip (.srt) reader.

pysrt parses well-formed files but is too lenient for damaged ones: it reads
'00:00:01.5' as 1.005 s, turns an unreadable timestamp into 0 and silently drops
blocks it cannot parse. So the text is first repaired here, block by block, with
every repair recorded, and only canonical SRT is handed to pysrt.
"""

from __future__ import annotations

import re

import pysrt

from infopack.errors import InfopackError
from infopack.notes import Note
from infopack.subtitles.clean import strip_markup
from infopack.subtitles.model import ParseNotes, RawCue
from infopack.subtitles.timing import format_srt_time, parse_timestamp

FORMAT = "srt"
EXTENSIONS = (".srt",)

_ARROW = "-->"
_INDEX = re.compile(r"^\s*(\d+)\s*$")
_DAMAGED_INDEX = re.compile(r"^\W*(\d+)\W*$")
EXPECTED = "expected '00:00:01,000 --> 00:00:02,000'"


def sniff(text: str) -> bool:
    return _ARROW in text


def parse(text: str, path: str, notes: ParseNotes, language_class: str | None = None) -> list[RawCue]:
    lines = text.rstrip().split("\n")
    timing_rows = [row for row, line in enumerate(lines) if _ARROW in line]
    if not timing_rows:
        raise InfopackError(path, f"no cue timing lines found ({EXPECTED}); is this a subtitle file?")
    blocks = []
    for number, row in enumerate(timing_rows, start=1):
        index_row = row - 1 if row > 0 and _looks_like_index(lines[row - 1]) else None
        if number == 1:
            _check_preamble(lines[: index_row if index_row is not None else row], path)
        next_row = timing_rows[number] if number < len(timing_rows) else len(lines)
        if number < len(timing_rows) and _looks_like_index(lines[next_row - 1]) and next_row - 1 > row:
            next_row -= 1
        blocks.append(_read_block(lines, number, index_row, row, next_row, path, notes))
    return _through_pysrt(blocks, path)


def _looks_like_index(line: str) -> bool:
    return bool(_DAMAGED_INDEX.match(line))


def _check_preamble(preamble: list[str], path: str) -> None:
    """Text before the first timing line means cue 1 lost its timing line."""
    for row, line in enumerate(preamble):
        if line.strip() and not _INDEX.match(line):
            raise InfopackError(path, f"cue 1 (line {row + 1}): unreadable timing line {line.strip()!r}; "
                                      f"{EXPECTED}")


def _read_block(lines, number, index_row, row, next_row, path, notes) -> tuple[int, int, str]:
    """One cue: check its number, parse its timing line, gather its text lines."""
    _check_index(lines, number, index_row, notes)
    start_ms, end_ms = _parse_timing(lines[row], number, row + 1, path, notes)
    text_lines, extra_blanks = _gather_text(lines, row + 1, next_row, number, path, notes)
    if extra_blanks:
        notes.fixes.append(Note("cue-extra-blanks", cue=number))
    text, done = strip_markup("\n".join(text_lines), number)
    notes.fixes.extend(done)
    return start_ms, end_ms, text


def _check_index(lines, number, index_row, notes) -> None:
    if index_row is None:
        notes.fixes.append(Note("cue-number-added", cue=number))
        return
    written = lines[index_row].strip()
    if written != str(number):
        notes.fixes.append(Note("cue-number-replaced", cue=number, written=written))


def _parse_timing(line: str, number: int, line_no: int, path: str, notes: ParseNotes) -> tuple[int, int]:
    left, _, right = line.partition(_ARROW)
    end_text, _, position = right.strip().partition(" ")
    try:
        start_ms, end_ms = parse_timestamp(left), parse_timestamp(end_text)
    except ValueError:
        raise InfopackError(path, f"cue {number} (line {line_no}): unreadable timing line "
                                  f"{line.strip()!r}; {EXPECTED}") from None
    for written, ms in ((left.strip(), start_ms), (end_text, end_ms)):
        if written != format_srt_time(ms):
            notes.fixes.append(Note("cue-timestamp-normalised", cue=number, written=written,
                                    canonical=format_srt_time(ms)))
    if position.strip():
        notes.fixes.append(Note("cue-position-dropped", cue=number, position=position.strip()))
    return start_ms, end_ms


def _gather_text(lines, first, stop, number, path, notes) -> tuple[list[str], bool]:
    """Text lines up to the next cue, and whether blank lines beyond one separator were seen.

    Blank lines inside the text are damage, not cue breaks. But a paragraph after a
    blank line that starts with a bare number is a cue whose timing line is unreadable:
    that cannot be repaired safely.
    """
    text: list[str] = []
    pending_blanks = 0
    leading_blanks = False
    for row in range(first, stop):
        line = lines[row]
        if not line.strip():
            pending_blanks += 1
            continue
        if pending_blanks and text and _INDEX.match(line):
            following = lines[row + 1].strip() if row + 1 < stop else ""
            raise InfopackError(path, f"cue {number + 1} (line {row + 2}): unreadable timing line "
                                      f"{following!r}; {EXPECTED}")
        if pending_blanks and text:
            notes.fixes.append(Note("cue-blank-inside", cue=number))
        leading_blanks = leading_blanks or (pending_blanks > 0 and not text)
        pending_blanks = 0
        text.append(line)
    return text, leading_blanks or pending_blanks > 1


def _through_pysrt(blocks: list[tuple[int, int, str]], path: str) -> list[RawCue]:
    """Parse the repaired, canonical text with pysrt (strict mode) as a cross-check."""
    canonical = "".join(
        f"{n}\n{format_srt_time(s)} --> {format_srt_time(e)}\n{text}\n\n"
        for n, (s, e, text) in enumerate(blocks, start=1)
    )
    try:
        items = pysrt.SubRipFile.from_string(canonical, error_handling=pysrt.ERROR_RAISE)
    except Exception as exc:  # pysrt raises its own error types and ValueError
        raise InfopackError(path, f"could not be parsed after repair ({exc.__class__.__name__}); "
                                  f"please report this file") from None
    raw = [RawCue(n, s, e, text) for n, (s, e, text) in enumerate(blocks, start=1)]
    by_number = {int(item.index): item for item in items}
    for cue in raw:
        item = by_number.get(cue.number)
        if item is not None:  # empty cues are not blocks to pysrt; keep our reading
            cue.start_ms, cue.end_ms, cue.text = item.start.ordinal, item.end.ordinal, item.text
    return raw
