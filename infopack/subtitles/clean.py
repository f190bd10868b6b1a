"""Making cue text fit a small screen: plain NFC text, wrapped lines, readable timing.

`strip_markup` is shared with the readers, which use it to record per-cue fixes;
`clean` applies it again so documents built in code get the same treatment.
"""

from __future__ import annotations

import html
import re
import unicodedata

from infopack.notes import Note
from infopack.subtitles.model import Cue, SubtitleDoc, renumber

_ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>")   # <font ...>, </b>, <c.x>, VTT <00:01.000>
_ENTITY = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def strip_markup(text: str, cue: int = 0) -> tuple[str, list[Note]]:
    """Remove styling tags and decode entities; return the plain text and what was done
    (notes about cue number `cue`).

    Styling is dropped on purpose: cheap players show tags literally, and the burned-in
    style is chosen by the profile, not by the source file.
    """
    done = []
    tags = _HTML_TAG.findall(text)
    if tags:
        text = _HTML_TAG.sub("", text)
        names = sorted({re.match(r"</?([A-Za-z0-9]*)", t).group(1).lower() or "timestamp" for t in tags})
        done.append(Note("cue-tags-removed", cue=cue, tags=", ".join(f"<{n}>" for n in names)))
    overrides = _ASS_OVERRIDE.findall(text)
    if overrides:
        text = _ASS_OVERRIDE.sub("", text)
        done.append(Note("cue-ass-overrides-removed", cue=cue, tag=overrides[0]))
    if _ENTITY.search(text):
        decoded = html.unescape(text)
        if decoded != text:
            done.append(Note("cue-entities-decoded", cue=cue))
            text = decoded
    return tidy_lines(text), done


def tidy_lines(text: str) -> str:
    """Collapse runs of spaces, trim each line and drop empty lines."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def to_nfc(text: str) -> str:
    """macOS tools write decomposed jamo (NFD); players and fonts expect syllables."""
    return unicodedata.normalize("NFC", text)


def wrap_line(line: str, width: int) -> list[str]:
    """Break a line at spaces into as few lines as greedy wrapping needs, balanced.

    Balanced lines (two halves of similar length) are easier to read than a full line
    followed by one word. Words longer than `width` stay whole.
    """
    words = line.split(" ")
    if len(line) <= width or len(words) == 1:
        return [line]
    needed = len(_greedy(words, width))
    best = _greedy(words, width)
    for narrower in range(width - 1, 0, -1):
        attempt = _greedy(words, narrower)
        if len(attempt) != needed:
            break
        best = attempt
    return best


def _greedy(words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def wrap_text(text: str, width: int, max_lines: int) -> list[str]:
    """Wrap each line; rewrap as one paragraph if that saves lines (not for dialogue)."""
    lines = [wrapped for line in text.split("\n") for wrapped in wrap_line(line, width)]
    is_dialogue = any(line.startswith("-") for line in text.split("\n"))
    if len(lines) > max_lines and not is_dialogue:
        joined = wrap_line(" ".join(text.split("\n")), width)
        if len(joined) < len(lines):
            lines = joined
    return lines


def reading_speed(text: str, duration_ms: int) -> float:
    """Characters (without spaces) per second."""
    chars = sum(1 for ch in text if not ch.isspace())
    return chars / max(duration_ms, 1) * 1000


def clean(doc: SubtitleDoc, *, max_chars_per_line: int = 32, max_lines: int = 2,
          min_duration_ms: int = 700, max_cps: float = 20.0, end_limit_ms: int | None = None) -> SubtitleDoc:
    """NFC, plain text, wrapped for small screens, minimum duration; slow-reading warnings.

    A short cue is lengthened to `min_duration_ms`, but never into the next cue and never
    past `end_limit_ms` (the last moment a cue may show: see `timing.end_limit_ms`), so a
    soft track cannot make the output longer than its media.
    """
    new = doc.evolve()
    kept = []
    for position, cue in enumerate(new.cues):
        text, done = strip_markup(to_nfc(cue.text), cue.index)
        new.fixes += done
        if not text:
            new.fixes.append(Note("cue-empty-after-cleaning", cue=cue.index))
            continue
        lines = wrap_text(text, max_chars_per_line, max_lines)
        if "\n".join(lines) != text:
            new.fixes.append(Note("cue-rewrapped", cue=cue.index, lines=len(lines), width=max_chars_per_line))
        if any(len(line) > max_chars_per_line for line in lines):
            _warn(new, Note("cue-line-too-long", cue=cue.index, width=max_chars_per_line))
        if len(lines) > max_lines:
            _warn(new, Note("cue-too-many-lines", cue=cue.index, lines=len(lines), max_lines=max_lines))
        cue.text = "\n".join(lines)
        following = new.cues[position + 1] if position + 1 < len(new.cues) else None
        _extend_short(new, cue, following, min_duration_ms, end_limit_ms)
        speed = reading_speed(cue.text, cue.duration_ms)
        if speed > max_cps:
            _warn(new, Note("cue-reading-speed", cue=cue.index, speed=speed, max=max_cps))
        kept.append(cue)
    new.cues = renumber(kept)
    return new


def _extend_short(doc: SubtitleDoc, cue: Cue, following: Cue | None, min_duration_ms: int,
                  end_limit_ms: int | None) -> None:
    if cue.duration_ms >= min_duration_ms:
        return
    limit = cue.start_ms + min_duration_ms
    if following is not None:
        limit = min(limit, following.start_ms)
    if end_limit_ms is not None:
        limit = min(limit, end_limit_ms)
    new_end = max(limit, cue.end_ms)
    if new_end > cue.end_ms:
        doc.fixes.append(Note("cue-extended", cue=cue.index, old=cue.duration_ms, new=new_end - cue.start_ms))
        cue.end_ms = new_end


def _warn(doc: SubtitleDoc, message: Note) -> None:
    if message not in doc.warnings:
        doc.warnings.append(message)
