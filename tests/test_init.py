"""`infopack init` writes a manifest that loads, pairing subtitles by base name, with titles
that say what an item is and nothing of where its file came from."""

from __future__ import annotations

import shutil

from hypothesis import given, settings, strategies as st

from infopack.fat.cost import utf16_units
from infopack.fat.names import shortened_filename
from infopack.manifest import Item, load_manifest
from infopack.manifest.derive import derive_titles
from infopack.manifest.titles import identifying_matches
from infopack.plan.layout import card_paths


def test_init_pairs_subtitles_by_basename(run_cli, samples_dir, tmp_path):
    folder = tmp_path / "season-3"
    folder.mkdir()
    shutil.copy(samples_dir / "media" / "clip01.mp4", folder / "ep01.mp4")
    shutil.copy(samples_dir / "media" / "clip02.mkv", folder / "ep02.mkv")
    shutil.copy(samples_dir / "subs" / "clip01.ko.srt", folder / "ep01.ko.srt")
    shutil.copy(samples_dir / "subs" / "clip03.smi", folder / "ep02.smi")
    shutil.copy(samples_dir / "subs" / "clip02.ko.srt", folder / "ep10.srt")     # no ep10 media: unpaired
    result = run_cli("init", folder)
    assert result.exit_code == 0, result.output
    bundle = load_manifest(folder / "infopack.toml")
    assert bundle.id == "season-3" and bundle.profile == "notel-480p" and bundle.card == "8GB"
    pairs = {item.id: [s.name for s in item.subtitles] for item in bundle.items}
    assert pairs == {"ep01": ["ep01.ko.srt"], "ep02": ["ep02.smi"]}
    again = run_cli("init", folder)
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_init_on_an_empty_folder(run_cli, tmp_path):
    result = run_cli("init", tmp_path)
    assert result.exit_code == 2 and "no media files found" in result.stderr


RELEASE_AND_CAMERA_NAMES = [
    "Red.River.S01E01.720p.HDTV.x264-KOR.mkv",
    "Red.River.S01E02.720p.HDTV.x264-KOR.mkv",
    "빨간 강 2화.mkv",
    "제1회 고향.mp4",
    "The.Movie.2019.1080p.BluRay.x264-SPARKS.mkv",
    "IMG_20230501_103000.jpg",
    "IMG_20230502_111500.jpg",
    "Screenshot_2023-05-01-10-30-00.png",
    "VID_20230501_103000.mp4",
    "KakaoTalk_20230501_123456789.mp4",
]
TRACES = ["IMG", "VID", "KakaoTalk", "Screenshot", "2023", "0501", "1030", "720p", "1080p", "HDTV", "x264",
          "KOR", "SPARKS", "BluRay"]


def test_init_titles_say_nothing_of_dates_tags_or_cameras(run_cli, tmp_path):
    folder = tmp_path / "받은 파일"
    folder.mkdir()
    for name in RELEASE_AND_CAMERA_NAMES:
        (folder / name).write_bytes(b"not probed by init")
    (folder / "Red.River.S01E01.720p.HDTV.x264-KOR.ko.srt").write_text(
        "1\n00:00:01,000 --> 00:00:02,000\n안녕하세요\n", encoding="utf-8")
    result = run_cli("init", folder)
    assert result.exit_code == 0, result.output
    assert "Red.River.S01E01.720p.HDTV.x264-KOR.mkv → Red River 1화 (group: Red River; episode: 1)" in result.output
    assert "IMG_20230501_103000.jpg → 사진 1 (neutral: camera-file, datetime)" in result.output
    bundle = load_manifest(folder / "infopack.toml")
    items = {item.source.name: item for item in bundle.items}
    assert len(items) == len(RELEASE_AND_CAMERA_NAMES)
    for item in bundle.items:
        for text in (item.title, item.group or ""):
            assert identifying_matches(text) == [], (item.source.name, text)
            assert not any(trace.casefold() in text.casefold() for trace in TRACES), (item.source.name, text)
        assert item.id.isascii() and item.id == item.id.lower()
    series = {name: (items[name].title, items[name].group, items[name].episode)
              for name in RELEASE_AND_CAMERA_NAMES[:5]}
    assert series == {
        "Red.River.S01E01.720p.HDTV.x264-KOR.mkv": ("Red River 1화", "Red River", 1),
        "Red.River.S01E02.720p.HDTV.x264-KOR.mkv": ("Red River 2화", "Red River", 2),
        "빨간 강 2화.mkv": ("빨간 강 2화", "빨간 강", 2),
        "제1회 고향.mp4": ("제1회 고향", None, 1),
        "The.Movie.2019.1080p.BluRay.x264-SPARKS.mkv": ("The Movie", None, None),
    }
    # neutral titles per kind, numbered in name order
    neutral = {name: items[name].title for name in RELEASE_AND_CAMERA_NAMES[5:]}
    assert neutral == {
        "IMG_20230501_103000.jpg": "사진 1",
        "IMG_20230502_111500.jpg": "사진 2",
        "Screenshot_2023-05-01-10-30-00.png": "사진 3",
        "KakaoTalk_20230501_123456789.mp4": "영상 1",
        "VID_20230501_103000.mp4": "영상 2",
    }
    assert [s.name for s in items["Red.River.S01E01.720p.HDTV.x264-KOR.mkv"].subtitles] == [
        "Red.River.S01E01.720p.HDTV.x264-KOR.ko.srt"]
    assert items["Red.River.S01E01.720p.HDTV.x264-KOR.mkv"].id == "red-river-1hwa"
    assert items["IMG_20230501_103000.jpg"].id == "sajin-1"


def test_seasons_get_their_own_folders_and_neutral_numbers_sort():
    photos = [(f"IMG_2023050{n % 9 + 1}_1030{n:02d}.jpg", "image") for n in range(12)]
    derived = derive_titles([("Kingdom.S01E01.1080p.WEB-DL.x264-NTG.mkv", "video"),
                             ("Kingdom.S02E01.1080p.WEB-DL.x264-NTG.mkv", "video"),
                             ("Show - S02E03 - 고향.mkv", "video"),
                             ("ep01.mp4", "video"), ("01 아리랑.mp3", "audio"),
                             ("20230501_103000.m4a", "audio"), ("----.mp4", "video")] + photos)
    got = [(d.title, d.group, d.episode) for d in derived]
    assert got[:7] == [("Kingdom 1화", "Kingdom 시즌 1", 1), ("Kingdom 1화", "Kingdom 시즌 2", 1),
                       ("Show - S02E03 - 고향", "Show", 3), ("ep01", None, 1), ("01 아리랑", None, None),
                       ("소리 1", None, None), ("영상 1", None, None)]
    assert [d.title for d in derived[7:]] == [f"사진 {n:02d}" for n in range(1, 13)]
    assert derived[5].line() == "20230501_103000.m4a → 소리 1 (neutral: datetime)"


def test_a_90_syllable_title_fits_linux_and_fat_at_a_syllable_boundary(tmp_path):
    title = "".join(chr(0xAC00 + 37 * n) for n in range(90))         # 270 bytes in UTF-8
    item = Item(id="long", title=title, source=tmp_path / "a.mkv", group=title, episode=3)
    paths = card_paths([(item, "video", {"video": ".mp4", "sidecar": ".srt", "part-01": ".mp4"})],
                       ascii_only=False)["long"]
    for path in paths.values():
        folder = tmp_path / path.split("/")[0]
        folder.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(b"")                          # Linux itself accepts the names
        for name in path.split("/"):
            assert len(name.encode("utf-8")) <= 255 and utf16_units(name) <= 255, name
    folder_name, file_name = paths["video"].split("/")
    assert title.startswith(folder_name) and len(folder_name) < 90
    assert file_name.startswith("03 ") and title.startswith(file_name[3:-4])
    name, shortened = shortened_filename(title, "mp4")
    assert shortened and title.startswith(name[:-4]) and len(name.encode("utf-8")) <= 255


PIECES = ["IMG_", "20230501", "_103000", "Red", ".River", ".S01E02", ".720p", ".x264-KOR", " 바다", " 이야기",
          " 2화", "제3회 ", "KakaoTalk_", "[Group] ", " (2019)", " www.example.com", "-", "_", ".", " ",
          "Screenshot_2023-05-01-10-30-00", "kim@mail.com", " HDTV", "EP01", " 1080p", "230501", "고향"]


@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8))
@settings(max_examples=150, deadline=None)
def test_no_name_gives_a_title_or_group_with_a_trace(pieces):
    stem = "".join(pieces).strip() or "x"
    (derived,) = derive_titles([(stem + ".mkv", "video")])
    assert derived.title and identifying_matches(derived.title) == [], (stem, derived)
    assert derived.group is None or identifying_matches(derived.group) == [], (stem, derived)
