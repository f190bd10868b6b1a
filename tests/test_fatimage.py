"""FAT images: clean for fsck, files read back byte for byte, two builds identical.

The module's image is a superfloppy (the file system from sector 0), so fsck.fat and mtools
read it directly; tests/test_fat_layouts.py covers partitioned (`mbr`) images.
"""

import hashlib
import os
import subprocess

import pytest

from infopack.fat.catalog import CardType, load_card
from infopack.errors import InfopackError
from infopack.fat.image import (
    build_image,
    extract_image,
    fsck_image,
    image_listing,
    image_size,
    read_geometry,
    read_image_files,
)
from helpers import write_tree

# 64 MB card with 512-byte clusters: enough clusters for a valid FAT32, fast to build.
TEST_CARD = CardType("test64M", 60_000_000, 512, "fat32", 64_000_000)
MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C.UTF-8"}

FILES = {
    "바다 이야기/바다 이야기 1화.mp4": os.urandom(70_000),
    "바다 이야기/바다 이야기 2화.smi": "<SAMI>안녕</SAMI>".encode("utf-8"),
    "바다 이야기/자막/긴 이름의 자막 파일 - 제 1부 (2001년 방송분) 최종본.srt": b"1\n00:00:01,000 --> 00:00:02,000\nx\n",
    "Films/A Film (1999).avi": os.urandom(200_001),
    "README.TXT": b"read me\n",
    "empty.txt": b"",
    "docs/a/b/c/deep.txt": b"deep",
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def card_dir(tmp_path_factory):
    return write_tree(tmp_path_factory.mktemp("card"), FILES)


@pytest.fixture(scope="module")
def image(card_dir, tmp_path_factory):
    return build_image(card_dir, tmp_path_factory.mktemp("img") / "card.img", TEST_CARD, layout="superfloppy")


def test_image_passes_fsck(image):
    proc = subprocess.run(["fsck.fat", "-n", str(image)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folders = {rel.rsplit("/", n)[0] for rel in FILES for n in range(1, rel.count("/") + 1)}
    assert f"{len(FILES) + len(folders)} files".encode() in proc.stdout


def test_files_read_back_with_mtools_match_the_source(image):
    read = {path: sha(b"".join(chunks)) for path, chunks in read_image_files(image)}
    assert read == {rel: sha(data) for rel, data in FILES.items()}


def test_extract_image_gives_the_same_tree(image, tmp_path):
    out = extract_image(image, tmp_path / "out")
    got = {p.relative_to(out).as_posix(): sha(p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    assert got == {rel: sha(data) for rel, data in FILES.items()}


def test_hangul_long_names_survive_for_mtools_and_our_reader(image):
    listing = {e.path for e in image_listing(image) if not e.is_dir}
    assert listing == set(FILES)
    proc = subprocess.run(["mdir", "-/", "-b", "-i", str(image), "::/"], capture_output=True,
                          env=MTOOLS_ENV, timeout=60)
    names = {line.removeprefix("::/") for line in proc.stdout.decode("utf-8").splitlines()
             if not line.endswith("/")}
    assert names == set(FILES)
    assert "바다 이야기/자막/긴 이름의 자막 파일 - 제 1부 (2001년 방송분) 최종본.srt" in names


def test_listing_gives_sizes_and_folders(image):
    entries = {e.path: e for e in image_listing(image)}
    assert entries["Films/A Film (1999).avi"].size == 200_001
    assert entries["docs/a/b/c"].is_dir and entries["empty.txt"].size == 0


def test_two_builds_are_byte_identical(card_dir, image, tmp_path):
    os.utime(card_dir / "README.TXT", (1_700_000_000, 1_700_000_000))   # source times do not matter
    again = build_image(card_dir, tmp_path / "again.img", TEST_CARD, layout="superfloppy")
    assert subprocess.run(["cmp", str(image), str(again)], timeout=60).returncode == 0


def test_timestamps_label_and_volume_id_identify_nothing(image):
    geo = read_geometry(image)
    data = image.read_bytes()
    boot = data[:512]
    assert boot[71:82] == b"NO NAME    "
    assert b"infopack" not in data.lower()
    # Every directory entry carries 2000-01-01 00:00 (date 0x2821, time 0).
    proc = subprocess.run(["mdir", "-/", "-a", "-i", str(image), "::/"], capture_output=True,
                          env=MTOOLS_ENV, timeout=60)
    assert "2000-01-01" in proc.stdout.decode() and "20" + "26" not in proc.stdout.decode()
    assert geo.volume_id != 0x1234ABCD                              # not mkfs.fat's --invariant constant


def test_volume_id_depends_on_content(card_dir, tmp_path):
    other = tmp_path / "other"
    (other / "x").mkdir(parents=True)
    (other / "x" / "a.mp4").write_bytes(b"a")
    a = read_geometry(build_image(other, tmp_path / "a.img", TEST_CARD)).volume_id
    (other / "x" / "b.mp4").write_bytes(b"b")
    b = read_geometry(build_image(other, tmp_path / "b.img", TEST_CARD)).volume_id
    assert a != b


@pytest.mark.parametrize("name", ["1GB", "2GB", "4GB", "8GB", "16GB", "32GB", "64GB", "128GB"])
def test_default_image_size_has_room_for_the_usable_bytes(name, tmp_path):
    card = load_card(name)
    empty = tmp_path / "empty"
    empty.mkdir()
    image = build_image(empty, tmp_path / f"{name}.img", card)
    geo = read_geometry(image)
    assert geo.cluster_bytes == card.cluster_bytes and geo.fat_bits == 32
    assert card.usable_bytes <= geo.free_bytes <= card.usable_bytes + 2**20 + 4 * card.cluster_bytes
    assert image.stat().st_size == image_size(card)
    assert image.stat().st_blocks * 512 < 64 * 2**20                 # sparse on disk


def test_fat16_image(card_dir, tmp_path):
    card = CardType("fat16", 30_000_000, 2048, "fat16", 32_000_000)
    image = build_image(card_dir, tmp_path / "f16.img", card)
    assert read_geometry(image).fat_bits == 16
    assert {p: sha(b"".join(c)) for p, c in read_image_files(image)} == {r: sha(d) for r, d in FILES.items()}


def test_bad_names_are_refused_before_building(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "CON.mp4").write_bytes(b"x")
    with pytest.raises(InfopackError, match="reserved device name"):
        build_image(src, tmp_path / "x.img", TEST_CARD)
    assert not (tmp_path / "x.img").exists() and not (tmp_path / "x.img.part").exists()


def test_links_are_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "link.mp4").symlink_to("/etc/passwd")
    with pytest.raises(InfopackError, match="link or special file"):
        build_image(src, tmp_path / "x.img", TEST_CARD)


def test_content_larger_than_the_image_is_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "big.bin", "wb") as handle:        # 50 MB, sparse on disk
        handle.truncate(50_000_000)
    with pytest.raises(InfopackError, match="room for"):
        build_image(src, tmp_path / "x.img", TEST_CARD, size=40 * 2**20)


def test_exfat_cards_are_refused_with_a_hint(tmp_path):
    with pytest.raises(InfopackError, match="FAT32"):
        build_image(tmp_path, tmp_path / "x.img", load_card("64GB", filesystem="exfat"))


def test_fsck_reports_a_damaged_image(image, tmp_path):
    broken = tmp_path / "broken.img"
    data = bytearray(image.read_bytes())
    geo = read_geometry(image)
    data[geo.fat_offset + 4 * 3: geo.fat_offset + 4 * 3 + 4] = b"\0\0\0\0"   # cut a cluster chain
    broken.write_bytes(bytes(data))
    with pytest.raises(InfopackError, match="fsck.fat found problems"):
        fsck_image(broken)
