"""Plain-data model shared by every reader, writer and transformation.

A `SubtitleDoc` is what the rest of the pipeline sees: cues as plain text plus the
record of what was repaired, removed or looks wrong, so the curator can review it.
Transformations never mutate their input; they return a new document.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace


@dataclass
class Cue:
    index: int       # 1-based position in the document, renumbered after every change
    start_ms: int
    end_ms: int
    text: str        # plain text, lines joined with "\n", no tags
    confidence: float | None = None   # OCR only: tesseract's confidence (0-100) in this cue's text

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass
class SubtitleDoc:
    cues: list[Cue]
    source: str                  # the path it was read from ("" when built in code)
    format: str                  # "srt", "sami", "vtt", "ass", or "ocr" (read from an image track by tesseract)
    encoding: str                # how the bytes were decoded, e.g. "cp949"
    fixes: list[str] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def evolve(self, cues: list[Cue] | None = None) -> "SubtitleDoc":
        """A deep copy (optionally with new cues), so callers can change it freely."""
        new = copy.deepcopy(self)
        if cues is not None:
            new.cues = [replace(c) for c in cues]
        return new


def renumber(cues: list[Cue]) -> list[Cue]:
    """Give cues the indexes 1..n in their current order."""
    for number, cue in enumerate(cues, start=1):
        cue.index = number
    return cues


@dataclass
class ParseNotes:
    """What a reader repaired or left out, collected while it parses."""
    fixes: list[str] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class RawCue:
    """A cue as a reader found it, before the timeline is repaired.

    `number` is its position in the source file (1-based), the number messages use so
    the curator can find it there.
    """
    number: int
    start_ms: int
    end_ms: int | None           # None: the format gives no end (a SAMI sync never cleared)
    text: str
