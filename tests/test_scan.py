"""`infopack scan` on real media made with ffmpeg and Pillow: planted traces are found
under the right check name, and the stripping recipe's output is clean."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from infopack.checks import ERROR, WARNING
from infopack.scan import count_files, scan_file, scan_paths
from infopack.scan.container import ALLOWED_TAGS, classify_tag, probe_findings

pytestmark = pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("ffprobe")),
                                reason="ffmpeg/ffprobe not installed")

LAVFI_VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10"]
LAVFI_AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
PLANTED = ["-metadata", "title=Planted Title", "-metadata", "artist=Kim Planted",
           "-metadata", "creation_time=2024-05-01T10:00:00Z",
           "-metadata", "location=+37.5665+126.9780/"]
STRIP_RECIPE = ["-map", "0:V:0", "-map", "0:a:0?", "-map_metadata", "-1", "-map_chapters", "-1",
                "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
                "-c:v", "libx264", "-threads", "1", "-bsf:v", "filter_units=remove_types=6",
                "-a53cc", "0", "-c:a", "aac"]
FFMETADATA = """;FFMETADATA1
title=Planted Title
[CHAPTER]
TIMEBASE=1/1000
START=0
END=500
title=Opening by Kim Planted
[CHAPTER]
TIMEBASE=1/1000
START=500
END=1000
title=Seoul rooftop
"""


def ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)],
                   check=True, timeout=120)


def checks(findings, level=None) -> set[str]:
    return {f.check for f in findings if level is None or f.level == level}


def messages(findings, check) -> str:
    return "\n".join(f.message for f in findings if f.check == check)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """Dirty sources with planted metadata, and their outputs through the recipe."""
    d = tmp_path_factory.mktemp("media")
    (d / "meta.txt").write_text(FFMETADATA)
    ffmpeg(*LAVFI_VIDEO, *LAVFI_AUDIO, "-i", d / "meta.txt", "-t", 1,
           "-map", 0, "-map", 1, "-map_metadata", 2, "-map_chapters", 2, *PLANTED,
           "-c:v", "libx264", "-c:a", "aac", d / "dirty.mp4")
    Image.new("RGB", (64, 48), (200, 30, 30)).save(d / "cover.png")
    ffmpeg("-i", d / "dirty.mp4", "-i", d / "cover.png", "-map", 0, "-map", 1, "-c", "copy",
           "-disposition:v:1", "attached_pic", d / "cover.mp4")
    ffmpeg("-i", d / "cover.mp4", *STRIP_RECIPE, d / "clean.mp4")
    ffmpeg("-i", d / "clean.mp4", "-c", "copy", "-fflags", "+bitexact", d / "clean.mov")
    ffmpeg("-i", d / "clean.mp4", "-c", "copy", "-fflags", "+bitexact", "-f", "mpegts", d / "clean.ts")
    ffmpeg("-i", d / "cover.mp4", *STRIP_RECIPE, d / "clean.mkv")
    (d / "font.ttf").write_bytes(b"not really a font")
    ffmpeg("-i", d / "clean.mp4", "-c", "copy", "-attach", d / "font.ttf",
           "-metadata:s:t", "mimetype=application/x-truetype-font", d / "attached.mkv")
    ffmpeg("-i", d / "clean.mp4", "-c", "copy", "-timecode", "10:11:12:00", d / "timecode.mov")
    return d


# ------------------------------------------------------------------------ containers

def test_planted_container_tags_are_reported_with_their_check_names(media):
    findings = scan_file(str(media / "dirty.mp4"))
    assert {"meta-tag", "meta-creation-time", "meta-gps", "meta-chapters",
            "meta-encoder-string"} <= checks(findings, ERROR)
    tags = messages(findings, "meta-tag")
    assert "title='Planted Title'" in tags and "artist='Kim Planted'" in tags
    assert "encoder='Lavf" in tags                       # encoder with a version number
    assert "2024-05-01T10:00:00" in messages(findings, "meta-creation-time")
    assert "+37.5665+126.9780" in messages(findings, "meta-gps")
    assert "Opening by Kim Planted" in messages(findings, "meta-chapters")
    assert "x264 - core" in messages(findings, "meta-encoder-string")


def test_cover_art_is_an_attachment(media):
    findings = scan_file(str(media / "cover.mp4"))
    assert "attached picture" in messages(findings, "meta-attachment")


def test_attachment_and_data_streams_are_reported(media):
    attached = scan_file(str(media / "attached.mkv"))
    assert "attached file" in messages(attached, "meta-attachment")
    timecode = scan_file(str(media / "timecode.mov"))
    assert "data stream" in messages(timecode, "meta-attachment")


@pytest.mark.parametrize("name", ["clean.mp4", "clean.mov", "clean.ts", "clean.mkv"])
def test_stripping_recipe_output_has_no_findings(media, name):
    assert scan_file(str(media / name)) == []


def test_closed_captions_in_the_video_stream_are_reported():
    probe = {"format": {"tags": {"major_brand": "isom"}},
             "streams": [{"index": 0, "codec_type": "video", "codec_name": "h264",
                          "closed_captions": 1, "tags": {"handler_name": "VideoHandler"}}]}
    findings = probe_findings(probe, "x.mp4")
    assert checks(findings) == {"meta-captions"}
    assert "-a53cc 0" in findings[0].message


def test_a_second_plain_video_stream_is_a_warning():
    video = {"codec_type": "video", "codec_name": "h264", "disposition": {"attached_pic": 0}}
    findings = probe_findings({"streams": [dict(video, index=0), dict(video, index=1)]}, "x")
    assert [(f.check, f.level) for f in findings] == [("meta-attachment", WARNING)]


def test_allowed_minimum_is_generic_and_versionless():
    assert classify_tag("format", "encoder", "Lavf") is None
    assert classify_tag("format", "encoder", "Lavf59.27.100") == ("meta-tag", ERROR)
    assert classify_tag("stream", "encoder", "Lavc libx264") is None
    assert classify_tag("stream", "ENCODER", "Lavc libx264") is None          # Matroska
    assert classify_tag("stream", "encoder", "Lavc59.37.100 libx264") == ("meta-tag", ERROR)
    assert classify_tag("stream", "handler_name", "VideoHandler") is None
    assert classify_tag("stream", "handler_name", "Core Media Video") == ("meta-tag", ERROR)
    assert classify_tag("stream", "vendor_id", "[0][0][0][0]") is None
    assert classify_tag("stream", "language", "kor") == ("meta-tag", WARNING)
    assert classify_tag("format", "com.apple.quicktime.location.ISO6709",
                        "+37.5665+126.9780+012.000/") == ("meta-gps", ERROR)
    assert classify_tag("format", "date", "2024") == ("meta-creation-time", ERROR)
    assert classify_tag("format", "comment", "for Kim") == ("meta-tag", ERROR)
    assert "title" not in ALLOWED_TAGS["format"]


# ------------------------------------------------------------------------ images

def _dirty_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x013B] = "Canon", "EOS 5D Mark IV", "Kim Planted"
    exif[0x0132] = "2024:05:01 10:00:00"
    exif.get_ifd(ExifTags.IFD.Exif).update({0xA431: "SN-0123456789", 0x9003: "2024:05:01 10:00:00"})
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {1: "N", 2: (37.0, 33.0, 59.4), 3: "E", 4: (126.0, 58.0, 40.8)})
    return exif


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("images")
    picture = Image.effect_mandelbrot((96, 64), (-2, -1, 1, 1), 50).convert("RGB")
    picture.save(d / "dirty.jpg", exif=_dirty_exif(), comment=b"shot by Kim Planted")
    with Image.open(d / "dirty.jpg") as dirty:          # rebuilt from pixels
        Image.frombytes(dirty.mode, dirty.size, dirty.tobytes()).save(d / "clean.jpg", quality=85)
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Kim Planted")
    info.add_itxt("Comment", "made in Seoul", lang="en")
    info.add(b"tIME", bytes([0x07, 0xE8, 5, 1, 10, 0, 0]))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture.save(d / "dirty.png", pnginfo=info, icc_profile=srgb)
    with Image.open(d / "dirty.png") as dirty:
        Image.frombytes(dirty.mode, dirty.size, dirty.tobytes()).save(d / "clean.png")
    return d


def test_planted_jpeg_exif_is_reported(images):
    findings = scan_file(str(images / "dirty.jpg"))
    assert {"meta-gps", "meta-exif", "meta-creation-time", "meta-comment"} <= checks(findings, ERROR)
    assert "+37.5665" in messages(findings, "meta-gps")
    exif = messages(findings, "meta-exif")
    assert "BodySerialNumber='SN-0123456789'" in exif and "Artist='Kim Planted'" in exif
    assert "Make='Canon'" in exif and "Model='EOS 5D Mark IV'" in exif
    assert "DateTimeOriginal" in messages(findings, "meta-creation-time")


def test_planted_png_text_icc_and_time_are_reported(images):
    findings = scan_file(str(images / "dirty.png"))
    assert {"meta-comment", "meta-icc", "meta-creation-time"} <= checks(findings, ERROR)
    assert "Author='Kim Planted'" in messages(findings, "meta-comment")
    assert "tIME" in messages(findings, "meta-creation-time")


def test_exif_thumbnail_is_reported(images, tmp_path):
    if not shutil.which("exiftool"):
        pytest.skip("exiftool not installed")
    Image.new("RGB", (16, 12)).save(tmp_path / "thumb.jpg")
    target = tmp_path / "with-thumb.jpg"
    shutil.copy(images / "dirty.jpg", target)
    subprocess.run(["exiftool", "-q", "-overwrite_original", f"-ThumbnailImage<={tmp_path / 'thumb.jpg'}",
                    str(target)], check=True, timeout=60)
    assert "meta-thumbnail" in checks(scan_file(str(target)), ERROR)


@pytest.mark.parametrize("name", ["clean.jpg", "clean.png"])
def test_images_rebuilt_from_pixels_have_no_findings(images, name):
    assert scan_file(str(images / name)) == []


def test_exiftool_agrees_with_the_verdicts(media, images):
    """exiftool sees the GPS/people/dates we report, and nothing of it in clean output."""
    if not shutil.which("exiftool"):
        pytest.skip("exiftool not installed")
    telling = ("GPS", "Artist", "SerialNumber", "Make", "Model", "Title", "Comment", "Author",
               "Software", "Encoder", "ICC_Profile", "XMP")

    def exif_keys(path):
        out = subprocess.run(["exiftool", "-a", "-G1", "-j", str(path)], capture_output=True,
                             check=True, timeout=60).stdout
        record = json.loads(out)[0]
        hits = {k for k, v in record.items() if any(t in k for t in telling)
                and not re.fullmatch(r"Lav[fc]( [a-z0-9_]+)?", str(v))}    # the allowed minimum
        dates = {k for k, v in record.items() if "Date" in k and not k.startswith("System:")
                 and str(v).strip("0: ")}
        return hits | dates

    for dirty in (media / "dirty.mp4", images / "dirty.jpg", images / "dirty.png"):
        assert exif_keys(dirty), dirty
        assert checks(scan_file(str(dirty)), ERROR), dirty
    for clean in (media / "clean.mp4", media / "clean.mkv", images / "clean.jpg", images / "clean.png"):
        assert exif_keys(clean) == set(), clean
        assert scan_file(str(clean)) == [], clean
    assert any("GPS" in k for k in exif_keys(images / "dirty.jpg"))
    assert "meta-gps" in checks(scan_file(str(images / "dirty.jpg")))


# ------------------------------------------------------------------------ unreadable

def test_broken_files_are_one_unreadable_finding_each(media, images, tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.mp4").write_text("this is a text file renamed to look like a video\n" * 20)
    data = (media / "clean.mp4").read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(data[: len(data) // 2])
    jpeg = (images / "clean.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    for name in ("empty.mp4", "notes.mp4", "truncated.mp4", "truncated.jpg"):
        findings = scan_file(str(tmp_path / name))
        unreadable = [f for f in findings if f.check == "scan-unreadable"]
        assert len(unreadable) == 1 and unreadable[0].level == ERROR, (name, findings)


def test_media_cut_short_after_its_headers_is_a_damaged_warning(media, tmp_path):
    data = (media / "clean.mkv").read_bytes()          # Matroska headers come first
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 3])
    findings = scan_file(str(tmp_path / "cut.mkv"))
    assert [(f.check, f.level) for f in findings] == [("scan-damaged", WARNING)]


def test_special_files_are_not_opened(tmp_path):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    assert [f.check for f in scan_file(str(fifo))] == ["scan-unreadable"]


def test_missing_path_is_a_finding_not_an_exception(tmp_path):
    findings = scan_paths([str(tmp_path / "nope.mp4")])
    assert [f.check for f in findings] == ["scan-unreadable"]


def test_content_wins_over_extension(images, tmp_path):
    """A JPEG renamed .mp4 is still read as an image, so its EXIF is not missed."""
    shutil.copy(images / "dirty.jpg", tmp_path / "holiday.mp4")
    assert "meta-gps" in checks(scan_file(str(tmp_path / "holiday.mp4")))


# ------------------------------------------------------------------------ folders, subtitles

def test_folders_are_scanned_recursively_in_sorted_order(media, images, tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "deeper").mkdir(parents=True)
    shutil.copy(images / "dirty.png", tmp_path / "b" / "z.png")
    shutil.copy(images / "dirty.jpg", tmp_path / "a" / "deeper" / "y.jpg")
    shutil.copy(media / "clean.mp4", tmp_path / "a" / "x.mp4")
    shutil.copy(images / "dirty.jpg", tmp_path / "0-top.jpg")
    shutil.copy(images / "dirty.jpg", tmp_path / "c.jpg")
    paths = [f.path for f in scan_paths([str(tmp_path)])]
    order = [p.split(str(tmp_path))[1] for p in dict.fromkeys(paths)]
    assert order == ["/0-top.jpg", "/a/deeper/y.jpg", "/b/z.png", "/c.jpg"]
    assert count_files([str(tmp_path)]) == 5


def test_os_residue_is_reported(tmp_path):
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "._film.mp4").write_bytes(b"\x00\x05\x16\x07")
    (tmp_path / ".Spotlight-V100").mkdir()
    (tmp_path / ".Spotlight-V100" / "store.db").write_bytes(b"x")
    findings = scan_paths([str(tmp_path)])
    residue = sorted(f.path.rsplit("/", 1)[1] for f in findings if f.check == "os-residue")
    assert residue == [".DS_Store", ".Spotlight-V100", "._film.mp4"]


SRT = """1
00:00:01,000 --> 00:00:03,000
Subtitles by Kim Planted - visit http://example-subs.kr

2
00:00:04,000 --> 00:00:06,000
문의: planted@example.com
"""


def test_subtitle_traces_are_reported(tmp_path):
    (tmp_path / "film.srt").write_text(SRT, encoding="utf-8")
    findings = scan_file(str(tmp_path / "film.srt"), display_path="card/film.srt")
    assert {"sub-url", "sub-email", "sub-credit"} <= checks(findings, ERROR)
    assert {f.path for f in findings} == {"card/film.srt"}


def test_display_path_names_the_file_in_findings(images):
    findings = scan_file(str(images / "dirty.jpg"), display_path="CARD/photos/a.jpg")
    assert findings and {f.path for f in findings} == {"CARD/photos/a.jpg"}

