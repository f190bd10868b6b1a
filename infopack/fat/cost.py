"""The space files really take on a card: whole clusters for files *and* folders.

A card that overflows by one cluster fails half-way through copying, so sizes are modelled
exactly the way FAT spends them (32-byte directory entries, long-name entries) and rounded
towards "does not fit" wherever reality varies.
"""

from __future__ import annotations

import math

from infopack.fat.catalog import CardType

DIR_ENTRY = 32                      # every FAT and exFAT directory entry is 32 bytes
LFN_UNITS_PER_ENTRY = 13            # UTF-16 units in one FAT long-name entry
EXFAT_UNITS_PER_ENTRY = 15          # UTF-16 units in one exFAT file-name entry
SHORT_NAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'()-@^_`{}~")


def cluster_rounded_size(size: int, cluster: int) -> int:
    """Bytes a file of `size` occupies: whole clusters (an empty file takes none)."""
    if size < 0 or cluster <= 0:
        raise ValueError("size must be >= 0 and cluster > 0")
    return -(-size // cluster) * cluster


def utf16_units(name: str) -> int:
    """Length as FAT counts it: UTF-16 code units (a character outside the BMP counts 2)."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in name)


def is_short_name(name: str) -> bool:
    """True if `name` is a plain upper-case 8.3 name, stored without a long-name entry."""
    base, dot, ext = name.partition(".")
    return (0 < len(base) <= 8 and len(ext) <= 3 and (not dot or 0 < len(ext))
            and all(ch in SHORT_NAME_CHARS for ch in base + ext))


def dir_entry_bytes(name: str, filesystem: str = "fat32") -> int:
    """Directory bytes one file or folder name takes.

    FAT: one 32-byte short entry, plus ceil(units/13) long-name entries unless the name is a
    plain upper-case 8.3 name (lower case counts as needing a long name: the safe side).
    exFAT: a file entry, a stream entry and ceil(units/15) name entries.
    """
    units = utf16_units(name)
    if filesystem == "exfat":
        return DIR_ENTRY * (2 + math.ceil(units / EXFAT_UNITS_PER_ENTRY))
    if is_short_name(name):
        return DIR_ENTRY
    return DIR_ENTRY * (1 + math.ceil(units / LFN_UNITS_PER_ENTRY))


class CardTally:
    """Running total of the bytes a set of files takes on a card, with cheap add and remove.

    Packing tries many combinations; recomputing `card_cost` from scratch for each would be
    slow, and an estimate that ignored folders could overflow. The tally keeps per-folder
    entry bytes so that every total it gives is the exact `card_cost` of the files in it.
    """

    def __init__(self, card: CardType):
        self.card = card
        self.file_bytes = 0
        self.dir_bytes: dict[str, int] = {"": self._root_base()}   # entry bytes per folder
        self.dir_children: dict[str, int] = {"": 0}
        self._dir_total = self._dir_cost("", self.dir_bytes[""])
        self.file_count = 0

    @property
    def total(self) -> int:
        return self.file_bytes + self._dir_total

    def cost_with(self, files: dict[str, int]) -> int:
        """The total if `files` were added (the tally is left as it was)."""
        self.add(files)
        total = self.total
        self.remove(files)
        return total

    def add(self, files: dict[str, int]) -> None:
        for path, size in files.items():
            self.file_bytes += cluster_rounded_size(size, self.card.cluster_bytes)
            self._link(path)
            self.file_count += 1

    def remove(self, files: dict[str, int]) -> None:
        for path, size in files.items():
            self.file_bytes -= cluster_rounded_size(size, self.card.cluster_bytes)
            self._unlink(path)
            self.file_count -= 1

    # A file or folder named `name` inside `parent` adds its entries to `parent`; a folder
    # appears with its first child and disappears with its last.
    def _link(self, path: str) -> None:
        parent, _, name = path.rpartition("/")
        if parent not in self.dir_children:
            self._link(parent)
            self.dir_children[parent] = 0
            self._set_dir_bytes(parent, self._dir_base())
        self.dir_children[parent] += 1
        self._set_dir_bytes(parent, self.dir_bytes[parent] + dir_entry_bytes(name, self.card.filesystem))

    def _unlink(self, path: str) -> None:
        parent, _, name = path.rpartition("/")
        self.dir_children[parent] -= 1
        self._set_dir_bytes(parent, self.dir_bytes[parent] - dir_entry_bytes(name, self.card.filesystem))
        if parent and self.dir_children[parent] == 0:
            self._set_dir_bytes(parent, 0)
            del self.dir_children[parent], self.dir_bytes[parent]
            self._unlink(parent)

    def _set_dir_bytes(self, folder: str, entry_bytes: int) -> None:
        old = self._dir_cost(folder, self.dir_bytes.get(folder, 0))
        self.dir_bytes[folder] = entry_bytes
        self._dir_total += self._dir_cost(folder, entry_bytes) - old

    def _root_base(self) -> int:
        # FAT: the volume-label entry; exFAT: label, allocation-bitmap and up-case entries.
        return DIR_ENTRY * (3 if self.card.filesystem == "exfat" else 1)

    def _dir_base(self) -> int:
        # FAT folders start with "." and ".."; exFAT folders have no such entries.
        return 0 if self.card.filesystem == "exfat" else 2 * DIR_ENTRY

    def _dir_cost(self, folder: str, entry_bytes: int) -> int:
        cluster = self.card.cluster_bytes
        if entry_bytes <= 0 and folder:
            return 0
        if folder:                                     # a folder takes at least one cluster
            return max(cluster, cluster_rounded_size(entry_bytes, cluster))
        if self.card.filesystem == "fat16":            # FAT16 root: a fixed area, not clusters
            return 0
        # The root's first cluster is allocated by formatting, so free space already excludes it.
        return max(0, cluster_rounded_size(entry_bytes, cluster) - cluster)


def card_cost(files: dict[str, int], card: CardType) -> int:
    """Bytes `files` ({relpath: size}) take on `card`: files and folders in whole clusters."""
    tally = CardTally(card)
    tally.add(files)
    return tally.total
