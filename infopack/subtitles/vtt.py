"""WebVTT reader.

NOTE and STYLE blocks are dropped and recorded: NOTE blocks are where tools and
people leave credits. Cue settings and voice tags (<v Name>) are dropped too.
"""

from __future__ import annotations

from infopack.errors import InfopackError
from infopack.notes import Note
from infopack.subtitles.clean import strip_markup
from infopack.subtitles.model import ParseNotes, RawCue
from infopack.subtitles.timing import format_vtt_time, parse_timestamp

FORMAT = "vtt"
EXTENSIONS = (".vtt",)
EXPECTED = "expected '00:00:01.000 --> 00:00:02.000'"


def sniff(text: str) -> bool:
    return text.lstrip("\ufeff").startswith("WEBVTT")


def parse(text: str, path: str, notes: ParseNotes, language_class: str | None = None) -> list[RawCue]:
    blocks = _blocks(text.split("\n"))
    if not blocks or not blocks[0][1][0].startswith("WEBVTT"):
        raise InfopackError(path, "a WebVTT file must start with 'WEBVTT'")
    header = blocks[0][1]
    if header[0].strip() != "WEBVTT" or len(header) > 1:
        notes.removals.append(Note("vtt-header-removed", text=" / ".join(header)))
    cues: list[RawCue] = []
    for line_no, lines in blocks[1:]:
        keyword = lines[0].split(" ", 1)[0].split("\t", 1)[0]
        if keyword in ("NOTE", "STYLE", "REGION"):
            notes.removals.append(Note("vtt-block-removed", line=line_no, keyword=keyword, text=" / ".join(lines)))
        elif any("-->" in line for line in lines[:2]):
            cues.append(_cue(lines, line_no, len(cues) + 1, path, notes))
        elif cues:
            notes.fixes.append(Note("cue-blank-inside", cue=cues[-1].number))
            cues[-1].text = f"{cues[-1].text}\n{_plain(lines)}"
        else:
            raise InfopackError(path, f"cue 1 (line {line_no}): unreadable timing line {lines[0]!r}; {EXPECTED}")
    return cues


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks as (first line number, lines)."""
    blocks, current, first = [], [], 0
    for row, line in enumerate(lines + [""]):
        if line.strip():
            if not current:
                first = row + 1
            current.append(line.rstrip())
        elif current:
            blocks.append((first, current))
            current = []
    return blocks


def _cue(lines: list[str], line_no: int, number: int, path: str, notes: ParseNotes) -> RawCue:
    timing_row = 0 if "-->" in lines[0] else 1
    timing = lines[timing_row]
    left, _, right = timing.partition("-->")
    end_text, _, _settings = right.strip().partition(" ")
    try:
        start_ms, end_ms = parse_timestamp(left), parse_timestamp(end_text)
    except ValueError:
        raise InfopackError(path, f"cue {number} (line {line_no + timing_row}): unreadable timing line "
                                  f"{timing.strip()!r}; {EXPECTED}") from None
    for written, ms in ((left.strip(), start_ms), (end_text, end_ms)):
        if written not in (format_vtt_time(ms), format_vtt_time(ms)[3:]):
            notes.fixes.append(Note("cue-timestamp-normalised", cue=number, written=written,
                                    canonical=format_vtt_time(ms)))
    return RawCue(number, start_ms, end_ms, _plain(lines[timing_row + 1:]))


def _plain(lines: list[str]) -> str:
    """Tags and entities are normal WebVTT markup, so removing them is not a repair."""
    text, _ = strip_markup("\n".join(lines))
    return text
