"""`infopack init FOLDER`: a starter manifest from a folder of media.

Which files are media (an item kind's extension) and which are subtitles (the other
kinds' extensions) is the kind registry's word. Subtitles are paired with media by base
name: `ep01.mkv` takes `ep01.srt`, `ep01.ko.srt`, `ep01.smi` ... Titles, series and episode
numbers are read from the file names (`infopack.manifest.derive`), never with a date, a
release tag or a camera name in them: titles become the file names on the card. Ids are
ASCII slugs of the titles.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from infopack.errors import UsageError
from infopack.fat.romanize import to_ascii
from infopack.kinds import REGISTRY
from infopack.manifest.derive import DerivedTitle, derive_titles


@dataclass(frozen=True)
class StarterManifest:
    path: Path
    derived: list[DerivedTitle]

    @property
    def lines(self) -> list[str]:
        """One line per media file: `source → title (group, episode)`, for the curator to check."""
        return [d.line() for d in self.derived]


def slug(text: str) -> str:
    """An id from any text: Hangul romanised, other letters reduced to ASCII."""
    ascii_text = unicodedata.normalize("NFKD", to_ascii(text)).encode("ascii", "ignore").decode().lower()
    value = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return value[:63] or "item"


def toml_str(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def pair_subtitles(media: Path, subtitles: list[Path]) -> list[Path]:
    stem = media.stem.casefold()
    return sorted(s for s in subtitles
                  if s.stem.casefold() == stem or s.stem.casefold().startswith(stem + "."))


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
    media = [p for p in files if p.suffix.lower() in media_extensions]
    subtitles = [p for p in files if p.suffix.lower() in REGISTRY.extensions(items=False)]
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
        subs = pair_subtitles(path, subtitles)
        if subs:
            lines.append("subtitles = [" + ", ".join(toml_str(s.relative_to(folder).as_posix()) for s in subs) + "]")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return StarterManifest(target, derived)
