"""safe_filename: manifest titles to names every FAT reader and player accepts."""

import unicodedata

from hypothesis import given, settings, strategies as st

from infopack.fat.names import MAX_NAME_BYTES, fat_name_problems, safe_filename, shortened_filename
from infopack.fat.romanize import romanize_hangul
from infopack.fat.cost import utf16_units


def test_korean_title_is_kept_as_is():
    assert safe_filename("바다 이야기 1화", "mp4") == "바다 이야기 1화.mp4"
    assert safe_filename("바다 이야기 1화", ".MP4") == "바다 이야기 1화.mp4"


def test_decomposed_hangul_is_composed():
    name = safe_filename(unicodedata.normalize("NFD", "바다"), "srt")
    assert name == "바다.srt" and len(name) == 6


def test_forbidden_characters_and_spaces():
    assert safe_filename('Title: "Part" 1/2?', "avi") == "Title Part 1 2.avi"
    assert safe_filename("  a\tb\n\u200bc  ", "mp4") == "a b c.mp4"
    assert safe_filename("...hidden...", "mp4") == "hidden.mp4"


def test_reserved_device_names_are_avoided():
    assert safe_filename("CON", "mp4") == "CON_.mp4"
    assert safe_filename("aux.old", "txt") == "aux_.old.txt"
    assert safe_filename("CONSOLE", "mp4") == "CONSOLE.mp4"


def test_long_titles_are_capped_in_utf16_units():
    name = safe_filename("a" * 500, "mp4")
    assert utf16_units(name) == 120 and name.endswith(".mp4")
    name = safe_filename("😀" * 100, "mp4", max_units=21)
    assert name == "😀" * 8 + ".mp4"                            # never half a surrogate pair


def test_long_hangul_titles_are_capped_in_utf8_bytes():
    # 86 syllables are 258 bytes: over Linux's 255-byte limit though far under FAT's 255 units.
    name, shortened = shortened_filename("가" * 500, "mp4")
    assert shortened and name == "가" * 78 + ".mp4" and len(name.encode("utf-8")) == 238
    name, shortened = shortened_filename("가" * 90, "mp4", max_units=255, max_bytes=255)
    assert shortened and name == "가" * 83 + ".mp4"             # 253 bytes: the hard limit holds
    name, shortened = shortened_filename("가" * 90, "mp4", max_units=999, max_bytes=999)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES           # limits above 255 are not honoured


def test_names_that_fit_are_unchanged_and_not_marked():
    assert shortened_filename("바다 이야기 1화", "mp4") == ("바다 이야기 1화.mp4", False)
    assert shortened_filename("가" * 78, "mp4") == ("가" * 78 + ".mp4", False)
    assert shortened_filename("CON", "mp4") == ("CON_.mp4", False)
    assert shortened_filename("가" * 79, "mp4")[1] is True


def test_cut_never_splits_a_character_nor_leaves_a_dot_or_space():
    # a base letter with a combining mark NFC cannot compose (q + U+0301) stays whole
    name, _ = shortened_filename("q\u0301" * 100, "mp4", max_units=25)   # 21 units: 10 pairs and a q
    assert name == "q\u0301" * 10 + ".mp4"
    # old Hangul: leading + vowel jamo that do not compose into one syllable stay together
    jamo = "\u1112\u119e"                                         # ᄒ + ᆞ (arae-a)
    name, _ = shortened_filename(jamo * 50, "mp4", max_units=15)    # 11 units: 5 pairs and half a 6th
    assert name == jamo * 5 + ".mp4"
    name, shortened = shortened_filename("가" * 77 + " . 나다라", "mp4")
    assert shortened and name == "가" * 77 + ".mp4"               # no trailing " ." before the extension


def test_ascii_only_romanises_hangul():
    assert safe_filename("바다 이야기 1화", "mp4", ascii_only=True) == "bada iyagi 1hwa.mp4"
    assert safe_filename("학교 가는 길", "mp4", ascii_only=True) == "hakgyo ganeun gil.mp4"
    assert safe_filename("Café Déjà vu", "mp4", ascii_only=True) == "Cafe Deja vu.mp4"
    assert romanize_hangul("꽃") == "kkot" and romanize_hangul("쌀") == "ssal"


def test_never_empty():
    assert safe_filename("", "mp4").startswith("item-")
    assert safe_filename("???", "mp4", fallback="ep01") == "ep01.mp4"
    assert safe_filename("Война и мир", "mp4", ascii_only=True).startswith("item-")
    assert safe_filename("", "") != ""
    # The fallback id depends on the title, so two unreadable titles still differ.
    assert safe_filename("和平", "mp4", ascii_only=True) != safe_filename("战争", "mp4", ascii_only=True)


@given(st.text(max_size=300), st.text(max_size=6), st.booleans())
@settings(max_examples=400, deadline=None)
def test_any_title_gives_a_valid_non_empty_name(title, ext, ascii_only):
    name, shortened = shortened_filename(title, ext, ascii_only=ascii_only)
    assert name == safe_filename(title, ext, ascii_only=ascii_only)
    assert name and fat_name_problems(name) == []
    assert utf16_units(name) <= 120 and len(name.encode("utf-8")) <= 240
    if ascii_only:
        assert name.isascii()
