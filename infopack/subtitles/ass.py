"""ASS/SSA reader.

Only timing and dialogue text are kept. Everything that can identify people or
machines is dropped and recorded in `removals`: authoring fields of [Script Info],
[Aegisub Project Garbage] (local file paths), Comment: events, Name/Effect fields,
{comment} blocks and embedded [Fonts]/[Graphics].
"""

from __future__ import annotations

import re

from infopack.errors import InfopackError
from infopack.notes import Note
from infopack.subtitles.clean import tidy_lines
from infopack.subtitles.model import ParseNotes, RawCue
from infopack.subtitles.timing import parse_timestamp

FORMAT = "ass"
EXTENSIONS = (".ass", ".ssa")

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
# [Script Info] keys that only carry technical settings; anything else is reported.
TECHNICAL_INFO_KEYS = {
    "scripttype", "playresx", "playresy", "wrapstyle", "scaledborderandshadow", "ycbcr matrix",
    "collisions", "playdepth", "timer", "layoutresx", "layoutresy", "kerning", "language",
}
DEFAULT_FORMAT = ["layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text"]
_BLOCK = re.compile(r"\{([^{}]*)\}")
_DRAWING = re.compile(r"\{[^{}]*\\p[1-9][^{}]*\}.*?(?=\{[^{}]*\\p0[^{}]*\}|$)", re.S)


def sniff(text: str) -> bool:
    return bool(re.search(r"^\s*\[(Script Info|V4\+? Styles|Events)\]", text, re.M | re.I))


def parse(text: str, path: str, notes: ParseNotes, language_class: str | None = None) -> list[RawCue]:
    section, heading_text, field_names, cues = "", "", DEFAULT_FORMAT, []
    for line_no, line in enumerate(text.split("\n"), start=1):
        heading = _SECTION.match(line)
        if heading:
            heading_text = heading.group(1).strip()
            section = heading_text.lower()
            if section in ("fonts", "graphics"):
                notes.removals.append(Note("ass-embedded-removed", section=heading_text))
            continue
        if not line.strip():
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if section == "script info":
            _script_info_line(line, key, value, notes)
        elif section.startswith("aegisub"):
            notes.removals.append(Note("ass-project-line-removed", section=heading_text, text=line.strip()))
        elif key.lower() == "format" and "event" in section:
            field_names = [name.strip().lower() for name in value.split(",")]
        elif key.lower() == "comment":
            notes.removals.append(Note("ass-comment-event-removed", line=line_no, text=value))
        elif key.lower() == "dialogue":
            cues.append(_dialogue(value, field_names, line_no, len(cues) + 1, path, notes))
    if not cues:
        raise InfopackError(path, "no Dialogue lines found in this ASS/SSA file")
    return cues


def _script_info_line(line: str, key: str, value: str, notes: ParseNotes) -> None:
    if line.lstrip().startswith(("; ", ";", "!:")):
        notes.removals.append(Note("ass-info-comment-removed", text=line.strip()))
    elif key.lower() not in TECHNICAL_INFO_KEYS and value:
        notes.removals.append(Note("ass-info-field-removed", key=key, value=value))


def _dialogue(value: str, field_names: list[str], line_no: int, number: int, path: str,
              notes: ParseNotes) -> RawCue:
    fields = value.split(",", len(field_names) - 1)
    if len(fields) != len(field_names) or "text" not in field_names:
        raise InfopackError(path, f"cue {number} (line {line_no}): Dialogue line has {len(fields)} fields "
                                  f"but the Format line names {len(field_names)}")
    record = dict(zip(field_names, fields))
    try:
        start_ms, end_ms = parse_timestamp(record.get("start", "")), parse_timestamp(record.get("end", ""))
    except ValueError:
        raise InfopackError(path, f"cue {number} (line {line_no}): unreadable time "
                                  f"{record.get('start', '')!r} or {record.get('end', '')!r}; "
                                  f"expected '0:00:01.00'") from None
    for name in ("name", "actor", "effect"):
        if record.get(name, "").strip():
            notes.removals.append(Note("cue-ass-field-removed", cue=number, field=name.capitalize(),
                                     text=record[name].strip()))
    return RawCue(number, start_ms, end_ms, _dialogue_text(record["text"], number, notes))


def _dialogue_text(text: str, number: int, notes: ParseNotes) -> str:
    """ASS markup -> plain lines; {comments} are recorded, {\\override} tags just dropped."""
    text = _DRAWING.sub("", text)
    for block in _BLOCK.findall(text):
        if block.strip() and not block.lstrip().startswith("\\"):
            notes.removals.append(Note("cue-ass-comment-removed", cue=number, text=block))
    text = _BLOCK.sub("", text)
    text = text.replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")
    return tidy_lines(text)
