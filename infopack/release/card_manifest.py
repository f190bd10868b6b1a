"""The card manifest: what one card holds, as the canonical bytes its signatures cover.

As in python-tuf's metadata API, the signed payload is a typed object kept apart from its
signatures. `CardManifest.create` makes a new card's manifest, `to_bytes` gives its
canonical JSON (what the build signs), and `from_bytes` reads one back, refusing anything
that is not a manifest this format describes with a `CardManifestError` saying what is
wrong (the verifier reports it as `manifest-format`). Signatures are always checked over
the bytes as read, never over a re-serialisation; for canonical bytes `to_bytes` gives
the same bytes back.

A card built with `--image` also records its image (`image`: layout, size, sha256), so the
image is signed as a whole, every byte of it. The field is absent without an image: the
manifest of a card folder keeps the bytes it always had.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable

from infopack import __version__
from infopack.release.comments import Comment, approval_comment

MANIFEST_FORMAT = "infopack-card-manifest/1"
TOOL_NAME = "infopack"
_KIND_NAMES = {str: "text", int: "a whole number", list: "a list", dict: "an object"}


class CardManifestError(ValueError):
    """The bytes are not a card manifest; the message says what is wrong."""


@dataclass(frozen=True)
class BundleInfo:
    id: str
    title: str
    version: int


@dataclass(frozen=True)
class CardInfo:
    id: str
    count: int             # cards in the bundle
    card_class: str        # "class" in the JSON: the card class it was packed for
    usable_bytes: int


@dataclass(frozen=True)
class ToolInfo:
    name: str
    version: str


@dataclass(frozen=True)
class FileEntry:
    path: str      # relative to the card root, "/"-separated, NFC
    size: int
    sha256: str


@dataclass(frozen=True)
class ImageRecord:
    layout: str    # "mbr" or "superfloppy" (infopack.fat.image.LAYOUTS)
    size: int
    sha256: str


@dataclass(frozen=True)
class ItemEntry:
    id: str
    title: str
    kind: str
    files: tuple[str, ...]     # card paths, each one of the manifest's files
    title_allow: tuple[str, ...] = ()    # name patterns its card names may match (absent from the JSON when empty)


@dataclass(frozen=True)
class CardManifest:
    bundle: BundleInfo
    card: CardInfo
    profile: str
    tool: ToolInfo
    files: tuple[FileEntry, ...]
    items: tuple[ItemEntry, ...]
    image: ImageRecord | None = None

    @classmethod
    def create(cls, *, bundle: BundleInfo, card: CardInfo, profile: str, files: Iterable[FileEntry],
               items: Iterable[ItemEntry], image: ImageRecord | None = None) -> CardManifest:
        """A new card's manifest, made by this infopack; files in path order, items as given."""
        return cls(bundle, card, profile, ToolInfo(TOOL_NAME, __version__),
                   tuple(sorted(files, key=lambda f: f.path)), tuple(items), image)

    @classmethod
    def from_bytes(cls, data: bytes) -> CardManifest:
        try:
            parsed = json.loads(data.decode("utf-8"))
        except ValueError as exc:                    # UnicodeDecodeError is a ValueError too
            raise CardManifestError(f"not UTF-8 JSON: {exc}") from None
        return cls.from_dict(parsed)

    @classmethod
    def from_dict(cls, data) -> CardManifest:
        """From parsed JSON: every field present (`image` may be absent), of its type, nothing else."""
        if not isinstance(data, dict):
            raise CardManifestError("not a JSON object")
        if data.get("format") != MANIFEST_FORMAT:
            raise CardManifestError(f"unknown format {data.get('format')!r}")
        image = None
        if "image" in data:
            data = dict(data)
            image = ImageRecord(*_fields(data.pop("image"), "image", {"layout": str, "size": int, "sha256": str}))
        _, bundle, card, profile, tool, files, items = _fields(data, "", {
            "format": str, "bundle": dict, "card": dict, "profile": str, "tool": dict, "files": list,
            "items": list})
        entries = tuple(FileEntry(*_fields(f, f"files[{n}]", {"path": str, "size": int, "sha256": str}))
                        for n, f in enumerate(files))
        paths = {f.path for f in entries}
        return cls(BundleInfo(*_fields(bundle, "bundle", {"id": str, "title": str, "version": int})),
                   CardInfo(*_fields(card, "card", {"id": str, "count": int, "class": str, "usable_bytes": int})),
                   profile,
                   ToolInfo(*_fields(tool, "tool", {"name": str, "version": str})),
                   entries,
                   tuple(_item(entry, f"items[{n}]", paths) for n, entry in enumerate(items)),
                   image)

    def to_dict(self) -> dict:
        return {
            "format": MANIFEST_FORMAT,
            "bundle": {"id": self.bundle.id, "title": self.bundle.title, "version": self.bundle.version},
            "card": {"id": self.card.id, "count": self.card.count, "class": self.card.card_class,
                     "usable_bytes": self.card.usable_bytes},
            "profile": self.profile,
            "tool": {"name": self.tool.name, "version": self.tool.version},
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
            "items": [_item_dict(i) for i in self.items],
        } | ({"image": {"layout": self.image.layout, "size": self.image.size, "sha256": self.image.sha256}}
             if self.image is not None else {})

    def to_bytes(self) -> bytes:
        """The canonical bytes: what the build signs and writes."""
        return canonical_json(self.to_dict())

    def item_ids(self) -> list[str]:
        return [item.id for item in self.items]

    def item_files(self) -> dict[str, dict[str, str]]:
        """Each item: {card path: sha256} of its files (what a reviewer's approval covers)."""
        hashes = {f.path: f.sha256 for f in self.files}
        return {item.id: {path: hashes[path] for path in item.files} for item in self.items}

    def approval_comment(self, role: str, items: list[str], note: str = "") -> str:
        """The trusted comment of an approval of `items` of this card."""
        return approval_comment(role, self.bundle.id, self.bundle.version, self.card.id, items, note)

    def comment_mismatch(self, comment: Comment) -> str | None:
        """Why a signature's comment is about another manifest (None when it is about this one)."""
        return comment.mismatch(self.bundle.id, self.bundle.version, self.card.id)


def canonical_json(data: dict) -> bytes:
    """Sorted keys, no spaces, UTF-8, one final newline: one byte form for one manifest."""
    return (json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _fields(data, where: str, shape: dict[str, type]) -> list:
    """The values of `shape`'s keys in `data`, in its order: none missing, none unknown, each of its type."""
    if not isinstance(data, dict):
        raise CardManifestError(f"{where} must be {_KIND_NAMES[dict]}")
    missing = [key for key in shape if key not in data]
    if missing:
        raise CardManifestError(f"{_name(where, missing[0])} is missing")
    unknown = sorted(set(data) - set(shape))
    if unknown:
        raise CardManifestError(f"unknown field {_name(where, unknown[0])}")
    for key, kind in shape.items():
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CardManifestError(f"{_name(where, key)} must be {_KIND_NAMES[kind]}")
    return [data[key] for key in shape]


def _item_dict(item: ItemEntry) -> dict:
    data = {"id": item.id, "title": item.title, "kind": item.kind, "files": list(item.files)}
    if item.title_allow:
        data["title_allow"] = list(item.title_allow)
    return data


def _item(data, where: str, paths: set[str]) -> ItemEntry:
    shape = {"id": str, "title": str, "kind": str, "files": list}
    if isinstance(data, dict) and "title_allow" in data:            # optional: only when the curator allowed some
        shape["title_allow"] = list
    item_id, title, kind, files, *allow = _fields(data, where, shape)
    for n, path in enumerate(files):
        if not isinstance(path, str):
            raise CardManifestError(f"{where}.files[{n}] must be {_KIND_NAMES[str]}")
        if path not in paths:
            raise CardManifestError(f"{where}.files names {path!r}, which is not among the manifest's files")
    allowed = allow[0] if allow else []
    if not all(isinstance(name, str) for name in allowed) or (allow and not allowed):
        raise CardManifestError(f"{where}.title_allow must be a non-empty list of pattern names")
    return ItemEntry(item_id, title, kind, tuple(files), tuple(allowed))


def _name(where: str, key: str) -> str:
    return f"'{where}.{key}'" if where else f"'{key}'"
