"""The curator's input manifest (TOML): what goes into a bundle.

Paths are relative to the manifest file and may not leave its folder (or the folder named
by `[bundle] root`, itself relative to the manifest): no absolute paths, no `..` beyond it,
no symlinks pointing outside. Every problem names the file, the key and what is wrong.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from infopack.errors import UsageError
from infopack.manifest.titles import name_rules
from infopack.kinds import REGISTRY
from infopack.subtitles.choose import SubtitleSpec, parse_subtitles_spec

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

BUNDLE_KEYS = {"id", "title", "profile", "card", "version", "root", "fit", "max_cards", "subtitle_class",
               "require_subtitles", "groups"}
GROUP_RULES = ("split", "strict")     # [bundle] groups: a series too large for a card is split, or refused
ITEM_KEYS = {"id", "title", "source", "subtitles", "group", "episode", "priority", "kind", "title_allow"}


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    source: Path
    subtitles: tuple[Path, ...] = ()    # the subtitle file the manifest names (subtitle_spec mode "file")
    group: str | None = None
    episode: int | None = None
    priority: int = 0
    kind: str | None = None      # a name in infopack.kinds.REGISTRY; None: decided by probing the source
    order: int = 0               # position in the manifest
    title_allow: tuple[str, ...] = ()   # name patterns the curator allows in title and group
    options: dict = field(default_factory=dict, compare=False)   # keys kinds declare (Kind.item_options)
    subtitle_spec: SubtitleSpec = SubtitleSpec("auto")   # what `subtitles` says: a file, a track, none, or absent

    def __post_init__(self):
        """An item made in code with `subtitles` and no spec names that file, as the manifest's key would."""
        if len(self.subtitles) > 1:
            raise ValueError(f"item {self.id}: one subtitle source, not {len(self.subtitles)}")
        if self.subtitles and self.subtitle_spec.mode == "auto":
            object.__setattr__(self, "subtitle_spec", SubtitleSpec("file", file=Path(self.subtitles[0]).name))


@dataclass(frozen=True)
class Bundle:
    id: str
    title: str
    profile: str
    card: str
    manifest_path: Path
    root: Path
    items: tuple[Item, ...]
    version: int = 1
    fit: bool = False
    max_cards: int | None = None
    subtitle_class: str | None = None
    require_subtitles: bool = False     # a video without Korean subtitles (and audio not Korean) stops the build
    groups: str = "split"          # one of GROUP_RULES
    raw: dict = field(default_factory=dict, compare=False, repr=False)


class _Where:
    """Builds error messages that name the manifest file and the key."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str) -> UsageError:
        return UsageError(self.path, f"{key}: {problem}")


def load_manifest(path: str | os.PathLike, *, check_files: bool = True) -> Bundle:
    manifest_path = Path(path)
    where = _Where(manifest_path)
    if not manifest_path.is_file():
        raise UsageError(manifest_path, "no such manifest file")
    try:
        data = tomllib.loads(manifest_path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(manifest_path, "not UTF-8 text; save the manifest as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(manifest_path, f"not valid TOML ({exc})") from None

    unknown = set(data) - {"bundle", "items"}
    if unknown:
        raise where.fail(sorted(unknown)[0], "unknown key (expected [bundle] and [[items]])")
    bundle = data.get("bundle")
    if not isinstance(bundle, dict):
        raise where.fail("bundle", "missing [bundle] table")
    _reject_unknown(where, "bundle", bundle, BUNDLE_KEYS)

    bundle_id = _require_id(where, "bundle.id", bundle.get("id"))
    title = _require_str(where, "bundle.title", bundle.get("title"))
    profile = _require_str(where, "bundle.profile", bundle.get("profile"))
    card = _require_str(where, "bundle.card", bundle.get("card"))
    version = bundle.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise where.fail("bundle.version", "must be a whole number of 1 or more")
    fit = bundle.get("fit", False)
    if not isinstance(fit, bool):
        raise where.fail("bundle.fit", "must be true or false")
    max_cards = bundle.get("max_cards")
    if max_cards is not None and (not isinstance(max_cards, int) or max_cards < 1):
        raise where.fail("bundle.max_cards", "must be a whole number of 1 or more")
    groups = bundle.get("groups", "split")
    if groups not in GROUP_RULES:
        raise where.fail("bundle.groups", "must be \"split\" (a series too large for one card is split over "
                                          "cards, and the plan says where) or \"strict\" (it is refused)")
    subtitle_class = bundle.get("subtitle_class")
    if subtitle_class is not None:
        subtitle_class = _require_str(where, "bundle.subtitle_class", subtitle_class)
    require_subtitles = bundle.get("require_subtitles", False)
    if not isinstance(require_subtitles, bool):
        raise where.fail("bundle.require_subtitles", "must be true or false")

    base = manifest_path.resolve().parent
    root = base
    if "root" in bundle:
        root_text = _require_str(where, "bundle.root", bundle["root"])
        if os.path.isabs(root_text):
            raise where.fail("bundle.root", "must be relative to the manifest file")
        root = (base / root_text).resolve()
        if not root.is_dir():
            raise where.fail("bundle.root", f"no such folder: {root_text}")

    raw_items = data.get("items", [])
    if not isinstance(raw_items, list) or not raw_items:
        raise where.fail("items", "no [[items]]: add at least one item")
    items = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_items):
        items.append(_load_item(where, n, raw, base, root, seen, check_files))

    return Bundle(id=bundle_id, title=title, profile=profile, card=card, manifest_path=manifest_path,
                  root=root, items=tuple(items), version=version, fit=fit, max_cards=max_cards,
                  subtitle_class=subtitle_class, require_subtitles=require_subtitles, groups=groups, raw=data)


def _load_item(where: _Where, n: int, raw, base: Path, root: Path, seen: set[str], check_files: bool) -> Item:
    label = f"items[{n}]"
    if not isinstance(raw, dict):
        raise where.fail(label, "must be a table ([[items]])")
    options = REGISTRY.item_options()
    _reject_unknown(where, label, raw, ITEM_KEYS | set(options))
    item_id = _require_id(where, f"{label}.id", raw.get("id"))
    label = f"items[{n}] ({item_id})"
    if item_id in seen:
        raise where.fail(f"{label}.id", f"duplicate id {item_id!r}")
    seen.add(item_id)
    title = _require_str(where, f"{label}.title", raw.get("title"))
    source = _resolve(where, f"{label}.source", raw.get("source"), base, root, check_files)
    spec = parse_subtitles_spec(raw.get("subtitles"), manifest=where.path, key=f"{label}.subtitles")
    subtitles = (_resolve(where, f"{label}.subtitles", spec.file, base, root, check_files),) \
        if spec.mode == "file" else ()
    group = raw.get("group")
    if group is not None:
        group = _require_str(where, f"{label}.group", group)
    episode = raw.get("episode")
    if episode is not None and (not isinstance(episode, int) or isinstance(episode, bool) or episode < 0):
        raise where.fail(f"{label}.episode", "must be a whole number")
    priority = raw.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise where.fail(f"{label}.priority", "must be a whole number")
    kind = raw.get("kind")
    if kind is not None and kind not in REGISTRY.item_kinds():
        raise where.fail(f"{label}.kind", f"must be one of {', '.join(REGISTRY.item_kinds())}")
    title_allow = _title_allow(where, f"{label}.title_allow", raw.get("title_allow", []))
    return Item(id=item_id, title=title, source=source, subtitles=subtitles, group=group,
                episode=episode, priority=priority, kind=kind, order=n, title_allow=title_allow,
                subtitle_spec=spec, options=_kind_options(where, label, raw, options))


def _kind_options(where: _Where, label: str, raw: dict, declared: dict[str, type]) -> dict:
    """The item's keys that kinds declare, each of the type its kind says."""
    names = {bool: "true or false", int: "a whole number", str: "a text value"}
    found = {key: raw[key] for key in sorted(set(raw) & set(declared))}
    for key, value in found.items():
        kind_type = declared[key]
        if not isinstance(value, kind_type) or (kind_type is int and isinstance(value, bool)):
            raise where.fail(f"{label}.{key}", f"must be {names.get(kind_type, kind_type.__name__)}")
    return found


def _title_allow(where: _Where, key: str, value) -> tuple[str, ...]:
    """`title_allow = ["date-korean"]`: patterns of name-patterns.toml this item's title may match
    (a film called "2002년 6월"). Each pattern is named, so the other checks still apply."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.fail(key, "must be a list of pattern names, e.g. [\"date-korean\"]")
    known = name_rules().names if value else ()
    for name in value:
        if name not in known:
            raise where.fail(key, f"unknown pattern {name!r} (patterns: {', '.join(known)})")
    return tuple(value)


def _reject_unknown(where: _Where, label: str, table: dict, allowed: set[str]) -> None:
    for key in sorted(table):
        if key not in allowed:
            raise where.fail(f"{label}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _require_str(where: _Where, key: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise where.fail(key, "missing or empty (a text value is required)")
    return unicodedata.normalize("NFC", value.strip())


def _require_id(where: _Where, key: str, value) -> str:
    if not isinstance(value, str) or not ID_RE.match(value):
        raise where.fail(key, f"{value!r} is not a valid id (use a-z, 0-9 and -, up to 63 characters)")
    return value


def _resolve(where: _Where, key: str, value, base: Path, root: Path, check_files: bool) -> Path:
    """Resolve a manifest path, refusing anything that leaves `root`."""
    if not isinstance(value, str) or not value:
        raise where.fail(key, "missing or empty path")
    if os.path.isabs(value) or re.match(r"^[A-Za-z]:[\\/]", value):
        raise where.fail(key, f"{value!r} is an absolute path; use a path relative to the manifest")
    lexical = Path(os.path.normpath(base / value))
    if not _is_within(lexical, root):
        raise where.fail(key, f"{value!r} leaves the manifest's folder {root} (set [bundle] root to allow a wider one)")
    if not check_files:
        return lexical
    if not lexical.exists():
        raise where.fail(key, f"no such file: {value}")
    real = lexical.resolve()
    if not _is_within(real, root):
        raise where.fail(key, f"{value!r} is a link pointing outside the manifest's folder {root}")
    if not real.is_file():
        raise where.fail(key, f"{value!r} is not a regular file")
    return lexical


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False
