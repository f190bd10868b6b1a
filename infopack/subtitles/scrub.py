"""Removing, and finding, what in a subtitle can identify a person, group or machine.

`scrub` works on a parsed document (the readers have already dropped ASS authoring
fields, NOTE blocks and the like, recording them): it removes credit cues whole and
cuts URLs, e-mails, handles, paths and group tags out of other cues.
`scan_subtitle_file` reads a file as raw lines, for QA of what is on a card: it
reports every trace left, never raises.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from infopack.checks import ERROR, Finding
from infopack.errors import InfopackError
from infopack.notes import Note
from infopack.subtitles.ass import DEFAULT_FORMAT, TECHNICAL_INFO_KEYS
from infopack.subtitles.clean import strip_markup, tidy_lines
from infopack.subtitles.encoding import decode_subtitle_bytes, normalise_newlines
from infopack.subtitles.model import SubtitleDoc, renumber

SHIPPED_PATTERNS = Path(__file__).resolve().parent.parent / "data" / "scrub-patterns.toml"
PART_KINDS = ("email", "url", "path", "handle", "group_tag")   # the order they are cut in
CHECK_NAMES = {"credit": "sub-credit", "email": "sub-email", "url": "sub-url", "path": "sub-path",
               "handle": "sub-handle", "group_tag": "sub-credit"}
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|<\s*>|（\s*）")


@dataclass(frozen=True)
class ScrubPatterns:
    credit: tuple[re.Pattern, ...]
    parts: tuple[tuple[str, re.Pattern], ...]    # (kind, pattern) in cutting order
    not_groups: frozenset[str]

    def credit_match(self, text: str) -> str | None:
        """The first line of `text` that marks it as a credit cue, if any."""
        for line in text.split("\n"):
            if any(p.search(line) for p in self.credit):
                return line
        return None

    def find_parts(self, line: str) -> list[tuple[str, str]]:
        """(kind, matched text) for everything identifying in one line, without cutting."""
        found, _ = self._cut(line)
        return found

    def cut_parts(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """Remove identifying parts from each line; return the new text and what went."""
        kept, found = [], []
        for line in text.split("\n"):
            cut_found, cut_line = self._cut(line)
            found += cut_found
            kept.append(_EMPTY_BRACKETS.sub("", cut_line))
        return tidy_lines("\n".join(kept)), found

    def _cut(self, line: str) -> tuple[list[tuple[str, str]], str]:
        found = []
        for kind, pattern in self.parts:
            for match in list(pattern.finditer(line)):
                if kind == "group_tag" and match.group().strip(" []").lower() in self.not_groups:
                    continue
                found.append((kind, match.group().strip()))
                line = line.replace(match.group(), " ", 1)
        return found, line


def load_patterns(extra_patterns_file: str | os.PathLike | None = None) -> ScrubPatterns:
    """The shipped patterns plus, optionally, a curator's file with the same tables."""
    return _load_patterns(None if extra_patterns_file is None else os.fspath(extra_patterns_file))


@lru_cache(maxsize=8)
def _load_patterns(extra: str | None) -> ScrubPatterns:
    tables = [_read_toml(SHIPPED_PATTERNS.read_bytes(), str(SHIPPED_PATTERNS))]
    if extra:
        try:
            with open(extra, "rb") as handle:
                tables.append(_read_toml(handle.read(), extra))
        except OSError as exc:
            raise InfopackError(extra, f"cannot read the scrub patterns: {exc.strerror or exc}") from None
    credit = [_compile(p, source) for table, source in tables for p in table.get("credit", {}).get("patterns", [])]
    parts = [(kind, _compile(p, source)) for kind in PART_KINDS
             for table, source in tables for p in table.get("parts", {}).get(kind, [])]
    not_groups = {w.lower() for table, _ in tables for w in table.get("group_tag", {}).get("not_groups", [])}
    return ScrubPatterns(tuple(credit), tuple(parts), frozenset(not_groups))


def _read_toml(data: bytes, source: str) -> tuple[dict, str]:
    try:
        return tomllib.loads(data.decode("utf-8")), source
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InfopackError(source, f"not valid UTF-8 TOML: {exc}") from None


def _compile(pattern: str, source: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, TypeError) as exc:
        raise InfopackError(source, f"pattern {pattern!r} is not a valid regular expression: {exc}") from None


def scrub(doc: SubtitleDoc, extra_patterns_file: str | None = None) -> SubtitleDoc:
    """Remove credit cues whole; cut URLs, e-mails, handles, paths and group tags from others."""
    patterns = load_patterns(extra_patterns_file)
    new = doc.evolve()
    kept = []
    for cue in new.cues:
        if patterns.credit_match(cue.text) is not None:
            new.removals.append(Note("cue-credit-removed", cue=cue.index, text=_one_line(cue.text)))
            continue
        text, found = patterns.cut_parts(cue.text)
        new.removals += [Note(f"cue-{kind.replace('_', '-')}-removed", cue=cue.index, text=what)
                         for kind, what in found]
        if not text:
            new.removals.append(Note("cue-scrubbed-empty", cue=cue.index))
            continue
        if found and not _has_words(text):
            new.removals.append(Note("cue-scrubbed-leftover", cue=cue.index, text=_one_line(text)))
            continue
        cue.text = text
        kept.append(cue)
    new.cues = renumber(kept)
    return new


def _has_words(text: str) -> bool:
    """A letter or digit in any script: what is left of a cut cue is worth showing only then
    (`www.site.example / me@mail.example` leaves a bare `/`)."""
    return any(ch.isalnum() for ch in text)


def _one_line(text: str) -> str:
    return " / ".join(text.split("\n"))


# --- scanning files as they are, for QA -------------------------------------------------

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")


def scan_subtitle_file(path: str | os.PathLike) -> list[Finding]:
    """Report identifying content left in a subtitle file; never raises on odd input."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(20 * 1024 * 1024 + 1)
        text, _ = decode_subtitle_bytes(data, path)
        patterns = load_patterns()
    except InfopackError as exc:
        return [Finding("sub-unreadable", ERROR, path, exc.problem)]
    except OSError as exc:
        return [Finding("sub-unreadable", ERROR, path, f"cannot read the file: {exc.strerror or exc}")]
    try:
        return _Scanner(path, patterns).scan(normalise_newlines(text.lstrip("\ufeff"))[0])
    except Exception as exc:  # a scanner bug must not hide the file from QA
        return [Finding("sub-unreadable", ERROR, path, f"could not be scanned ({exc.__class__.__name__})")]


class _Scanner:
    """Walks the lines once, knowing just enough of each format to skip markup."""

    def __init__(self, path: str, patterns: ScrubPatterns):
        self.path, self.patterns = path, patterns
        self.findings: list[Finding] = []

    def add(self, check: str, line_no: int, message: str) -> None:
        self.findings.append(Finding(check, ERROR, self.path, f"line {line_no}: {message}"))

    def scan(self, text: str) -> list[Finding]:
        lines = text.split("\n")
        if re.search(r"^\s*\[(Script Info|V4\+? Styles|Events)\]", text, re.M | re.I):
            self._scan_ass(lines)
        else:
            self._scan_plain(lines, is_vtt=text.startswith("WEBVTT"))
        return self.findings

    def check_text(self, line_no: int, text: str) -> None:
        plain, _ = strip_markup(text)
        for line in plain.split("\n"):
            if self.patterns.credit_match(line) is not None:
                self.add("sub-credit", line_no, f"credit {line.strip()!r}")
            for kind, what in self.patterns.find_parts(line):
                self.add(CHECK_NAMES[kind], line_no, f"{kind.replace('_', ' ')} {what!r}")

    def _scan_plain(self, lines: list[str], is_vtt: bool) -> None:
        in_style, block_start = False, True
        for line_no, line in enumerate(lines, start=1):
            lowered = line.lower()
            if "<style" in lowered:
                in_style = True
            if in_style:
                in_style = "</style" not in lowered
                continue
            if is_vtt and block_start and line.startswith("NOTE"):
                self.add("sub-credit", line_no, f"WebVTT NOTE block {line.strip()!r}")
            block_start = not line.strip()
            if "-->" in line or not line.strip():
                continue
            if is_vtt and line_no == 1:
                line = line[len("WEBVTT"):]
            self.check_text(line_no, line)

    def _scan_ass(self, lines: list[str]) -> None:
        section, field_names = "", DEFAULT_FORMAT
        for line_no, line in enumerate(lines, start=1):
            heading = _SECTION.match(line)
            if heading:
                section = heading.group(1).strip().lower()
                if section in ("fonts", "graphics") or section.startswith("aegisub"):
                    self.add("sub-ass-info", line_no, f"section [{heading.group(1).strip()}]")
                continue
            key, _, value = line.partition(":")
            key, value = key.strip().lower(), value.strip()
            if not line.strip() or section in ("fonts", "graphics"):
                continue
            if section == "script info":
                if line.lstrip().startswith(";") or (key not in TECHNICAL_INFO_KEYS and value):
                    self.add("sub-ass-info", line_no, f"[Script Info] {line.strip()!r}")
                self._check_paths(line_no, line)
            elif section.startswith("aegisub"):
                self.add("sub-ass-info", line_no, f"Aegisub data {line.strip()!r}")
                self._check_paths(line_no, line)
            elif key == "format" and "event" in section:
                field_names = [name.strip().lower() for name in value.split(",")]
            elif key in ("comment", "dialogue"):
                self._scan_event(line_no, key, value, field_names)

    def _scan_event(self, line_no: int, key: str, value: str, field_names: list[str]) -> None:
        record = dict(zip(field_names, value.split(",", len(field_names) - 1)))
        if key == "comment":
            self.add("sub-ass-info", line_no, f"Comment event {record.get('text', value).strip()!r}")
        for name in ("name", "actor", "effect"):
            if record.get(name, "").strip():
                self.add("sub-ass-info", line_no, f"{name.capitalize()} field {record[name].strip()!r}")
        dialogue = record.get("text", "")
        for block in re.findall(r"\{([^{}]*)\}", dialogue):
            if block.strip() and not block.lstrip().startswith("\\"):
                self.add("sub-ass-info", line_no, f"comment {{{block}}}")
        plain = re.sub(r"\{[^{}]*\}", "", dialogue).replace("\\N", "\n").replace("\\n", "\n")
        self.check_text(line_no, plain)

    def _check_paths(self, line_no: int, line: str) -> None:
        for kind, what in self.patterns.find_parts(line):
            if kind in ("path", "url", "email"):
                self.add(CHECK_NAMES[kind], line_no, f"{kind} {what!r}")
