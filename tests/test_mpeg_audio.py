"""LAME's version string leaves MP3 and AVI outputs while the decoded audio and video stay identical.

Real libmp3lame encodes (through ffmpeg, as the audio-mp3 and legacy-avi profiles make them),
decoded by ffmpeg and by mpg123 (a second, independent decoder); property tests feed the
parser garbage and the bit search random data against a brute-force reference.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from infopack.errors import CheckFailed
from infopack.kinds.ffmpeg import LOUDNORM, STRIP_FLAGS
from infopack.kinds.mpeg_audio import (
    BitShiftedSearch,
    MpegAudioError,
    _frames,
    clean_avi_mp3,
    clean_mp3,
    clean_mp3_file,
    clean_stream,
    find_bitshifted,
)
from infopack.profiles import load_profile

SECONDS = 3
TONE = f"aevalsrc=0.5*sin(440*2*PI*t)|0.4*sin(554*2*PI*t):s=48000:d={SECONDS}"
NOISE = f"anoisesrc=c=pink:a=0.3:r=48000:d={SECONDS}:seed=1"   # a fixed seed: the same bytes on every run
BARE_MP3 = ["-write_xing", "0", "-id3v2_version", "0", "-write_id3v1", "0"]   # as kinds/audio.py writes .mp3

# id: (source, rate control, channels, sample rate)
ENCODES = {
    "32k-mono-22050-mpeg2": (TONE, ["-b:a", "32k"], 1, 22050),
    "32k-mono-44100": (NOISE, ["-b:a", "32k"], 1, 44100),
    "56k-mono-44100-speech": (NOISE, ["-b:a", "56k"], 1, 44100),
    "128k-stereo-44100-music": (TONE, ["-b:a", "128k"], 2, 44100),
    "vbr-q4-stereo-44100": (NOISE, ["-q:a", "4"], 2, 44100),
    "vbr-q4-stereo-tone": (TONE, ["-q:a", "4"], 2, 44100),
    "24k-mono-16000-mpeg2": (TONE, ["-b:a", "24k"], 1, 16000),
    "16k-mono-8000-mpeg25": (NOISE, ["-b:a", "16k"], 1, 8000),
    "64k-mono-8000-mpeg25": (TONE, ["-b:a", "64k"], 1, 8000),
    "160k-mono-22050-mpeg2": (TONE, ["-b:a", "160k"], 1, 22050),
    "320k-stereo-48000": (TONE, ["-b:a", "320k"], 2, 48000),
    "128k-stereo-no-reservoir": (NOISE, ["-b:a", "128k", "-reservoir", "0"], 2, 44100),
}


def ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)],
                   check=True, timeout=300)


def encode_mp3(out: Path, source: str, rate: list[str], channels: int, sample_rate: int,
               muxer: list[str] = BARE_MP3) -> Path:
    ffmpeg("-f", "lavfi", "-i", source, *STRIP_FLAGS, "-c:a", "libmp3lame", *rate,
           "-ac", channels, "-ar", sample_rate, *muxer, "-f", "mp3", out)
    return out


def pcm(path: Path, stream: str = "0:a:0") -> bytes:
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", stream,
                           "-f", "s16le", "-"], check=True, capture_output=True, timeout=300).stdout


def mpg123_pcm(path: Path) -> bytes:
    return subprocess.run(["mpg123", "-q", "-s", str(path)], check=True, capture_output=True, timeout=300).stdout


def strict_decode_errors(path: Path) -> str:
    proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", str(path), "-f", "null", "-"],
                          capture_output=True, timeout=300)
    return proc.stderr.decode("utf-8", "replace") + ("" if proc.returncode == 0 else f" exit {proc.returncode}")


def no_lame_anywhere(data: bytes) -> bool:
    return not find_bitshifted(data, b"LAME") and not find_bitshifted(data, b"LAME3.")


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("mp3")
    return {name: encode_mp3(folder / f"{name}.mp3", *spec) for name, spec in ENCODES.items()}


# ---------------------------------------------------------------------------------------
# Bare MP3
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ENCODES)
def test_cleaning_removes_lame_version_at_every_bit_offset(encoded, name):
    raw = encoded[name].read_bytes()
    assert find_bitshifted(raw, b"LAME3."), "libmp3lame no longer writes its version: the test proves nothing"
    cleaned = clean_mp3(raw)
    assert len(cleaned) == len(raw)
    assert no_lame_anywhere(cleaned)


@pytest.mark.parametrize("name", ENCODES)
def test_cleaned_mp3_decodes_to_identical_pcm_in_ffmpeg_and_mpg123(encoded, name, tmp_path):
    cleaned = tmp_path / "cleaned.mp3"
    cleaned.write_bytes(clean_mp3(encoded[name].read_bytes()))
    before = pcm(encoded[name])
    assert len(before) > SECONDS * ENCODES[name][3]          # at least the samples of one channel
    assert pcm(cleaned) == before
    assert mpg123_pcm(cleaned) == mpg123_pcm(encoded[name])
    assert strict_decode_errors(cleaned) == ""


@pytest.mark.parametrize("name", ENCODES)
def test_cleaning_only_clears_main_data_bits_and_is_idempotent(encoded, name):
    raw = encoded[name].read_bytes()
    cleaned = clean_mp3(raw)
    assert all(c & ~r == 0 for c, r in zip(cleaned, raw)), "cleaning set a bit"
    for frame in _frames(raw, 0, len(raw)):                   # headers, CRC and side info untouched
        assert cleaned[frame.offset:frame.area] == raw[frame.offset:frame.area]
    assert clean_mp3(cleaned) == cleaned


def test_a_stream_cut_inside_the_reservoir_keeps_its_pcm(encoded, tmp_path):
    """An AVI part or a cut file starts with frames whose main data began in frames it lacks."""
    raw = encoded["vbr-q4-stereo-44100"].read_bytes()
    frames = _frames(raw, 0, len(raw))
    cut_at = next(f.offset for f in frames[len(frames) // 2:] if f.main_data_begin > 0)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(raw[cut_at:])
    cleaned = tmp_path / "cleaned.mp3"
    cleaned.write_bytes(clean_mp3(cut.read_bytes()))
    assert cleaned.read_bytes() == clean_mp3(raw)[cut_at:]
    assert pcm(cleaned) == pcm(cut) and mpg123_pcm(cleaned) == mpg123_pcm(cut)


def test_some_lame_strings_lie_off_byte_boundaries(encoded):
    """The case byte-wise scrubbing would miss: the bit-level work is exercised."""
    shifts = {shift for path in encoded.values() for _, shift in find_bitshifted(path.read_bytes(), b"LAME3.")}
    assert shifts - {0}


def test_clean_mp3_file_rewrites_the_file_and_says_what_it_did(encoded, tmp_path):
    path = tmp_path / "speech.mp3"
    shutil.copy(encoded["56k-mono-44100-speech"], path)
    summary = clean_mp3_file(path)
    assert summary.frames > 100 and summary.ancillary_bits > 0 and summary.removed == ()
    assert no_lame_anywhere(path.read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == ["speech.mp3"]


def test_id3_tags_and_the_xing_frame_are_stripped(tmp_path):
    """ffmpeg's default MP3 muxer writes ID3v2, an Info frame naming the encoder and (asked) ID3v1;
    cleaned, the file is byte for byte the cleaned bare encode of the same audio."""
    source, rate, channels, sample_rate = ENCODES["vbr-q4-stereo-tone"]
    bare = encode_mp3(tmp_path / "bare.mp3", source, rate, channels, sample_rate)
    tagged = encode_mp3(tmp_path / "tagged.mp3", source, rate, channels, sample_rate,
                        muxer=["-write_id3v1", "1", "-metadata", "title=Planted Title"])
    raw = tagged.read_bytes()
    assert raw.startswith(b"ID3") and b"Xing" in raw[:4096] and raw[-128:].startswith(b"TAG")
    summary = clean_mp3_file(tagged)
    assert summary.removed == ("ID3v2 tag", "ID3v1 tag", "Xing/Info tag frame")
    assert tagged.read_bytes() == clean_mp3(bare.read_bytes())
    assert b"Planted" not in tagged.read_bytes() and b"Lav" not in tagged.read_bytes()


def test_not_an_mp3_is_refused_with_the_offset_and_the_file_is_left_alone(encoded, tmp_path):
    raw = encoded["128k-stereo-44100-music"].read_bytes()
    with pytest.raises(MpegAudioError, match=r"^byte 0: no MPEG audio frame sync"):
        clean_mp3(b"RIFF" + raw)
    cut = raw[:-100]
    with pytest.raises(MpegAudioError, match="last frame cut short"):
        clean_mp3(cut)
    path = tmp_path / "cut.mp3"
    path.write_bytes(cut)
    with pytest.raises(CheckFailed) as failed:
        clean_mp3_file(path)
    assert failed.value.path == str(path) and "LAME" not in failed.value.problem
    assert path.read_bytes() == cut


# ---------------------------------------------------------------------------------------
# MP3 in AVI
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def legacy_avi_file(tmp_path_factory) -> Path:
    return legacy_avi(tmp_path_factory.mktemp("avi") / "original.avi")


def legacy_avi(out: Path) -> Path:
    """An AVI made with the legacy-avi profile's video and audio settings (kinds/video.py's recipe)."""
    profile = load_profile("legacy-avi")
    video, audio = profile.video, profile.audio
    args = ["-f", "lavfi", "-i", f"testsrc2=s=320x240:r=25:d={SECONDS}", "-f", "lavfi", "-i", NOISE,
            "-map", "0:v", "-map", "1:a", *STRIP_FLAGS, "-flags:v", "+bitexact" + video.flags,
            "-c:v", video.codec, "-q:v", video.qscale, "-bf", video.bframes, "-tag:v", video.tag]
    for key, value in video.options.items():
        args += [f"-{key}", value]
    if audio.loudnorm:
        args += ["-af", LOUDNORM]
    args += ["-c:a", audio.codec, "-b:a", audio.bitrate, "-ac", audio.channels, "-ar", audio.sample_rate]
    ffmpeg(*args, "-f", profile.container, out)
    return out


def framemd5(path: Path) -> bytes:
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
                          check=True, capture_output=True, timeout=300).stdout


def test_avi_mp3_is_cleaned_in_place_with_identical_audio_and_video(legacy_avi_file, tmp_path):
    original = legacy_avi_file
    cleaned = tmp_path / "cleaned.avi"
    shutil.copy(original, cleaned)
    assert find_bitshifted(original.read_bytes(), b"LAME3.")
    summary = clean_avi_mp3(cleaned)
    assert summary.frames > 100 and summary.ancillary_bits > 0
    assert cleaned.stat().st_size == original.stat().st_size
    assert no_lame_anywhere(cleaned.read_bytes())
    assert pcm(cleaned) == pcm(original) and len(pcm(original)) > SECONDS * 44100 * 4 * 0.9
    assert framemd5(cleaned) == framemd5(original)
    assert strict_decode_errors(cleaned) == ""
    once = cleaned.read_bytes()
    clean_avi_mp3(cleaned)
    assert cleaned.read_bytes() == once


def chunk(ident: bytes, payload: bytes) -> bytes:
    return ident + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)


def riff_list(ident: bytes, kind: bytes, *children: bytes) -> bytes:
    body = kind + b"".join(children)
    return ident + struct.pack("<I", len(body)) + body


def synthetic_avi(stream: bytes, format_tag: int, seed: int) -> tuple[bytes, list[tuple[int, int]]]:
    """A two-stream AVI whose audio chunks cut `stream` at random places (odd sizes, frames
    across chunks, a 'rec ' list, the rest in an OpenDML AVIX extension); video chunks carry
    a decoy "LAME3.100". Returns the file and its audio payloads' (offset, size)."""
    rnd = random.Random(seed)
    strl_video = riff_list(b"LIST", b"strl", chunk(b"strh", b"vids" + bytes(52)), chunk(b"strf", bytes(40)))
    wave = struct.pack("<HHIIHHH", format_tag, 2, 44100, 12000, 1, 0, 12) + bytes(12)
    strl_audio = riff_list(b"LIST", b"strl", chunk(b"strh", b"auds" + bytes(52)), chunk(b"strf", wave))
    hdrl = riff_list(b"LIST", b"hdrl", chunk(b"avih", bytes(56)), strl_video, strl_audio)
    pieces, at = [], 0
    while at < len(stream):
        size = rnd.choice([0, 1, 7, 100, 333, 417, 418, 1000, 2501])
        pieces.append(stream[at:at + size])
        at += size
    half = len(pieces) // 2
    decoy = chunk(b"00dc", b"video LAME3.100UUUU")

    def movi(group: list[bytes], rec: bool) -> bytes:
        chunks = [decoy + chunk(b"01wb", p) for p in group]
        if rec and len(chunks) > 4:
            chunks[2:4] = [riff_list(b"LIST", b"rec ", *chunks[2:4])]
        return riff_list(b"LIST", b"movi", *chunks)

    first = riff_list(b"RIFF", b"AVI ", hdrl, chunk(b"JUNK", bytes(5)), movi(pieces[:half], True),
                      chunk(b"idx1", bytes(16)))
    data = first + riff_list(b"RIFF", b"AVIX", movi(pieces[half:], False))
    offsets, pos = [], 0
    for piece in pieces:                # each audio chunk follows a decoy video chunk: find in order
        pos = data.index(b"01wb" + struct.pack("<I", len(piece)), pos) + 8
        offsets.append((pos, len(piece)))
    return data, offsets


def test_avi_audio_frames_straddling_chunks_and_riff_extensions_are_cleaned(encoded, tmp_path):
    stream = encoded["vbr-q4-stereo-44100"].read_bytes()
    data, audio = synthetic_avi(stream, 0x55, seed=1)
    path = tmp_path / "synthetic.avi"
    path.write_bytes(data)
    clean_avi_mp3(path)
    after = path.read_bytes()
    assert len(after) == len(data)
    assert b"".join(after[o:o + n] for o, n in audio) == clean_mp3(stream)
    inside_audio = {i for o, n in audio for i in range(o, o + n)}
    assert all(i in inside_audio for i in range(len(data)) if after[i] != data[i])
    assert after.count(b"video LAME3.100UUUU") == data.count(b"video LAME3.100UUUU")   # other streams kept


def test_avi_without_mp3_audio_is_left_alone(encoded, tmp_path):
    data, _ = synthetic_avi(encoded["32k-mono-44100"].read_bytes(), 0x0001, seed=2)     # PCM audio
    path = tmp_path / "pcm.avi"
    path.write_bytes(data)
    assert clean_avi_mp3(path).frames == 0
    assert path.read_bytes() == data


# ---------------------------------------------------------------------------------------
# Garbage in: MpegAudioError (bytes) or CheckFailed (files), nothing else
# ---------------------------------------------------------------------------------------

def clean_or_refuse(data: bytes) -> bytes | None:
    try:
        return clean_mp3(data)
    except MpegAudioError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_are_refused_cleanly(data):
    clean_or_refuse(data)
    clean_or_refuse(b"\xff\xfb" + data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_damaged_real_mp3_is_cleaned_or_refused_never_crashes(encoded, data):
    raw = bytearray(encoded[data.draw(st.sampled_from(sorted(ENCODES)))].read_bytes())
    for _ in range(data.draw(st.integers(0, 6))):
        at = data.draw(st.integers(0, 2000) | st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    cleaned = clean_or_refuse(bytes(raw))
    event("refused" if cleaned is None else "cleaned")
    if cleaned is not None:
        assert len(cleaned) <= len(raw)


RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
KBPS = {True: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
        False: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}


def random_frame(data, version: int, rate_index: int) -> tuple[bytes, int, int, int]:
    """A Layer III frame written from the standard's tables: valid header, side info with a
    drawn main_data_begin and part2_3_lengths (other fields random), random main data.
    Returns (frame, main-data area offset in the frame, main_data_begin, bits used)."""
    mpeg1 = version == 3
    bitrate, crc, mode = data.draw(st.integers(1, 14)), data.draw(st.booleans()), data.draw(st.integers(0, 3))
    padding = data.draw(st.integers(0, 1))
    header = bytes([0xFF, 0xE0 | version << 3 | 1 << 1 | (0 if crc else 1),
                    bitrate << 4 | rate_index << 2 | padding << 1, mode << 6 | data.draw(st.integers(0, 63))])
    size = (144 if mpeg1 else 72) * KBPS[mpeg1][bitrate - 1] * 1000 // RATES[version][rate_index] + padding
    channels = 1 if mode == 3 else 2
    side_bytes = (17 if channels == 1 else 32) if mpeg1 else (9 if channels == 1 else 17)
    area = 4 + 2 * crc + side_bytes
    entries = channels * (2 if mpeg1 else 1)
    begin = data.draw(st.integers(0, 40) | st.integers(0, 511 if mpeg1 else 255))
    share = min(4095, max(0, (size - area + begin) * 8 // entries))
    lengths = [data.draw(st.integers(0, share) | st.integers(0, 4095)) for _ in range(entries)]
    bits = format(begin, "09b" if mpeg1 else "08b")
    bits += "".join(data.draw(st.sampled_from("01")) for _ in range((5 if channels == 1 else 3) + 4 * channels
                                                                      if mpeg1 else channels))
    other = 47 if mpeg1 else 51                # the granule/channel fields after part2_3_length
    for length in lengths:
        bits += format(length, "012b") + format(data.draw(st.integers(0, 2**other - 1)), f"0{other}b")
    assert len(bits) == side_bytes * 8
    side = int(bits, 2).to_bytes(side_bytes, "big")
    main = data.draw(st.binary(min_size=size - area, max_size=size - area))
    return header + bytes(2 * crc) + side + main, area, begin, sum(lengths)


def expected_cleaning(frames: list[tuple[bytes, int, int, int]]) -> bytes | None:
    """The standard's reservoir, bit by bit: keep the bits some frame's main data uses, zero the
    rest of the main-data areas; None where a frame's main data is impossible."""
    stream = b"".join(f for f, _, _, _ in frames)
    bits = list(format(int.from_bytes(stream, "big"), f"0{len(stream) * 8}b")) if stream else []
    area_bits, used, reservoir, previous_end = [], set(), 0, None
    at = 0
    for frame, area, begin, used_bits in frames:
        area_bits += range((at + area) * 8, (at + len(frame)) * 8)
        if used_bits:
            first = (reservoir - begin) * 8
            if first + used_bits > len(area_bits) or (previous_end is not None and first < previous_end):
                return None
            used.update(range(max(0, first), first + used_bits))
            previous_end = first + used_bits
        reservoir += len(frame) - area
        at += len(frame)
    for index, bit in enumerate(area_bits):
        if index not in used:
            bits[bit] = "0"
    return int("".join(bits), 2).to_bytes(len(stream), "big") if stream else b""


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_cleaning_keeps_exactly_the_bits_the_standards_reservoir_uses(data):
    version, rate_index = data.draw(st.sampled_from([3, 2, 0])), data.draw(st.integers(0, 2))
    frames = [random_frame(data, version, rate_index) for _ in range(data.draw(st.integers(1, 6)))]
    stream = b"".join(f for f, _, _, _ in frames)
    expected = expected_cleaning(frames)
    buf = bytearray(stream)
    event("refused" if expected is None else "cleaned, bits zeroed" if expected != stream else "nothing to zero")
    if expected is None:
        with pytest.raises(MpegAudioError):
            clean_stream(buf)
        assert buf == stream                 # refused: untouched
    else:
        clean_stream(buf)
        assert bytes(buf) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_damaged_avi_files_are_cleaned_or_refused_with_checkfailed(encoded, tmp_path, data):
    stream = encoded["16k-mono-8000-mpeg25"].read_bytes()
    avi = bytearray(synthetic_avi(stream, 0x55, seed=data.draw(st.integers(0, 3)))[0])
    if data.draw(st.booleans()):
        avi = bytearray(data.draw(st.binary(max_size=400)))
    for _ in range(data.draw(st.integers(0, 4))):
        if avi:
            avi[data.draw(st.integers(0, len(avi) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        avi = avi[:data.draw(st.integers(0, len(avi)))]
    path = tmp_path / "damaged.avi"
    path.write_bytes(bytes(avi))
    try:
        event(f"cleaned, {'some' if clean_avi_mp3(path).frames else 'no'} MP3 frames")
    except CheckFailed as failed:
        event("refused")
        assert failed.path == str(path)
        assert path.read_bytes() == bytes(avi)


# ---------------------------------------------------------------------------------------
# Searching at every bit offset
# ---------------------------------------------------------------------------------------

def brute_force(data: bytes, needle: bytes) -> list[tuple[int, int]]:
    total, width = len(data) * 8, len(needle) * 8
    value, wanted = int.from_bytes(data, "big"), int.from_bytes(needle, "big")
    return [(bit >> 3, bit & 7) for bit in range(total - width + 1)
            if (value >> (total - width - bit)) & ((1 << width) - 1) == wanted]


def planted(data: bytes, needle: bytes, bit: int) -> bytes:
    total, width = len(data) * 8, len(needle) * 8
    value = int.from_bytes(data, "big")
    mask = ((1 << width) - 1) << (total - width - bit)
    value = value & ~mask | int.from_bytes(needle, "big") << (total - width - bit)
    return value.to_bytes(len(data), "big")


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_bit_shifted_search_finds_what_a_brute_force_search_finds_in_any_chunking(data):
    needle = data.draw(st.binary(min_size=2, max_size=5) | st.sampled_from([b"LAME3.", b"Lavc", b"UU"]))
    raw = data.draw(st.binary(max_size=80))
    if len(raw) >= len(needle):
        raw = planted(raw, needle, data.draw(st.integers(0, (len(raw) - len(needle)) * 8)))
    expected = brute_force(raw, needle)
    assert find_bitshifted(raw, needle) == expected
    search, hits, at = BitShiftedSearch([needle], context=data.draw(st.integers(0, 4))), [], 0
    while at < len(raw):
        size = data.draw(st.integers(0, 9))
        hits += search.feed(raw[at:at + size])
        at += size
    hits += search.finish()
    assert [(h.offset, h.shift) for h in hits] == expected


def test_bit_shifted_hits_carry_the_realigned_text_that_follows():
    raw = planted(os.urandom(64), b"Lavc59.37.100", 8 * 20 + 3)
    search = BitShiftedSearch([b"Lavc"], context=9)
    hits = [h for h in search.feed(raw[:23]) + search.feed(raw[23:]) + search.finish()
            if h.text.startswith(b"Lavc59")]
    assert [(h.offset, h.shift, h.text) for h in hits] == [(20, 3, b"Lavc59.37.100")]


def test_speed_of_search_and_cleaning(legacy_avi_file, encoded, capsys):
    """Printed for the record (one core, shared with whatever else runs): the bit-shifted search
    on 64 MiB of compressed media in 1 MiB chunks, and cleaning a long MP3."""
    rates = {}
    samples = {"random bytes (ideal compressed media)": random.Random(0).randbytes(2**20),
               "legacy-avi file (MPEG-4 video + MP3)": legacy_avi_file.read_bytes()}
    for label, sample in samples.items():
        data = (sample * (64 * 2**20 // len(sample) + 1))[:64 * 2**20]
        search = BitShiftedSearch([b"LAME3.", b"Lavc", b"Lavf"], context=8)
        start, start_cpu = time.perf_counter(), time.process_time()
        hits = []
        view = memoryview(data)
        for at in range(0, len(data), 2**20):
            hits += search.feed(view[at:at + 2**20])
        hits += search.finish()
        rates[label] = (len(data) / (time.perf_counter() - start) / 1e6,
                        len(data) / (time.process_time() - start_cpu) / 1e6)
        found = len([hit for hit in hits if hit.needle == b"LAME3."])
        assert found >= len(find_bitshifted(sample, b"LAME3.")) * (len(data) // len(sample))
    stream = encoded["128k-stereo-44100-music"].read_bytes() * 200          # 10 minutes of 128k audio
    start = time.perf_counter()
    frames = clean_stream(bytearray(stream)).frames
    clean_seconds = time.perf_counter() - start
    with capsys.disabled():
        for label, (rate, cpu_rate) in rates.items():
            print(f"\nBitShiftedSearch (LAME3., Lavc, Lavf), {label}: {rate:.0f} MB/s "
                  f"({cpu_rate:.0f} MB/s of CPU time), a 4 GB card in {4000 / rate:.0f} s")
        print(f"clean_stream: {frames / clean_seconds:.0f} frames/s, a 2-hour 128k MP3 in "
              f"{clean_seconds * 12:.1f} s")
    assert min(rate for rate, _ in rates.values()) > 10
