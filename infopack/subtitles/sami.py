"""SAMI (.smi) reader: the dominant format for Korean subtitles.

Written by hand because real files are loose HTML: unclosed and lowercase tags,
several language classes (KRCC, ENCC) in one file, and a `&nbsp;` sync that ends
the previous cue. A cue ends at the next sync of its own language class.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from infopack.errors import InfopackError
from infopack.notes import Note
from infopack.subtitles.clean import tidy_lines
from infopack.subtitles.model import ParseNotes, RawCue

FORMAT = "sami"
EXTENSIONS = (".smi", ".sami")

_SYNC = re.compile(r"<\s*sync\b([^>]*)>", re.I)
_START = re.compile(r"\bstart\s*=\s*[\"']?\s*([^\s\"'>]*)", re.I)
_PARAGRAPH = re.compile(r"<\s*p\b([^>]*)>", re.I)
_CLASS = re.compile(r"\bclass\s*=\s*[\"']?\s*([\w-]+)", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BR = re.compile(r"<\s*br\s*/?\s*>", re.I)
_TAG = re.compile(r"<[^<>]*>")
_BODY = re.compile(r"<\s*body\b[^>]*>", re.I)
_TITLE = re.compile(r"<\s*title\s*>(.*?)<\s*/\s*title\s*>", re.I | re.S)
_BODY_END = re.compile(r"<\s*/\s*(body|sami)\s*>", re.I)


@dataclass
class _Sync:
    number: int             # position among all <SYNC> tags, for messages
    line: int
    start_ms: int
    texts: dict             # class name (upper case) or None -> plain text ("" clears)


def sniff(text: str) -> bool:
    return bool(re.search(r"<\s*(sami|sync)\b", text, re.I))


def parse(text: str, path: str, notes: ParseNotes, language_class: str | None = None) -> list[RawCue]:
    _record_header_traces(text, notes)
    syncs = _read_syncs(_blank_comments(text), path)
    chosen = _choose_class(syncs, language_class, path, notes)
    events = [(s, s.texts[chosen] if chosen in s.texts else s.texts[None])
              for s in syncs if chosen in s.texts or None in s.texts]
    cues = []
    for position, (sync, body) in enumerate(events):
        if not body:
            continue  # a clearing sync (&nbsp;) only ends the previous cue
        end = events[position + 1][0].start_ms if position + 1 < len(events) else None
        cues.append(RawCue(sync.number, sync.start_ms, end, body))
    return cues


def _record_header_traces(text: str, notes: ParseNotes) -> None:
    """Comments (other than CSS) and the <TITLE> often name the maker; they are not kept."""
    for comment in _COMMENT.finditer(text):
        body = " ".join(comment.group()[4:-3].split())
        if body and "{" not in body:
            line = text.count("\n", 0, comment.start()) + 1
            notes.removals.append(Note("sami-comment-removed", line=line, text=body))
    title = _TITLE.search(text)
    if title and title.group(1).strip():
        notes.removals.append(Note("sami-title-removed", text=title.group(1).strip()))


def _blank_comments(text: str) -> str:
    """Hide comments (often holding credits or CSS) while keeping line numbers right."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def _read_syncs(text: str, path: str) -> list[_Sync]:
    body = _BODY.search(text)
    begin = body.end() if body else 0
    finish = _BODY_END.search(text, begin)
    stop = finish.start() if finish else len(text)
    tags = [m for m in _SYNC.finditer(text, begin, stop)]
    if not tags:
        raise InfopackError(path, "no <SYNC Start=...> cues found; is this a SAMI file?")
    syncs, line, counted_to = [], 1, 0
    for number, tag in enumerate(tags, start=1):
        line += text.count("\n", counted_to, tag.start())   # counted incrementally: big files
        counted_to = tag.start()
        content_end = tags[number].start() if number < len(tags) else stop
        syncs.append(_Sync(number, line, _start_ms(tag.group(1), number, line, path),
                           _paragraph_texts(text[tag.end():content_end])))
    return syncs


def _start_ms(attributes: str, number: int, line: int, path: str) -> int:
    match = _START.search(attributes)
    value = match.group(1) if match else ""
    try:
        return int(value)
    except ValueError:
        raise InfopackError(path, f"cue {number} (line {line}): SYNC Start {value!r} is not a number "
                                  f"of milliseconds") from None


def _paragraph_texts(content: str) -> dict:
    """Split one sync's content by <P> tags into {class: text}; text before any <P> is classless."""
    texts = {}
    tags = list(_PARAGRAPH.finditer(content))
    leading = content[: tags[0].start()] if tags else content
    if _to_plain(leading) or not tags:
        texts[None] = _to_plain(leading)
    for position, tag in enumerate(tags):
        end = tags[position + 1].start() if position + 1 < len(tags) else len(content)
        match = _CLASS.search(tag.group(1))
        name = match.group(1).upper() if match else None
        plain = _to_plain(content[tag.end():end])
        texts[name] = f"{texts[name]}\n{plain}".strip("\n") if texts.get(name) else plain
    return texts


def _to_plain(fragment: str) -> str:
    """HTML fragment -> plain lines: source newlines are spaces, <br> is a line break."""
    fragment = _BR.sub("\n", fragment.replace("\n", " "))
    return tidy_lines(html.unescape(_TAG.sub("", fragment)))


def _choose_class(syncs: list[_Sync], wanted: str | None, path: str, notes: ParseNotes) -> str | None:
    """The requested class, else a Korean one (KRCC, KOKRCC...), else the first seen."""
    classes = list(dict.fromkeys(name for s in syncs for name in s.texts if name))
    if wanted:
        if wanted.upper() in classes:
            return wanted.upper()
        raise InfopackError(path, f"language class {wanted!r} not found; the file has: "
                                  f"{', '.join(classes) or 'no classes'}")
    if not classes:
        return None
    korean = [name for name in classes if name.startswith(("KR", "KO")) or "KOR" in name or "KR" in name]
    chosen = korean[0] if korean else classes[0]
    if len(classes) > 1:
        notes.warnings.append(Note("sami-classes", classes=", ".join(classes), chosen=chosen))
    return chosen
