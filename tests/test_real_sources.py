"""Real sources come out right: a corpus of what curators are really handed (tests/real_sources.py)
goes through `init`, `plan`, `build` and `verify`, and comes out upright, level-safe and with
names that say nothing; every video profile holds its level at every broadcast frame rate."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.build import build
from infopack.cli import cli
from infopack.errors import CheckFailed
from infopack.fat.cost import utf16_units
from infopack.kinds import REGISTRY, probe_source
from infopack.kinds.base import EncodeJob
from infopack.kinds.ffmpeg import ffmpeg_head, run_ffmpeg
from infopack.kinds.geometry import display_aspect, filters_for, rotation
from infopack.kinds.levels import level_problems, measure_output, output_problems
from infopack.kinds.mpeg_audio import find_bitshifted
from infopack.manifest import Item
from infopack.manifest.titles import card_name_matches, identifying_matches
from infopack.data import DATA_DIR
from infopack.profiles import load_profile
from infopack.scan import scan_file
from infopack.tools import ffmpeg_info
from real_sources import (
    BROADCAST_1080I,
    CAMERA_MJPEG,
    DRAMA_2997,
    DRAMA_5994,
    DVD,
    LONG_TITLE,
    PHONE,
    RATES,
    make_corpus,
    rate_clip,
)
from conftest import PASSPHRASE

SHIPPED = sorted(p.stem for p in (DATA_DIR / "profiles").glob("*.toml"))
VIDEO_PROFILES = [p for p in SHIPPED if load_profile(p).video is not None]
MP3_PROFILES = [p for p in SHIPPED if "libmp3lame" in (getattr(load_profile(p).audio, "codec", None),
                                                       getattr(load_profile(p).audio_only, "codec", None))]


def invoke(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False,
                              env={"INFOPACK_PASSPHRASE": PASSPHRASE})


def video_stream(path: Path) -> dict:
    out = subprocess.run([ffmpeg_info().ffprobe, "-v", "error", "-select_streams", "v:0", "-show_streams", "-of",
                          "json", str(path)], check=True, capture_output=True, timeout=60).stdout
    return json.loads(out)["streams"][0]


def gray_frame(path: Path, *, before_input: tuple[str, ...] = (), vf: tuple[str, ...] = ()) -> bytes:
    args = [*before_input, "-i", str(path), "-frames:v", "1"] + (["-vf", ",".join(vf)] if vf else [])
    return subprocess.run(ffmpeg_head() + args + ["-pix_fmt", "gray", "-f", "rawvideo", "-"], check=True,
                          capture_output=True, timeout=120).stdout


def mean_difference(a: bytes, b: bytes) -> float:
    assert len(a) == len(b)
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


# -- the corpus through init, plan, build and verify --------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("real") / "받은 파일")


@pytest.fixture(scope="module")
def manifest(corpus) -> tuple[Path, str]:
    """`infopack init` on the corpus, then the DVD rip given the 90-syllable title."""
    result = invoke("init", corpus)
    assert result.exit_code == 0, result.output
    path = corpus / "infopack.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('title = "Sea Story"', f'title = "{LONG_TITLE}"')
    path.write_text(text, encoding="utf-8")
    return path, result.output


@pytest.fixture(scope="module")
def built(manifest, curator_key, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("real-out") / "out"
    build(manifest[0], out, curator_key, jobs=2)
    return out


def items_by_source(manifest_path: Path) -> dict[str, dict]:
    data = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    return {item["source"]: item for item in data["items"]}


def card_file(built: Path, item_id: str, role: str = "main") -> Path:
    report = json.loads((built / "report.json").read_text(encoding="utf-8"))
    (item,) = [i for i in report["items"] if i["id"] == item_id]
    return built / "card-01" / item["files"][role]


def test_init_titles_the_corpus_without_dates_tags_or_camera_names(manifest):
    path, printed = manifest
    items = items_by_source(path)
    assert (items[DRAMA_2997]["title"], items[DRAMA_2997]["group"], items[DRAMA_2997]["episode"]) == (
        "Red River 1화", "Red River", 1)
    assert (items[DRAMA_5994]["group"], items[DRAMA_5994]["episode"]) == ("Red River", 2)
    assert (items[BROADCAST_1080I]["title"], items[BROADCAST_1080I]["group"],
            items[BROADCAST_1080I]["episode"]) == ("나의 아저씨 3화", "나의 아저씨", 3)
    assert {items[PHONE]["title"], items[CAMERA_MJPEG]["title"]} == {"영상 1", "영상 2"}
    assert "VID_20230501_103000.mp4 → 영상 2 (neutral: camera-file, datetime)" in printed
    for item in items.values():
        if item["title"] != LONG_TITLE:
            for text in (item["title"], item.get("group", "")):
                assert identifying_matches(text) == [], text
                assert not re.search(r"2023|720p|1080i|HDTV|x264|KOR|WITH|GRP|DVDRip|IMG|VID|MVI|Kakao", text), text


def test_plan_warns_that_the_long_title_is_shortened(manifest):
    result = invoke("plan", manifest[0])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "file name" in warned[0] and "shortened" in warned[0]


def test_the_portrait_phone_clip_comes_out_upright_and_portrait(manifest, built):
    item = items_by_source(manifest[0])[PHONE]
    out = card_file(built, item["id"])
    stream = video_stream(out)
    source = video_stream(manifest[0].parent / PHONE)
    shown = display_aspect(stream["width"], stream["height"], 1, rotation(stream))
    wanted = display_aspect(source["width"], source["height"], 1, rotation(source))      # 9:16
    assert stream["height"] > stream["width"] and rotation(stream) == 0
    assert abs(float(shown / wanted) - 1) < 0.01, (stream["width"], stream["height"])
    # upright as a player shows the source: near the clockwise turn, far from the other one
    size = f"scale={stream['width']}:{stream['height']}"
    right = gray_frame(manifest[0].parent / PHONE, before_input=("-noautorotate",), vf=(*filters_for(90), size))
    wrong = gray_frame(manifest[0].parent / PHONE, before_input=("-noautorotate",), vf=(*filters_for(270), size))
    got = gray_frame(out)
    assert mean_difference(got, right) < 10 < mean_difference(got, wrong)


def test_the_anamorphic_dvd_keeps_its_displayed_aspect_in_square_pixels(manifest, built):
    item = items_by_source(manifest[0])[DVD]
    source = video_stream(manifest[0].parent / DVD)
    sar = Fraction(source["sample_aspect_ratio"].replace(":", "/"))
    wanted = display_aspect(source["width"], source["height"], sar, rotation(source))
    assert (source["width"], source["height"], wanted) == (720, 480, Fraction(16, 9))      # SAR 32:27
    stream = video_stream(card_file(built, item["id"]))
    assert stream.get("sample_aspect_ratio", "1:1") == "1:1"
    assert abs(Fraction(stream["width"], stream["height"]) / wanted - 1) < Fraction(1, 100)


def test_every_output_holds_its_level_at_its_rate(manifest, built):
    spec = load_profile("notel-480p").video
    items = items_by_source(manifest[0])
    rates = {DRAMA_2997: "30000/1001", DRAMA_5994: "30000/1001", BROADCAST_1080I: "25/1", DVD: "30000/1001"}
    for source in (PHONE, DVD, DRAMA_2997, DRAMA_5994, BROADCAST_1080I, CAMERA_MJPEG):
        measure = measure_output(card_file(built, items[source]["id"]))
        assert output_problems(measure, spec.codec, spec.profile, spec.level) == [], source
        if source in rates:
            assert measure.stream["avg_frame_rate"] == rates[source], source
        assert measure.stream.get("field_order", "progressive") == "progressive", source


def test_names_on_the_card_say_nothing_and_fit_every_file_system(manifest, built):
    report = json.loads((built / "report.json").read_text(encoding="utf-8"))
    for path in (p for item in report["items"] for p in item["files"].values()):
        for name in path.split("/"):
            assert card_name_matches(name) == [], name
            assert len(name.encode("utf-8")) <= 255 and utf16_units(name) <= 255, name
    (long_item,) = [i for i in report["items"] if i["title"] == LONG_TITLE]
    (note,) = long_item["shortened_names"]
    name = long_item["files"]["main"].split("/")[-1]
    assert "shortened" in note and LONG_TITLE.startswith(name[:-4]) and len(name[:-4]) < 90
    assert [i for i in report["items"] if "shortened_names" in i] == [long_item]


def test_the_camera_clips_warning_is_kept_in_the_report(manifest, built):
    """An MJPEG camera clip makes ffmpeg warn (full-range pixels): the warning is in report.json,
    once, without the memory addresses that would make two builds differ."""
    report = json.loads((built / "report.json").read_text(encoding="utf-8"))
    item_id = items_by_source(manifest[0])[CAMERA_MJPEG]["id"]
    (item,) = [i for i in report["items"] if i["id"] == item_id]
    assert any("deprecated pixel format" in line for line in item["encoder_warnings"])
    assert not any("0x" in line for line in item["encoder_warnings"])
    assert len(set(item["encoder_warnings"])) == len(item["encoder_warnings"])


def test_the_built_corpus_verifies_names_included(built, keys_dir):
    result = invoke("verify", built, "--pubkey", keys_dir / "curator.pub", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"], [f for c in report["cards"] for f in c["findings"]]


def test_a_camera_name_as_title_is_refused_before_anything_is_encoded(corpus, keys_dir, tmp_path):
    manifest = corpus / "photo.toml"
    manifest.write_text('[bundle]\nid = "p"\ntitle = "사진"\nprofile = "notel-480p"\ncard = "8GB"\n'
                        '[[items]]\nid = "photo-1"\ntitle = "IMG_20230501_103000"\n'
                        'source = "IMG_20230501_103000.jpg"\n', encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("build", manifest, "--out", out, "--key", keys_dir / "curator.key")
    assert result.exit_code == 2 and "internal error" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("infopack:")]
    assert "items[0] (photo-1).title" in line and "pattern camera-file" in line and "pattern datetime" in line
    assert 'title_allow = ["camera-file", "datetime"]' in line
    assert not out.exists()
    assert invoke("plan", manifest).exit_code == 2


# -- every video profile at every broadcast rate -----------------------------------------

@pytest.fixture(scope="module")
def rate_clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("rates")
    return {label: rate_clip(folder, label) for label in RATES}


@pytest.mark.parametrize("profile_id", VIDEO_PROFILES)
def test_every_video_profile_holds_its_level_at_every_source_rate(profile_id, rate_clips, tmp_path):
    profile = load_profile(profile_id)
    spec, kind = profile.video, REGISTRY.kind_named("video")
    for label, source in rate_clips.items():
        info = probe_source(source)
        work = tmp_path / label
        work.mkdir()
        job = EncodeJob(Item(id=f"rate-{label}", title=label, source=source), info, profile, work)
        (produced,) = kind.transcode(job)
        kind.validate(job, produced)                 # the build's own check, levels included
        measure = measure_output(produced.path)
        assert output_problems(measure, spec.codec, spec.profile, spec.level) == [], (profile_id, label)
        rate = RATES[label]
        expected = rate if rate <= spec.max_fps else rate / 2
        assert Fraction(measure.stream["avg_frame_rate"]) == expected, (profile_id, label)
        if profile.container == "avi":               # MP3 in AVI: LAME's name is gone at every bit offset
            assert find_bitshifted(produced.path.read_bytes(), b"LAME3.") == []


def test_the_validator_fails_854x480_at_30_fps_labelled_level_3_0(tmp_path):
    """The video kind's validation (not only levels.py) fails such a file, and an encode that
    makes x264 warn about its level fails the item with x264's own words."""
    out = tmp_path / "over.mp4"
    args = ffmpeg_head() + ["-f", "lavfi", "-i", "testsrc2=size=854x480:rate=30", "-frames:v", "30",
                            "-c:v", "libx264", "-profile:v", "main", "-level:v", "3.0", "-preset", "veryfast",
                            "-pix_fmt", "yuv420p", str(out)]
    with pytest.raises(CheckFailed, match=r"item over: the encoder says .*MB rate \(48600\) > level limit \(40500\)"):
        run_ffmpeg(args, item_id="over", source=out, duration=1.0)
    assert out.stat().st_size > 0
    stream = video_stream(out)
    assert level_problems(stream, None, "libx264", "main", "3.0") == [
        "48,600 macroblocks/s (1,620 a frame at 30.000 fps) is over H.264 main Level 3.0's 40,500/s: use a "
        "smaller frame (largest_size_within) or rate"]
    profile = load_profile("notel-480p")
    source = tmp_path / "source.mp4"
    subprocess.run(ffmpeg_head() + ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-frames:v", "30",
                                    "-c:v", "libx264", "-preset", "ultrafast", str(source)], check=True, timeout=120)
    (tmp_path / "work").mkdir()
    job = EncodeJob(Item(id="over", title="over", source=source), probe_source(source), profile, tmp_path / "work")
    produced = REGISTRY.kind_named("video").transcode(job)[0]
    REGISTRY.kind_named("video").validate(job, produced)                  # the 768x432 it chose passes
    produced.path.write_bytes(out.read_bytes())
    with pytest.raises(CheckFailed, match=r"48,600 macroblocks/s .* over H\.264 main Level 3\.0's 40,500/s"):
        REGISTRY.kind_named("video").validate(job, produced)


# -- no LAME in MPEG audio ------------------------------------------------------------------

@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("song") / "song.flac"
    subprocess.run(ffmpeg_head() + ["-f", "lavfi", "-i", "aevalsrc=0.3*sin(2*PI*(330+110*floor(t*3))*t)|"
                                    "0.2*sin(2*PI*(495+55*floor(t*2))*t):s=44100:d=3", str(path)],
                   check=True, timeout=120)
    return path


def decoded(path: Path, stream: str) -> bytes:
    """The decoded audio (PCM) or the video's per-frame MD5s."""
    tail = ["-f", "s16le", "-"] if stream == "a" else ["-f", "framemd5", "-"]
    return subprocess.run(ffmpeg_head() + ["-i", str(path), "-map", f"0:{stream}:0"] + tail, check=True,
                          capture_output=True, timeout=120).stdout


@pytest.mark.parametrize("profile_id", MP3_PROFILES)
def test_no_lame_at_any_bit_offset_and_the_decoded_sound_is_unchanged(profile_id, song, rate_clips, tmp_path):
    profile = load_profile(profile_id)
    source = rate_clips["25"] if profile.video else song
    kind = REGISTRY.kind_named("video" if profile.video else "audio")
    job = EncodeJob(Item(id="song", title="노래", source=source), probe_source(source), profile, tmp_path)
    raw = tmp_path / f"as-encoded{profile.extension if profile.video else '.mp3'}"
    for args in kind.passes(job, raw) if profile.video else [kind.command(job, raw)]:
        subprocess.run(args, check=True, capture_output=True, timeout=300)
    assert find_bitshifted(raw.read_bytes(), b"LAME3."), "libmp3lame wrote no version: the test proves nothing"
    (produced,) = kind.transcode(job)
    kind.validate(job, produced)
    assert produced.path.suffix == raw.suffix and find_bitshifted(produced.path.read_bytes(), b"LAME3.") == []
    assert [f for f in scan_file(str(produced.path)) if f.check == "meta-encoder-bitshifted"] == []
    assert decoded(produced.path, "a") == decoded(raw, "a")
    if profile.video:
        assert produced.path.stat().st_size == raw.stat().st_size          # sizes and indexes untouched
        assert decoded(produced.path, "v") == decoded(raw, "v")
