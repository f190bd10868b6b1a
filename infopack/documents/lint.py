"""The South Korean vocabulary lint for a document's paragraphs.

Same glossary, matching rules and finding shape as the subtitle lint
(`infopack.subtitles.lint`: check "sk-vocabulary", level warning), but a book has
thousands of paragraphs, so there is one finding per glossary word, with how often
and where it occurs, instead of one per occurrence. Reading speed does not apply.
"""

from __future__ import annotations

import os

from infopack.checks import WARNING, Finding
from infopack.subtitles.lint import find_terms, load_glossary

SHOWN_PLACES = 5


def lint_paragraphs(paragraphs: list[str], source: str, glossary_file: str | os.PathLike | None = None
                    ) -> list[Finding]:
    """'sk-vocabulary' warnings for the glossary words in `paragraphs`, in order of first use."""
    entries = load_glossary(glossary_file)
    seen: dict[str, tuple] = {}          # sk word -> (entry, first word as written, paragraph numbers)
    for number, paragraph in enumerate(paragraphs, start=1):
        present = set(paragraph)
        candidates = [e for e in entries if e.sk[0] in present]    # same matches, far fewer tries
        for match in find_terms(paragraph, candidates):
            entry, word, places = seen.setdefault(match.entry.sk, (match.entry, match.word, []))
            places.append(number)
    findings = []
    for entry, word, places in seen.values():
        note = f" ({entry.note})" if entry.note else ""
        where = ", ".join(map(str, places[:SHOWN_PLACES])) + (", ..." if len(places) > SHOWN_PLACES else "")
        times = "once" if len(places) == 1 else f"{len(places)} times"
        findings.append(Finding(
            "sk-vocabulary", WARNING, source,
            f"paragraph {where}: '{word}' uses South Korean '{entry.sk}' ({times}); "
            f"suggested North Korean form '{entry.nk}'{note}"))
    return findings
