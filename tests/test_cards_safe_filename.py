"""safe_filename: manifest titles to names every FAT reader and player accepts."""

import unicodedata

from hypothesis import given, settings, strategies as st

from infopack.fat.names import fat_name_problems, safe_filename
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
    name = safe_filename("가" * 500, "mp4")
    assert utf16_units(name) == 120 and name.endswith(".mp4")
    name = safe_filename("😀" * 100, "mp4", max_units=21)
    assert name == "😀" * 8 + ".mp4"                            # never half a surrogate pair


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
    name = safe_filename(title, ext, ascii_only=ascii_only)
    assert name and fat_name_problems(name) == []
    assert utf16_units(name) <= 120 + 1                            # "_" for a reserved name at most
    if ascii_only:
        assert name.isascii()
