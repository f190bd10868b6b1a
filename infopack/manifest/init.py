"""`infopack init FOLDER`: a starter manifest from a folder of media.

Which files are media (an item kind's extension) and which are subtitles (the other
kinds' extensions) is the kind registry's word. A video's subtitles are chosen among the
files beside it sharing its base name (`ep01.mkv`: `ep01.srt`, `ep01.ko.srt`, `ep01.smi`...)
and its own subtitle tracks, as the build chooses (infopack.subtitles.choose): init writes
one choice per video and lists every other source it found, and why, as comments. Titles, series and episode
numbers are read from the file names (`infopack.manifest.derive`), never with a date, a
release tag or a camera name in them: titles become the file names on the card. Ids are
ASCII slugs of the titles.
"""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from infopack.errors import InfopackError, UsageError
from infopack.fat.romanize import to_ascii
from infopack.kinds import REGISTRY, probe_source
from infopack.manifest.derive import DerivedTitle, derive_titles
from infopack.subtitles import SourceReader, SubtitleSource, find_sidecars
from infopack.subtitles.choose import judge_sources, spec_for


@dataclass(frozen=True)
class StarterManifest:
    path: Path
    derived: list[DerivedTitle]
    subtitles: dict[str, str] = field(default_factory=dict)    # source -> the subtitles init chose, and why

    @property
    def lines(self) -> list[str]:
        """One line per media file: `source → title (group, episode)`, and its subtitles, for the curator."""
        lines = []
        for d in self.derived:
            lines.append(d.line())
            if d.source in self.subtitles:
                lines.append(f"    subtitles: {self.subtitles[d.source]}")
        return lines


def slug(text: str) -> str:
    """An id from any text: Hangul romanised, other letters reduced to ASCII."""
    ascii_text = unicodedata.normalize("NFKD", to_ascii(text)).encode("ascii", "ignore").decode().lower()
    value = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return value[:63] or "item"


def toml_str(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def subtitle_choice(media: Path, folder: Path, work: Path) -> tuple[list[str], str]:
    """A video's manifest lines (its `subtitles` choice, the other sources as comments) and a
    line for the curator. Several Korean sources: the first is written, the others listed."""
    given = media.relative_to(folder).as_posix()
    files = [SubtitleSource.sidecar(p, p.relative_to(folder).as_posix()) for p in find_sidecars(media)]
    comments = []
    try:
        tracks = [SubtitleSource.embedded(media, t, given) for t in probe_source(media).subtitle_tracks]
    except InfopackError as exc:
        tracks = []
        comments.append(f"its subtitle tracks could not be listed: {exc.problem}")
    verdicts = judge_sources(files, tracks, SourceReader(work).text)
    korean = [c.source for c in verdicts.korean]
    comments += [f"also found: {c.source.describe()} (Korean too: {c.reason}); to use it instead, write "
                 f"subtitles = {spec_for(c.source)}" for c in verdicts.korean[1:]]
    comments += [f"also found: {c.source.describe()} ({c.reason})" for c in verdicts.other]
    comments = [toml_comment(text) for text in comments]
    if not korean:
        none = toml_comment('no Korean subtitles found: name a file or track, or write subtitles = "none"')
        return comments + [none], "NO KOREAN SUBTITLES found"
    chosen = korean[0]
    note = chosen.describe() + (f" (and {len(korean) - 1} more Korean: check the comments)" if len(korean) > 1 else "")
    return [f"subtitles = {spec_for(chosen)}"] + comments, note


def toml_comment(text: str) -> str:
    """One comment line; a track title's line breaks (it is the source's metadata) cannot end it."""
    return "# " + re.sub(r"[\x00-\x1f\x7f]+", " ", text)


def kind_of(path: Path) -> str:
    return REGISTRY.kind_for_extension(path.suffix.lower()).name


def init_manifest(folder: Path, *, force: bool = False, profile: str = "notel-480p",
                  card: str = "8GB") -> StarterManifest:
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(folder, "no such folder")
    target = folder / "infopack.toml"
    if target.exists() and not force:
        raise UsageError(target, "already exists; edit it, or use --force to replace it")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    media_extensions = REGISTRY.extensions(items=True)
    media = [p for p in files if p.suffix.lower() in media_extensions
             and REGISTRY.kind_for_extension(p.suffix).claims(p)]
    if not media:
        raise UsageError(folder, "no media files found (looked for " + ", ".join(sorted(media_extensions)) + ")")
    bundle_id = slug(folder.resolve().name) or "bundle"
    lines = [
        "# infopack manifest: edit titles (they become the file names on the card), then run",
        "#   infopack plan infopack.toml   and   infopack build infopack.toml --out OUT --key KEY",
        "[bundle]",
        f"id = {toml_str(bundle_id)}",
        f"title = {toml_str(unicodedata.normalize('NFC', folder.resolve().name))}",
        f"profile = {toml_str(profile)}",
        f"card = {toml_str(card)}",
        "version = 1",
    ]
    derived = derive_titles([(p.relative_to(folder).as_posix(), kind_of(p)) for p in media])
    with tempfile.TemporaryDirectory(prefix="infopack-init-") as work:
        subtitled = {path: subtitle_choice(path, folder, Path(work) / str(n)) for n, path in enumerate(media)
                     if REGISTRY.kind_for_extension(path.suffix.lower()).subtitled}
    used: set[str] = set()
    for path, item in zip(media, derived):
        base = slug(item.title)
        item_id, n = base, 1
        while item_id in used:
            n += 1
            item_id = f"{base[:60]}-{n}"
        used.add(item_id)
        lines += ["", "[[items]]", f"id = {toml_str(item_id)}", f"title = {toml_str(item.title)}",
                  f"source = {toml_str(item.source)}"]
        if item.group:
            lines.append(f"group = {toml_str(item.group)}")
        if item.episode is not None:
            lines.append(f"episode = {item.episode}")
        if path in subtitled:
            lines += subtitled[path][0]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return StarterManifest(target, derived, {d.source: subtitled[p][1] for p, d in zip(media, derived)
                                             if p in subtitled})
