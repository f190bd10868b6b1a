"""Display geometry: phone rotation and DVD pixel aspect applied exactly once, on real
clips made with ffmpeg (a display matrix set as phones write it, SAR 32:27 as DVDs)."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction

import pytest

from infopack.errors import UsageError
from infopack.kinds.geometry import (
    SourceGeometry,
    deinterlace_first,
    display_aspect,
    filters_for,
    output_size,
    rotation,
    source_geometry,
)
from infopack.kinds.levels import largest_size_within, measure_output, output_problems
from infopack.tools import ffmpeg_info

PHONE_MATRIX = "0       65536           0\n00000001:       -65536"     # as a Samsung phone writes it


def ffmpeg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                          check=True, capture_output=True, timeout=300)


def video_stream(path) -> dict:
    out = subprocess.run([ffmpeg_info().ffprobe, "-v", "error", "-select_streams", "v:0", "-show_streams",
                          "-of", "json", str(path)], check=True, capture_output=True, timeout=60).stdout
    return json.loads(out)["streams"][0]


def gray_frame(path, *, before_input: tuple[str, ...] = (), vf: list[str] | None = None) -> bytes:
    """The first frame as 8-bit gray bytes, decoded with ffmpeg's defaults unless told otherwise."""
    args = [*before_input, "-i", str(path), "-frames:v", "1"]
    if vf:
        args += ["-vf", ",".join(vf)]
    return ffmpeg(*args, "-pix_fmt", "gray", "-f", "rawvideo", "-").stdout


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """A 1280x720 landscape clip and copies turned by display matrices; a DVD-shaped clip."""
    folder = tmp_path_factory.mktemp("geometry")
    source = folder / "landscape.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-frames:v", "10", "-c:v", "libx264",
           "-preset", "veryfast", "-pix_fmt", "yuv420p", str(source))
    made = {"landscape": source}
    # ffmpeg 5.1's -metadata:s:v rotate=N writes a matrix that turns N degrees counterclockwise,
    # so -90 gives the matrix a phone writes for a portrait video (checked below).
    for name, tag in (("phone", "-90"), ("ccw", "90"), ("upside_down", "180")):
        made[name] = folder / f"{name}.mp4"
        ffmpeg("-i", str(source), "-c", "copy", "-metadata:s:v", f"rotate={tag}", str(made[name]))
    made["dvd"] = folder / "dvd.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=720x480:rate=30000/1001", "-frames:v", "10", "-vf", "setsar=32/27",
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(made["dvd"]))
    return made


def test_phone_clip_carries_the_matrix_phones_write(clips):
    side = video_stream(clips["phone"])["side_data_list"][0]
    assert PHONE_MATRIX in side["displaymatrix"] and side["rotation"] == -90


@pytest.mark.parametrize("name, degrees", [("landscape", 0), ("phone", 90), ("ccw", 270), ("upside_down", 180)])
def test_rotation_reads_the_display_matrix(clips, name, degrees):
    assert rotation(video_stream(clips[name])) == degrees


def test_rotation_from_the_rotation_field_or_the_legacy_tag():
    assert rotation({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]}) == 90
    assert rotation({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": 90}]}) == 270
    assert rotation({"tags": {"rotate": "90"}}) == 90
    assert rotation({"tags": {"rotate": "-90"}}) == 270
    assert rotation({}) == 0
    with pytest.raises(UsageError, match="turned by 45 degrees"):
        rotation({"tags": {"rotate": "45"}})


def test_display_aspect_applies_pixel_aspect_then_rotation():
    assert display_aspect(720, 480, Fraction(32, 27), 0) == Fraction(16, 9)
    assert display_aspect(720, 480, Fraction(8, 9), 0) == Fraction(4, 3)
    assert display_aspect(1280, 720, 1, 90) == Fraction(9, 16)
    assert display_aspect(720, 480, Fraction(32, 27), 270) == Fraction(9, 16)


def test_output_size_is_upright_square_pixels_in_the_box_never_larger():
    assert output_size(SourceGeometry(1280, 720, Fraction(1), 90), 854, 480) == (270, 480)
    assert output_size(SourceGeometry(1280, 720, Fraction(1), 180), 854, 480) == (854, 480)
    assert output_size(SourceGeometry(720, 480, Fraction(32, 27), 0), 854, 480) == (854, 480)
    assert output_size(SourceGeometry(720, 480, Fraction(8, 9), 0), 854, 480) == (640, 480)
    assert output_size(SourceGeometry(320, 240, Fraction(1), 0), 854, 480) == (320, 240)
    assert output_size(SourceGeometry(720, 480, Fraction(32, 27), 0), 640, 480) == (640, 360)


@pytest.mark.parametrize("name", ["phone", "ccw", "upside_down"])
def test_filters_for_are_what_ffmpeg_autorotate_applies(clips, name):
    turned = rotation(video_stream(clips[name]))
    assert gray_frame(clips[name]) == gray_frame(clips[name], before_input=("-noautorotate",),
                                                 vf=filters_for(turned))


@pytest.mark.parametrize("name", ["phone", "upside_down"])
def test_deinterlace_first_hands_the_deinterlacer_the_stored_picture(clips, name):
    """A stand-in deinterlacer that keeps the stored left half shows what it was handed."""
    turned = rotation(video_stream(clips[name]))
    left_half = "crop=iw/2:ih:0:0"
    assert gray_frame(clips[name], vf=deinterlace_first(turned, left_half)) == gray_frame(
        clips[name], before_input=("-noautorotate",), vf=[left_half] + filters_for(turned))


def test_noautorotate_would_keep_the_matrix_and_turn_the_picture_twice(clips, tmp_path):
    """Why encodes leave autorotate on: without it ffmpeg 5.1 copies the phone's matrix into the output."""
    out = tmp_path / "twice.mp4"
    ffmpeg("-noautorotate", "-i", str(clips["phone"]), "-map_metadata", "-1", "-vf",
           ",".join(filters_for(90) + ["scale=270:480"]), "-c:v", "libx264", "-preset", "veryfast", str(out))
    assert rotation(video_stream(out)) == 90


def test_portrait_phone_clip_becomes_an_upright_portrait_file(clips, tmp_path):
    source = video_stream(clips["phone"])
    geometry = source_geometry(source)
    box = output_size(geometry, 854, 480)
    width, height = largest_size_within(geometry.display_aspect, *box, 30, "libx264", "main", "3.0")
    assert (width, height) == (270, 480)
    out = tmp_path / "portrait.mp4"
    ffmpeg("-i", str(clips["phone"]), "-map_metadata", "-1", "-vf", f"scale={width}:{height},setsar=1",
           "-c:v", "libx264", "-profile:v", "main", "-level:v", "3.0", "-preset", "veryfast", str(out))
    result = video_stream(out)
    assert (result["width"], result["height"]) == (270, 480) and rotation(result) == 0
    shown = display_aspect(result["width"], result["height"], 1, rotation(result))
    assert abs(float(shown / geometry.display_aspect) - 1) < 0.01
    assert output_problems(measure_output(out), "libx264", "main", "3.0") == []
    # upright the way players show the source: close to the turned source, far from the other turn
    got = gray_frame(out)
    right = gray_frame(clips["phone"], before_input=("-noautorotate",), vf=filters_for(90) + ["scale=270:480"])
    wrong = gray_frame(clips["phone"], before_input=("-noautorotate",), vf=filters_for(270) + ["scale=270:480"])
    assert _mean_difference(got, right) < 8 < _mean_difference(got, wrong)


def _mean_difference(a: bytes, b: bytes) -> float:
    assert len(a) == len(b)
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


def test_dvd_clip_becomes_square_pixel_16_9(clips, tmp_path):
    geometry = source_geometry(video_stream(clips["dvd"]))
    assert (geometry.sar, geometry.display_aspect) == (Fraction(32, 27), Fraction(16, 9))
    box = output_size(geometry, 854, 480)
    assert box == (854, 480)
    width, height = largest_size_within(geometry.display_aspect, *box, Fraction(30000, 1001), "libx264", "main",
                                        "3.0")
    out = tmp_path / "dvd-out.mp4"
    ffmpeg("-i", str(clips["dvd"]), "-vf", f"scale={width}:{height},setsar=1", "-c:v", "libx264",
           "-profile:v", "main", "-level:v", "3.0", "-preset", "veryfast", str(out))
    result = video_stream(out)
    assert result["sample_aspect_ratio"] == "1:1"
    assert abs(result["width"] / result["height"] / (16 / 9) - 1) < 0.01
    assert (result["width"], result["height"]) == (768, 432)
    assert output_problems(measure_output(out), "libx264", "main", "3.0") == []
