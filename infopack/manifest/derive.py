"""Titles, series and episode numbers read from source file names, for `infopack init`.

A title becomes a file name on the card, so a title must say what the item is and nothing
about where the file came from. Release names (`Red.River.S01E01.720p.HDTV.x264-KOR`)
are parsed with guessit into title, series and episode; Korean and Chinese episode marks
(`빨간 강 2화`, `제1회`, `EP01`, `第1集`) are read with the patterns of
`name-patterns.toml`; files named by a camera or an app (`IMG_20230501_103000`,
`KakaoTalk_...`) get neutral titles (`사진 1`, `영상 2`) numbered in name order. Every
title and series name is checked with `identifying_matches`; what fails falls back to a
neutral title, so `init` never writes a date, a tag or a camera name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from guessit import guessit
from guessit.api import GuessitException

from infopack.manifest.titles import Match, comparable, identifying_matches, name_rules, tidy, without_matches

SOURCE_KINDS = ("camera", "app")        # a name from these says only where the file came from
SEASON_WORD = "시즌"
EPISODE_WORD = "화"


@dataclass(frozen=True)
class DerivedTitle:
    source: str                   # the file, relative to the folder, as written in the manifest
    kind: str                     # video, audio or image
    title: str
    group: str | None = None
    episode: int | None = None
    season: int | None = None
    neutral_because: tuple[str, ...] = ()    # pattern names that made the title neutral

    def line(self) -> str:
        """What `init` prints for this file: `source → title (group, episode)`."""
        details = []
        if self.group:
            details.append(f"group: {self.group}")
        if self.episode is not None:
            details.append(f"episode: {self.episode}")
        if self.neutral_because:
            details.append("neutral: " + ", ".join(self.neutral_because))
        return f"{self.source} → {self.title}" + (f" ({'; '.join(details)})" if details else "")


def derive_titles(sources: list[tuple[str, str]]) -> list[DerivedTitle]:
    """One DerivedTitle per (relative path, kind), in the order given (name order)."""
    drafts = [_derive_one(path, kind) for path, kind in sources]
    drafts = _seasons_apart(drafts)
    return _number_neutral(drafts)


def _derive_one(path: str, kind: str) -> DerivedTitle:
    name = unicodedata.normalize("NFC", PurePosixPath(path).name)
    stem = PurePosixPath(name).stem
    matches = identifying_matches(stem)
    found = tuple(dict.fromkeys(m.name for m in matches))
    rules = name_rules()
    if any(rules.pattern(m.name).kind in SOURCE_KINDS for m in matches):
        return DerivedTitle(path, kind, title="", neutral_because=found)
    text = _blanked(comparable(stem), matches)
    episode, season, marker = _episode_mark(text)
    dotted = " " not in stem and bool(re.search(r"[._]", stem))
    if matches or dotted:
        words = _spaced if dotted else tidy
        use_guessit = dotted or any(rules.pattern(m.name).kind == "release" for m in matches)
        guess = _guess(name) if use_guessit else {}
        rest = words(text)
        base = (words(text[:marker.start()]) if marker else "") or _text(guess.get("title"), rest) or rest
        if episode is None and guess.get("type") == "episode" and isinstance(guess.get("episode"), int):
            episode = guess["episode"]
        if season is None and isinstance(guess.get("season"), int):
            season = guess["season"]
        group = base if episode is not None else None
        title = base
        if episode is not None:
            title = _text(guess.get("episode_title"), rest) or (f"{base} {episode}{EPISODE_WORD}" if base else "")
    else:
        title = stem
        group = tidy(text[:marker.start()]) if marker else None
    title, title_hits = _cleared(title)
    group, _ = _cleared(group or "")
    if not title:
        return DerivedTitle(path, kind, title="", episode=episode, season=season,
                            neutral_because=title_hits or found or ("nothing readable",))
    return DerivedTitle(path, kind, title=title, group=group or None, episode=episode, season=season)


def _blanked(text: str, matches: list[Match]) -> str:
    """`text` with the matched traces replaced by spaces (positions kept for the episode mark)."""
    for m in matches:
        text = text[:m.start] + " " * (m.end - m.start) + text[m.end:]
    return text


def _episode_mark(text: str) -> tuple[int | None, int | None, re.Match | None]:
    """(episode, season, the episode mark's match in `text`) from the first pattern that matches."""
    rules = name_rules()
    season = None
    for regex in rules.seasons:
        found = regex.search(text)
        if found:
            season = int(found.group("s"))
            break
    for regex in rules.episodes:
        found = regex.search(text)
        if found:
            if "s" in regex.groupindex and found.group("s"):
                season = int(found.group("s"))
            return int(found.group("n")), season, found
    return None, season, None


def _guess(name: str) -> dict:
    try:
        return dict(guessit(name))
    except GuessitException:          # guessit gives up on some odd names: read them without it
        return {}


def _spaced(text: str) -> str:
    """A dotted or underscored release name's words with spaces ("Red.River." -> "Red River")."""
    return tidy(re.sub(r"[._]+", " ", text))


def _text(value, rest: str) -> str:
    """guessit's reading of a name, if it comes from the part of the name that is no trace
    (guessit takes the `103000` of `20230501_103000` for a title)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if not isinstance(value, str) or not _letters(value) or _letters(value) not in _letters(rest):
        return ""
    return tidy(value)


def _letters(text: str) -> str:
    return "".join(ch for ch in comparable(text).casefold() if ch.isalnum())


def _cleared(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` with identifying parts cut out, or "" if what is left says nothing or still fails."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
    matches = identifying_matches(text)
    if not matches:
        return (text if any(ch.isalnum() for ch in text) else ""), ()
    names = tuple(dict.fromkeys(m.name for m in matches))
    rest = unicodedata.normalize("NFC", without_matches(text, matches))
    if rest and not identifying_matches(rest) and any(ch.isalpha() for ch in rest):
        return rest, ()
    return "", names


def _seasons_apart(drafts: list[DerivedTitle]) -> list[DerivedTitle]:
    """A series found with several seasons gets one folder per season ("Red River 시즌 2")."""
    seasons: dict[str, set[int]] = {}
    for d in drafts:
        if d.group and d.season is not None:
            seasons.setdefault(d.group, set()).add(d.season)
    return [replace(d, group=f"{d.group} {SEASON_WORD} {d.season}")
            if d.group and d.season is not None and len(seasons[d.group]) > 1 else d
            for d in drafts]


def _number_neutral(drafts: list[DerivedTitle]) -> list[DerivedTitle]:
    """Neutral titles ("사진 1", "사진 2", ...), numbered per kind in name order, padded to sort."""
    words = name_rules().neutral
    counts: dict[str, int] = {}
    for d in drafts:
        if not d.title:
            counts[d.kind] = counts.get(d.kind, 0) + 1
    seen: dict[str, int] = {}
    result = []
    for d in drafts:
        if not d.title:
            seen[d.kind] = seen.get(d.kind, 0) + 1
            number = str(seen[d.kind]).zfill(len(str(counts[d.kind])))
            d = replace(d, title=f"{words[d.kind]} {number}", group=None)
        result.append(d)
    return result
