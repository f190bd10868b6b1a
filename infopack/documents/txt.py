"""Plain-text books: cleaned like subtitle text, written in the encoding the player reads.

Cheap MP4 players' TXT readers take CP949 (older ones) or UTF-8 with a BOM, with CRLF
line endings. Cleaning uses the subtitle scrub patterns (`infopack/data/scrub-patterns.toml`,
extendable by the curator): a credit line goes whole; e-mail addresses, URLs, local
paths and @handles are cut out of other lines. Release-group tags are not looked for: a
book's "[12] ..." footnote line is not a release group.
"""

from __future__ import annotations

import os
import re
import unicodedata

from infopack.errors import UsageError
from infopack.subtitles.encoding import normalise_newlines
from infopack.subtitles.scrub import load_patterns

TXT_ENCODINGS = ("cp949", "utf-8-sig", "utf-8")
TXT_PART_KINDS = ("email", "url", "path", "handle")
REPLACEMENT = "?"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|<\s*>|（\s*）")


def clean_txt(text: str, patterns_file: str | os.PathLike | None = None) -> tuple[str, list[str]]:
    """(clean text, what was removed): NFC, LF newlines, credits/URLs/e-mails scrubbed.

    A form feed (a page break from PDF extraction) becomes a blank line; other control
    characters go. Indentation and blank lines stay: they are how a text book shows paragraphs.
    """
    patterns = load_patterns(patterns_file)
    text, _ = normalise_newlines(text.lstrip("\ufeff"))
    text = unicodedata.normalize("NFC", text).replace("\f", "\n\n")
    removals = []
    if _CONTROL.search(text):
        removals.append(f"{len(_CONTROL.findall(text))} control characters removed")
        text = _CONTROL.sub("", text)
    kept = []
    for number, line in enumerate(text.split("\n"), start=1):
        if patterns.credit_match(line) is not None:
            removals.append(f"line {number}: credit line removed: {line.strip()!r}")
            continue
        found = [(kind, what) for kind, what in patterns.find_parts(line) if kind in TXT_PART_KINDS]
        if found:
            for kind, what in found:
                line = line.replace(what, " ", 1)
                removals.append(f"line {number}: {kind} removed: {what!r}")
            line = re.sub(r"[ \t]{2,}", " ", _EMPTY_BRACKETS.sub("", line)).rstrip()
            if not line.strip():
                removals.append(f"line {number}: nothing left after scrubbing; line removed")
                continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip("\n") + "\n", removals


def encode_txt(text: str, encoding: str, *, on_unencodable: str = "error") -> tuple[bytes, list[str]]:
    """(bytes, problems) of `text` in cp949, utf-8-sig or utf-8, with CRLF line endings.

    Characters the encoding cannot hold (CP949 has no emoji, old Hangul or rare hanja)
    are never dropped silently: with on_unencodable="error" (default) a UsageError names
    them; with "replace" each becomes '?' and `problems` lists them with their lines.
    """
    name = encoding.lower().replace("_", "-")
    if name not in TXT_ENCODINGS:
        raise UsageError(None, f"unknown text encoding {encoding!r}; use one of {', '.join(TXT_ENCODINGS)}")
    if on_unencodable not in ("error", "replace"):
        raise ValueError(f"on_unencodable must be 'error' or 'replace', not {on_unencodable!r}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    problems = unencodable(text, name)
    if problems and on_unencodable == "error":
        raise UsageError(None, f"{len(problems)} different characters cannot be written in {name} "
                               f"(first: {problems[0]}); use utf-8-sig for this book, or let them be "
                               f"replaced by '{REPLACEMENT}'")
    data = text.replace("\n", "\r\n").encode(name, errors="replace")
    return data, [f"{problem} replaced by '{REPLACEMENT}'" for problem in problems]


def unencodable(text: str, encoding: str) -> list[str]:
    """One line per character `encoding` cannot hold: the character, its code point, its lines."""
    lines: dict[str, list[int]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        try:
            line.encode(encoding)
            continue
        except UnicodeEncodeError:
            pass
        for char in dict.fromkeys(line):
            try:
                char.encode(encoding)
            except UnicodeEncodeError:
                lines.setdefault(char, []).append(number)
    return [f"{char!r} (U+{ord(char):04X}) on line{'s' if len(at) > 1 else ''} "
            f"{', '.join(map(str, at[:5]))}{', ...' if len(at) > 5 else ''}" for char, at in lines.items()]
