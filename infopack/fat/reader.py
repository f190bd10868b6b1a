"""A small FAT16/32 reader of our own: geometry and the directory tree of an image.

It exists so a listing check does not rely on the program that wrote the image (mtools).
It finds the file system wherever the image keeps it (at offset 0, or inside the MBR's
first FAT partition), and every offset in `Geometry` counts from the start of the image.
"""

from __future__ import annotations

import os
import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from infopack.errors import InfopackError
from infopack.fat.mbr import SECTOR, filesystem_offset

FAT32_ENTRY_MASK = 0x0FFFFFFF


@dataclass(frozen=True)
class ImageEntry:
    path: str                        # relpath inside the image, "/"-separated
    size: int
    is_dir: bool
    first_cluster: int = 0           # 0 for an empty file


@dataclass(frozen=True)
class Geometry:
    """The numbers of a FAT boot sector that say where things are and how much is free."""
    fat_bits: int
    bytes_per_sector: int
    cluster_bytes: int
    fat_offset: int
    fat_bytes: int
    root_offset: int                 # FAT16: the fixed root area
    root_bytes: int
    data_offset: int
    clusters: int
    root_cluster: int                # FAT32 only
    volume_id: int
    offset: int = 0                  # where the file system starts in the image
    hidden_sectors: int = 0          # what the boot sector says precedes it (its partition's start)
    total_bytes: int = 0             # the file system's own size

    @property
    def free_bytes(self) -> int:
        """Free space of a freshly formatted image (FAT32's root already holds one cluster)."""
        return (self.clusters - (1 if self.fat_bits == 32 else 0)) * self.cluster_bytes

    def cluster_offset(self, cluster: int) -> int:
        """Where data cluster `cluster` (2 is the first) starts in the image."""
        return self.data_offset + (cluster - 2) * self.cluster_bytes


def read_geometry(image: str | os.PathLike) -> Geometry:
    offset = filesystem_offset(image)
    with open(image, "rb") as handle:
        handle.seek(offset)
        boot = handle.read(SECTOR)
    bps, spc, reserved, nfats, root_entries, total16, _, fat16 = struct.unpack_from("<HBHBHHBH", boot, 11)
    hidden, total32, fat32 = struct.unpack_from("<III", boot, 28)
    total = total16 or total32
    fat_sectors = fat16 or fat32
    root_sectors = -(-root_entries * 32 // bps)
    data_sector = reserved + nfats * fat_sectors + root_sectors
    clusters = (total - data_sector) // spc
    bits = 32 if fat16 == 0 else (12 if clusters < 4085 else 16)
    return Geometry(fat_bits=bits, bytes_per_sector=bps, cluster_bytes=bps * spc,
                    fat_offset=offset + reserved * bps, fat_bytes=fat_sectors * bps,
                    root_offset=offset + (reserved + nfats * fat_sectors) * bps, root_bytes=root_sectors * bps,
                    data_offset=offset + data_sector * bps, clusters=clusters,
                    root_cluster=struct.unpack_from("<I", boot, 44)[0] if bits == 32 else 0,
                    volume_id=struct.unpack_from("<I", boot, 67 if bits == 32 else 39)[0],
                    offset=offset, hidden_sectors=hidden, total_bytes=total * bps)


def read_fat(image: str | os.PathLike, geo: Geometry) -> array:
    """The first FAT's raw entries, indexed by cluster number, up to the last data cluster.

    0 is a free cluster; mask FAT32 entries with FAT32_ENTRY_MASK (their top 4 bits are reserved).
    """
    with open(image, "rb") as handle:
        raw = _read_at(handle, geo.fat_offset, geo.fat_bytes)
    entries = array("I" if geo.fat_bits == 32 else "H")
    entries.frombytes(raw[:(geo.clusters + 2) * entries.itemsize])
    if sys.byteorder == "big":
        entries.byteswap()
    return entries


def image_listing(image: str | os.PathLike) -> list[ImageEntry]:
    """Every folder and file in a FAT16/32 image, by long name, sorted by path."""
    geo = read_geometry(image)
    if geo.fat_bits == 12:
        raise InfopackError(image, "FAT12 images are not supported")
    fat = read_fat(image, geo)
    entries: list[ImageEntry] = []
    with open(image, "rb") as handle:
        reader = _DirReader(handle, geo, fat)
        root = (reader.chain_bytes(geo.root_cluster) if geo.fat_bits == 32
                else _read_at(handle, geo.root_offset, geo.root_bytes))
        pending = [("", root)]
        while pending:
            prefix, raw = pending.pop()
            for name, is_dir, first, size in _dir_entries(raw):
                path = prefix + name
                entries.append(ImageEntry(path, 0 if is_dir else size, is_dir, first))
                if is_dir:
                    pending.append((path + "/", reader.chain_bytes(first)))
    return sorted(entries, key=lambda e: e.path)


def _read_at(handle, offset: int, length: int) -> bytes:
    handle.seek(offset)
    return handle.read(length)


class _DirReader:
    def __init__(self, handle, geo: Geometry, fat: array):
        self.handle, self.geo, self.fat = handle, geo, fat
        self.mask = FAT32_ENTRY_MASK if geo.fat_bits == 32 else 0xFFFF

    def chain_bytes(self, cluster: int) -> bytes:
        end = 0x0FFFFFF8 if self.geo.fat_bits == 32 else 0xFFF8
        parts, seen = [], set()
        while 2 <= cluster < min(end, len(self.fat)) and cluster not in seen:
            seen.add(cluster)
            parts.append(_read_at(self.handle, self.geo.cluster_offset(cluster), self.geo.cluster_bytes))
            cluster = self.fat[cluster] & self.mask
        return b"".join(parts)


def _dir_entries(raw: bytes) -> Iterator[tuple[str, bool, int, int]]:
    """(name, is_dir, first cluster, size) for the live entries of one directory."""
    long_parts: list[str] = []
    for offset in range(0, len(raw) - 31, 32):
        entry = raw[offset:offset + 32]
        if entry[0] == 0:
            break
        if entry[0] == 0xE5:
            long_parts = []
            continue
        attr = entry[11]
        if attr == 0x0F:
            text = (entry[1:11] + entry[14:26] + entry[28:32]).decode("utf-16-le", "replace")
            long_parts.insert(0, text.split("\x00")[0])
            continue
        name = "".join(long_parts) or _short_name(entry)
        long_parts = []
        if attr & 0x08 or name in (".", ".."):
            continue
        first = struct.unpack_from("<H", entry, 20)[0] << 16 | struct.unpack_from("<H", entry, 26)[0]
        yield name, bool(attr & 0x10), first, struct.unpack_from("<I", entry, 28)[0]


def _short_name(entry: bytes) -> str:
    base = entry[0:8].decode("cp850", "replace").rstrip()
    ext = entry[8:11].decode("cp850", "replace").rstrip()
    if entry[12] & 0x08:
        base = base.lower()
    if entry[12] & 0x10:
        ext = ext.lower()
    return base + ("." + ext if ext else "")
