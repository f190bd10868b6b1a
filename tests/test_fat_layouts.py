"""Image layouts: a partitioned (`mbr`) image as SD cards carry it, and the bare `superfloppy`.

Checked with the real tools: sfdisk/fdisk read the partition table, fsck.fat checks the
partition cut out of the image, mtools reads files back through `image@@offset`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
import subprocess

import pytest

from infopack.errors import InfopackError, UsageError
from infopack.fat.catalog import CardType, load_card
from infopack.fat.cost import card_cost
from infopack.fat.image import (
    build_image,
    content_image_size,
    extract_image,
    fsck_image,
    image_listing,
    image_problems,
    image_size,
    read_geometry,
    read_image_files,
)
from infopack.fat.mbr import filesystem_offset, is_fat_boot_sector, read_partitions
from infopack.fat.reader import FAT32_ENTRY_MASK, read_fat
from infopack.qa.verify import verify_target
from infopack.release.keys import load_public_key
from helpers import install_tiny_card, write_tree

# 64 MB card with 512-byte clusters: enough clusters for a valid FAT32, fast to build.
TEST_CARD = CardType("test64M", 60_000_000, 512, "fat32", 64_000_000)
START = 8192                                     # sectors: 4 MiB
SFDISK = shutil.which("sfdisk") or "/usr/sbin/sfdisk"          # util-linux; /usr/sbin is not on every PATH
FDISK = shutil.which("fdisk") or "/usr/sbin/fdisk"
MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C.UTF-8", "MTOOLSRC": "/dev/null"}

FILES = {
    "바다 이야기/바다 이야기 1화.mp4": os.urandom(70_000),
    "바다 이야기/바다 이야기 1화.srt": "1\n00:00:01,000 --> 00:00:02,000\n안녕하세요\n".encode("utf-8"),
    "바다 이야기/자막/긴 이름의 자막 파일 - 제 1부 (2001년 방송분) 최종본.smi": "<SAMI>안녕</SAMI>".encode("utf-8"),
    "사진/해 뜨는 바다.jpg": os.urandom(33_333),
    "노래/아침 노래.mp3": os.urandom(120_001),
    "빈 파일.txt": b"",
}
FOLDERS = {"바다 이야기", "바다 이야기/자막", "사진", "노래"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def card_dir(tmp_path_factory):
    return write_tree(tmp_path_factory.mktemp("card"), FILES)


@pytest.fixture(scope="module")
def images(card_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    return {layout: build_image(card_dir, folder / f"{layout}.img", TEST_CARD, layout=layout)
            for layout in ("mbr", "superfloppy")}


@pytest.fixture(scope="module")
def mbr_image(images):
    return images["mbr"]


def cut_partition(image, tmp_path):
    """The partition as a file of its own, the way `dd skip=8192` would cut it."""
    data = image.read_bytes()
    start, sectors = struct.unpack_from("<II", data, 446 + 8)
    alone = tmp_path / "partition.img"
    alone.write_bytes(data[start * 512:(start + sectors) * 512])
    return alone


def sfdisk_sector0(tmp_path, size: int) -> bytes:
    """What util-linux's sfdisk writes for one FAT32 LBA partition from sector 8192, signature 0."""
    blank = tmp_path / "sfdisk.img"
    with open(blank, "wb") as handle:
        handle.truncate(size)
    subprocess.run([SFDISK, "-q", str(blank)], input=b"label: dos\nlabel-id: 0x00000000\nstart=8192, type=c\n",
                   check=True, capture_output=True, timeout=60)
    with open(blank, "rb") as handle:
        return handle.read(512)


# --------------------------------------------------------------------------- the partition table

def test_mbr_holds_one_fat32_lba_partition_from_4_mib_to_the_end(mbr_image):
    data = mbr_image.read_bytes()
    sectors = len(data) // 512
    assert data[:440] == bytes(440)                                  # no boot code
    assert data[440:446] == bytes(6)                                 # disk signature 0, reserved 0
    assert data[510:512] == b"\x55\xaa"
    status, first_chs, kind, last_chs, start, size = struct.unpack_from("<B3sB3sII", data, 446)
    assert (status, kind, start, size) == (0x00, 0x0C, START, sectors - START)
    assert first_chs == bytes((130, 3, 0))                          # LBA 8192 = cylinder 0, head 130, sector 3
    cylinder, rest = divmod(sectors - 1, 255 * 63)
    assert last_chs == bytes((rest // 63, rest % 63 + 1 | (cylinder >> 2 & 0xC0), cylinder & 0xFF))
    assert data[462:510] == bytes(48)                                # the other three entries are empty
    assert data[512:START * 512] == bytes(START * 512 - 512)        # nothing between the MBR and the partition


def test_sfdisk_and_fdisk_read_the_same_table(mbr_image):
    size = mbr_image.stat().st_size
    dump = subprocess.run([SFDISK, "--dump", str(mbr_image)], capture_output=True, check=True,
                          timeout=60).stdout.decode()
    assert "label: dos" in dump and "label-id: 0x00000000" in dump
    parts = re.findall(r"start=\s*(\d+), size=\s*(\d+), type=(\w+)", dump)
    assert parts == [(str(START), str(size // 512 - START), "c")]
    listing = subprocess.run([FDISK, "-l", str(mbr_image)], capture_output=True, check=True,
                             timeout=60, env={**os.environ, "LC_ALL": "C"}).stdout.decode()
    assert "W95 FAT32 (LBA)" in listing and "Disk identifier: 0x00000000" in listing


@pytest.mark.parametrize("name", ["8GB", "16GB"])
def test_sector0_is_what_sfdisk_writes_for_the_same_partition(name, tmp_path):
    """Card-sized images of an 8 GB card (CHS still addresses its end) and a 16 GB card
    (ends past CHS: FE FF FF) carry byte for byte the sector sfdisk writes."""
    empty = tmp_path / "empty"
    empty.mkdir()
    card = load_card(name)
    image = build_image(empty, tmp_path / "card.img", card, layout="mbr")
    with open(image, "rb") as handle:
        ours = handle.read(512)
    assert ours == sfdisk_sector0(tmp_path, image.stat().st_size)
    assert (ours[451:454] == b"\xfe\xff\xff") == (name == "16GB")      # the last sector's CHS
    geo = read_geometry(image)
    assert geo.offset == START * 512 and geo.free_bytes >= card.usable_bytes


def test_hidden_sectors_and_geometry_of_the_file_system_match_its_partition(mbr_image):
    with open(mbr_image, "rb") as handle:
        handle.seek(START * 512)
        boot = handle.read(512)
    sectors_per_track, heads, hidden = struct.unpack_from("<HHI", boot, 24)
    assert (sectors_per_track, heads, hidden) == (63, 255, START)
    assert boot[3:11] == b"MSWIN4.1" and boot[71:82] == b"NO NAME    "
    geo = read_geometry(mbr_image)
    assert geo.hidden_sectors == START and geo.offset == START * 512
    assert geo.offset + geo.total_bytes <= mbr_image.stat().st_size


# --------------------------------------------------------------------------- the file system inside

def test_the_partition_passes_fsck(mbr_image, tmp_path):
    alone = cut_partition(mbr_image, tmp_path)
    proc = subprocess.run(["fsck.fat", "-n", str(alone)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(FILES) + len(FOLDERS)} files".encode() in proc.stdout
    fsck_image(mbr_image)                                            # our wrapper finds it clean too


def test_fsck_image_reports_a_damaged_partition(mbr_image, tmp_path):
    broken = tmp_path / "broken.img"
    data = bytearray(mbr_image.read_bytes())
    geo = read_geometry(mbr_image)
    data[geo.fat_offset + 4 * 3: geo.fat_offset + 4 * 3 + 4] = b"\0\0\0\0"   # cut the root's chain
    broken.write_bytes(bytes(data))
    with pytest.raises(InfopackError, match="fsck.fat found problems"):
        fsck_image(broken)


def test_mtools_reads_every_file_back_byte_for_byte(mbr_image):
    for rel, data in FILES.items():
        out = subprocess.run(["mcopy", "-n", "-i", f"{mbr_image}@@{START * 512}", f"::/{rel}", "-"],
                             capture_output=True, check=True, timeout=60, env=MTOOLS_ENV).stdout
        assert sha(out) == sha(data), rel
    assert {p: sha(b"".join(c)) for p, c in read_image_files(mbr_image)} == {r: sha(d) for r, d in FILES.items()}


def test_extract_image_gives_the_same_tree(mbr_image, tmp_path):
    out = extract_image(mbr_image, tmp_path / "out")
    got = {p.relative_to(out).as_posix(): sha(p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    assert got == {rel: sha(data) for rel, data in FILES.items()}


def test_image_listing_is_the_same_for_both_layouts(images):
    listings = {layout: image_listing(image) for layout, image in images.items()}
    paths = {e.path for e in listings["mbr"]}
    assert paths == set(FILES) | FOLDERS
    assert [(e.path, e.size, e.is_dir) for e in listings["mbr"]] == \
           [(e.path, e.size, e.is_dir) for e in listings["superfloppy"]]
    sizes = {e.path: e.size for e in listings["mbr"] if not e.is_dir}
    assert sizes == {rel: len(data) for rel, data in FILES.items()}


def test_two_builds_are_byte_identical(card_dir, mbr_image, tmp_path):
    os.utime(card_dir / "빈 파일.txt", (1_700_000_000, 1_700_000_000))   # source times do not matter
    again = build_image(card_dir, tmp_path / "again.img", TEST_CARD, layout="mbr")
    assert subprocess.run(["cmp", str(mbr_image), str(again)], timeout=60).returncode == 0


def test_images_are_sparse_and_leave_no_part_files(mbr_image):
    assert mbr_image.stat().st_blocks * 512 < 8 * 2**20
    assert sorted(p.name for p in mbr_image.parent.iterdir()) == ["mbr.img", "superfloppy.img"]


@pytest.mark.parametrize("layout", ["mbr", "superfloppy"])
def test_every_free_byte_is_zero(images, layout):
    """Free clusters, the slack after each file's end, the gap before the partition and the
    sectors after the file system's end hold nothing but zeros."""
    image = images[layout]
    data = image.read_bytes()
    geo = read_geometry(image)
    fat = read_fat(image, geo)
    free = [n for n in range(2, geo.clusters + 2) if fat[n] & FAT32_ENTRY_MASK == 0]
    assert len(free) * geo.cluster_bytes >= TEST_CARD.usable_bytes - card_cost(
        {rel: len(d) for rel, d in FILES.items()}, TEST_CARD)
    for n in free:
        assert not data[geo.cluster_offset(n):geo.cluster_offset(n) + geo.cluster_bytes].strip(b"\0"), n
    for entry in image_listing(image):
        if entry.is_dir or not entry.size:
            continue
        chain = [entry.first_cluster]
        while fat[chain[-1]] & FAT32_ENTRY_MASK < 0x0FFFFFF8:
            chain.append(fat[chain[-1]] & FAT32_ENTRY_MASK)
        assert len(chain) == -(-entry.size // geo.cluster_bytes)
        used = entry.size - (len(chain) - 1) * geo.cluster_bytes
        last = geo.cluster_offset(chain[-1])
        assert not data[last + used:last + geo.cluster_bytes].strip(b"\0"), entry.path
    assert not data[512:geo.offset].strip(b"\0")
    assert not data[geo.offset + geo.total_bytes:].strip(b"\0")


# --------------------------------------------------------------------------- sizes

def test_card_sized_mbr_image_is_4_mib_larger_with_the_same_free_space(tmp_path):
    card = load_card("1GB")
    assert image_size(card, "mbr") == image_size(card, "superfloppy") + 4 * 2**20
    assert image_size(card) == image_size(card, "mbr")                   # mbr is the default
    empty = tmp_path / "empty"
    empty.mkdir()
    for layout in ("mbr", "superfloppy"):
        image = build_image(empty, tmp_path / f"{layout}.img", card, layout=layout)
        geo = read_geometry(image)
        assert image.stat().st_size == image_size(card, layout)
        assert card.usable_bytes <= geo.free_bytes <= card.usable_bytes + 2**20
        assert geo.cluster_bytes == card.cluster_bytes and geo.fat_bits == 32


@pytest.mark.parametrize("layout", ["mbr", "superfloppy"])
def test_content_sized_images_hold_the_folder(layout, card_dir, tmp_path):
    card = load_card("8GB")
    size = content_image_size(card_dir, card, layout)
    assert size == content_image_size(card_dir, card, "superfloppy") + (4 * 2**20 if layout == "mbr" else 0)
    assert size % 2**20 == 0 and size <= 44 * 2**20
    image = build_image(card_dir, tmp_path / "card.img", card, size=size, layout=layout)
    assert image.stat().st_size == size
    geo = read_geometry(image)
    assert geo.offset == (START * 512 if layout == "mbr" else 0) and geo.fat_bits == 32
    assert geo.free_bytes >= card_cost({r: len(d) for r, d in FILES.items()}, card)
    fsck_image(image)
    assert {p: sha(b"".join(c)) for p, c in read_image_files(image)} == {r: sha(d) for r, d in FILES.items()}


# --------------------------------------------------------------------------- telling layouts apart

def test_filesystem_offset_tells_a_boot_sector_from_a_partition_table(images, tmp_path):
    assert filesystem_offset(images["superfloppy"]) == 0
    assert filesystem_offset(images["mbr"]) == START * 512
    # mkfs.fat --mbr writes a partition table into the FAT boot sector itself: still offset 0.
    fake = tmp_path / "fake-mbr.img"
    with open(fake, "wb") as handle:
        handle.truncate(40 * 2**20)
    subprocess.run(["mkfs.fat", "-F", "32", "-s", "1", "--mbr=y", "--invariant", str(fake)],
                   check=True, capture_output=True, timeout=60)
    sector = fake.read_bytes()[:512]
    assert read_partitions(sector) and is_fat_boot_sector(sector)
    assert filesystem_offset(fake) == 0


@pytest.mark.parametrize("damage", ["no-signature", "outside", "not-fat", "no-boot-sector"])
def test_a_damaged_or_foreign_table_is_not_a_fat_image(mbr_image, tmp_path, damage):
    data = bytearray(mbr_image.read_bytes())
    if damage == "no-signature":
        data[510:512] = b"\0\0"
    elif damage == "outside":
        struct.pack_into("<I", data, 446 + 12, len(data) // 512)        # ends past the image
    elif damage == "not-fat":
        data[446 + 4] = 0x83                                             # a Linux partition
    else:
        data[START * 512:START * 512 + 512] = bytes(512)
    bad = tmp_path / "bad.img"
    bad.write_bytes(bytes(data))
    with pytest.raises(InfopackError, match="is not a FAT image"):
        image_listing(bad)


def test_image_paths_with_double_at_are_refused_for_mtools(mbr_image, tmp_path):
    odd = tmp_path / "a@@b"
    odd.mkdir()
    (odd / "card.img").write_bytes(mbr_image.read_bytes())
    with pytest.raises(InfopackError, match="'@@'"):
        extract_image(odd / "card.img", tmp_path / "out")


# --------------------------------------------------------------------------- refused up front

@pytest.fixture
def tiny_card(monkeypatch, tmp_path):
    """A measured card type far too small for FAT32."""
    return load_card(install_tiny_card(monkeypatch, tmp_path / "cards"))


@pytest.mark.parametrize("layout", ["mbr", "superfloppy"])
def test_a_card_type_too_small_for_fat32_is_refused_before_building(tiny_card, card_dir, tmp_path, layout):
    problems = image_problems(tiny_card, layout)
    assert len(problems) == 1
    assert "'tiny'" in problems[0] and "161 clusters" in problems[0] and "65,525" in problems[0]
    assert "larger card type" in problems[0] and "--image-size content" not in problems[0]
    content = image_problems(tiny_card, layout, "content")
    assert len(content) == 1 and "700,000 bytes" in content[0] and "larger card type" in content[0]
    with pytest.raises(UsageError, match="65,525"):
        build_image(card_dir, tmp_path / "tiny.img", tiny_card, layout=layout)
    assert not list(tmp_path.glob("tiny.img*"))


def test_smaller_clusters_or_content_size_are_suggested_when_they_would_work(card_dir, tmp_path):
    card = CardType("small", 40_000_000, 4096, "fat32", 42_000_000)
    [problem] = image_problems(card, "mbr")
    assert "9,766 clusters" in problem
    assert "clusters of 512 bytes or less" in problem and "--image-size content" in problem
    assert image_problems(card, "mbr", "content") == []
    assert image_problems(CardType("small", 40_000_000, 512, "fat32", 42_000_000), "mbr") == []
    size = content_image_size(card_dir, card, "mbr")
    image = build_image(card_dir, tmp_path / "small.img", card, size=size, layout="mbr")
    assert read_geometry(image).cluster_bytes == 512


def test_explicit_sizes_and_other_file_systems_are_checked(tmp_path):
    assert "too small for FAT32" in image_problems(TEST_CARD, "superfloppy", 20 * 2**20)[0]
    assert "too small for FAT32" in image_problems(TEST_CARD, "mbr", 4 * 2**20)[0]
    assert image_problems(TEST_CARD, "mbr", 64 * 2**20) == []
    assert "FAT32 card type" in image_problems(load_card("64GB", filesystem="exfat"))[0]
    assert "at most 65,524" in image_problems(CardType("f16", 300_000_000, 2048, "fat16", 320_000_000))[0]
    assert "FAT12" in image_problems(CardType("f12", 3_000_000, 2048, "fat16", 3_200_000))[0]
    assert "unknown image layout" in image_problems(TEST_CARD, "gpt")[0]
    with pytest.raises(UsageError, match="unknown image layout"):
        image_size(TEST_CARD, "gpt")


@pytest.mark.parametrize("layout", ["mbr", "superfloppy"])
def test_every_catalog_class_can_be_imaged(layout):
    for name in ["1GB", "2GB", "4GB", "8GB", "16GB", "32GB", "64GB", "128GB"]:
        assert image_problems(load_card(name), layout) == []
        assert image_problems(load_card(name), layout, "content") == []
    assert image_problems(load_card("1GB", filesystem="fat16"), layout) == []


# --------------------------------------------------------------------------- verify

def test_verify_passes_on_an_mbr_image_of_a_real_build(built, keys_dir, tmp_path):
    image = build_image(built / "card-01", tmp_path / "card-01.img", TEST_CARD, layout="mbr")
    assert filesystem_offset(image) == START * 512
    report = verify_target(image, built / "card-01.manifest.json", load_public_key(keys_dir / "curator.pub"))
    assert report.ok, [f.to_dict() for f in report.findings]
    assert report.image and report.files == 8
