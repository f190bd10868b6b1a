"""The MBR partition table of a card image, and where in an image its FAT file system starts.

SD cards ship with an MBR and one FAT32 partition starting on an erase-block boundary
(4 MiB on SDHC); players, TVs and Windows look for that table. The sector written here is
byte for byte what util-linux's `sfdisk` writes for the same partition with disk id 0:

- no boot code (a card is never booted from) and disk signature 0: factory-formatted cards
  in public dumps are zero there, and a signature of our own would be one more number we set;
- one primary partition, status 0x00 (not active), type 0x0C (FAT32, LBA addressing);
- CHS fields from the 255-head, 63-sector geometry libfdisk uses for an image file, clamped to
  cylinder 1023 / head 254 / sector 63 (bytes FE FF FF) once past what CHS can address:
  a partition at sector 8192 starts at 0/130/3 (bytes 82 03 00), and any card over ~8 GB
  ends at FE FF FF. Readers use the LBA fields; the CHS ones only have to look ordinary.

A FAT boot sector also ends in 55 AA, so `filesystem_offset` first asks whether sector 0
is a FAT boot sector (a jump instruction and sane BPB numbers; an MBR without boot code
starts with zeros) and only then reads it as a partition table.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from infopack.errors import InfopackError

SECTOR = 512
PARTITION_START_SECTOR = 8192             # 4 MiB: the SDHC erase-block (allocation unit) boundary
PARTITION_START = PARTITION_START_SECTOR * SECTOR
FAT32_LBA = 0x0C
FAT_PARTITION_TYPES = {0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E}   # FAT12, FAT16 (<32M, CHS, LBA), FAT32
HEADS, SECTORS_PER_TRACK = 255, 63
MAX_CHS = (1023, HEADS - 1, SECTORS_PER_TRACK)
TABLE_OFFSET = 446
ENTRY = struct.Struct("<B3sB3sII")      # status, first CHS, type, last CHS, first LBA, sector count
BOOT_SIGNATURE = b"\x55\xaa"


@dataclass(frozen=True)
class Partition:
    status: int
    kind: int                            # the partition type byte
    start: int                           # first sector (LBA)
    sectors: int
    first_chs: bytes
    last_chs: bytes


def chs_bytes(lba: int) -> bytes:
    """The 3-byte CHS address of `lba` (head; sector | cylinder high bits; cylinder low bits)."""
    cylinder, rest = divmod(lba, HEADS * SECTORS_PER_TRACK)
    head, sector = divmod(rest, SECTORS_PER_TRACK)
    cylinder, head, sector = (cylinder, head, sector + 1) if cylinder <= MAX_CHS[0] else MAX_CHS
    return bytes((head, (sector & 0x3F) | (cylinder >> 2 & 0xC0), cylinder & 0xFF))


def mbr_sector(image_sectors: int, start: int = PARTITION_START_SECTOR) -> bytes:
    """Sector 0 of an image of `image_sectors`: one FAT32 partition from `start` to the end."""
    if not 0 < start < image_sectors:
        raise ValueError(f"partition start {start} outside an image of {image_sectors} sectors")
    sectors = image_sectors - start
    entry = ENTRY.pack(0x00, chs_bytes(start), FAT32_LBA, chs_bytes(start + sectors - 1), start, sectors)
    return bytes(TABLE_OFFSET) + entry + bytes(3 * ENTRY.size) + BOOT_SIGNATURE


def read_partitions(sector: bytes) -> list[Partition]:
    """The used entries of an MBR's partition table, in table order."""
    parts = []
    for n in range(4):
        status, first, kind, last, start, sectors = ENTRY.unpack_from(sector, TABLE_OFFSET + n * ENTRY.size)
        if kind or start or sectors:
            parts.append(Partition(status, kind, start, sectors, first, last))
    return parts


def is_fat_boot_sector(sector: bytes) -> bool:
    """True for a FAT boot sector: x86 jump, power-of-two sector and cluster sizes, FATs, media byte."""
    if len(sector) < SECTOR or sector[510:512] != BOOT_SIGNATURE:
        return False
    jump = sector[0] == 0xE9 or (sector[0] == 0xEB and sector[2] == 0x90)
    bps, spc, reserved, nfats = struct.unpack_from("<HBHB", sector, 11)
    media = sector[21]
    return (jump and bps in (512, 1024, 2048, 4096) and spc in (1, 2, 4, 8, 16, 32, 64, 128)
            and reserved >= 1 and nfats in (1, 2) and (media == 0xF0 or media >= 0xF8))


def _sane_table(parts: list[Partition], image_sectors: int) -> bool:
    """Statuses 0x00/0x80, entries inside the image, after sector 0 and not overlapping."""
    spans = sorted((p.start, p.start + p.sectors) for p in parts)
    return (bool(parts) and all(p.status in (0x00, 0x80) and p.kind and p.start >= 1 and p.sectors >= 1
                                and p.start + p.sectors <= image_sectors for p in parts)
            and all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:])))


def filesystem_offset(image: str | os.PathLike) -> int:
    """Byte offset of the image's FAT file system: 0 for a bare file system (a "superfloppy"),
    or the start of the MBR's first FAT partition."""
    with open(image, "rb") as handle:
        first = handle.read(SECTOR)
        image_sectors = os.fstat(handle.fileno()).st_size // SECTOR
        if is_fat_boot_sector(first):
            return 0
        if len(first) == SECTOR and first[510:512] == BOOT_SIGNATURE:
            parts = read_partitions(first)
            if _sane_table(parts, image_sectors):
                for part in parts:
                    if part.kind in FAT_PARTITION_TYPES:
                        handle.seek(part.start * SECTOR)
                        if is_fat_boot_sector(handle.read(SECTOR)):
                            return part.start * SECTOR
                        break
    raise InfopackError(image, "is not a FAT image: no FAT boot sector at its start, and no partition "
                               "table whose first FAT partition holds one")
