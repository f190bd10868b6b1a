"""`--image-size content`: the smallest valid FAT32 image that holds the card folder."""

from __future__ import annotations

import hashlib
import os

import pytest

from infopack.fat.catalog import FAT32_MIN_CLUSTERS, load_card
from infopack.errors import InfopackError
from infopack.fat.image import (
    build_image,
    content_image_size,
    fsck_image,
    image_size,
    read_geometry,
    read_image_files,
)
from helpers import write_tree

FILES = {
    "영상/바다 이야기 1화.mp4": os.urandom(300_000),
    "영상/바다 이야기 1화.srt": "1\n00:00:01,000 --> 00:00:02,000\n안녕\n".encode("utf-8"),
    "사진/해 뜨는 바다.jpg": os.urandom(70_001),
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def card_dir(tmp_path_factory):
    return write_tree(tmp_path_factory.mktemp("content"), FILES)


@pytest.mark.parametrize("name", ["1GB", "8GB", "64GB"])
def test_small_content_gives_a_small_valid_fat32_image(name, card_dir, tmp_path):
    card = load_card(name)
    size = content_image_size(card_dir, card)
    assert size % 2**20 == 0 and size <= 40 * 2**20 < image_size(card) / 20
    image = build_image(card_dir, tmp_path / "card.img", card, size=size)
    assert image.stat().st_size == size
    geo = read_geometry(image)
    assert geo.fat_bits == 32 and geo.clusters >= FAT32_MIN_CLUSTERS
    fsck_image(image)
    assert {p: sha(b"".join(c)) for p, c in read_image_files(image)} == {r: sha(d) for r, d in FILES.items()}


def test_content_images_are_deterministic(card_dir, tmp_path):
    card = load_card("8GB")
    size = content_image_size(card_dir, card)
    assert content_image_size(card_dir, card) == size
    first = build_image(card_dir, tmp_path / "a.img", card, size=size).read_bytes()
    second = build_image(card_dir, tmp_path / "b.img", card, size=size).read_bytes()
    assert first == second


def test_larger_content_gets_larger_clusters_and_still_just_fits(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "film.bin", "wb") as handle:       # 80 MB, sparse on disk
        handle.truncate(80 * 10**6)
    card = load_card("8GB")
    size = content_image_size(src, card)
    assert 80 * 10**6 < size < 90 * 10**6
    image = build_image(src, tmp_path / "film.img", card, size=size)
    geo = read_geometry(image)
    assert geo.fat_bits == 32 and geo.clusters >= FAT32_MIN_CLUSTERS and geo.cluster_bytes > 512
    assert 80 * 10**6 <= geo.free_bytes < 80 * 10**6 + 2**20 + 64 * geo.cluster_bytes
    # one MiB less and it no longer holds the content
    with pytest.raises(InfopackError, match="room for|clusters"):
        build_image(src, tmp_path / "small.img", card, size=size - 2**20 * 2)
