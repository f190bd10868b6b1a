"""FAT images of a card folder, built without root or mounting, byte for byte reproducible.

`mkfs.fat` formats a sparse file and mtools copies the folder in; both are told the time
(SOURCE_DATE_EPOCH, TZ=UTC) so every timestamp is 2000-01-01 00:00, folders are created and
files copied in sorted order, and the volume id is derived from the content. Two builds of
the same folder are therefore identical, and nothing on the image dates it or names us.

Layouts (`layout=`):
- `mbr` (the default): an MBR partition table (see `infopack.fat.mbr`) and one FAT32
  partition from 4 MiB (the SDHC erase-block boundary) to the end of the image, its boot
  sector's hidden-sectors field set to that start. This is how every SD card leaves the
  factory, so a card written with the image looks like any other card, and it is what
  players, TVs and Windows expect on removable media (some show a card without a
  partition table as empty or offer to format it). The file system is built in a sparse
  file of its own (so mtools and fsck.fat work on it unchanged) and then copied into place;
  building needs room for that second copy until it is done.
- `superfloppy`: the bare file system from sector 0, with no partition table. Use it to
  write the image into an existing partition (`dd of=/dev/sdX1`) rather than the whole card.

A card-sized image of either layout has the card type's usable bytes free inside its file
system, so an `mbr` image is 4 MiB larger. `image_problems` says before any encoding when
a card type cannot be formatted at all (too few clusters for FAT32, too many or too few
for FAT16).

Reading back goes through mtools (`read_image_files`, `extract_image`; `image@@offset` for
a partition); `image_listing` walks the directory tree with our own reader
(`infopack.fat.reader`), so a listing check does not rely on the program that wrote the image.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from infopack.fat.catalog import FAT32_MIN_CLUSTERS, CardType
from infopack.fat.cost import card_cost
from infopack.fat.mbr import HEADS, PARTITION_START, SECTOR, SECTORS_PER_TRACK, filesystem_offset, mbr_sector
from infopack.fat.names import check_card_paths
from infopack.fat.reader import image_listing, read_geometry
from infopack.fat.residue import data_extents, image_residue
from infopack.cardtime import CARD_EPOCH
from infopack.checks import ERROR
from infopack.errors import InfopackError, UsageError
from infopack.tools import binary, child_env, run

LABEL = "NO NAME"                    # what an unlabelled card says: nothing identifying
MKFS_RESERVED_SECTORS = 32           # mkfs.fat's default for FAT32 (FAT16 uses fewer)
CHUNK = 1 << 20
ARGS_PER_CALL = 200                  # keep mtools command lines well below the OS limit
COPY_BYTES_PER_SECOND = 20 * 10**6   # a slow disk; timeouts are generous multiples of this
LAYOUTS = ("mbr", "superfloppy")
DEFAULT_LAYOUT = "mbr"
FAT16_MIN_CLUSTERS, FAT16_MAX_CLUSTERS = 4085, 65524     # fewer is FAT12, more is FAT32


# --------------------------------------------------------------------------- building

def filesystem_start(layout: str) -> int:
    """Bytes before the file system in an image of `layout`."""
    if layout not in LAYOUTS:
        raise UsageError(None, f"unknown image layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    return PARTITION_START if layout == "mbr" else 0


def image_size(card: CardType, layout: str = DEFAULT_LAYOUT) -> int:
    """Bytes of an image whose file system has `card.usable_bytes` of clusters free."""
    return filesystem_start(layout) + _filesystem_size(card)


def _filesystem_size(card: CardType) -> int:
    """Bytes of a file system whose free space holds `card.usable_bytes` of clusters.

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


def content_image_size(card_dir: str | os.PathLike, card: CardType, layout: str = DEFAULT_LAYOUT) -> int:
    """The smallest image (whole MiB) whose FAT32 holds the folder: `--image-size content`.

    FAT32 needs at least 65,525 clusters, so with the card's 32 KiB clusters no FAT32 is
    smaller than ~2 GiB. For smaller content the image uses smaller clusters (down to 512
    bytes: a 32 MiB floor), which every FAT32 reader handles; `build_image` picks the same
    cluster size from the size it is given. FAT16 is never chosen: the card types are FAT32
    for the players' sake, and a FAT16 root holds only 512 entries (a FAT16 card type gets
    its full card-sized image). An `mbr` image adds the 4 MiB before its partition. The
    image is still written to the card with `dd`; the rest of the card stays unused until
    reformatted.
    """
    start = filesystem_start(layout)
    _, files = _walk(Path(card_dir))
    if card.filesystem != "fat32":
        return image_size(card, layout)
    best = None
    for cluster in _cluster_choices(card):
        sized = replace(card, cluster_bytes=cluster)
        usable = max(_round_up(card_cost(files, sized), cluster), (FAT32_MIN_CLUSTERS + CLUSTER_SLACK) * cluster)
        size = _round_up(_filesystem_size(replace(sized, usable_bytes=usable)), CONTENT_SIZE_STEP)
        if _cluster_for(size, card, files) == cluster and (best is None or size < best):
            best = size
    return start + (best if best is not None else _filesystem_size(card))


def _smallest_fat32() -> int:
    """Bytes of the smallest file system `content_image_size` makes: FAT32's minimum of
    clusters, of one sector each."""
    tiny = CardType("smallest", (FAT32_MIN_CLUSTERS + CLUSTER_SLACK) * MIN_CLUSTER, MIN_CLUSTER, "fat32", 0)
    return _round_up(_filesystem_size(tiny), CONTENT_SIZE_STEP)


def _cluster_choices(card: CardType) -> list[int]:
    """Powers of two from the card's cluster size down to one sector, largest first."""
    choices, cluster = [], card.cluster_bytes
    while cluster >= MIN_CLUSTER:
        choices.append(cluster)
        cluster //= 2
    return choices


def _cluster_for(size: int, card: CardType, files: dict[str, int]) -> int:
    """The cluster size for a FAT32 file system of `size` bytes: the card's own when it is
    large enough, else the largest smaller one that still gives a valid FAT32 holding `files`."""
    if card.filesystem != "fat32":
        return card.cluster_bytes
    for cluster in _cluster_choices(card):
        free = _free_estimate(size, cluster)
        if _fat32_fits(size, cluster) and card_cost(files, replace(card, cluster_bytes=cluster)) <= free:
            return cluster
    return card.cluster_bytes


def _fat32_fits(size: int, cluster: int) -> bool:
    """True when a FAT32 of `size` bytes with `cluster`-byte clusters surely has enough clusters."""
    return _free_estimate(size, cluster) // cluster >= FAT32_MIN_CLUSTERS + CLUSTER_SLACK // 2


def _free_estimate(size: int, cluster: int) -> int:
    """Free bytes mkfs.fat leaves in a FAT32 of `size` (a little low: two FATs, reserved
    sectors, alignment, the root's cluster and a last partial track)."""
    overhead = MKFS_RESERVED_SECTORS * SECTOR + 64 * 1024 + 3 * cluster
    clusters = (size - overhead) // (cluster + 8)          # each cluster: its bytes + 4 in each FAT
    return max(0, (clusters - 2) * cluster)


def image_problems(card: CardType, layout: str = DEFAULT_LAYOUT, size: int | str | None = None) -> list[str]:
    """Why no image of `card` can be built, said before anything is encoded (empty: it can).

    `size` is what `build --image-size` asks for: None or "card" (card-sized), "content"
    (content-sized: only its floor is known before encoding), or a number of bytes. A FAT32
    needs at least 65,525 clusters: with fewer, readers (mtools too) take it for a FAT16
    whose root folder has no entries, and copying fails with "No directory slots". A FAT16
    needs 4,085 to 65,524 clusters.
    """
    if layout not in LAYOUTS:
        return [f"unknown image layout {layout!r}; use one of {', '.join(LAYOUTS)}"]
    if card.filesystem not in ("fat32", "fat16"):
        return [f"card type '{card.name}' is {card.filesystem}, and images are FAT32 or FAT16 only; "
                f"choose a FAT32 card type"]
    start = filesystem_start(layout)
    smallest = start + _smallest_fat32()
    if card.filesystem == "fat32" and size == "content":
        if smallest > card.nominal_bytes:
            return [f"card type '{card.name}' holds {card.nominal_bytes:,} bytes, but no FAT32 image is smaller "
                    f"than {smallest // 2**20} MiB ({FAT32_MIN_CLUSTERS:,} clusters at least); use a larger card type"]
        return []
    if size in (None, "card", "content"):
        what = (f"card type '{card.name}' ({card.usable_bytes:,} usable bytes in {card.cluster_bytes:,}-byte "
                f"clusters)")
        clusters = card.usable_bytes // card.cluster_bytes + 1
        if card.filesystem == "fat32" and clusters < FAT32_MIN_CLUSTERS:
            return [f"{what} gives about {clusters:,} clusters, and FAT32 needs at least {FAT32_MIN_CLUSTERS:,} "
                    f"(with fewer, readers take it for FAT16 with no room in its root folder); "
                    + _fat32_suggestion(card, smallest)]
    else:
        fs_size = int(size) - int(size) % SECTOR - start
        what = f"a {int(size):,}-byte {layout} image"
        if card.filesystem == "fat32":
            if fs_size <= 0 or not any(_fat32_fits(fs_size, c) for c in _cluster_choices(card)):
                return [f"{what} is too small for FAT32 ({FAT32_MIN_CLUSTERS:,} clusters at least): "
                        f"make it at least {smallest // 2**20} MiB"]
            return []
        clusters = _free_estimate(fs_size, card.cluster_bytes) // card.cluster_bytes
    if card.filesystem == "fat16" and clusters > FAT16_MAX_CLUSTERS:
        return [f"{what} gives about {clusters:,} clusters, and FAT16 holds at most {FAT16_MAX_CLUSTERS:,}; "
                f"use larger clusters or a FAT32 card type"]
    if card.filesystem == "fat16" and clusters < FAT16_MIN_CLUSTERS:
        return [f"{what} gives about {clusters:,} clusters, and below {FAT16_MIN_CLUSTERS:,} readers take it "
                f"for FAT12; use smaller clusters or a larger card type"]
    return []


def _fat32_suggestion(card: CardType, smallest: int) -> str:
    """What to do about a card type too small for FAT32 at its own cluster size."""
    options = []
    smaller = [c for c in _cluster_choices(card)[1:] if card.usable_bytes // c + 1 >= FAT32_MIN_CLUSTERS]
    if smaller:
        options.append(f"give the card type clusters of {smaller[0]:,} bytes or less")
    if smallest <= card.nominal_bytes:
        options.append("use --image-size content (it picks smaller clusters)")
    if not options:
        return f"no FAT32 image is smaller than {smallest // 2**20} MiB; use a larger card type"
    return ", ".join(options) + " or use a larger card type"


def build_image(card_dir: str | os.PathLike, image_path: str | os.PathLike, card: CardType,
                size: int | None = None, *, layout: str = DEFAULT_LAYOUT, volume_id: int | None = None,
                check: bool = True) -> Path:
    """Write a FAT image of `card_dir` to `image_path` in `layout`; returns the image path.

    `size` (of the whole image) defaults to `image_size(card, layout)`. The card type and
    size are checked first (`image_problems`), then the folder with the FAT rules (a name a
    player cannot read is refused here, not discovered on the card); with `check` the file
    system is checked with `fsck.fat -n` afterwards, and the whole image for anything but
    its files (`infopack.fat.residue`: free space, slack and the space outside the file
    system all zero, no deleted entry, the blank card's label).
    """
    source = Path(card_dir)
    target = Path(image_path)
    problems = image_problems(card, layout, size)
    if problems:
        raise UsageError(target, problems[0])
    dirs, files = _walk(source)
    _refuse_bad_paths(source, files, card)
    start = filesystem_start(layout)
    if size is None:
        size = image_size(card, layout)
    else:
        size -= size % SECTOR
        card = replace(card, cluster_bytes=_cluster_for(size - start, card, files))
    tmp = target.with_name(target.name + ".part")
    filesystem = target.with_name(target.name + ".fs.part") if start else tmp
    try:
        with open(filesystem, "wb") as handle:     # sparse: no blocks written for the empty space
            handle.truncate(size - start)
        _format(filesystem, card, _volume_id(files, card) if volume_id is None else volume_id, start // SECTOR)
        _check_room(filesystem, files, card)
        _make_dirs(filesystem, dirs)
        _copy_files(filesystem, source, files)
        if check:
            fsck_image(filesystem)
        if start:
            _write_partitioned(tmp, filesystem, size, start)
        if check:
            _refuse_residue(tmp, target)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        filesystem.unlink(missing_ok=True)
    return target


def image_digest(image: str | os.PathLike) -> tuple[int, str]:
    """(size, SHA-256) of an image, what the card manifest records: holes of a sparse image
    are hashed as the zeros they read as, without reading them."""
    digest = hashlib.sha256()
    zeros = memoryview(bytes(CHUNK))
    with open(image, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        position = 0
        for begin, end in [*data_extents(handle.fileno(), 0, size), (size, size)]:
            while position < begin:                      # a hole: zeros
                step = min(CHUNK, begin - position)
                digest.update(zeros[:step])
                position += step
            handle.seek(begin)
            while position < end:
                chunk = handle.read(min(CHUNK, end - position))
                if not chunk:
                    raise InfopackError(image, "changed size while it was hashed")
                digest.update(chunk)
                position += len(chunk)
    return size, digest.hexdigest()


def _write_partitioned(image: Path, filesystem: Path, size: int, start: int) -> None:
    """The MBR, zeros up to `start`, then the file system: sparse wherever it is empty."""
    with open(image, "wb") as out:
        out.truncate(size)
        out.write(mbr_sector(size // SECTOR, start // SECTOR))
        _copy_sparse(filesystem, 0, size - start, out, start)


def _copy_sparse(source: Path, offset: int, length: int, out, out_offset: int) -> None:
    """Copy `length` bytes of `source` from `offset` to `out` at `out_offset`, skipping holes
    and all-zero chunks (`out` must read as zeros there already)."""
    zeros = bytes(CHUNK)
    with open(source, "rb") as handle:
        for begin, end in data_extents(handle.fileno(), offset, offset + length):
            handle.seek(begin)
            position = begin
            while position < end:
                chunk = handle.read(min(CHUNK, end - position))
                if not chunk:
                    return
                if chunk != zeros[:len(chunk)]:
                    out.seek(out_offset + position - offset)
                    out.write(chunk)
                position += len(chunk)


def _refuse_residue(image: Path, target: Path) -> None:
    found = image_residue(image)
    if found:
        raise InfopackError(target, f"the new image holds more than its files ({found[0].check}: "
                                    f"{found[0].message}); this is a bug, please report it")


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


def _format(image: Path, card: CardType, volume_id: int, hidden_sectors: int) -> None:
    """mkfs.fat; inside a partition, the boot sector records the partition's start (hidden
    sectors) and the 255-head, 63-sector geometry its partition table uses."""
    fat = "32" if card.filesystem == "fat32" else "16"
    args = [binary("mkfs.fat"), "-F", fat, "-S", str(SECTOR), "-s", str(card.cluster_bytes // SECTOR),
            "--invariant", "-i", f"{volume_id & 0xFFFFFFFF:08x}", "-n", LABEL]
    if fat == "16":
        args += ["-r", "512"]
    if hidden_sectors:
        args += ["-h", str(hidden_sectors), "-g", f"{HEADS}/{SECTORS_PER_TRACK}"]
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
    geo = read_geometry(image)
    if card.filesystem == "fat32" and geo.clusters < FAT32_MIN_CLUSTERS:
        raise InfopackError(image, f"the image's FAT32 has only {geo.clusters:,} clusters and needs "
                                   f"{FAT32_MIN_CLUSTERS:,}; use a larger image or fewer files")
    free = geo.free_bytes
    needed = card_cost(files, card)
    if needed > free:
        raise InfopackError(image, f"the files take {needed:,} bytes but the image has room for {free:,}; "
                                   f"use a larger card type or fewer files")


def _make_dirs(image: Path, dirs: list[str]) -> None:
    # Sorted, so parents come before their children.
    for start in range(0, len(dirs), ARGS_PER_CALL):
        batch = ["::/" + d for d in dirs[start:start + ARGS_PER_CALL]]
        _mtools(["mmd", "-i", _mtools_image(image)] + batch, timeout=120, what="mmd", subject=image)


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
            _mtools(["mcopy", "-Q", "-i", _mtools_image(image)] + [str(source / p) for p in batch]
                    + [f"::/{folder}/" if folder else "::/"], timeout=seconds, what="mcopy", subject=image)


def fsck_image(image: str | os.PathLike) -> None:
    """Raise InfopackError unless `fsck.fat -n` (read-only) finds the image's file system clean.

    fsck.fat reads a file system from offset 0 only, so a partitioned image's file system is
    first copied (sparse) beside the image.
    """
    offset = filesystem_offset(image)
    if not offset:
        _fsck(Path(image), subject=image)
        return
    length = read_geometry(image).total_bytes
    with tempfile.TemporaryDirectory(prefix=".fsck-", dir=Path(image).absolute().parent) as tmp:
        alone = Path(tmp) / "filesystem"
        with open(alone, "wb") as out:
            out.truncate(length)
            _copy_sparse(Path(image), offset, length, out, 0)
        _fsck(alone, subject=image)


def _fsck(filesystem: Path, *, subject) -> None:
    proc = run([binary("fsck.fat"), "-n", _local(filesystem)], timeout=600, what="fsck.fat",
               subject=str(subject), check=False)
    output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    if proc.returncode != 0:
        lines = [ln.strip() for ln in output.splitlines() if ln.strip() and not ln.startswith("fsck.fat ")]
        raise InfopackError(subject, f"fsck.fat found problems: "
                                     f"{lines[0] if lines else 'exit ' + str(proc.returncode)}")


# --------------------------------------------------------------------------- mtools

def _mtools_env_args() -> list[str]:
    """`env` arguments that make mtools reproducible: fixed time, UTC, UTF-8 names, no user config."""
    return [binary("env"), "MTOOLS_SKIP_CHECK=1", f"SOURCE_DATE_EPOCH={CARD_EPOCH}", "TZ=UTC",
            "LC_ALL=C.UTF-8", "MTOOLSRC=/dev/null"]


def _mtools(args: list[str], *, timeout: float, what: str, subject) -> subprocess.CompletedProcess:
    return run(_mtools_env_args() + [binary(args[0])] + args[1:], timeout=timeout, what=what,
               subject=str(subject))


def _local(path: str | os.PathLike) -> str:
    """An absolute path, so no name can be read as an option or an mtools drive letter."""
    return str(Path(path).absolute())


def _mtools_image(image: str | os.PathLike) -> str:
    """The image as mtools' `-i` takes it: `path@@offset` when the file system is in a partition."""
    path = _local(image)
    if "@@" in path:
        raise InfopackError(image, "has '@@' in its path, which mtools reads as an offset; move or rename it")
    offset = filesystem_offset(image)
    return f"{path}@@{offset}" if offset else path


def extract_image(image: str | os.PathLike, dest_dir: str | os.PathLike) -> Path:
    """Copy every file out of the image into `dest_dir` (created if needed)."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    size = Path(image).stat().st_size
    _mtools(["mcopy", "-s", "-n", "-Q", "-i", _mtools_image(image), "::/", _local(dest) + "/"],
            timeout=120 + size / COPY_BYTES_PER_SECOND, what="mcopy (extract)", subject=image)
    return dest


def read_image_files(image: str | os.PathLike) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(relpath, chunks) for every file in the image, in sorted order, read with mtools.

    Each file streams from its own `mcopy ... -` so an 8 GB card needs no scratch space.
    Consume each file's chunks before moving on to the next.
    """
    source = _mtools_image(image)
    for entry in image_listing(image):
        if not entry.is_dir:
            yield entry.path, _stream_file(Path(image), source, entry.path, entry.size)


def _stream_file(image: Path, source: str, path: str, size: int) -> Iterator[bytes]:
    args = _mtools_env_args() + [binary("mcopy"), "-n", "-i", source, "::/" + path, "-"]
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
