"""Subtitles: a sidecar input of a subtitled item (a video), read in any encoding and
format, scrubbed, cleaned and rendered for the profile; on the card, a sidecar file the
scanner and the review read as subtitles.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from infopack.kinds.base import Kind, PreparedSubtitles, Source
from infopack.kinds.fonts import KoreanFont, find_korean_font
from infopack.kinds.specs import Profile
from infopack.notes import Note
from infopack.subtitles import BY_EXTENSION, clean, encode_text, lint, read_subtitles, scrub, to_ass, to_srt
from infopack.subtitles.lint import Reviewed, apply_glossary, glossary_changes
from infopack.subtitles.report import cue_records, notes_report


class SubtitleKind(Kind):
    """Never an item of its own: it comes with a video item (its `subtitles`) and goes beside it."""
    name = "subtitle"
    extensions = frozenset(BY_EXTENSION)          # every format infopack.subtitles reads
    item = False
    scanned_as = "subtitle"


def prepare_subtitles(item: Source, profile: Profile, work_dir: Path, *, duration: float,
                      language_class: str | None = None, play_res: tuple[int, int] = (854, 480),
                      reviewed: Reviewed | None = None) -> PreparedSubtitles | None:
    """Prepare the item's first subtitle file; None when the item has none. `reviewed`: glossary
    entries reviewers confirmed (infopack.release.glossary_review), rewritten before cleaning."""
    if not item.subtitles:
        return None
    spec = profile.subtitles
    source = item.subtitles[0]
    doc = read_subtitles(source, language_class=language_class)
    doc = fit_to_duration(scrub(doc), round(duration * 1000))
    if reviewed:
        doc = apply_glossary(doc, reviewed=reviewed)
    doc = clean(doc, max_chars_per_line=spec.max_chars_per_line, max_lines=spec.max_lines,
                min_duration_ms=spec.min_duration_ms, max_cps=spec.max_cps)
    report = {
        "source_format": doc.format,
        "encoding": doc.encoding,
        "cues": len(doc.cues),
        **notes_report(doc, lint(doc)),
    }
    if reviewed:
        report["glossary_changes"] = glossary_changes(doc)
    if not doc.cues:
        return PreparedSubtitles(None, None, None, report | {"empty": True})
    srt_text = to_srt(doc)
    mux = work_dir / f"{item.id}.mux.srt"
    mux.write_bytes(srt_text.encode("utf-8"))
    burn = fonts_dir = None
    if spec.burn:
        font = find_korean_font()
        burn = work_dir / f"{item.id}.burn.ass"
        burn.write_bytes(to_ass(doc, font=font.family, font_size=burn_font_size(play_res[1]),
                                play_res=play_res).encode("utf-8"))
        fonts_dir = private_fonts_dir(font, work_dir)
        report["burn_font"] = font.family
        report["burned_cues"] = cue_records(doc)        # pixels on the card: the review reads them here
    sidecar = encode_text(srt_text, spec.sidecar_encoding) if spec.sidecar else None
    return PreparedSubtitles(mux_srt=mux, sidecar=sidecar, burn_ass=burn, report=report, fonts_dir=fonts_dir)


def burn_font_size(height: int) -> int:
    """About 1/14 of the frame height: two lines stay readable on a 7-inch notel screen.

    `to_ass` derives the outline (size/12) and the bottom margin (height/24) itself.
    """
    return max(16, round(height / 14))


def private_fonts_dir(font: KoreanFont, work_dir: Path) -> Path:
    """A folder holding only the chosen font, for libass's `fontsdir`.

    libass reads every file of `fontsdir` into memory; the font's own system folder can
    hold hundreds of MB of CJK fonts, and any of them could win the name lookup.
    """
    folder = work_dir / "fonts"
    folder.mkdir(exist_ok=True)
    target = folder / font.file.name
    if not target.exists():
        try:
            os.symlink(font.file, target)
        except OSError:
            shutil.copyfile(font.file, target)
    return folder


def fit_to_duration(doc, duration_ms: int):
    """Cues past the end of the media would lengthen the file and never show: drop or clip them."""
    kept, fixes = [], list(doc.fixes)
    for cue in doc.cues:
        if cue.start_ms >= duration_ms:
            fixes.append(Note("cue-after-media-dropped", cue=cue.index, start=cue.start_ms))
        elif cue.end_ms > duration_ms:
            fixes.append(Note("cue-clipped-to-media", cue=cue.index, limit=duration_ms))
            kept.append(dataclasses.replace(cue, end_ms=duration_ms))
        else:
            kept.append(cue)
    return dataclasses.replace(doc, cues=kept, fixes=fixes)
