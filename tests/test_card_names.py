"""Card names from long titles: cut at a character boundary with room for what the layout
appends, unique (two long series never share a folder), every cut reported, and the FAT and
Linux limits checked on every name."""

from __future__ import annotations

from pathlib import Path

from infopack.fat.cost import utf16_units
from infopack.fat.names import MAX_PATH_UNITS, fat_name_problems
from infopack.manifest import Item
from infopack.plan.layout import card_layout

SYLLABLES = "".join(chr(0xAC00 + 37 * n) for n in range(120))
PARTS = {"part-01": ".mp4", "sidecar-01": ".srt", "part-02": ".mp4", "sidecar-02": ".srt"}


def item(item_id: str, title: str, group: str | None = None, episode: int | None = None) -> Item:
    return Item(id=item_id, title=title, source=Path(f"/x/{item_id}.mkv"), group=group, episode=episode)


def names_fit(path: str) -> bool:
    return all(len(n.encode("utf-8")) <= 255 and utf16_units(n) <= 255 and not fat_name_problems(n)
               for n in path.split("/")) and utf16_units(path) <= MAX_PATH_UNITS


def test_two_long_series_sharing_their_first_90_syllables_keep_two_folders():
    one, two = SYLLABLES[:90] + " 하나", SYLLABLES[:90] + " 둘"
    layout = card_layout([(item("a", "1화", one, 1), "video", {"main": ".mp4"}),
                          (item("b", "1화", two, 1), "video", {"main": ".mp4"}),
                          (item("c", "2화", one, 2), "video", {"main": ".mp4"})], ascii_only=False)
    folders = {key: path.split("/")[0] for key, paths in layout.paths.items() for path in paths.values()}
    assert folders["a"] == folders["c"] != folders["b"]
    assert folders["b"].endswith(" (2)") and one.startswith(folders["a"]) and two.startswith(folders["b"][:-4])
    assert all(names_fit(p) for paths in layout.paths.values() for p in paths.values())
    assert set(layout.shortened) == {"a", "b", "c"}
    assert "series folder" in layout.shortened["b"][0] and folders["b"] in layout.shortened["b"][0]


def test_a_long_title_leaves_room_for_part_names_and_extensions():
    layout = card_layout([(item("long", SYLLABLES[:90]), "video", PARTS)], ascii_only=False)
    paths = layout.paths["long"]
    assert all(names_fit(p) for p in paths.values())
    stems = {p.split("/")[-1].rsplit(" - ", 1)[0] for p in paths.values()}
    assert len(stems) == 1 and SYLLABLES.startswith(stems.pop())
    (note,) = layout.shortened["long"]
    assert note.startswith(f"file name {SYLLABLES[:90]!r} shortened to ")


def test_long_titles_cut_to_the_same_name_stay_apart_within_every_limit():
    layout = card_layout([(item("a", SYLLABLES[:100] + " 가"), "video", {"main": ".mp4", "sidecar": ".srt"}),
                          (item("b", SYLLABLES[:100] + " 나"), "video", {"main": ".mp4", "sidecar": ".srt"})],
                         ascii_only=False)
    a, b = layout.paths["a"]["main"], layout.paths["b"]["main"]
    assert a != b and b.endswith(" (2).mp4") and names_fit(a) and names_fit(b)
    assert layout.paths["b"]["sidecar"].endswith(" (2).srt")


def test_ascii_names_keep_the_whole_path_within_its_limit():
    group, title = "Series " + "x" * 200, "Episode " + "y" * 200
    layout = card_layout([(item("a", title, group, 1), "video", PARTS)], ascii_only=True)
    assert all(names_fit(p) for p in layout.paths["a"].values())
    assert len(layout.shortened["a"]) == 2


def test_short_titles_are_not_touched_nor_reported():
    layout = card_layout([(item("a", "바다 이야기 1화", "바다 이야기", 1), "video", {"main": ".mp4"}),
                          (item("b", "시장 풍경"), "video", {"main": ".mp4"}),
                          (item("c", "시장 풍경"), "video", {"main": ".mp4"})], ascii_only=False)
    assert layout.paths == {"a": {"main": "바다 이야기/01 바다 이야기 1화.mp4"}, "b": {"main": "영상/시장 풍경.mp4"},
                            "c": {"main": "영상/시장 풍경 (2).mp4"}}
    assert layout.shortened == {}


def test_a_name_over_255_bytes_breaks_the_card_rules():
    assert fat_name_problems("가" * 85) == []                               # 255 bytes
    (problem,) = fat_name_problems("가" * 86)
    assert "258 bytes in UTF-8; Linux allows at most 255" in problem
