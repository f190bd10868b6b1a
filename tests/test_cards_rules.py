"""Each FAT rule: an input that breaks it, and the finding or message it gives."""

import unicodedata

import pytest

from infopack.fat.catalog import CardType
from infopack.fat.names import check_card_paths, fat_name_problems

CARD = CardType("test", 100_000_000, 4096, "fat32", 128_000_000)
FAT16 = CardType("test16", 100_000_000, 4096, "fat16", 128_000_000)


def checks(paths, card=CARD):
    return [(f.check, f.path) for f in check_card_paths(paths, card)]


def test_good_names_pass():
    for name in ["바다 이야기 1화.mp4", "README.TXT", "a b (2001) - part 1.avi", "x" * 255, "😀" * 63, "가" * 85]:
        assert fat_name_problems(name) == [], name


@pytest.mark.parametrize("name, words", [
    ("", "empty"),
    ("..", "not a usable name"),
    ("x" * 256, "256 UTF-16 units"),
    ("😀" * 128, "256 UTF-16 units"),          # characters outside the BMP count twice
    ("😀" * 127, "508 bytes in UTF-8"),         # FAT holds it (254 units); Linux does not (255 bytes)
    ("가" * 86, "258 bytes in UTF-8"),
    ("a:b.mp4", "not allowed"),
    ('what?"<>|*.mp4', "not allowed"),
    ("back\\slash", "not allowed"),
    ("tab\there", "control characters"),
    ("ends.", "ends with a dot"),
    ("ends ", "ends with a dot or a space"),
    ("CON", "reserved device name"),
    ("nul.txt", "reserved device name"),
    ("Com1.tar.gz", "reserved device name"),
    ("LPT9 .mp4", "reserved device name"),
    (unicodedata.normalize("NFD", "바다.mp4"), "NFC"),
])
def test_each_name_rule_has_a_clear_message(name, words):
    problems = fat_name_problems(name)
    assert problems and any(words in p for p in problems), problems


def test_names_that_only_look_reserved_are_fine():
    assert fat_name_problems("CONSOLE.txt") == []
    assert fat_name_problems("COM10") == []
    assert fat_name_problems("my con.mp4") == []


def test_fat_name_finding_names_the_file_and_the_part():
    findings = check_card_paths({"films/a?b.mp4": 10}, CARD)
    assert [f.check for f in findings] == ["fat-name"]
    assert findings[0].path == "films/a?b.mp4" and "'a?b.mp4'" in findings[0].message
    assert findings[0].level == "error"


def test_case_folded_duplicates_in_one_folder():
    found = check_card_paths({"Films/Sea.mp4": 1, "films/x.mp4": 1, "a/SEA.mp4": 1, "a/sea.mp4": 1,
                              "b/sea.mp4": 1}, CARD)
    dupes = sorted((f.path, f.message) for f in found if f.check == "fat-duplicate")
    assert [p for p, _ in dupes] == ["a/sea.mp4", "films"]
    assert "same name on FAT" in dupes[0][1]


def test_file_and_folder_with_the_same_name_collide():
    assert checks({"sea": 1, "Sea/x.mp4": 1}) == [("fat-duplicate", "sea")]


def test_path_too_long_and_too_deep():
    long_path = "a/" * 3 + "x" * 240
    deep = "/".join("d" for _ in range(8)) + "/f.mp4"
    found = check_card_paths({long_path: 1, deep: 1, "d/" * 7 + "ok.mp4": 1}, CARD)
    flagged = {f.path: f.message for f in found if f.check == "fat-path-too-long"}
    assert set(flagged) == {long_path, deep}
    assert "246 units" in flagged[long_path] and "9 levels" in flagged[deep]


def test_file_of_4_gib_minus_1_is_refused_on_fat_but_not_exfat():
    paths = {"big.mp4": 2**32 - 1, "ok.mp4": 2**32 - 2}
    big = CardType("big", 64 * 10**9, 32768, "fat32", 64 * 10**9)
    found = check_card_paths(paths, big)
    assert [(f.check, f.path) for f in found] == [("fat-too-large", "big.mp4")]
    assert "smaller than 4 GiB" in found[0].message
    assert check_card_paths(paths, CardType("x", 64 * 10**9, 131072, "exfat", 64 * 10**9)) == []


def test_fat16_root_holds_512_entries_long_names_included():
    short = {f"F{n:04d}.MP4": 1 for n in range(511)}          # 511 + the volume label = 512
    assert checks(short, FAT16) == []
    assert ("fat-root-full", "") in checks({**short, "G.MP4": 1}, FAT16)
    long_names = {f"episode number {n:03d}.mp4": 1 for n in range(200)}   # 3 entries each
    found = check_card_paths(long_names, FAT16)
    assert [f.check for f in found] == ["fat-root-full"] and "601" in found[0].message
    assert checks(long_names, CARD) == []                     # FAT32's root grows


def test_overflow_by_one_cluster_is_reported():
    card = CardType("tiny", 10 * 4096, 4096, "fat32", 10 * 4096)
    assert checks({f"{n}.bin": 4096 for n in range(10)}, card) == []
    found = check_card_paths({f"{n}.bin": 4096 for n in range(10)} | {"10.bin": 1}, card)
    assert [f.check for f in found] == ["card-overflow"]
    assert "4,096 bytes too many" in found[0].message
