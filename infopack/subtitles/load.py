"""Reading a chosen source into a document and fitting it to its media.

`SourceReader` reads each source once: `choose_source` measures candidates through
`reader.text`, and the build then takes the chosen one's document from the same cache
(an MKV track is extracted once). `prepare_for_media` is the text path every source
shares: scrub, fit to the media's end, clean.
"""

from __future__ import annotations

import os
from pathlib import Path

from infopack.errors import InfopackError, naming_instead
from infopack.notes import Note
from infopack.subtitles.clean import clean
from infopack.subtitles.lint import Reviewed, apply_glossary
from infopack.subtitles.images import LOW_CONFIDENCE, ocr_track
from infopack.subtitles.model import SubtitleDoc
from infopack.subtitles.readers import read_subtitles
from infopack.subtitles.scrub import scrub
from infopack.subtitles.sources import KOREAN_SHARE, SubtitleSource, extract_track, hangul_share
from infopack.subtitles.timing import end_limit_ms, fit_to_end


class SourceReader:
    """Reads sidecars and tracks of one item into documents, each once, in `work_dir`.

    Every message names `source.display` (what the curator gave), never the work folder.
    """

    def __init__(self, work_dir: str | os.PathLike, *, language_class: str | None = None,
                 ocr_lang: str = "kor", duration_s: float | None = None):
        self.work_dir = Path(work_dir)
        self.language_class = language_class
        self.ocr_lang = ocr_lang
        self.duration_s = duration_s
        self._docs: dict[tuple[str, int | None], SubtitleDoc] = {}

    def doc(self, source: SubtitleSource) -> SubtitleDoc:
        """The source's cues: a file read, a text track extracted and read, an image track OCR'd."""
        key = (os.fspath(source.path), None if source.track is None else source.track.index)
        if key not in self._docs:
            with naming_instead(self.work_dir, source.display):
                self._docs[key] = self._read(source)
        return self._docs[key].evolve()

    def text(self, source: SubtitleSource) -> str:
        """All cue text once scrubbed, for measuring the language (`choose_source`'s `read_text`): a
        short Korean file's credit line (a URL, an e-mail, a romanised name) must not outweigh it."""
        return "\n".join(cue.text for cue in scrub(self.doc(source)).cues)

    def _read(self, source: SubtitleSource) -> SubtitleDoc:
        track = source.track
        if track is None:
            return read_subtitles(source.path, language_class=self.language_class, display=source.display)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if track.kind == "text":
            extracted = extract_track(source.path, track, self.work_dir, display=source.display)
            return read_subtitles(extracted, language_class=self.language_class, display=source.display)
        if track.kind == "image":
            return ocr_track(source.path, track, self.work_dir / f"ocr-track-{track.number}", lang=self.ocr_lang,
                             display=source.display, duration_s=self.duration_s)
        raise InfopackError(source.display, f"{track.describe()}: codec {track.codec or 'unknown'} cannot be "
                                            f"read as subtitles")


def prepare_for_media(doc: SubtitleDoc, *, duration_s: float, fps: float | None = None,
                      max_chars_per_line: int = 32, max_lines: int = 2, min_duration_ms: int = 700,
                      max_cps: float = 20.0, extra_patterns_file: str | None = None,
                      reviewed: Reviewed | None = None) -> SubtitleDoc:
    """Scrub, keep every cue inside the media (`timing.end_limit_ms`: its end less one frame),
    rewrite the glossary entries reviewers confirmed (`reviewed`), clean; cues left as bare
    punctuation by scrubbing are removed and recorded.

    A soft track made from the result never makes the output longer than the source.
    """
    limit = end_limit_ms(duration_s, fps)
    doc = fit_to_end(scrub(doc, extra_patterns_file), limit)
    if reviewed:
        doc = apply_glossary(doc, reviewed=reviewed)
    doc = clean(doc, max_chars_per_line=max_chars_per_line, max_lines=max_lines,
                min_duration_ms=min_duration_ms, max_cps=max_cps, end_limit_ms=limit)
    share = hangul_share("\n".join(cue.text for cue in doc.cues))
    if doc.cues and share < KOREAN_SHARE:
        doc.warnings.append(Note("file-low-hangul", share=share))
    return doc


def ocr_summary(doc: SubtitleDoc) -> dict | None:
    """For the report: OCR confidence per document and the cues to check (None when not OCR)."""
    confidences = [cue.confidence for cue in doc.cues if cue.confidence is not None]
    if doc.format != "ocr" and not confidences:
        return None
    return {
        "engine": doc.encoding,
        "mean_confidence": round(sum(confidences) / len(confidences), 1) if confidences else None,
        "low_confidence_cues": [{"cue": cue.index, "start_ms": cue.start_ms, "confidence": round(cue.confidence, 1),
                                 "text": cue.text}
                                for cue in doc.cues if cue.confidence is not None and cue.confidence < LOW_CONFIDENCE],
    }
