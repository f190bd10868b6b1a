"""Lint: South Korean vocabulary and reading speed, as named findings.

The glossary is data (infopack/data/glossary.toml). A word matches when an eojeol
(space-separated word) starts with it, so Korean particles and endings are allowed:
'아이스크림을' matches '아이스크림'. When several entries match, the longest wins
('한국어' over '한국'). Only confirmed entries are ever rewritten, by `apply_glossary`:
those a curator marked `confirmed = true`, and those reviewers confirmed in signed glossary
decisions the trust policy accepts.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from infopack.checks import WARNING, Finding
from infopack.errors import InfopackError
from infopack.notes import Note
from infopack.subtitles.clean import reading_speed
from infopack.subtitles.model import SubtitleDoc

SHIPPED_GLOSSARY = Path(__file__).resolve().parent.parent / "data" / "glossary.toml"
_WORD = re.compile(r"\S+")
_LEADING_PUNCTUATION = "\"'“”‘’([{<「『-–—…·.,!?~"


@dataclass(frozen=True)
class GlossaryEntry:
    sk: str           # South Korean word or spelling
    nk: str           # suggested North Korean form
    note: str
    confirmed: bool   # checked by a curator; only these are applied


def load_glossary(glossary_file: str | os.PathLike | None = None) -> tuple[GlossaryEntry, ...]:
    """Entries from the shipped glossary or the given file, longest word first.

    Parsed once per version of the file (every cue of every item is linted against it).
    """
    path = Path(glossary_file) if glossary_file else SHIPPED_GLOSSARY
    try:
        stat = path.stat()
    except OSError as exc:
        raise InfopackError(path, f"cannot read the glossary: {exc.strerror or exc}") from None
    return _parse_glossary(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _parse_glossary(path: Path, _mtime_ns: int, _size: int) -> tuple[GlossaryEntry, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries = [GlossaryEntry(str(e["sk"]), str(e["nk"]), str(e.get("note", "")), e.get("confirmed") is True)
                   for e in data.get("entry", [])]
    except OSError as exc:
        raise InfopackError(path, f"cannot read the glossary: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InfopackError(path, f"glossary is not valid UTF-8 TOML: {exc}") from None
    except (KeyError, TypeError, AttributeError):
        raise InfopackError(path, "every [[entry]] needs sk = \"...\" and nk = \"...\"") from None
    return tuple(sorted((e for e in entries if e.sk), key=lambda e: len(e.sk), reverse=True))


@dataclass(frozen=True)
class Match:
    entry: GlossaryEntry
    word: str         # the eojeol as written, e.g. '아이스크림을'
    start: int        # offset of the matched prefix in the cue text


def find_terms(text: str, entries: list[GlossaryEntry]) -> list[Match]:
    """Glossary words that start an eojeol of `text` (longest entry per eojeol)."""
    matches = []
    for token in _WORD.finditer(text):
        word = token.group().lstrip(_LEADING_PUNCTUATION)
        offset = token.end() - len(word)
        entry = next((e for e in entries if word.startswith(e.sk)), None)
        if entry is not None:
            matches.append(Match(entry, word, offset))
    return matches


def lint(doc: SubtitleDoc, glossary_file: str | None = None, *, max_cps: float = 20.0) -> list[Finding]:
    """Warnings for South Korean vocabulary ('sk-vocabulary') and fast cues ('reading-speed').

    Each message is a Note carrying the cue number, so the review can place it and say it in Korean.
    """
    entries = load_glossary(glossary_file)
    findings = []
    for cue in doc.cues:
        for match in find_terms(cue.text, entries):
            findings.append(Finding("sk-vocabulary", WARNING, doc.source, vocabulary_note(cue.index, match)))
        speed = reading_speed(cue.text, cue.duration_ms)
        if speed > max_cps:
            findings.append(Finding("reading-speed", WARNING, doc.source,
                                    Note("reading-speed", cue=cue.index, speed=speed, max=max_cps)))
    return findings


def vocabulary_note(cue: int, match: Match) -> Note:
    params = {"cue": cue, "word": match.word, "sk": match.entry.sk, "nk": match.entry.nk}
    if match.entry.note:
        return Note("sk-vocabulary", note=match.entry.note, **params)
    return Note("sk-vocabulary-plain", **params)


Reviewed = Mapping[tuple[str, str], tuple[str, ...]]      # (sk, nk) -> key ids of the reviewers who confirmed it


def apply_glossary(doc: SubtitleDoc, glossary_file: str | None = None, *, reviewed: Reviewed | None = None
                   ) -> SubtitleDoc:
    """Rewrite words of confirmed entries only, fixing the particle that follows.

    An entry is confirmed by the curator in the glossary file (`confirmed = true`) or, through
    `reviewed`, by reviewers whose signed glossary decisions the trust policy accepts
    (infopack.release.glossary_review); each rewrite is a `glossary-applied` fix naming the cue,
    the entry and who confirmed it.
    """
    reviewed = reviewed or {}
    entries = [e for e in load_glossary(glossary_file) if e.confirmed or (e.sk, e.nk) in reviewed]
    new = doc.evolve()
    for cue in new.cues:
        for match in reversed(find_terms(cue.text, entries)):
            rest = match.word[len(match.entry.sk):]
            replacement = match.entry.nk + adjust_particle(match.entry.nk, rest)
            end = match.start + len(match.word)
            cue.text = cue.text[:match.start] + replacement + cue.text[end:]
            params = {"cue": cue.index, "word": match.word, "replacement": replacement,
                      "sk": match.entry.sk, "nk": match.entry.nk}
            by = () if match.entry.confirmed else reviewed[(match.entry.sk, match.entry.nk)]
            new.fixes.append(Note("glossary-applied-reviewed", reviewers=", ".join(by), **params) if by
                             else Note("glossary-applied", **params))
    return new


def glossary_changes(doc: SubtitleDoc) -> list[dict]:
    """Which confirmed entries changed which cues (for the report), from `apply_glossary`'s fixes."""
    return [{"cue": fix.params["cue"], "sk": fix.params["sk"], "nk": fix.params["nk"], "word": fix.params["word"],
             "replacement": fix.params["replacement"],
             "reviewers": fix.params["reviewers"].split(", ") if "reviewers" in fix.params else []}
            for fix in doc.fixes if isinstance(fix, Note) and fix.code.startswith("glossary-applied")]


# Particles whose form depends on whether the word before ends in a consonant:
# (after a consonant, after a vowel).
_PARTICLE_PAIRS = (("을", "를"), ("은", "는"), ("과", "와"), ("으로", "로"), ("이", "가"),
                   ("이랑", "랑"), ("이나", "나"), ("아", "야"))


def _ends_in_consonant(word: str) -> bool:
    last = word[-1] if word else ""
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def _ends_in_rieul(word: str) -> bool:
    last = word[-1] if word else ""
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 == 8


def adjust_particle(word: str, rest: str) -> str:
    """'아이스크림' + '을' -> '얼음보숭이' + '를': keep the particle agreeing with the new word."""
    for after_consonant, after_vowel in _PARTICLE_PAIRS:
        for form in (after_consonant, after_vowel):
            if rest == form:
                wants_consonant_form = _ends_in_consonant(word)
                if form in ("으로", "로") and _ends_in_rieul(word):
                    wants_consonant_form = False   # ㄹ takes 로: 길로
                return after_consonant if wants_consonant_form else after_vowel
    return rest
