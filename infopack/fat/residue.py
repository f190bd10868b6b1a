"""What a FAT image holds besides its files: the places a payload or a trace could hide.

A card image infopack builds holds its files and nothing else. Free clusters, the unused
end of each file's and folder's last cluster, the directory space after the last entry,
the FATs' tails, the reserved sectors and boot code, and everything outside the file
system (the MBR's boot code, the gap before the partition, the end of the image after the
file system) are zeros; no directory entry is a deleted one; both FATs agree; the label
is the one every blank card has. `image_residue` says, as named findings, where an image
is not so: `build_image` refuses to finish one that has any, and verify reports them for
an image whose bytes are not the ones the build signed.

Reading is sparse-aware (SEEK_DATA/SEEK_HOLE): the empty space of a freshly built 32 GB
image is a hole and costs nothing to check.
"""

from __future__ import annotations

import errno
import os
import struct
from array import array
from collections.abc import Iterator
from pathlib import Path

from infopack.checks import ERROR, Finding
from infopack.fat.mbr import SECTOR, TABLE_OFFSET
from infopack.fat.reader import FAT32_ENTRY_MASK, Geometry, read_fat, read_geometry

LABEL = b"NO NAME    "                  # the label every unlabelled card has
CHUNK = 1 << 20
_ZEROS = bytes(CHUNK)
DELETED, LONG_NAME, VOLUME_LABEL, DIRECTORY = 0xE5, 0x0F, 0x08, 0x10


def data_extents(fd: int, begin: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of the parts of [begin, end) holding data, using SEEK_DATA/SEEK_HOLE
    where the file system has them (an empty 128 GB image is read in no time), else all of it."""
    position = begin
    while position < end:
        try:
            data = os.lseek(fd, position, os.SEEK_DATA)
            hole = os.lseek(fd, data, os.SEEK_HOLE)
        except OSError as exc:
            if exc.errno == errno.ENXIO:         # no data after `position`
                return
            yield position, end
            return
        if data >= end:
            return
        yield data, min(hole, end)
        position = hole


def first_nonzero(handle, begin: int, end: int) -> int | None:
    """Offset of the first byte in [begin, end) that is not zero (None: all zero), holes skipped."""
    for start, stop in data_extents(handle.fileno(), begin, end):
        handle.seek(start)
        position = start
        while position < stop:
            chunk = handle.read(min(CHUNK, stop - position))
            if not chunk:
                return None
            if chunk != _ZEROS[:len(chunk)]:
                return position + next(i for i, byte in enumerate(chunk) if byte)
            position += len(chunk)
    return None


def image_residue(image: str | os.PathLike) -> list[Finding]:
    """Every place in a FAT16/32 image (either layout) that holds something it should not."""
    image = Path(image)
    geo = read_geometry(image)
    fat = read_fat(image, geo)
    with open(image, "rb") as handle:
        scan = _Scan(handle, geo, fat, image.name)
        scan.outside(os.fstat(handle.fileno()).st_size)
        scan.reserved_and_fats()
        scan.tree()
        scan.clusters()
    return scan.findings


class _Scan:
    def __init__(self, handle, geo: Geometry, fat: array, name: str):
        self.handle, self.geo, self.fat, self.name = handle, geo, fat, name
        self.mask = FAT32_ENTRY_MASK if geo.fat_bits == 32 else 0xFFFF
        self.end_of_chain = 0x0FFFFFF8 if geo.fat_bits == 32 else 0xFFF8
        self.reached: set[int] = set()
        self.findings: list[Finding] = []

    def say(self, check: str, message: str, path: str | None = None) -> None:
        self.findings.append(Finding(check, ERROR, path if path is not None else self.name, message))

    def zero(self, begin: int, end: int, check: str, what: str, path: str | None = None) -> None:
        where = first_nonzero(self.handle, begin, end) if end > begin else None
        if where is not None:
            self.say(check, f"{what} holds data (byte {where:,} of the image)", path)

    def read(self, offset: int, length: int) -> bytes:
        self.handle.seek(offset)
        return self.handle.read(length)

    # -- outside the clusters --------------------------------------------------------

    def outside(self, size: int) -> None:
        """The MBR's boot code, the gap before the partition, and everything after the file system."""
        geo = self.geo
        if geo.offset:
            self.zero(0, TABLE_OFFSET, "image-hidden-data", "the boot code area of the partition table sector")
            self.zero(SECTOR, geo.offset, "image-hidden-data", "the gap between the partition table and the partition")
        end = geo.offset + geo.total_bytes
        self.zero(end, size, "image-hidden-data", f"the end of the image after the file system ({size - end:,} bytes)")
        self.zero(geo.data_offset + geo.clusters * geo.cluster_bytes, end, "image-hidden-data",
                  "the end of the file system after its last cluster")

    def reserved_and_fats(self) -> None:
        """Boot code, reserved sectors, the FATs' unused tails, and the two FATs alike."""
        geo, base = self.geo, self.geo.offset
        boot = self.read(base, SECTOR)
        label_at = 71 if geo.fat_bits == 32 else 43
        label = boot[label_at:label_at + 11]
        if label != LABEL:
            self.say("image-label", f"the volume label is {label.decode('cp850').strip()!r}, not "
                                    f"{LABEL.decode().strip()!r} as on every unlabelled card")
        code = (90, 510) if geo.fat_bits == 32 else (62, 510)
        unused = {0: code}                   # sector -> its bytes that must be zero
        if geo.fat_bits == 32:
            info, backup = struct.unpack_from("<HH", boot, 48)
            unused[info] = (4, 484)          # FSInfo: only its signatures and counts are used
            if backup:
                unused[backup], unused[backup + 1] = code, (4, 484)
        for sector in range((geo.fat_offset - base) // SECTOR):
            start = base + sector * SECTOR
            low, high = unused.get(sector, (0, SECTOR))
            self.zero(start + low, start + high, "image-hidden-data", f"reserved sector {sector}")
        used = (geo.clusters + 2) * (4 if geo.fat_bits == 32 else 2)
        first = self.read(geo.fat_offset, used)
        for n in range(boot[16]):
            start = geo.fat_offset + n * geo.fat_bytes
            self.zero(start + used, start + geo.fat_bytes, "image-hidden-data", f"the unused end of FAT {n + 1}")
            if n and self.read(start, used) != first:
                self.say("image-hidden-data", f"FAT {n + 1} differs from FAT 1")
        tables_end = geo.fat_offset + boot[16] * geo.fat_bytes
        self.zero(tables_end, geo.root_offset if geo.fat_bits != 32 else geo.data_offset, "image-hidden-data",
                  "the space between the FATs and the data area")

    # -- the directory tree ----------------------------------------------------------

    def chain(self, cluster: int) -> list[int]:
        found: list[int] = []
        while 2 <= cluster < min(self.end_of_chain, len(self.fat)) and cluster not in self.reached:
            self.reached.add(cluster)
            found.append(cluster)
            cluster = self.fat[cluster] & self.mask
        return found

    def tree(self) -> None:
        geo = self.geo
        if geo.fat_bits == 32:
            pending = [("", self.chain(geo.root_cluster), None)]
        else:
            pending = [("", [], (geo.root_offset, geo.root_bytes))]
        while pending:
            folder, clusters, fixed = pending.pop()
            raw = (self.read(*fixed) if fixed
                   else b"".join(self.read(geo.cluster_offset(c), geo.cluster_bytes) for c in clusters))
            pending += self.directory(folder, raw, fixed[0] if fixed else None, clusters)

    def directory(self, folder: str, raw: bytes, fixed_offset: int | None, clusters: list[int]):
        """Check one directory's entries; returns its subfolders to visit."""
        where = folder.rstrip("/") or "/"
        deleted, subfolders, long_parts = 0, [], []
        for offset in range(0, len(raw) - 31, 32):
            entry = raw[offset:offset + 32]
            if entry[0] == 0:
                if any(raw[offset:]):
                    self.say("image-deleted-entry", "directory space after the last entry holds data", where)
                break
            if entry[0] == DELETED:
                deleted += 1
                long_parts = []
                continue
            attr = entry[11]
            if attr == LONG_NAME:
                long_parts.insert(0, (entry[1:11] + entry[14:26] + entry[28:32]).decode("utf-16-le", "replace")
                                  .split("\x00")[0])
                continue
            name, long_parts = "".join(long_parts) or entry[:11].decode("cp850", "replace").strip(), []
            if attr & VOLUME_LABEL:
                if entry[:11] != LABEL:
                    self.say("image-label", f"a volume label entry says {entry[:11].decode('cp850').strip()!r}", where)
                continue
            if entry[:2] in (b". ", b".."):
                continue
            first = struct.unpack_from("<H", entry, 20)[0] << 16 | struct.unpack_from("<H", entry, 26)[0]
            if self.geo.fat_bits != 32:
                first &= 0xFFFF
            chain = self.chain(first)
            if attr & DIRECTORY:
                subfolders.append((f"{folder}{name}/", chain, None))
            else:
                self.file_slack(f"{folder}{name}", struct.unpack_from("<I", entry, 28)[0], chain)
        if deleted:
            self.say("image-deleted-entry", f"{deleted} deleted entr{'y' if deleted == 1 else 'ies'} still "
                                            "in the folder (names and places of removed files)", where)
        return subfolders

    def file_slack(self, path: str, size: int, chain: list[int]) -> None:
        """The unused end of a file's last cluster, and clusters past its end, are zero."""
        cluster_bytes = self.geo.cluster_bytes
        needed = -(-size // cluster_bytes)
        for n, cluster in enumerate(chain):
            start = self.geo.cluster_offset(cluster)
            if n >= needed:
                self.zero(start, start + cluster_bytes, "image-free-space", "a cluster past the end of the file", path)
            elif n == needed - 1 and size % cluster_bytes:
                self.zero(start + size % cluster_bytes, start + cluster_bytes, "image-free-space",
                          "the unused end of the file's last cluster", path)

    # -- clusters no file holds ------------------------------------------------------

    def clusters(self) -> None:
        """Free clusters are zero; no cluster is allocated to no file."""
        geo, free_runs, lost = self.geo, [], 0
        run_start = None
        last = min(geo.clusters + 2, len(self.fat))        # a forged count cannot run past the FAT read
        for cluster in range(2, last):
            value = self.fat[cluster] & self.mask
            if value == 0:
                if run_start is None:
                    run_start = cluster
                continue
            if run_start is not None:
                free_runs.append((run_start, cluster))
                run_start = None
            if cluster not in self.reached:
                lost += 1
        if run_start is not None:
            free_runs.append((run_start, last))
        if lost:
            self.say("image-free-space", f"{lost:,} cluster(s) allocated to no file or folder")
        dirty = [first_nonzero(self.handle, geo.cluster_offset(a), geo.cluster_offset(b)) for a, b in free_runs]
        dirty = [where for where in dirty if where is not None]
        if dirty:
            self.say("image-free-space", f"{len(dirty):,} run(s) of free clusters hold data "
                                         f"(the first at byte {dirty[0]:,} of the image)")
