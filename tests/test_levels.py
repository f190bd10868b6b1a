"""Codec levels: the tables at known points, the size chosen before encoding, and the
validator run on real encodes (x264, x265, ffmpeg's mpeg4) of generated test pictures."""

from __future__ import annotations

import subprocess
import tomllib
from fractions import Fraction

import pytest

from infopack.data import DATA_DIR
from infopack.errors import UsageError
from infopack.kinds.levels import (
    LevelLimits,
    Packet,
    SequenceHeader,
    buffer_underflows,
    busiest_second,
    largest_size_within,
    level_problems,
    level_warnings,
    limits,
    measure_output,
    output_problems,
    with_warnings,
)
from infopack.tools import ffmpeg_info

NTSC = Fraction(30000, 1001)
FILM = Fraction(24000, 1001)


def encode(out, size: str, rate, args: list[str], *, frames: int, source: str = "testsrc2") -> str:
    """Encode `frames` frames of a generated picture; returns the encoder's stderr (at warning level)."""
    command = with_warnings([ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                             "-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}", "-frames:v", str(frames),
                             "-pix_fmt", "yuv420p", *args, str(out)])
    proc = subprocess.run(command, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stderr.decode("utf-8", "replace")


def x264(profile: str, level: str, *extra: str) -> list[str]:
    # veryfast keeps CABAC and B-frames, so x264 signals Main (ultrafast would signal Constrained Baseline)
    return ["-c:v", "libx264", "-profile:v", profile, "-level:v", level, "-preset", "veryfast", "-threads", "1",
            *extra]


# -- the tables --------------------------------------------------------------------------

@pytest.mark.parametrize("level, frame, rate, bitrate, buffer", [
    ("3.0", 1620, 40500, 10_000, 10_000),
    ("3", 1620, 40500, 10_000, 10_000),
    ("3.1", 3600, 108000, 14_000, 14_000),
    ("3.2", 5120, 216000, 20_000, 20_000),
    ("4.0", 8192, 245760, 20_000, 25_000),
    ("4.1", 8192, 245760, 50_000, 62_500),
    ("1b", 99, 1485, 128, 350),
])
def test_h264_table_a1_at_known_points(level, frame, rate, bitrate, buffer):
    lim = limits("libx264", "main", level)
    assert (lim.max_frame, lim.max_rate, lim.max_bitrate, lim.max_buffer) == (frame, rate, bitrate * 1000,
                                                                              buffer * 1000)


def test_h264_high_profile_allows_a_quarter_more_bits_and_buffer():
    main, high = limits("libx264", "main", "3.1"), limits("h264", "high", "3.1")
    assert (high.max_bitrate, high.max_buffer) == (17_500_000, 17_500_000)
    assert (high.max_frame, high.max_rate) == (main.max_frame, main.max_rate)


def test_h264_dpb_holds_fewer_frames_for_bigger_pictures():
    lim = limits("libx264", "main", "3.0")                # MaxDpbMbs 8,100
    assert lim.max_dpb_frames(lim.frame_size(854, 480)) == 5
    assert lim.max_dpb_frames(lim.frame_size(320, 240)) == 16      # 8,100 / 300 = 27, capped at 16
    assert lim.frame_size(854, 480) == 54 * 30 and lim.frame_size(768, 432) == 48 * 27


def test_hevc_table_a8_a9_at_known_points_and_dpb_size():
    lim = limits("libx265", "main", "3.1")
    assert (lim.max_frame, lim.max_rate, lim.max_bitrate, lim.max_buffer) == (983040, 33177600, 10_000_000,
                                                                              10_000_000)
    four = limits("hevc", "main", "4")
    assert (four.max_frame, four.max_rate, four.max_bitrate, four.max_buffer) == (2228224, 66846720, 12_000_000,
                                                                                  12_000_000)
    assert limits("libx265", "main", "5.1").max_bitrate == 40_000_000
    # A.4.2: 6 pictures at full size, 12 up to half of MaxLumaPs, 16 up to a quarter
    assert lim.max_dpb_frames(1280 * 720) == 6
    assert lim.max_dpb_frames(864 * 480) == 12
    assert lim.max_dpb_frames(640 * 368) == 16
    assert lim.level_numbers == (93,)


def test_mpeg4_part2_levels_at_known_points():
    sp = limits("mpeg4", "simple", "4a")
    assert (sp.max_frame, sp.max_rate, sp.max_bitrate, sp.max_buffer) == (1200, 36000, 4_000_000, 80 * 16384)
    assert limits("mpeg4", "simple", "4") == sp           # the video kind's alias for 4a
    assert limits("mpeg4", "simple", "5").max_rate == 40500
    asp = limits("mpeg4", "advanced_simple", "5")
    assert (asp.max_frame, asp.max_rate, asp.max_bitrate, asp.max_buffer) == (1620, 48600, 8_000_000,
                                                                              112 * 16384)
    assert limits("mpeg4", "simple", "0").level_numbers == (8,)     # profile_and_level_indication 0x08


def test_unknown_level_names_what_is_known():
    with pytest.raises(UsageError, match=r"level '3\.3'.*known: profiles baseline, main, high; levels 1\.0"):
        limits("libx264", "main", "3.3")
    with pytest.raises(UsageError, match="4a"):
        limits("mpeg4", "simple", "7")


# -- choosing a size ---------------------------------------------------------------------

@pytest.mark.parametrize("fps, expected", [(FILM, (854, 480)), (25, (854, 480)), (NTSC, (768, 432)),
                                           (30, (768, 432))])
def test_largest_16_9_size_for_level_3_0(fps, expected):
    assert largest_size_within(Fraction(16, 9), 854, 480, fps, "libx264", "main", "3.0") == expected


def test_largest_size_keeps_portrait_and_the_box():
    assert largest_size_within(Fraction(9, 16), 854, 480, 30, "libx264", "main", "3.0") == (270, 480)
    assert largest_size_within(Fraction(16, 9), 640, 360, 30, "libx264", "main", "3.0") == (640, 360)


def test_no_size_fits_an_impossible_rate():
    with pytest.raises(UsageError, match="no frame size.*fits H.264 main Level 1.0 at 600.000 fps"):
        largest_size_within(Fraction(16, 9), 854, 480, 600, "libx264", "main", "1.0")


def video_profiles() -> list:
    paths = sorted((DATA_DIR / "profiles").glob("*.toml"))
    shipped = [tomllib.loads(path.read_text(encoding="utf-8")) for path in paths]
    return [pytest.param(data, id=data["id"]) for data in shipped if "video" in data]


def profile_args(data: dict) -> list[str]:
    """The profile's codec, level and rate control, as the video kind passes them."""
    v = data["video"]
    if v["codec"] == "libx264":
        return ["-c:v", "libx264", "-profile:v", v["profile"], "-level:v", v["level"], "-preset", v["preset"],
                "-crf", str(v["crf"]), "-maxrate", v["maxrate"], "-bufsize", v["bufsize"], "-threads", "1"]
    if v["codec"] == "libx265":
        params = f"info=0:pools=1:frame-threads=1:level-idc={v['level']}:log-level=warning"
        return ["-c:v", "libx265", "-profile:v", v["profile"], "-preset", v["preset"], "-crf", str(v["crf"]),
                "-maxrate", v["maxrate"], "-bufsize", v["bufsize"], "-x265-params", params, "-tag:v", "hvc1"]
    signalled = limits("mpeg4", v["profile"], v["level"]).level_numbers[0]
    return ["-c:v", "mpeg4", "-profile:v", {"simple": "0", "advanced_simple": "15"}[v["profile"]],
            "-level:v", str(signalled), "-q:v", str(v["qscale"]), "-bf", "0", "-flags:v", "+mv4", "-tag:v", v["tag"]]


# source rate -> output rate (the video kind halves 50/59.94 for profiles capped at 30)
SOURCE_RATES = {"23.976": FILM, "25": 25, "29.97": NTSC, "30": 30, "50": 25, "59.94": NTSC}


@pytest.mark.parametrize("data", video_profiles())
def test_chosen_size_passes_the_validator_for_every_shipped_profile(data, tmp_path):
    v = data["video"]
    checked = {}
    for source, fps in SOURCE_RATES.items():
        size = largest_size_within(Fraction(16, 9), v["max_width"], v["max_height"], fps, v["codec"],
                                   v["profile"], v["level"])
        if (size, fps) in checked.values():
            continue                                 # 50 -> 25 and 59.94 -> 29.97 encode the same file
        checked[source] = (size, fps)
        out = tmp_path / f"{source}{data['extension']}"
        stderr = encode(out, f"{size[0]}x{size[1]}", fps, profile_args(data), frames=8)
        measure = measure_output(out)
        assert (measure.stream["width"], measure.stream["height"]) == size
        assert output_problems(measure, v["codec"], v["profile"], v["level"]) == [], (source, size)
        assert level_warnings(stderr) == [], stderr
    assert len(checked) == 4


# -- the validator on real encodes -------------------------------------------------------

def test_854x480_at_30_fps_breaks_level_3_0_and_x264_says_so(tmp_path):
    out = tmp_path / "over.mp4"
    stderr = encode(out, "854x480", 30, x264("main", "3.0"), frames=30)
    problems = output_problems(measure_output(out), "libx264", "main", "3.0")
    assert problems == ["48,600 macroblocks/s (1,620 a frame at 30.000 fps) is over H.264 main Level 3.0's "
                        "40,500/s: use a smaller frame (largest_size_within) or rate"]
    assert level_warnings(stderr) and "MB rate (48600) > level limit (40500)" in level_warnings(stderr)[0]


@pytest.mark.parametrize("size, rate", [("854x480", 25), ("768x432", "30000/1001")])
def test_level_3_0_sizes_that_fit_pass(tmp_path, size, rate):
    out = tmp_path / "fits.mp4"
    stderr = encode(out, size, rate, x264("main", "3.0"), frames=30)
    measure = measure_output(out)
    assert output_problems(measure, "libx264", "main", "3.0") == []
    assert level_warnings(stderr) == []
    assert measure.header.ref_frames is not None and measure.header.ref_frames <= 5


def test_more_reference_frames_than_the_dpb_holds_fail(tmp_path):
    out = tmp_path / "refs.mp4"
    encode(out, "854x480", 25, x264("main", "3.0", "-refs", "12"), frames=5)
    problems = output_problems(measure_output(out), "libx264", "main", "3.0")
    assert "12 reference frames (max_num_ref_frames), but H.264 main Level 3.0's buffer holds 5 frames of " \
           "1,620 macroblocks" in problems


def test_signalled_level_and_profile_must_be_the_declared_ones(tmp_path):
    out = tmp_path / "level31.mp4"
    encode(out, "640x360", 25, x264("main", "3.1"), frames=5)
    measure = measure_output(out)
    assert output_problems(measure, "libx264", "main", "3.1") == []
    assert output_problems(measure, "libx264", "main", "3.0") == ["signals level 31, not the declared 3.0 (30)"]
    assert output_problems(measure, "libx264", "high", "3.1") == ["signals profile 'Main', not the declared 'High'"]
    assert output_problems(measure, "libx265", "main", "3.1") == ["codec h264 (expected hevc)"]


@pytest.mark.parametrize("codec, profile, level, extension, args", [
    ("libx264", "main", "1.1", ".mp4", x264("main", "1.1", "-qp", "4")),
    ("mpeg4", "simple", "0", ".avi", ["-c:v", "mpeg4", "-profile:v", "0", "-level:v", "8", "-q:v", "2",
                                      "-bf", "0"]),
])
def test_bitrate_over_maxbr_fails(tmp_path, codec, profile, level, extension, args):
    out = tmp_path / f"noisy{extension}"
    subprocess.run([ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=176x144:rate=15,noise=alls=100:allf=t+u", "-frames:v", "45",
                    "-pix_fmt", "yuv420p", *args, str(out)], check=True, capture_output=True, timeout=120)
    problems = output_problems(measure_output(out), codec, profile, level)
    assert any(p.startswith("average bit rate") for p in problems), problems
    assert any(p.startswith("the busiest second") for p in problems), problems
    assert any("runs dry" in p for p in problems), problems
    assert not any("macroblocks" in p for p in problems), problems       # size and rate are within the level


# -- the pieces, on made-up data ---------------------------------------------------------

def test_buffer_model_drains_and_refills():
    rate, buffer = 1000, 2000                      # bits/s, bits
    steady = [Packet(t / 10, 12) for t in range(50)]          # 96 bits every 0.1 s: under 1000 bits/s
    assert buffer_underflows(steady, rate, buffer) == []
    burst = [Packet(0.0, 200), Packet(0.1, 200), Packet(0.2, 10)]   # 1600 bits, then 1600 with 100 refilled
    assert buffer_underflows(burst, rate, buffer) == [(pytest.approx(0.1), 1600, pytest.approx(500.0))]
    assert busiest_second([Packet(0.0, 10), Packet(0.5, 20), Packet(1.2, 40), Packet(1.4, 5)]) == (520, 0.5)


def test_average_bitrate_alone_and_stream_fields_alone():
    stream = {"codec_name": "h264", "profile": "Main", "level": 30, "width": 768, "height": 432,
              "avg_frame_rate": "30000/1001"}
    assert level_problems(stream, 9_000_000, "libx264", "main", "3.0") == []
    assert level_problems(stream, 11_000_000, "libx264", "main", "3.0") == [
        "average bit rate 11,000 kbit/s is over H.264 main Level 3.0's 10,000 kbit/s"]
    header = SequenceHeader(768, 432, ref_frames=7, dpb_frames=6)           # 8,100 / 1,296 MBs: 6 frames
    assert level_problems(stream, None, "libx264", "main", "3.0", header=header) == [
        "7 reference frames (max_num_ref_frames), but H.264 main Level 3.0's buffer holds 6 frames of 1,296 "
        "macroblocks"]


def test_hevc_dpb_and_tier_from_the_header():
    stream = {"codec_name": "hevc", "profile": "Main", "level": 93, "width": 1280, "height": 720,
              "avg_frame_rate": "25/1"}
    assert level_problems(stream, None, "libx265", "main", "3.1", header=SequenceHeader(1280, 720, None, 6)) == []
    problems = level_problems(stream, None, "libx265", "main", "3.1",
                              header=SequenceHeader(1280, 720, None, 7, high_tier=True))
    assert problems == ["a decoded picture buffer of 7 pictures (sps_max_dec_pic_buffering), but HEVC main "
                        "Level 3.1 allows 6 at this size",
                        "signals the High tier; the limits checked are the Main tier's"]


def test_a_side_too_long_for_the_level():
    lim: LevelLimits = limits("libx264", "main", "3.0")       # sqrt(8 x 1,620) = 113 macroblocks a side
    assert lim.dimension_problem(1808, 64) is None
    assert "longer than H.264 main Level 3.0 allows (113)" in lim.dimension_problem(1824, 64)


def test_with_warnings_raises_only_the_log_level():
    assert with_warnings(["ffmpeg", "-loglevel", "error", "-i", "x"]) == ["ffmpeg", "-loglevel", "warning", "-i", "x"]
    assert with_warnings(["ffmpeg", "-i", "x"]) == ["ffmpeg", "-loglevel", "warning", "-i", "x"]
    text = ("[libx264 @ 0x1] MB rate (48600) > level limit (40500)\n[mp4 @ 0x2] something else\n"
            "x265 [error]: frame rate is out of range for specified level\n")
    assert level_warnings(text.encode()) == ["[libx264 @ 0x1] MB rate (48600) > level limit (40500)",
                                             "x265 [error]: frame rate is out of range for specified level"]
