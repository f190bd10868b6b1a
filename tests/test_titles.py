"""Identifying name patterns: what a title (a name on the card) must not say, and what it may."""

from __future__ import annotations

import pytest

from infopack.errors import UsageError
from infopack.manifest import load_manifest
from infopack.manifest.titles import (
    Match,
    card_name_matches,
    identifying_matches,
    name_rules,
    refuse_identifying_titles,
    title_problems,
    without_matches,
)

KINDS = {"date", "time", "camera", "app", "release", "web", "person", "path", "machine"}

# (title, a pattern that must be among its matches)
IDENTIFYING = [
    ("IMG_20230501_103000", "camera-file"),
    ("IMG_20230501_103000", "datetime"),
    ("KakaoTalk_20230501_123456789", "app-kakaotalk"),
    ("KakaoTalk_20230501_123456789", "datetime"),
    ("Red.River.S01E01.720p.HDTV.x264-KOR", "release-resolution"),
    ("Red.River.S01E01.720p.HDTV.x264-KOR", "release-source"),
    ("Red.River.S01E01.720p.HDTV.x264-KOR", "release-codec"),
    ("Red.River.S01E01.720p.HDTV.x264-KOR", "release-group-suffix"),
    ("Screenshot_2023-05-01-10-30-00", "app-screenshot"),
    ("Screenshot_2023-05-01-10-30-00", "datetime"),
    ("소풍 2023-05-01", "date-ymd"),
    ("소풍 2023.05.01", "date-ymd"),
    ("20230501 바다", "date-compact"),
    ("230501_1030", "datetime"),
    ("2023년 5월 1일 운동회", "date-korean"),
    ("23년 5월 1일", "date-korean"),
    ("회의 10:30:00", "time-hms"),
    ("01.05.2023 party", "date-dmy"),
    ("무한도전.E123.230501.720p-NEXT", "date-yymmdd"),
    ("DSC_0042", "camera-file"),
    ("DSCN1234", "camera-file"),
    ("PXL_20230501_103000123", "camera-file"),
    ("VID_20230501_103000", "camera-file"),
    ("MVI_0001", "camera-file"),
    ("GOPR0123", "camera-file"),
    ("WhatsApp Image 2023-05-01 at 10.30.00", "app-messenger"),
    ("signal-2023-05-01-103000", "app-messenger"),
    ("Telegram Desktop 영상", "app-messenger"),
    ("스크린샷 2023-05-01 오후 3.30.00", "app-screenshot"),
    ("Movie 1080p", "release-resolution"),
    ("Movie 4K", "release-resolution"),
    ("Movie.2019.2160p.UHD", "release-resolution"),
    ("Show x265", "release-codec"),
    ("Show.HEVC", "release-codec"),
    ("Show.XviD", "release-codec"),
    ("Show.h264", "release-codec"),
    ("Show WEB-DL", "release-source"),
    ("Show.WEBRip", "release-source"),
    ("Film BluRay", "release-source"),
    ("Film BDRip", "release-source"),
    ("Film DVDRip", "release-source"),
    ("Film AAC", "release-audio"),
    ("Film AC3", "release-audio"),
    ("Film DTS", "release-audio"),
    ("Film DDP5.1", "release-audio"),
    ("[HorribleSubs] Some Show - 05", "release-group-prefix"),
    ("Show.S01E01.PROPER", "release-flag"),
    ("Show.S01E01.REPACK", "release-flag"),
    ("Movie [YTS.MX]", "domain"),
    ("https://example.com/movie", "url"),
    ("www.example.org 영상", "url"),
    ("kim.cs@example.co.kr 보냄", "email"),
    ('C:\\Users\\kim\\Desktop\\영상', "path-drive"),
    ('영상 Users\\kim\\Desktop', "path-user"),
    ("C Users kim Desktop 영상", "path-drive"),
    ("/home/kim/videos", "path-unix"),
    ("DESKTOP-7H3K2L9 녹화", "hostname-windows"),
    ("연락 010-1234-5678", "phone-kr"),
    ("3F2504E0-4F89-11D3-9A0C-0305E82C3301", "uuid"),
    ("FB_IMG_1683000000000", "app-social"),
    ("ｘ２６４", "release-codec"),                  # full-width: matched after NFKC
]

CLEAN = [
    "바다 이야기 1화", "제1회 고향", "EP01", "E01 고향의 봄", "시즌 2", "시즌 2 3화", "第1集",
    "빨간 강 2화", "Red River S01E02", "사랑의 불시착 16화", "1987", "응답하라 1988", "82년생 김지영",
    "1945년 8월 15일", "1950.06.25", "5.18 민주화운동", "오후 3시 30분", "1박 2일", "국제시장",
    "7번방의 선물", "기생충 (Parasite)", "Parasite 2019", "Signal", "시그널 1화", "Born.to.Run",
    "Love.in.Seoul", "Mr. Sunshine", "Home Sweet Home", "A Proper Goodbye", "8bit 음악", "X-Men",
    "100만 원의 행복", "D-Day", "제5공화국", "3부작 다큐", "아리랑", "고향의 봄", "우리 집 강아지",
    "학교 가는 길", "2023년 우리 마을", "12.12 The Day", "Web 드라마", "웹드라마 EP.3", "Line Walker",
    "Capture the Flag", "Video Killed the Radio Star", "Desktop 정리법", "Voice", "4월 이야기", "5월 1일",
    "Ocean's 11", "Room 1408", "사진 1", "영상 12", "Windows 11", "Apollo 13", "Pic 1",
]


def test_there_are_enough_examples_both_ways():
    assert len(IDENTIFYING) >= 40 and len(CLEAN) >= 30


@pytest.mark.parametrize("title,pattern", IDENTIFYING)
def test_identifying_titles_are_caught(title, pattern):
    assert pattern in [m.name for m in identifying_matches(title)]


@pytest.mark.parametrize("title", CLEAN)
def test_ordinary_titles_and_episode_numbers_are_clean(title):
    assert identifying_matches(title) == []


def test_matches_name_the_pattern_and_the_text():
    assert identifying_matches("IMG_20230501_103000") == [
        Match("camera-file", "IMG_20230501"), Match("datetime", "20230501_103000")]
    assert identifying_matches("Red.River.S01E01.720p.HDTV.x264-KOR") == [
        Match("release-resolution", "720p"), Match("release-source", "HDTV"),
        Match("release-codec", "x264"), Match("release-group-suffix", "-KOR")]
    assert identifying_matches("KakaoTalk_20230501_123456789") == [
        Match("app-kakaotalk", "KakaoTalk"), Match("datetime", "20230501_123456789")]
    # a match inside a longer one is not repeated: no date-compact inside the datetime
    assert "date-compact" not in [m.name for m in identifying_matches("20230501_103000")]
    # two patterns matching the same text: the first in the data file speaks
    assert identifying_matches("www.example.org") == [Match("url", "www.example.org")]


def test_every_pattern_matches_its_own_examples():
    rules = name_rules()
    assert len(rules.patterns) >= 30 and len(set(rules.names)) == len(rules.names)
    for pattern in rules.patterns:
        assert pattern.kind in KINDS, pattern.name
        assert pattern.description_ko and pattern.description_en and pattern.examples, pattern.name
        for example in pattern.examples:
            found = [m.name for m in identifying_matches(example)]
            assert pattern.name in found, (pattern.name, example, found)


def test_allowing_a_pattern_keeps_the_others():
    assert identifying_matches("2002년 6월 월드컵", allow=["date-korean"]) == []
    assert [m.name for m in identifying_matches("2002년 6월 1080p", allow=["date-korean"])] == ["release-resolution"]


def test_card_names_are_read_without_their_extension():
    assert card_name_matches("아리랑.flac") == [] and card_name_matches("아리랑.aac") == []
    assert [m.name for m in card_name_matches("아리랑 FLAC.mp3")] == ["release-audio"]
    assert [m.name for m in card_name_matches("2023-05-01")] == ["date-ymd"]


def test_cutting_matches_out_leaves_the_words():
    title = "Movie (2019) [1080p] [YTS.MX]"
    assert without_matches(title, identifying_matches(title)) == "Movie (2019)"
    title = "고향의 봄 - 홍길동 - www.example.com"
    assert without_matches(title, identifying_matches(title)) == "고향의 봄 - 홍길동"


MANIFEST = """
[bundle]
id = "b"
title = "묶음"
profile = "notel-480p"
card = "8GB"

[[items]]
id = "world-cup"
title = "2002년 6월 이야기"
source = "a.mp4"
{allow}
"""


def test_title_allow_in_the_manifest(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    path = tmp_path / "infopack.toml"
    path.write_text(MANIFEST.format(allow=""), encoding="utf-8")
    bundle = load_manifest(path)
    assert bundle.items[0].title_allow == ()
    problems = title_problems(bundle.items)
    assert len(problems) == 1 and "items[0] (world-cup).title" in problems[0]
    assert "'2002년 6월'" in problems[0] and 'title_allow = ["date-korean"]' in problems[0]
    with pytest.raises(UsageError, match="world-cup"):
        refuse_identifying_titles(path, bundle.items)

    path.write_text(MANIFEST.format(allow='title_allow = ["date-korean"]'), encoding="utf-8")
    bundle = load_manifest(path)
    assert bundle.items[0].title_allow == ("date-korean",) and title_problems(bundle.items) == []
    refuse_identifying_titles(path, bundle.items)

    path.write_text(MANIFEST.format(allow='title_allow = ["dates"]'), encoding="utf-8")
    with pytest.raises(UsageError, match="unknown pattern 'dates'"):
        load_manifest(path)
    path.write_text(MANIFEST.format(allow="title_allow = true"), encoding="utf-8")
    with pytest.raises(UsageError, match="list of pattern names"):
        load_manifest(path)


def test_a_group_is_checked_like_a_title(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    path = tmp_path / "infopack.toml"
    path.write_text(MANIFEST.replace("2002년 6월 이야기", "이야기").format(allow='group = "KakaoTalk 받은 영상"'),
                    encoding="utf-8")
    problems = title_problems(load_manifest(path).items)
    assert len(problems) == 1 and ".group:" in problems[0] and "app-kakaotalk" in problems[0]


def test_what_the_layout_adds_to_titles_is_clean():
    # episode prefixes, part numbers, duplicate marks, the layout's folders, romanised names
    for name in ["01 Red River 1화.mp4", "Red River 1화 - 01.mp4", "Red River 1화 (2).srt", "123 무한도전 123화.mp4",
                 "영상", "소리", "사진", "VIDEO", "AUDIO", "PHOTO", "사진 01.jpg", "bada iyagi 1hwa.mp4"]:
        assert card_name_matches(name) == [], name
