"""Encoding detection and sidecar encoding, with bytes written explicitly per encoding."""

import unicodedata

import pytest

from infopack.errors import InfopackError
from infopack.subtitles import encode_text, read_subtitles

SRT = "1\n00:00:01,000 --> 00:00:02,000\n똠방각하 햏 안녕하세요\n\n2\n00:00:03,000 --> 00:00:04,000\n둘째 줄\n"


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("label, data", [
    ("utf-8", SRT.encode("utf-8")),
    ("utf-8-sig", b"\xef\xbb\xbf" + SRT.encode("utf-8")),
    ("utf-16-le", b"\xff\xfe" + SRT.encode("utf-16-le")),
    ("utf-16-be", b"\xfe\xff" + SRT.encode("utf-16-be")),
    ("cp949", SRT.encode("cp949")),
])
def test_each_encoding_is_detected_and_reported(tmp_path, label, data):
    doc = read_subtitles(write(tmp_path, "a.srt", data))
    assert doc.encoding == label
    assert doc.cues[0].text == "똠방각하 햏 안녕하세요"
    assert doc.cues[1].text == "둘째 줄"


def test_cp949_characters_outside_ks_x_1001_are_read(tmp_path):
    # Python's euc-kr codec writes '똠' as an 8-byte jamo sequence; CP949 (UHC) has it as 2 bytes
    assert "똠".encode("euc-kr") != "똠".encode("cp949")
    assert len("똠".encode("cp949")) == 2
    doc = read_subtitles(write(tmp_path, "a.srt", SRT.encode("cp949")))
    assert "똠" in doc.cues[0].text and "햏" in doc.cues[0].text


def test_nfd_text_from_macos_is_normalised_to_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", SRT)
    assert nfd != SRT
    doc = read_subtitles(write(tmp_path, "a.srt", nfd.encode("utf-8")))
    assert doc.cues[0].text == "똠방각하 햏 안녕하세요"
    assert any("NFC" in fix for fix in doc.fixes)


def test_non_korean_legacy_text_falls_back_to_charset_normalizer(tmp_path):
    text = "1\n00:00:01,000 --> 00:00:02,000\nÇa été très déjà vu, garçon. Où êtes-vous?\n"
    doc = read_subtitles(write(tmp_path, "a.srt", text.encode("latin-1") * 1))
    assert doc.encoding.startswith("charset-normalizer:")
    assert "garçon" in doc.cues[0].text


def test_broken_bytes_after_a_bom_are_a_clear_error(tmp_path):
    with pytest.raises(InfopackError, match="byte-order mark"):
        read_subtitles(write(tmp_path, "a.srt", b"\xef\xbb\xbf1\n\xff\xfe\xfd"))


@pytest.mark.parametrize("encoding, expected_start", [
    ("utf-8", b"1\r\n"), ("utf-8-sig", b"\xef\xbb\xbf1\r\n"), ("utf-16", b"\xff\xfe1\x00\r\x00\n\x00"),
])
def test_encode_text_uses_crlf_and_the_right_bom(encoding, expected_start):
    assert encode_text("1\n똠\n", encoding).startswith(expected_start)


def test_encode_text_cp949_handles_characters_euc_kr_cannot():
    data = encode_text("똠방\n햏\n", "cp949")
    assert data == "똠방\r\n햏\r\n".encode("cp949")


def test_encode_text_refuses_characters_cp949_lacks():
    with pytest.raises(InfopackError, match="cannot be written in cp949"):
        encode_text("emoji 🙂\n", "cp949")


def test_encode_text_refuses_unknown_encodings():
    with pytest.raises(InfopackError, match="unknown subtitle encoding"):
        encode_text("x", "euc-kr")


@pytest.mark.parametrize("words", ["첫 회", "회", "회 회"])
def test_short_cp949_that_is_also_valid_utf8_is_read_as_korean_in_a_korean_named_file(tmp_path, words):
    data = f"1\n00:00:00,500 --> 00:00:02,000\n{words}\n".encode("cp949")
    data.decode("utf-8")                    # the trap: these bytes are valid UTF-8 too ("첫 회" is "ù ȸ")
    path = tmp_path / "short.ko.srt"
    path.write_bytes(data)
    doc = read_subtitles(path)
    assert doc.encoding == "cp949" and doc.cues[0].text == words
    other = tmp_path / "short.srt"                 # a name that says nothing: the bytes are read as UTF-8
    other.write_bytes(data)
    assert read_subtitles(other).encoding == "utf-8"


def test_utf8_accented_latin_text_stays_utf8(tmp_path):
    path = tmp_path / "film.ko.srt"          # even in a file named Korean: UTF-8 text with Latin accents
    path.write_bytes("1\n00:00:00,500 --> 00:00:02,000\nCafé à côté, déjà vu\n".encode("utf-8"))
    doc = read_subtitles(path)
    assert doc.encoding == "utf-8" and doc.cues[0].text == "Café à côté, déjà vu"
