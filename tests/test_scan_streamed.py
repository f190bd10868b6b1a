"""One read per file: the joined byte-pattern search, hashing in the same pass, bare containers."""

from __future__ import annotations

import hashlib
import random
import re
import subprocess

import pytest

import infopack.scan.raw_bytes as raw_bytes
from infopack.checks import WARNING
from infopack.kinds.mpeg_audio import clean_mp3_file
from infopack.scan import scan_file, scan_paths
from infopack.scan.bare_containers import bare_container
from infopack.scan.container import probe, probe_findings
from infopack.scan.file_kinds import KINDS
from infopack.scan.joined_search import RawSearcher, fixed_start
from infopack.scan.messages import shown
from infopack.scan.raw_bytes import SHIFTED_CHECK, raw_findings, raw_searcher
from infopack.scan.scan_strings import ScanString, scan_data
from infopack.tools import parallel_map

TRACES = [b"x264 - core 164 r3095 baee400", b"x265 (build 199) - 3.5", b"\x00Lavf59.27.100\x00",
          b"LAME3.100", b"HandBrake 1.6.1", b"mkvmerge v70.0.0", b"libebml v1.4.4", b"GPAC version 2.2",
          b"Adobe Premiere", b"Photoshop 3.0", b"Apple iPhone 13 Pro", b"iPad Air 5", b"GoPro AVC",
          b"DJI Mavic 3", b"Android 13", b"com.android.version\x0013", b"com.apple.quicktime.make",
          b"Exif\x00\x00MM\x00*", b"<x:xmpmeta xmlns", b"\xa9xyz+37.5665+126.9780/", b"-33.8688+151.2093/",
          b"C:\\Users\\kim\\Videos", b"/home/kim/render/", b"https://example.org/x",
          b"kim.planted@example.com", b"\x00\x00\x00\x07tIME"]


def first_matches_one_by_one(path, kind):
    """The scanner before the joined search: each pattern searched on its own, chunk by chunk."""
    pending = [s for s in scan_data().strings if kind in s.kinds]
    found, tail, consumed = [], b"", 0
    with open(path, "rb") as f:
        while pending and (chunk := f.read(raw_bytes.CHUNK_SIZE)):
            window = tail + chunk
            for spec in list(pending):
                if match := spec.pattern.search(window):
                    pending.remove(spec)
                    found.append((spec.check, spec.description, consumed + match.start(), match.group(0)))
            tail = window[-raw_bytes.CHUNK_OVERLAP:]
            consumed += len(window) - len(tail)
    return found


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", KINDS)
def test_joined_search_finds_what_each_pattern_finds_alone(tmp_path, monkeypatch, seed, kind):
    monkeypatch.setattr(raw_bytes, "CHUNK_SIZE", 4096)             # many chunk borders
    rng = random.Random(seed)
    data = bytearray(rng.randbytes(60_000))
    for trace in rng.sample(TRACES, 12):
        at = rng.randrange(len(data) - len(trace))
        data[at:at + len(trace)] = trace
    for border in (4096 * 3, 4096 * 7):                       # traces split by a chunk border
        trace = rng.choice(TRACES)
        at = border - len(trace) // 2
        data[at:at + len(trace)] = trace
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(data))
    expected = first_matches_one_by_one(path, kind)
    got = raw_findings(str(path), "blob.bin", kind)
    assert [(f.check, f.message) for f in got if f.check != SHIFTED_CHECK] == [
        (check, f"{description}: {shown(matched, 60)} at byte {offset}")
        for check, description, offset, matched in expected]
    assert len(expected) >= 3
    # LAME's name is looked for at every bit offset, beside the data file's patterns
    assert ("LAME3.100" in [f.message.split("'")[1][:9] for f in got if f.check == SHIFTED_CHECK]) == (
        b"LAME3.100" in data)


def test_the_patterns_are_joined_into_a_few_passes():
    from re import _constants, _parser   # CPython's own regex parser, tests only
    for kind in KINDS:
        searcher = raw_searcher(kind)
        gates, alone = searcher.plan(frozenset(range(len(searcher.specs))))
        assert alone == ()
        assert len(gates) < len(searcher.specs) and (kind not in ("media", "other") or len(gates) <= 8)
        for gate in gates:          # each pass skips ahead to its literal pivot byte at memory speed
            assert _parser.parse(gate.regex.pattern).data[0][0] is _constants.LITERAL


def test_fixed_start_reads_literals_classes_repeats_and_literal_groups():
    branches, rest = fixed_start(r"Lav[fc]\d{2}\.\d{1,3}(?:\.\d{1,3})?")
    assert [t.source for t in branches[0]] == ["L", "a", "v", "[fc]", r"\d", r"\d", r"\.", r"\d"]
    assert rest == r"\d{0,2}(?:\.\d{1,3})?"
    branches, rest = fixed_start(r"https?://[!-~]{4,80}")
    assert sorted("".join(t.source for t in b[:8]) for b in branches) == ["http://[!-~]", "https://"]
    branches, _ = fixed_start(r"/(?:home|Users)/x")
    assert ["".join(t.source for t in b) for b in branches] == ["/home/x", "/Users/x"]
    assert fixed_start(r"(?i)abc") == ([[]], "(?i)abc")


def test_a_pattern_that_cannot_be_joined_is_searched_on_its_own(tmp_path):
    specs = (ScanString(re.compile(rb"(a)bc\1"), "meta-x", "error", "backreference", frozenset(KINDS)),
             ScanString(re.compile(rb"[0-9]zz|qq"), "meta-y", "error", "no literal", frozenset(KINDS)))
    searcher = RawSearcher(specs)
    gates, alone = searcher.plan(frozenset({0, 1}))
    assert gates == () and alone == (0, 1)
    buf = bytearray(b"..abca..7zz")
    assert searcher.search(buf, len(buf), {0, 1}) == [(0, 2, b"abca"), (1, 8, b"7zz")]


@pytest.mark.parametrize("metadata", [True, False])
def test_the_hash_comes_from_the_same_single_read(tmp_path, monkeypatch, metadata):
    monkeypatch.setattr(raw_bytes, "CHUNK_SIZE", 1000)
    data = random.Random(1).randbytes(25_000) + b"Lavf59.27.100" + random.Random(2).randbytes(7_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    digest = hashlib.sha256()
    findings = scan_file(str(path), digest=digest, metadata=metadata)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert [f.check for f in findings] == (["meta-encoder-string"] if metadata else [])


def test_threads_give_the_same_findings_in_the_same_order(samples_dir):
    paths = [str(samples_dir)]
    assert scan_paths(paths, workers=1) == scan_paths(paths, workers=3)
    assert list(parallel_map(lambda n: n * n, list(range(20)), 3)) == [n * n for n in range(20)]


# ------------------------------------------------------------------ bare containers

def ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)],
                   check=True, timeout=120)


STRIP = ["-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
         "-flags:a", "+bitexact"]
VIDEO_IN = ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "sine=d=1"]
VIDEO_OUT = ["-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-x264-params", "threads=1", "-c:a", "aac"]
VIDEO = VIDEO_IN + VIDEO_OUT
NO_SEI = ["-bsf:v", "filter_units=remove_types=6"]
AUDIO = ["-f", "lavfi", "-i", "sine=d=1", "-c:a", "libmp3lame", "-write_xing", "0"]


@pytest.fixture(scope="module")
def bare_media(tmp_path_factory):
    d = tmp_path_factory.mktemp("bare")
    (d / "chapters.txt").write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=Kim\n")
    ffmpeg(*VIDEO, *NO_SEI, *STRIP, d / "bare.mp4")
    ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", *STRIP, d / "bare.m4a")
    ffmpeg(*AUDIO, "-id3v2_version", "0", *STRIP, d / "bare.mp3")
    clean_mp3_file(d / "bare.mp3")                      # as the build does
    ffmpeg(*VIDEO, *NO_SEI, *STRIP, "-metadata", "title=Secret", d / "title.mp4")
    ffmpeg(*VIDEO, *NO_SEI, *STRIP, "-metadata", "creation_time=2024-05-01T10:00:00Z", d / "created.mp4")
    ffmpeg(*VIDEO, *NO_SEI, *STRIP, "-metadata:s:a:0", "language=kor", d / "language.mp4")
    ffmpeg(*VIDEO, *STRIP, d / "sei.mp4")
    ffmpeg(*VIDEO_IN, "-i", d / "chapters.txt", *VIDEO_OUT, *NO_SEI, "-map_metadata", "-1", "-map_chapters", "2",
           "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", d / "chapters.mp4")
    ffmpeg(*AUDIO, "-metadata", "title=Secret", d / "id3v2.mp3")
    id3v1 = b"TAG" + b"Secret".ljust(30, b"\0") + b"Kim".ljust(30, b"\0") + bytes(30) + b"2024" + bytes(31)
    (d / "id3v1.mp3").write_bytes((d / "bare.mp3").read_bytes() + id3v1)          # ffmpeg writes none
    (d / "cut.mp4").write_bytes((d / "bare.mp4").read_bytes()[:-500])
    return d


@pytest.mark.parametrize("name", ["bare.mp4", "bare.m4a", "bare.mp3"])
def test_bare_files_are_read_natively_and_ffprobe_agrees_they_are_clean(bare_media, name):
    path = str(bare_media / name)
    assert bare_container(path)
    info, complaint = probe(path)
    assert probe_findings(info, name) == [] and complaint == ""
    assert [f for f in scan_file(path) if f.level != WARNING] == []


def test_a_bare_mp3_is_clean_only_once_lames_name_is_gone_from_its_frames(bare_media, tmp_path):
    """ffmpeg's libmp3lame writes LAME3.100 into the frames' unused bits whatever it is told;
    the build zeroes them (infopack.kinds.mpeg_audio), and the scanner looks at every bit offset."""
    raw = tmp_path / "lame.mp3"
    ffmpeg(*AUDIO, "-id3v2_version", "0", *STRIP, raw)
    assert [(f.check, f.level) for f in scan_file(str(raw))] == [(SHIFTED_CHECK, "error")]
    clean_mp3_file(raw)
    assert bare_container(str(raw)) and scan_file(str(raw)) == []


@pytest.mark.parametrize("name, check", [
    ("title.mp4", "meta-tag"), ("created.mp4", "meta-creation-time"), ("language.mp4", "meta-tag"),
    ("sei.mp4", "meta-encoder-string"), ("chapters.mp4", "meta-chapters"), ("id3v2.mp3", "meta-tag"),
    ("id3v1.mp3", "meta-tag")])
def test_anything_beyond_bare_goes_to_ffprobe_and_is_reported(bare_media, name, check):
    path = str(bare_media / name)
    assert not bare_container(path)
    assert check in {f.check for f in scan_file(path)}


def test_a_cut_mp4_is_not_taken_for_bare(bare_media):
    path = str(bare_media / "cut.mp4")
    assert not bare_container(path)
    assert {f.check for f in scan_file(path)} & {"scan-damaged", "scan-unreadable"}
