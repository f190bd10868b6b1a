"""Bytes on a card: cluster rounding of files and folders, directory entries, the tally."""

import struct

from hypothesis import given, settings, strategies as st

from infopack.fat.cost import CardTally, card_cost, cluster_rounded_size, dir_entry_bytes
from infopack.fat.catalog import CardType
from infopack.fat.image import build_image, read_geometry

CARD = CardType("test", 100_000_000, 4096, "fat32", 128_000_000)


def test_cluster_rounding():
    assert cluster_rounded_size(0, 4096) == 0
    assert cluster_rounded_size(1, 4096) == 4096
    assert cluster_rounded_size(4096, 4096) == 4096
    assert cluster_rounded_size(4097, 32768) == 32768
    assert cluster_rounded_size(2**32 - 2, 32768) == 2**32


def test_dir_entries_short_and_long_names():
    assert dir_entry_bytes("README.TXT") == 32                  # plain 8.3: no long name
    assert dir_entry_bytes("readme.txt") == 64                  # lower case: counted as long (safe side)
    assert dir_entry_bytes("a" * 13) == 64
    assert dir_entry_bytes("a" * 14) == 96
    assert dir_entry_bytes("바다 이야기 1화.mp4") == 32 + 32       # 13 UTF-16 units: one long entry
    assert dir_entry_bytes("바다 이야기 12화.mp4") == 32 + 2 * 32
    assert dir_entry_bytes("x" * 255) == 32 * (1 + 20)
    assert dir_entry_bytes("😀" * 7) == 64 + 32                  # 14 UTF-16 units
    assert dir_entry_bytes("a" * 15, "exfat") == 96 and dir_entry_bytes("a" * 16, "exfat") == 128


def test_card_cost_counts_files_and_folder_clusters():
    files = {"a/b.mp4": 100, "a/c.mp4": 4097, "top.mp4": 0}
    # 1 + 2 clusters of data, 1 cluster for folder "a"; the root fits its first cluster.
    assert card_cost(files, CARD) == 4 * 4096


def test_a_folder_with_many_long_names_takes_more_clusters():
    files = {f"shows/episode with a long name {n:03d}.mp4": 1 for n in range(100)}
    entry = dir_entry_bytes("episode with a long name 000.mp4")          # 4 entries = 128 bytes
    folder = cluster_rounded_size(64 + 100 * entry, 4096)                # "." and ".." too
    assert card_cost(files, CARD) == 100 * 4096 + folder
    assert folder == 4 * 4096


def test_root_beyond_its_first_cluster_costs_clusters():
    files = {f"root file number {n:03d}.mp4": 0 for n in range(50)}     # 50 * 96 + 32 > 4096
    assert card_cost(files, CARD) == 4096


paths = st.lists(st.text("abcD", min_size=1, max_size=3), min_size=1, max_size=3).map("/".join)
file_sets = st.dictionaries(paths, st.integers(0, 50_000), max_size=25)


@given(file_sets, st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_tally_in_any_order_equals_card_cost(files, rnd):
    """Packing relies on the tally: adding and removing in any order must give card_cost."""
    files = {p: s for p, s in files.items() if not any(q.startswith(p + "/") for q in files)}
    keys = list(files)
    rnd.shuffle(keys)
    half = keys[: len(keys) // 2]
    tally = CardTally(CARD)
    for key in keys:
        tally.add({key: files[key]})
    for key in half:
        tally.remove({key: files[key]})
    rest = {k: files[k] for k in keys if k not in half}
    assert tally.total == card_cost(rest, CARD)
    assert tally.cost_with({k: files[k] for k in half}) == card_cost(files, CARD)


def used_bytes(image) -> int:
    """Clusters allocated in a FAT32 image (from the FAT itself), minus the root's first."""
    geo = read_geometry(image)
    with open(image, "rb") as handle:
        handle.seek(geo.fat_offset)
        fat = handle.read(4 * (geo.clusters + 2))
    entries = struct.unpack(f"<{geo.clusters + 2}I", fat)[2:]
    return (sum(1 for e in entries if e & 0x0FFFFFFF) - 1) * geo.cluster_bytes


def test_card_cost_is_never_below_what_mtools_really_allocates(tmp_path):
    card = CardType("test64M", 60_000_000, 512, "fat32", 64_000_000)
    src = tmp_path / "card"
    files = {}
    for n in range(60):
        files[f"바다 이야기/{n:02d}화 - 긴 제목이 붙은 에피소드.mp4"] = 700 + n * 13
        files[f"docs/sub/README{n:02d}.TXT"] = n
        files[f"root file with a fairly long name {n:02d}.srt"] = 1000
    for rel, size in files.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    image = build_image(src, tmp_path / "card.img", card)
    real = used_bytes(image)
    modelled = card_cost(files, card)
    assert real <= modelled <= real + 16 * card.cluster_bytes, (real, modelled)
