"""The raw-bytes pass and its QA-editable data file."""

from __future__ import annotations

import re

import pytest

import infopack.scan.raw_bytes as raw_bytes
from infopack.checks import ERROR, INFO, WARNING
from infopack.errors import InfopackError
from infopack.scan.file_kinds import KINDS, OTHER
from infopack.scan.raw_bytes import raw_findings
from infopack.scan.scan_strings import scan_data

EXAMPLES = {   # what each kind of trace looks like in the wild
    b"x264 - core 164 r3095 baee400 - H.264/MPEG-4 AVC codec": "meta-encoder-string",
    b"x265 (build 199) - 3.5+1:[Linux][GCC 12.2.0][64 bit]": "meta-encoder-string",
    b"\x00Lavf59.27.100\x00": "meta-encoder-string",
    b"\x00Lavc60.3.100 libx264": "meta-encoder-string",
    b"HandBrake 1.6.1 2023012300": "meta-encoder-string",
    b"Apple iPhone 13 Pro": "meta-encoder-string",
    b"GoPro AVC encoder": "meta-encoder-string",
    b"DJI Mavic 3": "meta-encoder-string",
    b"com.android.version\x0013": "meta-encoder-string",
    b"Adobe Premiere Pro 2023": "meta-encoder-string",
    b"Exif\x00\x00II*\x00\x08\x00": "meta-exif",
    b"<?xpacket begin='\xef\xbb\xbf' id='W5M0MpCehiHzreSzNTczkc9d'?>": "meta-xmp",
    b"\xa9xyz\x00\x12+37.5665+126.9780/": "meta-gps",
    b"C:\\Users\\kim\\Videos\\project.prproj": "meta-path",
    b"/home/kim/render/out.mp4": "meta-path",
    b"contact kim.planted@example.com now": "meta-email",
}


def test_data_file_loads_and_every_entry_is_well_formed():
    data = scan_data()
    assert len(data.strings) >= 15 and data.file_names
    for spec in data.strings:
        assert spec.check and spec.description
        assert spec.level in (ERROR, WARNING, INFO)
        assert spec.kinds <= set(KINDS)


@pytest.mark.parametrize("sample, check", EXAMPLES.items())
def test_each_known_trace_is_found_in_raw_bytes(tmp_path, sample, check):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00" * 100 + sample + b"\x00" * 100)
    findings = [f for f in raw_findings(str(path), "blob.bin", OTHER) if f.check == check]
    assert findings, f"{sample!r} not reported as {check}"
    offset = int(re.search(r"at byte (\d+)$", findings[0].message).group(1))
    assert 100 <= offset < 100 + len(sample)


def test_every_pattern_starts_with_a_literal_so_the_search_stays_fast():
    """A leading class or alternation makes the regex engine try every byte (10x slower)."""
    from re import _constants, _parser   # CPython's own regex parser, tests only

    slow = [spec.pattern.pattern for spec in scan_data().strings
            if _parser.parse(spec.pattern.pattern).data[0][0] is not _constants.LITERAL]
    assert slow == []


def test_random_like_bytes_and_generic_strings_are_not_flagged(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 64 + b"Lavf\x00Lavc libx264\x00VideoHandler\x00isomiso2avc1mp41")
    assert raw_findings(str(path), "blob.bin", OTHER) == []


def test_a_match_across_a_chunk_border_is_found_at_its_true_offset(tmp_path, monkeypatch):
    monkeypatch.setattr(raw_bytes, "CHUNK_SIZE", 300)
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00" * 1290 + b"x264 - core 164 r3095" + b"\x00" * 1000)
    findings = raw_findings(str(path), "blob.bin", OTHER)
    assert [f.check for f in findings] == ["meta-encoder-string"]
    assert findings[0].message.endswith("at byte 1290")


def test_each_pattern_is_reported_once_per_file(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"Lavf59.27.100 " * 1000)
    assert len(raw_findings(str(path), "blob.bin", OTHER)) == 1


def test_brand_words_are_not_searched_in_subtitles(tmp_path):
    path = tmp_path / "film.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\nAn Apple a day, said the Android.\n")
    assert raw_findings(str(path), "film.srt", "subtitle") == []


def test_a_broken_data_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "scan-strings.toml"
    bad.write_text('[[string]]\ncheck = "x"\nlevel = "fatal"\npattern = "a"\n')
    with pytest.raises(InfopackError, match="level"):
        scan_data(bad)
    bad.write_text('[[string]]\ncheck = "x"\npattern = "(unclosed"\n')
    with pytest.raises(InfopackError, match="entry 1"):
        scan_data(bad)


def test_a_data_file_entry_must_name_a_declared_check_at_a_level_it_allows(tmp_path):
    bad = tmp_path / "scan-strings.toml"
    bad.write_text("[[string]]\ncheck = \"meta-encoder-strng\"\npattern = 'x264'\n")
    with pytest.raises(InfopackError, match="entry 1: check 'meta-encoder-strng' is not declared"):
        scan_data(bad)
    bad.write_text("[[string]]\ncheck = \"meta-url\"\nlevel = \"error\"\npattern = 'http://'\n")
    with pytest.raises(InfopackError, match="entry 1: check 'meta-url' is declared at level.s. warning"):
        scan_data(bad)
