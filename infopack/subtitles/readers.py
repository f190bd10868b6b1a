"""Reading any supported subtitle file into a `SubtitleDoc`.

One module per format (srt, sami, vtt, ass), each with `FORMAT`, `EXTENSIONS`,
`sniff(text)` and `parse(text, path, notes, language_class)`. Adding a format is
adding a module to `READERS`. The content decides the format when it is clear
(Korean .srt files are sometimes SAMI inside); the extension decides otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

from infopack.errors import InfopackError
from infopack.notes import Note
from infopack.subtitles import ass, sami, srt, vtt
from infopack.subtitles.clean import to_nfc
from infopack.subtitles.encoding import decode_subtitle_bytes, normalise_newlines
from infopack.subtitles.names import named_korean
from infopack.subtitles.model import ParseNotes, RawCue, SubtitleDoc
from infopack.subtitles.timing import repair_timeline

READERS = (vtt, ass, sami, srt)          # sniffing order: most distinctive first
BY_EXTENSION = {ext: reader for reader in READERS for ext in reader.EXTENSIONS}

MAX_SUBTITLE_BYTES = 20 * 1024 * 1024   # real subtitle files are well under 1 MB


def read_subtitles(path: str | os.PathLike, *, language_class: str | None = None,
                   display: str | None = None) -> SubtitleDoc:
    """Detect encoding and format, parse, repair safe damage and record every repair.

    Anything that cannot be repaired safely raises InfopackError naming the cue and line.
    `display` is what messages and the document call the file: what the curator gave
    (`subs/ep01.smi`, `ep01.mkv (track 2)`), never a copy in a work folder. It defaults
    to `path`.
    """
    path = os.fspath(path)
    name = display or path
    data = _read_bytes(path, name)
    text, encoding = decode_subtitle_bytes(data, name, korean=named_korean(name))
    return parse_text(text, path, encoding=encoding, language_class=language_class, display=name)


def parse_text(text: str, path: str = "", *, encoding: str = "str",
               language_class: str | None = None, display: str | None = None) -> SubtitleDoc:
    """Parse already-decoded text (format from content, else from `path`'s extension).

    Messages and `SubtitleDoc.source` use `display` (default: `path`).
    """
    name = display or path
    notes = ParseNotes()
    text, newline_fix = normalise_newlines(text.lstrip("\ufeff"))
    if newline_fix:
        notes.fixes.append(newline_fix)
    reader = choose_reader(text, path, display=name)
    raw = reader.parse(text, name, notes, language_class)
    _normalise_text(raw, notes)
    cues = repair_timeline(raw, notes)
    return SubtitleDoc(cues=cues, source=name, format=reader.FORMAT, encoding=encoding,
                       fixes=notes.fixes, removals=notes.removals, warnings=notes.warnings)


def choose_reader(text: str, path: str, *, display: str | None = None):
    for reader in READERS:
        if reader.sniff(text):
            return reader
    by_extension = BY_EXTENSION.get(Path(path).suffix.lower())
    if by_extension is not None:
        return by_extension
    raise InfopackError(display or path, "not a subtitle file this tool reads (SRT, SAMI, WebVTT, ASS/SSA)")


def _read_bytes(path: str, name: str) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > MAX_SUBTITLE_BYTES:
            raise InfopackError(name, f"{size} bytes is far too big for a subtitle file")
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InfopackError(name, f"cannot read the file: {exc.strerror or exc}") from None


def _normalise_text(raw: list[RawCue], notes: ParseNotes) -> None:
    """NFC for every format: macOS tools write decomposed jamo."""
    for cue in raw:
        composed = to_nfc(cue.text)
        if composed != cue.text:
            notes.fixes.append(Note("cue-nfc", cue=cue.number))
            cue.text = composed
