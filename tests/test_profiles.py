"""Device profiles: every built-in profile's output passes its own validation, the legacy
profile's output has no B-frames, and broken profile files fail with one clear line."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from infopack.errors import CheckFailed, UsageError
from infopack.kinds.base import EncodeJob
from infopack.kinds.probe import MediaInfo
from infopack.kinds import REGISTRY, probe_source
from infopack.manifest import Item
from infopack.profiles import add_profile_dir, load_profile, profile_ids, profile_text, _extra_dirs

BUILT_IN = ["audio-mp3-music", "audio-mp3-speech", "legacy-avi", "modern-hevc", "notel-480p", "phone-720p"]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, timeout=120)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """Tiny sources: 2 s of moving 16:9 video with stereo sound, a tune, a photo, a 10-bit HDR clip."""
    d = tmp_path_factory.mktemp("profile-media")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=480x270:r=30:d=2", "-f", "lavfi",
           "-i", "sine=frequency=300:sample_rate=48000:duration=2", "-ac", "2",
           "-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-c:a", "aac", str(d / "clip.mp4"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2", "-ac", "2",
           "-c:a", "libmp3lame", "-b:a", "128k", str(d / "tune.mp3"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1000x600:d=1", "-frames:v", "1", str(d / "photo.png"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2", "-vf", "format=yuv420p10le",
           "-color_trc", "smpte2084", "-color_primaries", "bt2020", "-colorspace", "bt2020nc",
           "-c:v", "ffv1", str(d / "hdr.mkv"))
    return {"video": d / "clip.mp4", "audio": d / "tune.mp3", "image": d / "photo.png", "hdr": d / "hdr.mkv"}


def encode(profile_id: str, source: Path, work: Path, item_id: str = "item-1"):
    """Transcode and validate one source the way the build does; returns the produced files."""
    profile = load_profile(profile_id)
    info = probe_source(source)
    work.mkdir(parents=True, exist_ok=True)
    job = EncodeJob(item=Item(id=item_id, title="시험", source=source), info=info, profile=profile, work_dir=work)
    handler = REGISTRY.kind_named(info.kind)
    produced = handler.transcode(job)
    for prod in produced:
        handler.validate(job, prod)
    return job, handler, produced


def streams(path: Path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, check=True, timeout=60).stdout
    return json.loads(out)["streams"]


def test_the_built_in_profiles_are_all_there_and_describe_their_devices():
    assert profile_ids() == BUILT_IN
    for pid in BUILT_IN:
        profile = load_profile(pid)
        assert profile.id == pid and len(profile.description) > 30 and "\n" not in profile.description
        assert profile.recipe()["id"] == pid and "description" not in profile.recipe()


@pytest.mark.parametrize("profile_id", [p for p in BUILT_IN if load_profile(p).video is not None])
def test_video_output_passes_its_own_profile(profile_id, media, tmp_path):
    _, _, produced = encode(profile_id, media["video"], tmp_path)
    main = produced[0]
    profile = load_profile(profile_id)
    assert main.extension == profile.extension
    video = next(s for s in streams(main.path) if s["codec_type"] == "video")
    assert video["height"] <= profile.video.max_height and video["width"] % 2 == 0


@pytest.mark.parametrize("profile_id", BUILT_IN)
def test_audio_output_passes_its_own_profile(profile_id, media, tmp_path):
    _, _, produced = encode(profile_id, media["audio"], tmp_path)
    profile = load_profile(profile_id)
    (audio,) = streams(produced[0].path)
    assert int(audio["channels"]) == profile.audio_only.channels
    assert produced[0].extension == profile.audio_only.extension


@pytest.mark.parametrize("profile_id", BUILT_IN)
def test_image_output_fits_the_profile(profile_id, media, tmp_path):
    from PIL import Image
    _, _, produced = encode(profile_id, media["image"], tmp_path)
    profile = load_profile(profile_id)
    with Image.open(produced[0].path) as img:
        assert max(img.size) <= profile.image.max_long_side
        assert img.format == {"jpeg": "JPEG", "webp": "WEBP"}[profile.image.format]


def test_legacy_avi_is_mpeg4_simple_in_avi_without_b_frames(media, tmp_path):
    _, _, produced = encode("legacy-avi", media["video"], tmp_path)      # the source has B-frames
    path = produced[0].path
    assert path.read_bytes()[:4] == b"RIFF" and path.read_bytes()[8:12] == b"AVI "
    video, audio = sorted(streams(path), key=lambda s: s["codec_type"] != "video")
    assert (video["codec_name"], video["profile"], video["codec_tag_string"]) == ("mpeg4", "Simple Profile", "XVID")
    assert video["has_b_frames"] == 0 and audio["codec_name"] == "mp3"
    types = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "frame=pict_type", "-of", "csv=p=0", str(path)],
                           capture_output=True, check=True, timeout=60).stdout.split()
    assert types and set(types) <= {b"I", b"P"}
    proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", str(path), "-f", "null", "-"],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0 and not proc.stderr


def test_validation_names_the_item_when_b_frames_sneak_in(media, tmp_path):
    job, handler, produced = encode("notel-480p", media["video"], tmp_path, item_id="clip-b")  # has B-frames
    legacy = load_profile("legacy-avi")
    from dataclasses import replace
    strict = replace(job, profile=replace(job.profile, video=replace(job.profile.video, bframes=0)))
    with pytest.raises(CheckFailed, match=r"item clip-b: .*B-frames"):
        handler.validate(strict, produced[0])
    assert legacy.video.bframes == 0


def test_validation_fails_on_a_mismatch_and_names_the_item(media, tmp_path):
    job, handler, produced = encode("notel-480p", media["video"], tmp_path, item_id="clip-x")
    from dataclasses import replace
    wrong = replace(job, profile=replace(job.profile, audio=replace(job.profile.audio, channels=1)))
    with pytest.raises(CheckFailed, match=r"item clip-x: output breaks profile notel-480p: audio channels 2"):
        handler.validate(wrong, produced[0])
    small = replace(job, profile=replace(job.profile, max_file_bytes=1000))
    with pytest.raises(CheckFailed, match=r"item clip-x: output is .* over profile notel-480p's max_file_bytes"):
        handler.validate(small, produced[0])


def test_modern_hevc_is_tagged_hvc1_and_carries_no_x265_version(media, tmp_path):
    _, _, produced = encode("modern-hevc", media["video"], tmp_path)
    video = next(s for s in streams(produced[0].path) if s["codec_type"] == "video")
    assert (video["codec_name"], video["profile"], video["codec_tag_string"]) == ("hevc", "Main", "hvc1")
    data = produced[0].path.read_bytes()
    assert b"x265 (build" not in data and b"Lavf5" not in data and b"Lavc5" not in data


def test_mp3_profiles_write_bare_mp3_with_the_preset_layout(media, tmp_path):
    _, _, speech = encode("audio-mp3-speech", media["audio"], tmp_path / "s")
    _, _, music = encode("audio-mp3-music", media["audio"], tmp_path / "m")
    for prod in (speech[0], music[0]):
        data = prod.path.read_bytes()
        assert not data.startswith(b"ID3") and b"Xing" not in data and b"Info" not in data[:2000]
        assert b"TAG" != data[-128:-125]
    assert [int(s["channels"]) for s in streams(speech[0].path)] == [1]
    assert [int(s["channels"]) for s in streams(music[0].path)] == [2]


def test_mp3_profiles_refuse_video_items_with_one_line(media, tmp_path):
    assert not load_profile("audio-mp3-speech").supports(REGISTRY.kind_named("video"))
    with pytest.raises(UsageError, match="plays no video"):
        encode("audio-mp3-speech", media["video"], tmp_path)


def test_hdr_ten_bit_source_becomes_8_bit_sdr(media, tmp_path):
    job, handler, produced = encode("notel-480p", media["hdr"], tmp_path)
    command = handler.command(job, tmp_path / "x.mp4")
    vf = command[command.index("-vf") + 1]
    assert "tonemap=" in vf or "colorspace=" in vf
    video = next(s for s in streams(produced[0].path) if s["codec_type"] == "video")
    assert video["pix_fmt"] == "yuv420p"


def test_the_cache_key_of_an_hdr_source_runs_no_ffprobe(media, tmp_path, monkeypatch):
    """What decides the tone mapping is recorded when the source is probed; the key only reads it."""
    import infopack.kinds.probe
    from infopack.build.cache_keys import encode_key
    info = probe_source(media["hdr"])
    assert (info.video.color_transfer, info.video.color_primaries) == ("smpte2084", "bt2020")

    def no_probe(*args, **kwargs):
        raise AssertionError(f"ffprobe ran: {args}")
    monkeypatch.setattr(infopack.kinds.probe, "run", no_probe)
    job = EncodeJob(item=Item(id="hdr", title="HDR", source=media["hdr"]), info=info,
                    profile=load_profile("notel-480p"), work_dir=tmp_path)
    video = REGISTRY.kind_named("video")
    assert encode_key(job, video, "ffmpeg-x", lambda path: "hash") == encode_key(job, video, "ffmpeg-x",
                                                                                 lambda path: "hash")
    assert any("tonemap=" in arg or "colorspace=" in arg for arg in video.recipe(job))
    assert not any(str(tmp_path) in arg or str(media["hdr"]) in arg for arg in video.recipe(job))


def test_encodes_are_reproducible(media, tmp_path):
    for pid in ("legacy-avi", "modern-hevc"):
        _, _, first = encode(pid, media["video"], tmp_path / f"{pid}-1")
        _, _, second = encode(pid, media["video"], tmp_path / f"{pid}-2")
        assert first[0].path.read_bytes() == second[0].path.read_bytes(), pid


def test_estimate_bytes_uses_the_caps_and_the_audio_rate():
    def estimate(profile_id: str, kind: str, seconds: float) -> int:
        info = MediaInfo(Path("x"), kind, seconds, None, has_audio=True)
        return REGISTRY.kind_named(kind).estimate(info, load_profile(profile_id))["main"]
    ten_minutes = estimate("notel-480p", "video", 600)
    assert 600 * (1_000_000 + 64_000) / 8 <= ten_minutes <= 600 * (1_000_000 + 64_000) / 8 * 1.05
    assert estimate("audio-mp3-speech", "audio", 3600) == pytest.approx(3600 * 56_000 / 8, 0.03)


# --- profile files that are wrong ---------------------------------------------------------

@pytest.fixture
def custom_dir(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    add_profile_dir(folder)
    yield folder
    _extra_dirs.remove(folder)


def notel_text() -> str:
    return profile_text("notel-480p")[1].replace('id = "notel-480p"', 'id = "mine"')


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("preset = \"slow\"", "preset = \"slow\"\nturbo = true"), r"\[video\] has unknown key 'turbo'"),
    (lambda t: t.replace("[image]", "[imagez]"), r"unknown key or table 'imagez'"),
    (lambda t: t[:t.index("[audio_only]")] + t[t.index("[image]"):], r"missing \[audio_only\] table"),
    (lambda t: t.replace("[subtitles]", "[subtitles_x]"), r"unknown key or table 'subtitles_x'"),
    (lambda t: re.sub(r"(?m)^crf = \S+", 'crf = "high"', t), r"\[video\] crf must be float, not 'high'"),
    (lambda t: t.replace("max_width = 854", "max_width = 853"), r"even"),
    (lambda t: t.replace('sidecar_encoding = "utf-8-sig"', 'sidecar_encoding = "klingon"'), r"not a known encoding"),
    (lambda t: t.replace("[video]", "[video]\nqscale = 3"), r"qscale is for mpeg4"),
    (lambda t: t + "\n[names]\nascii = 1\n", r"TOML|Cannot declare"),
])
def test_broken_profile_gives_one_line_naming_the_file(custom_dir, change, message):
    (custom_dir / "mine.toml").write_text(change(notel_text()), encoding="utf-8")
    with pytest.raises(UsageError) as err:
        load_profile("mine")
    line = err.value.line()
    assert "\n" not in line and line.startswith(str(custom_dir / "mine.toml") + ": invalid profile: ")
    assert re.search(message, line), line


def test_missing_video_table_is_named(custom_dir):
    text = notel_text()
    text = text[:text.index("[video]")] + text[text.index("[audio]"):]
    (custom_dir / "mine.toml").write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=r"mine.toml: invalid profile: missing \[video\] table"):
        load_profile("mine")


def test_a_curator_profile_replaces_a_built_in_one(custom_dir):
    text = re.sub(r"(?m)^crf = \S+", "crf = 19", profile_text("notel-480p")[1])
    (custom_dir / "notel-480p.toml").write_text(text, encoding="utf-8")
    assert load_profile("notel-480p").video.crf == 19
    assert load_profile("notel-480p").source == str(custom_dir / "notel-480p.toml")


def test_profiles_cli_lists_and_shows(monkeypatch):
    from click.testing import CliRunner
    from infopack.cli.profiles import profiles
    result = CliRunner().invoke(profiles, [], catch_exceptions=False)
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == BUILT_IN
    shown = CliRunner().invoke(profiles, ["show", "legacy-avi"], catch_exceptions=False)
    assert shown.exit_code == 0 and 'codec = "mpeg4"' in shown.output and "bframes = 0" in shown.output
    as_json = CliRunner().invoke(profiles, ["show", "legacy-avi", "--json"], catch_exceptions=False)
    assert json.loads(as_json.output)["video"]["bframes"] == 0
    missing = CliRunner().invoke(profiles, ["show", "walkman-9000"])
    assert missing.exit_code != 0 and "unknown profile 'walkman-9000'" in (missing.output + str(missing.exception))


@pytest.mark.parametrize("profile_id, names", [
    ("legacy-avi", {".avi", ".mp3", ".jpg"}),
    ("audio-mp3-speech", {".mp3", ".jpg"}),
])
def test_a_whole_build_for_the_profile_passes_its_own_scan(profile_id, names, media, curator_key, tmp_path):
    import shutil
    from infopack.build import build
    for kind in ("video", "audio", "image"):
        shutil.copy(media[kind], tmp_path / media[kind].name)
    manifest = tmp_path / "bundle.toml"
    video = f'\n[[items]]\nid = "clip"\ntitle = "바다 Clip"\nsource = "{media["video"].name}"\n' \
        if load_profile(profile_id).supports(REGISTRY.kind_named("video")) else ""
    manifest.write_text(f'[bundle]\nid = "p"\ntitle = "P"\nprofile = "{profile_id}"\ncard = "8GB"\n{video}'
                        f'\n[[items]]\nid = "tune"\ntitle = "노래 Tune"\nsource = "{media["audio"].name}"\n'
                        f'\n[[items]]\nid = "photo"\ntitle = "Photo"\nsource = "{media["image"].name}"\n',
                        encoding="utf-8")
    build(manifest, tmp_path / "out", curator_key, jobs=2)
    files = [p for p in (tmp_path / "out" / "card-01").rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == names
    assert all(p.name.isascii() for p in files)
