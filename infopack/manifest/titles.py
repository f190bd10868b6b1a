"""What a title must not say, because titles become the file and folder names on the card.

The patterns live in `infopack/data/name-patterns.toml` (dates, camera and app names,
release tags, addresses, paths, user and machine names). `identifying_matches` is the one
test: `init` keeps its titles clear of it, the build refuses a title that fails it, and
verify applies it to every name on a card.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from infopack.data import DATA_DIR
from infopack.errors import UsageError

PATTERNS_FILE = DATA_DIR / "name-patterns.toml"


@dataclass(frozen=True)
class NamePattern:
    name: str
    kind: str              # date, time, camera, app, release, web, person, path, machine
    regex: re.Pattern
    description_ko: str
    description_en: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """One identifying part of a title: the pattern's name and the text it matched."""
    name: str
    text: str
    start: int = field(default=0, compare=False)      # position in the NFKC form of the title
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class NameRules:
    patterns: tuple[NamePattern, ...]
    episodes: tuple[re.Pattern, ...]
    seasons: tuple[re.Pattern, ...]
    neutral: dict[str, str]

    def pattern(self, name: str) -> NamePattern:
        for pattern in self.patterns:
            if pattern.name == name:
                return pattern
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.patterns)


@cache
def name_rules() -> NameRules:
    """The shipped patterns, read and compiled once."""
    data = tomllib.loads(PATTERNS_FILE.read_text("utf-8"))
    patterns = []
    for entry in data["pattern"]:
        flags = 0 if entry.get("case_sensitive", False) else re.IGNORECASE
        patterns.append(NamePattern(
            name=entry["name"], kind=entry["kind"], regex=re.compile(entry["regex"], flags),
            description_ko=entry["description"]["ko"], description_en=entry["description"]["en"],
            examples=tuple(entry.get("examples", ()))))
    names = [p.name for p in patterns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{PATTERNS_FILE}: pattern names used twice: {', '.join(duplicates)}")
    episodes = data["episodes"]
    return NameRules(
        patterns=tuple(patterns),
        episodes=tuple(re.compile(p, re.IGNORECASE) for p in episodes["patterns"]),
        seasons=tuple(re.compile(p, re.IGNORECASE) for p in episodes["seasons"]),
        neutral=dict(data["neutral"]))


def comparable(title: str) -> str:
    """The form patterns are matched against: NFKC, so full-width digits and letters count."""
    return unicodedata.normalize("NFKC", title)


def identifying_matches(title: str, allow: tuple[str, ...] | list[str] = ()) -> list[Match]:
    """Every identifying part of `title`, in order of position; [] if it is clean.

    `allow`: pattern names the curator allowed for this title (an item's `title_allow`).
    A match lying wholly inside a longer one is left out (IMG_20230501_103000 reports
    `camera-file` and `datetime`, not also `date-compact`), and of two matches of the same
    text the one listed first in the data file is kept (`url`, not also `domain`).
    """
    text = comparable(title)
    found: list[Match] = []
    for pattern in name_rules().patterns:
        if pattern.name in allow:
            continue
        for m in pattern.regex.finditer(text):
            group = "text" if "text" in pattern.regex.groupindex and m.group("text") else 0
            if m.end(group) > m.start(group):
                found.append(Match(pattern.name, m.group(group), m.start(group), m.end(group)))
    kept = [m for i, m in enumerate(found)
            if not any(o.start <= m.start and m.end <= o.end and (o.end - o.start > m.end - m.start
                                                                  or (o.start, o.end) == (m.start, m.end) and j < i)
                       for j, o in enumerate(found))]
    return sorted(kept, key=lambda m: (m.start, m.end, m.name))


def without_matches(title: str, matches: list[Match]) -> str:
    """`title` (NFKC) with the matched parts cut out and the separators around them tidied."""
    text = comparable(title)
    cuts = sorted((m.start, m.end) for m in matches)
    kept, position = [], 0
    for start, end in cuts:
        if start > position:
            kept.append(text[position:start])
        position = max(position, end)
    kept.append(text[position:])
    return tidy(" ".join(kept))


def tidy(text: str) -> str:
    """Separators and leftover brackets cleaned from a title made of name pieces."""
    text = re.sub(r"\(\s*[-_.,]*\s*\)|\[\s*[-_.,]*\s*\]|\{\s*\}", " ", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"(?<= )([-_.,~+]+)(?: [-_.,~+]+)+(?= |$)", r"\1", text)     # "a - - b" -> "a - b"
    return text.strip(" -_.,~+")


def card_name_matches(name: str, allow: tuple[str, ...] | list[str] = ()) -> list[Match]:
    """`identifying_matches` for one file or folder name on a card: the extension is left
    out (".aac" and ".flac" are formats, not release tags)."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext.isascii() and ext.isalnum() and len(ext) <= 5:
        name = stem
    return identifying_matches(name, allow)


def describe(match: Match) -> str:
    """"'2023-05-01' (a date (year-month-day); pattern date-ymd)", for messages."""
    return f"'{match.text}' ({name_rules().pattern(match.name).description_en}; pattern {match.name})"


def title_problems(items) -> list[str]:
    """One line per manifest item (`Item`: id, title, group, title_allow) whose title or group
    has an identifying part, naming the item, the part and the way out."""
    problems = []
    for n, item in enumerate(items):
        for key, text in (("title", item.title), ("group", item.group)):
            matches = identifying_matches(text, item.title_allow) if text else []
            if matches:
                names = ", ".join(f'"{m.name}"' for m in matches)
                problems.append(f"items[{n}] ({item.id}).{key}: {text!r} contains "
                                + ", ".join(describe(m) for m in matches)
                                + f"; it would be a name on the card. Change the {key}, or if it is meant, "
                                  f"add title_allow = [{names}] to the item")
    return problems


def refuse_identifying_titles(manifest_path, items) -> None:
    """The build's gate: UsageError naming the manifest, the first offending item and the match."""
    problems = title_problems(items)
    if problems:
        more = f" (and {len(problems) - 1} more such titles)" if len(problems) > 1 else ""
        raise UsageError(manifest_path, problems[0] + more)
