"""Subtitles: where a subtitled item's (a video's) subtitles come from, chosen, read in any
encoding and format, scrubbed, fitted to the media and rendered for the profile; on the
card, a sidecar file the scanner and the review read as subtitles.

The source is what the manifest's `subtitles` says (infopack.subtitles.choose): a file,
a track of the video, none, or, when the key is absent, the one Korean source among the
files beside the video and its tracks. A text track is extracted and read like a file;
an image track (PGS, VobSub) is burned in as it is for burn profiles, read by OCR for
the others. A video left without Korean subtitles whose soundtrack is not tagged Korean
is flagged in the report, or refused with `[bundle] require_subtitles`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from infopack.errors import UsageError
from infopack.notes import Note, note_dict
from infopack.kinds.base import Kind, PreparedSubtitles, Source
from infopack.kinds.fonts import KoreanFont, find_korean_font
from infopack.kinds.probe import MediaInfo
from infopack.kinds.specs import Profile
from infopack.subtitles import (BY_EXTENSION, Choice, SourceReader, SubtitleDoc, SubtitleSource, choose_source,
                                encode_text, find_sidecars, lint, missing_message, ocr_summary, prepare_for_media,
                                to_ass, to_srt)
from infopack.subtitles.images import tesseract_version

SIDECAR_FACTOR = 2             # a sidecar can grow (re-encoding, wrapping): estimated at twice its source
TRACK_SIDECAR_BYTES_PER_S = 40  # a track's text, unknown before extraction: a Korean SRT is ~14 B/s of film
from infopack.subtitles.lint import Reviewed, glossary_changes
from infopack.subtitles.report import cue_records, notes_report


class SubtitleKind(Kind):
    """Never an item of its own: it comes with a video item (its `subtitles`) and goes beside it."""
    name = "subtitle"
    extensions = frozenset(BY_EXTENSION)          # every format infopack.subtitles reads
    item = False
    scanned_as = "subtitle"


@dataclass(frozen=True)
class SubtitlePlan:
    """What `plan` says of a subtitled item: the choice, or why there is none to make."""
    choice: Choice | None         # None: refused (`problem`)
    flagged: bool = False         # no Korean subtitles and the soundtrack is not tagged Korean
    problem: str | None = None    # the refusal, "item ID: ..." (several Korean sources, require_subtitles...)

    def line(self) -> str:
        """`subs/ep01.ko.srt`, `ep01.mkv track 2 (kor, "Korean", subrip)`, or why there are none."""
        if self.problem:
            return "refused (see the problem below)"
        if self.choice.chosen is not None:
            return self.choice.chosen.describe()
        return f"{'NO KOREAN SUBTITLES' if self.flagged else 'none'} ({self.choice.reason})"


def as_given(path: Path, manifest: Path | None) -> str:
    """A path as a curator writes it in the manifest: relative to the manifest's folder."""
    if manifest is None:
        return Path(path).name
    return Path(os.path.relpath(path, Path(manifest).resolve().parent)).as_posix()


def sidecar_paths(item: Source) -> list[Path]:
    """The subtitle files an item may take: the one the manifest names, none when it names a
    track, else those beside the source (`ep01.srt`, `ep01.ko.smi`...)."""
    spec = item.subtitle_spec
    if spec.mode == "file":
        return [Path(item.subtitles[0])]
    return [] if spec.mode == "track" else find_sidecars(item.source)


def subtitle_sources(item: Source, info: MediaInfo, manifest: Path | None
                     ) -> tuple[list[SubtitleSource], list[SubtitleSource]]:
    """(files, tracks) to choose from: the file the manifest names, else the subtitle files
    beside the source (`ep01.srt`, `ep01.ko.smi`...); and every subtitle track of the source."""
    spec = item.subtitle_spec
    files = [SubtitleSource.sidecar(path, spec.file if spec.mode == "file" else as_given(path, manifest))
             for path in sidecar_paths(item)]
    media = as_given(item.source, manifest)
    return files, [SubtitleSource.embedded(info.path, track, media) for track in info.subtitle_tracks]


def choose_subtitles(item: Source, info: MediaInfo, work_dir: Path, *, manifest: Path | None = None,
                     language_class: str | None = None) -> tuple[Choice, SourceReader]:
    """The manifest's choice, or the one Korean source; the reader holds what was read to decide.

    Raises UsageError naming the manifest and item when the curator must choose.
    """
    files, tracks = subtitle_sources(item, info, manifest)
    reader = SourceReader(work_dir, language_class=language_class, duration_s=info.duration)
    return choose_source(item.subtitle_spec, files, tracks, reader.text, item_id=item.id, manifest=manifest), reader


def flagged(choice: Choice, info: MediaInfo) -> bool:
    """No Korean subtitles the curator did not refuse, for a soundtrack not tagged Korean: a film
    these viewers cannot follow."""
    return choice.missing and not info.korean_audio


def refuse_if_required(choice: Choice, info: MediaInfo, item_id: str, manifest: Path | None, require: bool) -> None:
    if require and flagged(choice, info):
        raise UsageError(manifest, f"{missing_message(choice, item_id)} ([bundle] require_subtitles = true)")


def plan_subtitles(item: Source, info: MediaInfo, work_dir: Path, *, manifest: Path | None = None,
                   language_class: str | None = None, require: bool = False) -> SubtitlePlan:
    """The choice the build will make, or the refusal it will give (as a problem, not raised)."""
    try:
        choice, _ = choose_subtitles(item, info, work_dir, manifest=manifest, language_class=language_class)
        refuse_if_required(choice, info, item.id, manifest, require)
    except UsageError as refused:
        return SubtitlePlan(None, problem=refused.problem)
    return SubtitlePlan(choice, flagged(choice, info))


def likely_source(item: Source, info: MediaInfo) -> tuple[SubtitleSource, ...]:
    """Without reading anything, the source the subtitles will probably come from: for size
    estimates, which err large (`plan` passes the real choice)."""
    spec = item.subtitle_spec
    if spec.mode == "none":
        return ()
    files, tracks = subtitle_sources(item, info, None)
    if spec.mode == "track":
        return tuple(t for t in tracks if t.track.number == spec.track)
    usable = [t for t in tracks if t.track.kind != "unsupported" and not t.track.partial
              and not t.track.known_other_language]
    return tuple((files + usable)[:1])


def sidecar_estimate(source: SubtitleSource, duration: float) -> int:
    """Bytes of the sidecar made from `source`: twice a file's size, or a generous rate for a track."""
    if source.track is None:
        return source.path.stat().st_size * SIDECAR_FACTOR
    return int(duration * TRACK_SIDECAR_BYTES_PER_S)


def prepare_subtitles(item: Source, info: MediaInfo, profile: Profile, work_dir: Path, *, fps: float | None = None,
                      manifest: Path | None = None, require: bool = False, language_class: str | None = None,
                      play_res: tuple[int, int] = (854, 480), reviewed: Reviewed | None = None
                      ) -> PreparedSubtitles:
    """Choose the item's subtitles and make them ready for the card; the report says what was chosen
    and why, and flags a video left without Korean subtitles (refused with `require`). `reviewed`:
    glossary entries reviewers confirmed (infopack.release.glossary_review), rewritten before cleaning."""
    choice, reader = choose_subtitles(item, info, work_dir / "sources", manifest=manifest,
                                      language_class=language_class)
    refuse_if_required(choice, info, item.id, manifest, require)
    report = choice.to_report() | {"subtitles_missing": flagged(choice, info)}
    if report["subtitles_missing"]:
        report["missing_message"] = note_dict(missing_message(choice, item.id))
    elif choice.missing:
        report["subtitle_choice"] = note_dict(Note("choice-korean-audio", reason=choice.reason))
    chosen, spec = choice.chosen, profile.subtitles
    if chosen is None:
        return PreparedSubtitles(None, None, None, report)
    track = chosen.track
    key = {"kind": chosen.kind, "track": track.index if track else None, "codec": track.codec if track else None}
    if track is not None and track.kind == "image" and spec.burn:
        report["warnings"] = [*report["choice_warnings"], note_dict(Note("track-burned-pictures",
                                                                        source=chosen.describe()))]
        return PreparedSubtitles(None, None, None, report, burn_track=track, source_key=key)
    doc = prepare_for_media(reader.doc(chosen), duration_s=info.duration, fps=fps,
                            max_chars_per_line=spec.max_chars_per_line, max_lines=spec.max_lines,
                            min_duration_ms=spec.min_duration_ms, max_cps=spec.max_cps, reviewed=reviewed)
    report |= document_report(doc)
    if reviewed:
        report["glossary_changes"] = glossary_changes(doc)
    report["warnings"] = [*report["choice_warnings"], *report["warnings"]]
    if report.get("ocr"):
        key["ocr"] = [doc.encoding, tesseract_version()]
    if not doc.cues:
        return PreparedSubtitles(None, None, None, report | emptied(chosen, info, item.id, manifest, require),
                                 source_key=key)
    work_dir.mkdir(parents=True, exist_ok=True)
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
    return PreparedSubtitles(mux_srt=mux, sidecar=sidecar, burn_ass=burn, report=report, fonts_dir=fonts_dir,
                             source_key=key)


def emptied(chosen: SubtitleSource, info: MediaInfo, item_id: str, manifest: Path | None, require: bool) -> dict:
    """A source with no cue left once scrubbed and cleaned leaves the video without subtitles: as loud
    as finding none."""
    if info.korean_audio:
        return {"empty": True}
    message = Note("subtitles-emptied", item=item_id, source=chosen.describe())
    if require:
        raise UsageError(manifest, f"{message} ([bundle] require_subtitles = true)")
    return {"empty": True, "subtitles_missing": True, "missing_message": note_dict(message)}


def document_report(doc: SubtitleDoc) -> dict:
    """What reading, scrubbing and cleaning did, for report.json and the review."""
    report = {
        "source_format": doc.format,
        "encoding": doc.encoding,
        "cues": len(doc.cues),
        **notes_report(doc, lint(doc)),
    }
    ocr = ocr_summary(doc)
    return report | {"ocr": ocr} if ocr else report


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
