"""Which subtitles an item gets: what the manifest says, else the one Korean source there is.

For these viewers a film without its Korean subtitles is a film nobody understands, and
a silent loss is worse than a refusal. So every source that was looked at is recorded
with the reason it was or was not taken, and when two Korean sources remain the choice
is refused with the manifest line that settles it.

Manifest syntax (the item's `subtitles` key):
- absent: choose automatically among subtitle files beside the source and its tracks;
- `["subs/ep01.ko.srt"]` (or the bare string): that file;
- `["track:2"]`: the second subtitle track of the source, numbered from 1 as `infopack
  init` and `plan` list them and as players (VLC, mpv, PotPlayer) number subtitle tracks;
  a `track:0` would look like "none" to a curator, so numbering starts at 1;
- `[]` or `"none"`: no subtitles, on purpose.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Callable

from infopack.errors import InfopackError, UsageError
from infopack.notes import Note, note_dict
from infopack.subtitles.names import KOREAN_NAME_TAGS, name_language
from infopack.subtitles.sources import KOREAN_SHARE, SubtitleSource, hangul_share

_TRACK = re.compile(r"^\s*track\s*:\s*(-?\d+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class SubtitleSpec:
    """What an item's `subtitles` key says."""
    mode: str                     # "auto" (no key), "none", "file" or "track"
    file: str | None = None       # mode "file": the path as written (the manifest resolves it)
    track: int | None = None      # mode "track": 1-based among the source's subtitle tracks

    def to_toml(self) -> str:
        """The value as a curator writes it (for messages and `infopack init`)."""
        if self.mode == "none":
            return '"none"'
        if self.mode == "track":
            return f'["track:{self.track}"]'
        if self.mode == "file":
            return f"[{json.dumps(self.file, ensure_ascii=False)}]"
        return "(not set)"


def parse_subtitles_spec(value, *, manifest: str | os.PathLike | None = None,
                         key: str = "subtitles") -> SubtitleSpec:
    """Read the TOML value of an item's `subtitles` key (None: the key is absent).

    Errors name the manifest and the key, like the manifest loader's own.
    """
    def fail(problem: str) -> UsageError:
        return UsageError(manifest, f"{key}: {problem}")

    if value is None:
        return SubtitleSpec("auto")
    if isinstance(value, str):
        value = [] if value.strip().lower() == "none" else [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail('must be a list with one subtitle file, ["track:N"], or "none"')
    if not value:
        return SubtitleSpec("none")
    if len(value) > 1:
        raise fail(f"names {len(value)} subtitle sources ({', '.join(value)}); an item shows one: "
                   f"keep the Korean one")
    text = value[0].strip()
    if not text:
        raise fail("empty subtitle path")
    if text.lower() == "none":
        return SubtitleSpec("none")
    match = _TRACK.match(text)
    if match:
        number = int(match.group(1))
        if number < 1:
            raise fail(f"{text!r}: tracks are numbered from 1, as `infopack plan` lists them "
                       f'(for no subtitles write subtitles = "none")')
        return SubtitleSpec("track", track=number)
    if text.lower().startswith("track"):
        raise fail(f'{text!r} is not a track: write "track:N" with N from `infopack plan`')
    return SubtitleSpec("file", file=text)


@dataclass(frozen=True)
class Considered:
    """A source that was looked at and not taken, and why."""
    source: SubtitleSource
    reason: Note


@dataclass(frozen=True)
class Choice:
    """The chosen source (or None), why, and every other source with the reason it was left."""
    chosen: SubtitleSource | None
    reason: Note
    not_chosen: tuple[Considered, ...] = ()
    warnings: tuple[Note, ...] = ()
    explicit: bool = False        # the manifest decided (a file, a track, or "none")

    @property
    def missing(self) -> bool:
        """No subtitles, and the curator did not ask for none: `[bundle] require_subtitles` refuses this."""
        return self.chosen is None and not self.explicit

    def looked_at(self) -> list[Note]:
        """Each source left, with why: what a missing-subtitles message lists."""
        return [Note("source-why", source=c.source.describe(), why=c.reason) for c in self.not_chosen]

    def to_report(self) -> dict:
        """For report.json: the reasons as notes (code, parameters, English text), so the review
        shows them in the reader's language."""
        return {
            "subtitle_source": self.chosen.describe() if self.chosen else None,
            "subtitle_source_kind": self.chosen.kind if self.chosen else None,
            "subtitle_choice": note_dict(self.reason),
            "subtitles_missing": self.missing,
            "not_chosen": [{"source": c.source.describe(), "why": note_dict(c.reason)} for c in self.not_chosen],
            "choice_warnings": [note_dict(w) for w in self.warnings],
        }


@dataclass
class Verdicts:
    """Sources sorted into Korean candidates and the others, each with its reason."""
    korean: list[Considered] = field(default_factory=list)
    other: list[Considered] = field(default_factory=list)


def choose_source(spec: SubtitleSpec, sidecars: list[SubtitleSource], tracks: list[SubtitleSource],
                  read_text: Callable[[SubtitleSource], str], *, item_id: str,
                  manifest: str | os.PathLike | None = None) -> Choice:
    """Apply the manifest's `subtitles` (see the module docstring) to the item's sources.

    `sidecars`: in mode "file" the one named file; in mode "auto" the files found beside
    the source (`sources.find_sidecars`). `tracks`: the source's subtitle tracks
    (`SubtitleSource.embedded`). `read_text(source)` returns a source's cue text; it is
    called only where the language must be measured (sidecars, tracks tagged `und`).
    Raises UsageError naming the manifest and item when the choice is the curator's to make.
    """
    where = f"item {item_id}"
    if spec.mode == "none":
        return Choice(None, Note("choice-manifest-none"), tuple(
            Considered(s, Note("source-unused-none")) for s in sidecars + tracks), explicit=True)
    if spec.mode == "file":
        if len(sidecars) != 1:
            raise ValueError("mode 'file' needs exactly the one named sidecar")
        chosen = sidecars[0]
        warnings = _file_warnings(chosen, read_text)
        return Choice(chosen, Note("choice-manifest-file"), tuple(
            Considered(t, Note("source-unused-file", file=chosen.display)) for t in tracks),
            tuple(warnings), explicit=True)
    if spec.mode == "track":
        return _named_track(spec.track, tracks, where, manifest)
    verdicts = judge_sources(sidecars, tracks, read_text)
    if len(verdicts.korean) > 1:
        raise UsageError(manifest, f"{where}: {len(verdicts.korean)} Korean subtitle sources, and an item shows "
                                   f"one: " + "; ".join(f"{c.source.describe()} ({c.reason}): write "
                                                        f"subtitles = {spec_for(c.source)}"
                                                        for c in verdicts.korean)
                                   + ' in its [[items]] entry (or subtitles = "none")')
    if verdicts.korean:
        return Choice(verdicts.korean[0].source, Note("choice-only-korean", why=verdicts.korean[0].reason),
                      tuple(verdicts.other))
    return Choice(None, Note("choice-no-korean" if verdicts.other else "choice-no-sources"), tuple(verdicts.other))


def judge_sources(sidecars: list[SubtitleSource], tracks: list[SubtitleSource],
                  read_text: Callable[[SubtitleSource], str]) -> Verdicts:
    """Each source as a Korean candidate or not, with the reason (what `choose_source` decides
    from; `infopack init` writes one candidate and lists the rest)."""
    verdicts = Verdicts()
    for source in sidecars:
        _judge_sidecar(source, read_text, verdicts)
    for source in tracks:
        _judge_track(source, read_text, verdicts)
    return verdicts


def spec_for(source: SubtitleSource) -> str:
    if source.track is not None:
        return SubtitleSpec("track", track=source.track.number).to_toml()
    return SubtitleSpec("file", file=source.display).to_toml()


def _measure(source: SubtitleSource, read_text) -> tuple[float | None, Note | None]:
    """(Hangul share, None) or (None, why it could not be read)."""
    try:
        return hangul_share(read_text(source)), None
    except InfopackError as exc:
        return None, Note("source-unreadable", problem=exc.problem)


def _judge_sidecar(source: SubtitleSource, read_text, verdicts: Verdicts) -> None:
    word = name_language(source.path)
    if word is not None and word not in KOREAN_NAME_TAGS:
        verdicts.other.append(Considered(source, Note("source-name-not-korean", word=word)))
        return
    share, problem = _measure(source, read_text)
    if share is None:
        verdicts.other.append(Considered(source, problem))
    elif share >= KOREAN_SHARE:
        verdicts.korean.append(Considered(source, Note("source-name-hangul", word=word, share=share) if word
                                          else Note("source-hangul", share=share)))
    else:
        verdicts.other.append(Considered(source, Note("source-not-korean-share", share=share)))


def _judge_track(source: SubtitleSource, read_text, verdicts: Verdicts) -> None:
    track = source.track
    said_korean = track.korean_tag or track.korean_title
    tag = track.language or "none"
    if track.kind == "unsupported":
        reason = Note("track-codec-unreadable", codec=track.codec or "unknown")
    elif track.partial:
        reason = Note("track-partial")
    elif track.commentary:
        reason = Note("track-commentary")
    elif said_korean and not track.known_other_language:
        why = Note("track-tagged-korean", language=track.language) if track.korean_tag \
            else Note("track-titled-korean", title=track.title)
        verdicts.korean.append(Considered(source, Note("track-pictures", why=why) if track.kind == "image" else why))
        return
    elif track.known_other_language and not said_korean:
        reason = Note("track-other-language", language=track.language)
    elif track.kind == "image":
        reason = Note("track-pictures-unclear" if said_korean else "track-pictures-unknown", language=tag,
                      title=f", {track.title!r}" if track.title else "", spec=spec_for(source))
    else:
        share, problem = _measure(source, read_text)
        if share is None:
            reason = problem
        elif share >= KOREAN_SHARE:
            verdicts.korean.append(Considered(source, Note("track-hangul", language=tag, share=share)))
            return
        else:
            reason = Note("track-not-korean-share", language=tag, share=share)
    verdicts.other.append(Considered(source, reason))


def _named_track(number: int, tracks: list[SubtitleSource], where: str, manifest) -> Choice:
    chosen = next((s for s in tracks if s.track.number == number), None)
    if chosen is None:
        listed = "; ".join(s.track.describe() for s in tracks) or "none"
        raise UsageError(manifest, f"{where}: subtitles = [\"track:{number}\"], but the source has "
                                   f"{len(tracks)} subtitle track(s): {listed}")
    track = chosen.track
    if track.kind == "unsupported":
        raise UsageError(manifest, f"{where}: {chosen.describe()}: codec {track.codec or 'unknown'} cannot be "
                                   f"read as subtitles; choose another track or a subtitle file")
    warnings = []
    if track.known_other_language and not track.korean_title:
        warnings.append(Note("track-chosen-other-language", source=chosen.describe(), language=track.language))
    if track.partial:
        warnings.append(Note("track-chosen-partial", source=chosen.describe()))
    others = tuple(Considered(s, Note("source-unused-track", track=number)) for s in tracks if s is not chosen)
    return Choice(chosen, Note("choice-manifest-track"), others, tuple(warnings), explicit=True)


def _file_warnings(source: SubtitleSource, read_text) -> list[Note]:
    """A named file is used as named, but one with little Hangul is worth a loud warning."""
    share, problem = _measure(source, read_text)
    if share is None:
        return []          # the build reads it again and stops with the reader's own message
    if share < KOREAN_SHARE:
        return [Note("file-named-low-hangul", file=source.display, share=share)]
    return []


def missing_message(choice: Choice, item_id: str) -> Note | None:
    """One line for an item left without subtitles the curator did not refuse (None otherwise):
    a warning in the build's report, or with `[bundle] require_subtitles` the refusal."""
    if not choice.missing:
        return None
    if choice.not_chosen:
        return Note("subtitles-missing-looked", item=item_id, reason=choice.reason, looked=choice.looked_at())
    return Note("subtitles-missing", item=item_id, reason=choice.reason)


def require_subtitles(choice: Choice, *, item_id: str, manifest: str | os.PathLike | None = None) -> None:
    """`[bundle] require_subtitles = true`: an item without subtitles stops the build."""
    message = missing_message(choice, item_id)
    if message:
        raise UsageError(manifest, message)
