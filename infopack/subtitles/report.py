"""What a report keeps of prepared subtitles: every note with its code and parameters (so
report.html and the review app say it in the reader's language), the lint findings with
theirs, and, where the card carries no text, the cues themselves.
"""

from __future__ import annotations

from infopack.checks import Finding
from infopack.notes import finding_dict, note_dict
from infopack.subtitles.model import SubtitleDoc


def notes_report(doc: SubtitleDoc, findings: list[Finding]) -> dict:
    """The document's fixes, removals and warnings and its lint, as report.json holds them."""
    return {"fixes": [note_dict(n) for n in doc.fixes], "removals": [note_dict(n) for n in doc.removals],
            "warnings": [note_dict(n) for n in doc.warnings], "lint": [finding_dict(f) for f in findings]}


def cue_records(doc: SubtitleDoc) -> list[dict]:
    """The cues as shown (burned-in subtitles are pixels on the card: the review reads them here)."""
    return [{"cue": c.index, "start_ms": c.start_ms, "end_ms": c.end_ms, "text": c.text} for c in doc.cues]
