"""Messages for people in the reviewer's language: notes made by code, and what checks mean.

A `Note` is one message code makes (a subtitle repair, a scrubbed credit, a warning, a
sign-off result): a code and its parameters. It *is* a `str` holding its English text,
so every caller that prints, joins, compares or serialises messages keeps working, and
`note.text("ko")` renders it from the Korean catalogue. Reports keep the code and
parameters (`note_dict`), so report.html and the review app render them in the reader's
language, and `localise` turns what a report holds back into text.

The catalogues are data, one file per language (`data/messages/<lang>.toml`): `[note]`
holds a template per code (`str.format` placeholders), `[check.NAME]` what a named check
means and what to do, in languages other than the check registry's English.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from typing import Any

from infopack.checks import CHECKS
from infopack.data import DATA_DIR
from infopack.errors import UsageError

LANGUAGES = ("ko", "en")
SOURCE_LANGUAGE = "en"
MESSAGES_DIR = DATA_DIR / "messages"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict:
    """The whole catalogue of one language; one clear error for a language there is none of."""
    if lang not in LANGUAGES:
        raise UsageError(None, f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    path = MESSAGES_DIR / f"{lang}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(path, f"cannot read the message catalogue: {exc}") from None


def templates(lang: str) -> dict[str, str]:
    """code -> template of every note in `lang`."""
    return catalogue(lang).get("note", {})


def render(code: str, params: dict, lang: str = SOURCE_LANGUAGE) -> str:
    """A note's text in `lang` (its English text where that catalogue lacks the code).

    A parameter may itself be a note (a reason inside a refusal) or a list of notes, joined
    with "; ": each is rendered in `lang` too.
    """
    template = templates(lang).get(code) or templates(SOURCE_LANGUAGE).get(code)
    if template is None:
        raise ValueError(f"note {code!r} is not in {MESSAGES_DIR.name}/{SOURCE_LANGUAGE}.toml")
    return template.format(**{name: _rendered(value, lang) for name, value in params.items()})


def _rendered(value, lang: str):
    if isinstance(value, list | tuple):
        return "; ".join(str(_rendered(part, lang)) for part in value)
    if isinstance(value, Note) or (isinstance(value, dict) and "code" in value):
        return localise(value, lang)
    return value


def _kept(value):
    """A parameter as a report keeps it: nested notes as their dicts."""
    if isinstance(value, list | tuple):
        return [_kept(part) for part in value]
    return note_dict(value) if isinstance(value, Note) else value


class Note(str):
    """A message with a code and parameters; its value as a string is the English text."""

    code: str
    params: dict

    def __new__(cls, code: str, /, **params: Any) -> "Note":
        note = super().__new__(cls, render(code, params))
        note.code, note.params = code, params
        return note

    def __reduce__(self):
        return _note, (self.code, self.params)        # copies and pickles stay notes

    def text(self, lang: str) -> str:
        return render(self.code, self.params, lang)

    def to_dict(self) -> dict:
        return {"code": self.code, "params": {name: _kept(value) for name, value in self.params.items()},
                "text": str(self)}


def _note(code: str, params: dict) -> Note:
    return Note(code, **params)


def note_dict(message: str) -> dict | str:
    """What a report keeps of a message: code, parameters and text for a Note, else the text."""
    return message.to_dict() if isinstance(message, Note) else str(message)


def localise(message, lang: str) -> str:
    """A message as a report or the code holds it (a Note, its dict, or plain text) in `lang`.

    A code this version does not know (a report written by a newer one) shows its text.
    """
    if isinstance(message, Note):
        return message.text(lang)
    if isinstance(message, dict):
        try:
            return render(str(message["code"]), dict(message.get("params") or {}), lang)
        except (KeyError, ValueError, IndexError, TypeError):
            return str(message.get("text", ""))
    return str(message)


def check_texts(check: str, lang: str) -> tuple[str, str]:
    """(what it means, what to do) for a named check in `lang`; English from the registry."""
    declared = CHECKS.get(check)
    english = (declared.meaning, declared.action) if declared else (check, "")
    if lang == SOURCE_LANGUAGE:
        return english
    entry = catalogue(lang).get("check", {}).get(check, {})
    return entry.get("meaning", english[0]), entry.get("action", english[1])


def finding_text(finding: dict, lang: str) -> str:
    """One finding for a reader: its own note when it has one; in English its message; in other
    languages what its check means and what to do (the English detail names file internals)."""
    if finding.get("note"):
        return localise(finding["note"], lang)
    if lang == SOURCE_LANGUAGE:
        return str(finding.get("message", ""))
    meaning, action = check_texts(str(finding.get("check", "")), lang)
    return f"{meaning}: {action}" if action else meaning


def finding_dict(finding) -> dict:
    """A Finding as a report keeps it: its fields, and its note when the message is one."""
    data = finding.to_dict()
    data["message"] = str(finding.message)
    if isinstance(finding.message, Note):
        data["note"] = finding.message.to_dict()
    return data
