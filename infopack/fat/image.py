"""FAT images of a card folder, built without root or mounting, byte for byte reproducible.

`mkfs.fat` formats a sparse file and mtools copies the folder in; both are told the time
(SOURCE_DATE_EPOCH, TZ=UTC) so every timestamp is 2000-01-01 00:00, folders are created and
files copied in sorted order, and the volume id is derived from the content. Two builds of
the same folder are therefore identical, and nothing on the image dates it or names us.

Reading back goes through mtools (`read_image_files`, `extract_image`); `image_listing`
walks the directory tree with a small reader of our own, so a listing check does not rely
on the program that wrote the image.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from infopack.fat.catalog import FAT32_MIN_CLUSTERS, CardType
from infopack.fat.cost import card_cost
from infopack.fat.names import check_card_paths
from infopack.checks import ERROR
from infopack.errors import InfopackError
from infopack.tools import binary, child_env, run

SECTOR = 512
FIXED_EPOCH = 946684800              # 2000-01-01 00:00:00 UTC: every timestamp on the image
LABEL = "NO NAME"                    # what an unlabelled card says: nothing identifying
MKFS_RESERVED_SECTORS = 32           # mkfs.fat's default for FAT32 (FAT16 uses fewer)
CHUNK = 1 << 20
ARGS_PER_CALL = 200                  # keep mtools command lines well below the OS limit
COPY_BYTES_PER_SECOND = 20 * 10**6   # a slow disk; timeouts are generous multiples of this


@dataclass(frozen=True)
class ImageEntry:
    path: str                        # relpath inside the image, "/"-separated
    size: int
    is_dir: bool


# --------------------------------------------------------------------------- building

def image_size(card: CardType) -> int:
    """Bytes of an image whose free space holds `card.usable_bytes` of clusters.

    `usable_bytes` is what the card offers for files; the file system's own tables (boot
    sectors, two FATs, the root's first cluster) come on top. The estimate is generous by a
    cluster or two; `build_image` checks the real free space after formatting.
    """
    cluster = card.cluster_bytes
    clusters = card.usable_bytes // cluster + 4           # the root's cluster and some slack
    # mkfs.fat rounds each FAT up to whole clusters and aligns the data area to a cluster.
    fat_bytes = _round_up(_round_up((clusters + 2) * 4, SECTOR), cluster)
    root_area = 512 * 32 if card.filesystem == "fat16" else 0
    data_offset = _round_up(MKFS_RESERVED_SECTORS * SECTOR + 2 * fat_bytes + root_area, cluster)
    # mkfs.fat ignores a last partial track (up to 63 sectors): 64 KiB of slack, whole MiB.
    return _round_up(data_offset + card.usable_bytes + 2 * cluster + 64 * 1024, 2**20)


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


CONTENT_SIZE_STEP = 2**20            # content-sized images are whole MiB
CLUSTER_SLACK = 64                   # clusters kept above FAT32's minimum (mkfs.fat's rounding)
MIN_CLUSTER = SECTOR


def content_image_size(card_dir: str | os.PathLike, card: CardType) -> int:
    """The smallest image (whole MiB) whose FAT32 holds the folder: `--image-size content`.

    FAT32 needs at least 65,525 clusters, so with the card's 32 KiB clusters no FAT32 is
    smaller than ~2 GiB. For smaller content the image uses smaller clusters (down to 512
    bytes: a 32 MiB floor), which every FAT32 reader handles; `build_image` picks the same
    cluster size from the size it is given. FAT16 is never chosen: the card types are FAT32
    for the players' sake, and a FAT16 root holds only 512 entries (a FAT16 card type gets
    its full card-sized image). The image is still
    written to the card with `dd`; the rest of the card stays unused until reformatted.
    """
    source = Path(card_dir)
    _, files = _walk(source)
    if card.filesystem != "fat32":
        return image_size(card)
    best = None
    for cluster in _cluster_choices(card):
        sized = replace(card, cluster_bytes=cluster)
        usable = max(_round_up(card_cost(files, sized), cluster), (FAT32_MIN_CLUSTERS + CLUSTER_SLACK) * cluster)
        size = _round_up(image_size(replace(sized, usable_bytes=usable)), CONTENT_SIZE_STEP)
        if _cluster_for(size, card, files) == cluster and (best is None or size < best):
            best = size
    return best if best is not None else image_size(card)


def _cluster_choices(card: CardType) -> list[int]:
    """Powers of two from the card's cluster size down to one sector, largest first."""
    choices, cluster = [], card.cluster_bytes
    while cluster >= MIN_CLUSTER:
        choices.append(cluster)
        cluster //= 2
    return choices


def _cluster_for(size: int, card: CardType, files: dict[str, int]) -> int:
    """The cluster size for a FAT32 image of `size` bytes: the card's own when the image is
    large enough, else the largest smaller one that still gives a valid FAT32 holding `files`."""
    if card.filesystem != "fat32":
        return card.cluster_bytes
    for cluster in _cluster_choices(card):
        free = _free_estimate(size, cluster)
        if free // cluster >= FAT32_MIN_CLUSTERS + CLUSTER_SLACK // 2 and \
                card_cost(files, replace(card, cluster_bytes=cluster)) <= free:
            return cluster
    return card.cluster_bytes


def _free_estimate(size: int, cluster: int) -> int:
    """Free bytes mkfs.fat leaves in a FAT32 of `size` (a little low: two FATs, reserved
    sectors, alignment, the root's cluster and a last partial track)."""
    overhead = MKFS_RESERVED_SECTORS * SECTOR + 64 * 1024 + 3 * cluster
    clusters = (size - overhead) // (cluster + 8)          # each cluster: its bytes + 4 in each FAT
    return max(0, (clusters - 2) * cluster)


def build_image(card_dir: str | os.PathLike, image_path: str | os.PathLike, card: CardType,
                size: int | None = None, *, volume_id: int | None = None, check: bool = True) -> Path:
    """Write a FAT image of `card_dir` to `image_path`; returns the image path.

    `size` defaults to `image_size(card)`. The folder is checked first with the FAT rules
    (a name a player cannot read is refused here, not discovered on the card), and with
    `check` the image is checked with `fsck.fat -n` afterwards.
    """
    source = Path(card_dir)
    target = Path(image_path)
    if card.filesystem not in ("fat32", "fat16"):
        raise InfopackError(target, f"cannot build {card.filesystem} images; choose a FAT32 card type")
    dirs, files = _walk(source)
    _refuse_bad_paths(source, files, card)
    if size is None:
        size = image_size(card)
    else:
        size -= size % SECTOR
        card = replace(card, cluster_bytes=_cluster_for(size, card, files))
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "wb") as handle:           # sparse: no blocks written for the empty space
            handle.truncate(size)
        _format(tmp, card, _volume_id(files, card) if volume_id is None else volume_id)
        _check_room(tmp, files, card)
        _make_dirs(tmp, dirs)
        _copy_files(tmp, source, files)
        if check:
            fsck_image(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _walk(source: Path) -> tuple[list[str], dict[str, int]]:
    """Folders and {file: size} under `source`, relpaths sorted; no links or special files."""
    if not source.is_dir():
        raise InfopackError(source, "is not a folder; give the assembled card folder")
    dirs, files = [], {}
    for root, dirnames, filenames in os.walk(source):
        dirnames.sort()
        rel_root = Path(root).relative_to(source).as_posix()
        prefix = "" if rel_root == "." else rel_root + "/"
        for name in dirnames + filenames:
            full = Path(root) / name
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise InfopackError(full, "is a link or special file; a card folder holds plain files only")
            if stat.S_ISDIR(mode):
                dirs.append(prefix + name)
            else:
                files[prefix + name] = full.stat().st_size
    return sorted(dirs), dict(sorted(files.items()))


def _refuse_bad_paths(source: Path, files: dict[str, int], card: CardType) -> None:
    errors = [f for f in check_card_paths(files, card) if f.level == ERROR and f.check != "card-overflow"]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise InfopackError(source / first.path if first.path else source, f"{first.message}{more}")


def _volume_id(files: dict[str, int], card: CardType) -> int:
    """A volume id from the content: reproducible, yet looking like any card's random id."""
    digest = hashlib.sha256(repr((card.cluster_bytes, card.usable_bytes, sorted(files.items()))).encode())
    return int.from_bytes(digest.digest()[:4], "big")


def _format(image: Path, card: CardType, volume_id: int) -> None:
    fat = "32" if card.filesystem == "fat32" else "16"
    args = [binary("mkfs.fat"), "-F", fat, "-S", str(SECTOR), "-s", str(card.cluster_bytes // SECTOR),
            "--invariant", "-i", f"{volume_id & 0xFFFFFFFF:08x}", "-n", LABEL]
    if fat == "16":
        args += ["-r", "512"]
    run(args + [_local(image)], timeout=300, what="mkfs.fat", subject=str(image))
    _neutral_boot_sectors(image, card)


OEM_NAME = b"MSWIN4.1"      # what most FAT32 volumes say; mkfs.fat would write "mkfs.fat"


def _neutral_boot_sectors(image: Path, card: CardType) -> None:
    """Replace mkfs.fat's OEM name and boot message, which name the program that made the card.

    The boot code area is zeroed (a card is never booted from), in the boot sector and, on
    FAT32, in its backup copy, so fsck.fat still finds the two identical.
    """
    with open(image, "r+b") as fh:
        sector = bytearray(fh.read(SECTOR))
        boot_code = slice(90, 510) if card.filesystem == "fat32" else slice(62, 510)
        sector[3:11] = OEM_NAME
        sector[boot_code] = bytes(boot_code.stop - boot_code.start)
        fh.seek(0)
        fh.write(sector)
        if card.filesystem == "fat32":
            backup = struct.unpack_from("<H", sector, 50)[0]
            if backup:
                fh.seek(backup * SECTOR)
                fh.write(sector)


def _check_room(image: Path, files: dict[str, int], card: CardType) -> None:
    free = read_geometry(image).free_bytes
    needed = card_cost(files, card)
    if needed > free:
        raise InfopackError(image, f"the files take {needed:,} bytes but the image has room for {free:,}; "
                                   f"use a larger card type or fewer files")


def _make_dirs(image: Path, dirs: list[str]) -> None:
    # Sorted, so parents come before their children.
    for start in range(0, len(dirs), ARGS_PER_CALL):
        batch = ["::/" + d for d in dirs[start:start + ARGS_PER_CALL]]
        _mtools(["mmd", "-i", _local(image)] + batch, timeout=120, what="mmd", subject=image)


def _copy_files(image: Path, source: Path, files: dict[str, int]) -> None:
    by_folder: dict[str, list[str]] = {}
    for path in files:                               # already sorted
        folder = path.rpartition("/")[0]
        by_folder.setdefault(folder, []).append(path)
    for folder in sorted(by_folder):
        paths = by_folder[folder]
        for start in range(0, len(paths), ARGS_PER_CALL):
            batch = paths[start:start + ARGS_PER_CALL]
            seconds = 60 + sum(files[p] for p in batch) / COPY_BYTES_PER_SECOND
            _mtools(["mcopy", "-Q", "-i", _local(image)] + [str(source / p) for p in batch]
                    + [f"::/{folder}/" if folder else "::/"], timeout=seconds, what="mcopy", subject=image)


def fsck_image(image: str | os.PathLike) -> None:
    """Raise InfopackError unless `fsck.fat -n` (read-only) finds the image clean."""
    proc = run([binary("fsck.fat"), "-n", _local(image)], timeout=600, what="fsck.fat",
               subject=str(image), check=False)
    output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    if proc.returncode != 0:
        lines = [ln.strip() for ln in output.splitlines() if ln.strip() and not ln.startswith("fsck.fat ")]
        raise InfopackError(image, f"fsck.fat found problems: {lines[0] if lines else 'exit ' + str(proc.returncode)}")


# --------------------------------------------------------------------------- mtools

def _mtools_env_args() -> list[str]:
    """`env` arguments that make mtools reproducible: fixed time, UTC, UTF-8 names, no user config."""
    return [binary("env"), "MTOOLS_SKIP_CHECK=1", f"SOURCE_DATE_EPOCH={FIXED_EPOCH}", "TZ=UTC",
            "LC_ALL=C.UTF-8", "MTOOLSRC=/dev/null"]


def _mtools(args: list[str], *, timeout: float, what: str, subject) -> subprocess.CompletedProcess:
    return run(_mtools_env_args() + [binary(args[0])] + args[1:], timeout=timeout, what=what,
               subject=str(subject))


def _local(path: str | os.PathLike) -> str:
    """An absolute path, so no name can be read as an option or an mtools drive letter."""
    return str(Path(path).absolute())


def extract_image(image: str | os.PathLike, dest_dir: str | os.PathLike) -> Path:
    """Copy every file out of the image into `dest_dir` (created if needed)."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    size = Path(image).stat().st_size
    _mtools(["mcopy", "-s", "-n", "-Q", "-i", _local(image), "::/", _local(dest) + "/"],
            timeout=120 + size / COPY_BYTES_PER_SECOND, what="mcopy (extract)", subject=image)
    return dest


def read_image_files(image: str | os.PathLike) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(relpath, chunks) for every file in the image, in sorted order, read with mtools.

    Each file streams from its own `mcopy ... -` so an 8 GB card needs no scratch space.
    Consume each file's chunks before moving on to the next.
    """
    for entry in image_listing(image):
        if not entry.is_dir:
            yield entry.path, _stream_file(Path(image), entry.path, entry.size)


def _stream_file(image: Path, path: str, size: int) -> Iterator[bytes]:
    args = _mtools_env_args() + [binary("mcopy"), "-n", "-i", _local(image), "::/" + path, "-"]
    timeout = 60 + size / COPY_BYTES_PER_SECOND
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=child_env())
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        while chunk := proc.stdout.read(CHUNK):
            yield chunk
        err = proc.stderr.read()
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    if code != 0:
        reason = err.decode("utf-8", "replace").strip().splitlines()
        raise InfopackError(f"{image}::{path}", f"reading from the image failed: "
                                                f"{reason[-1] if reason else 'stopped after ' + str(int(timeout)) + ' s'}")


# --------------------------------------------------------------------------- our own FAT reader

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

    @property
    def free_bytes(self) -> int:
        """Free space of a freshly formatted image (FAT32's root already holds one cluster)."""
        return (self.clusters - (1 if self.fat_bits == 32 else 0)) * self.cluster_bytes


def read_geometry(image: str | os.PathLike) -> Geometry:
    with open(image, "rb") as handle:
        boot = handle.read(SECTOR)
    if len(boot) < SECTOR or boot[510:512] != b"\x55\xaa":
        raise InfopackError(image, "is not a FAT image (no boot sector signature)")
    bps, spc, reserved, nfats, root_entries, total16, _, fat16 = struct.unpack_from("<HBHBHHBH", boot, 11)
    total32, fat32, = struct.unpack_from("<I", boot, 32)[0], struct.unpack_from("<I", boot, 36)[0]
    total = total16 or total32
    fat_sectors = fat16 or fat32
    root_sectors = -(-root_entries * 32 // bps)
    data_sector = reserved + nfats * fat_sectors + root_sectors
    clusters = (total - data_sector) // spc
    bits = 32 if fat16 == 0 else (12 if clusters < 4085 else 16)
    return Geometry(fat_bits=bits, bytes_per_sector=bps, cluster_bytes=bps * spc, fat_offset=reserved * bps,
                    fat_bytes=fat_sectors * bps, root_offset=(reserved + nfats * fat_sectors) * bps,
                    root_bytes=root_sectors * bps, data_offset=data_sector * bps, clusters=clusters,
                    root_cluster=struct.unpack_from("<I", boot, 44)[0] if bits == 32 else 0,
                    volume_id=struct.unpack_from("<I", boot, 67 if bits == 32 else 39)[0])


def image_listing(image: str | os.PathLike) -> list[ImageEntry]:
    """Every folder and file in a FAT16/32 image, by long name, sorted by path."""
    geo = read_geometry(image)
    if geo.fat_bits == 12:
        raise InfopackError(image, "FAT12 images are not supported")
    entries: list[ImageEntry] = []
    with open(image, "rb") as handle:
        fat = _read_at(handle, geo.fat_offset, geo.fat_bytes)
        reader = _DirReader(handle, geo, fat)
        root = (reader.chain_bytes(geo.root_cluster) if geo.fat_bits == 32
                else _read_at(handle, geo.root_offset, geo.root_bytes))
        pending = [("", root)]
        while pending:
            prefix, raw = pending.pop()
            for name, is_dir, first, size in _dir_entries(raw):
                path = prefix + name
                entries.append(ImageEntry(path, 0 if is_dir else size, is_dir))
                if is_dir:
                    pending.append((path + "/", reader.chain_bytes(first)))
    return sorted(entries, key=lambda e: e.path)


def _read_at(handle, offset: int, length: int) -> bytes:
    handle.seek(offset)
    return handle.read(length)


class _DirReader:
    def __init__(self, handle, geo: Geometry, fat: bytes):
        self.handle, self.geo, self.fat = handle, geo, fat

    def next_cluster(self, cluster: int) -> int:
        if self.geo.fat_bits == 32:
            return struct.unpack_from("<I", self.fat, cluster * 4)[0] & 0x0FFFFFFF
        return struct.unpack_from("<H", self.fat, cluster * 2)[0]

    def chain_bytes(self, cluster: int) -> bytes:
        end = 0x0FFFFFF8 if self.geo.fat_bits == 32 else 0xFFF8
        parts, seen = [], set()
        while 2 <= cluster < end and cluster not in seen:
            seen.add(cluster)
            parts.append(_read_at(self.handle, self.geo.data_offset + (cluster - 2) * self.geo.cluster_bytes,
                                  self.geo.cluster_bytes))
            cluster = self.next_cluster(cluster)
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
