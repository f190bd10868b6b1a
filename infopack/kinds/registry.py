"""The registry of kinds: the one vocabulary of kinds and the one set of their extensions.

Every extension belongs to exactly one kind. A card file's kind is found by its content
first, then its extension (`kind_for_file`: a JPEG renamed `.mp4` is still read for EXIF);
an item source's by its extension first, then its content (`kind_for_source`: the
curator's file name is their word, and ffprobe reads what neither tells).
"""

from __future__ import annotations

import os

from infopack.errors import UsageError
from infopack.kinds.base import SCANNED_AS, Kind

SNIFF_BYTES = 400          # enough for every signature (MPEG-TS needs two packets' sync bytes)


class Registry:
    def __init__(self, fallback: str):
        self._kinds: dict[str, Kind] = {}
        self._fallback = fallback        # the kind that reads sources nothing else recognises

    def register(self, kind: Kind) -> Kind:
        """Add a kind; its name and extensions must be new (ValueError otherwise)."""
        if not kind.name or kind.name in self._kinds:
            raise ValueError(f"kind name {kind.name!r} is empty or already registered")
        if kind.item and not (kind.card_folder and kind.card_folder_ascii):
            raise ValueError(f"kind {kind.name}: an item kind needs card_folder and card_folder_ascii")
        if kind.scanned_as not in SCANNED_AS:
            raise ValueError(f"kind {kind.name}: scanned_as must be one of {', '.join(SCANNED_AS)}")
        for ext in sorted(kind.extensions):
            if ext != ext.lower() or not ext.startswith("."):
                raise ValueError(f"kind {kind.name}: extension {ext!r} must be lower case and start with a dot")
            owner = self.kind_for_extension(ext)
            if owner is not None:
                raise ValueError(f"kind {kind.name}: extension {ext!r} belongs to kind {owner.name}")
        for key, kind_type in kind.item_options.items():
            if self.item_options().get(key, kind_type) is not kind_type:
                raise ValueError(f"kind {kind.name}: item key {key!r} is another kind's, of another type")
        self._kinds[kind.name] = kind
        return kind

    def unregister(self, name: str) -> None:
        del self._kinds[name]

    def item_kinds(self) -> tuple[str, ...]:
        """Names of the kinds a manifest item can be."""
        return tuple(kind.name for kind in self._kinds.values() if kind.item)

    def item_options(self) -> dict[str, type]:
        """Manifest item keys the kinds declare (`Kind.item_options`), and their types."""
        return {key: kind_type for kind in self._kinds.values() for key, kind_type in kind.item_options.items()}

    def get(self, name: str) -> Kind | None:
        return self._kinds.get(name)

    def kind_named(self, name: str) -> Kind:
        kind = self._kinds.get(name)
        if kind is None:
            raise UsageError(None, f"unknown kind {name!r} (known: {', '.join(self._kinds)})")
        return kind

    def extensions(self, *, items: bool | None = None, scanned_as: str | None = None) -> frozenset[str]:
        """Extensions of every kind, or of the item kinds (`items=True`) or the others (False),
        or of the kinds the scanner reads one way (`scanned_as`: "media", "image", ...)."""
        return frozenset(ext for kind in self._kinds.values()
                         if (items is None or kind.item == items) and scanned_as in (None, kind.scanned_as)
                         for ext in kind.extensions)

    def kind_for_extension(self, extension: str) -> Kind | None:
        extension = extension.lower()
        return next((kind for kind in self._kinds.values() if extension in kind.extensions), None)

    def kind_for_file(self, path: str | os.PathLike) -> Kind | None:
        """A card file's kind: by content signature, then by extension; None: no kind knows it.

        Containers that hold pictures or sound alike are claimed by several kinds: the
        extension chooses among them, else the first registered.
        """
        extension = os.path.splitext(path)[1].lower()
        head = _head(path)
        sniffed = [kind for kind in self._kinds.values() if head and kind.sniff(head)]
        if sniffed:
            return next((kind for kind in sniffed if extension in kind.extensions), sniffed[0])
        return self.kind_for_extension(extension)

    def kind_for_source(self, path: str | os.PathLike) -> Kind:
        """The item kind to probe a source with: by extension, then by content signature,
        else the fallback kind (ffprobe, which reads far more than any list of extensions)."""
        items = [kind for kind in self._kinds.values() if kind.item]
        extension = os.path.splitext(path)[1].lower()
        found = next((kind for kind in items if extension in kind.extensions), None)
        if found is None:
            head = _head(path)
            found = next((kind for kind in items if head and kind.sniff(head)), None)
        return found or self._kinds[self._fallback]


def _head(path: str | os.PathLike) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(SNIFF_BYTES)
    except OSError:
        return b""
