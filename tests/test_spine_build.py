"""The spine end to end: a real build, checked with independent tools."""

from __future__ import annotations

import filecmp
import json
import re
import subprocess
from pathlib import Path

from samples.generate import PLANTED_NAME, PLANTED_SERIAL

PLANTED = [PLANTED_NAME.encode(), b"Kim Planted", PLANTED_SERIAL.encode(), b"37.5665", b"126.978", b"Yanji",
           b"Seoul", b"PlantedCam", b"PlantedEncoder", b"minjun", b"example.org", b"example-subs",
           b"KSUB", "김민준".encode(), "한결".encode(), "김민준".encode("cp949"), "한결".encode("cp949")]
VERSION_STRINGS = re.compile(rb"x264 - core|x265 \(build|Lavf\d|Lavc\d|Lavu\d|libavformat|HandBrake")


def card_files(out: Path) -> list[Path]:
    return sorted(p for p in (out / "card-01").rglob("*") if p.is_file())


def test_card_holds_only_the_media_and_sidecars(built):
    names = sorted(p.relative_to(built / "card-01").as_posix() for p in card_files(built))
    assert names == sorted(["사진/해 뜨는 바다.jpg", "영상/세포의 삶.mp4", "영상/세포의 삶.srt",
                            "바다 이야기/01 바다 이야기 1화.mp4", "바다 이야기/01 바다 이야기 1화.srt",
                            "소리/아침 노래.m4a", "영상/시장 풍경.mp4", "영상/시장 풍경.srt"])
    outside = sorted(p.name for p in built.iterdir())
    assert outside == ["card-01", "card-01.SHA256SUMS", "card-01.manifest.json", "card-01.manifest.json.minisig",
                       "report.html", "report.json"]


def test_no_identifying_bytes_on_the_card(built):
    for path in card_files(built):
        data = path.read_bytes()
        assert not VERSION_STRINGS.search(data), f"{path}: encoder version string"
        for planted in PLANTED:
            assert planted not in data, f"{path}: planted {planted!r} survived"
        for word in (b"infopack", b"test-bundle", "시험 묶음".encode()):
            assert word not in data, f"{path}: names the tool or bundle ({word!r})"


def test_exiftool_finds_nothing_identifying(built):
    for path in card_files(built):
        if path.suffix == ".srt":
            continue
        out = subprocess.run(["exiftool", "-a", "-G1", "-j", "-n", str(path)], capture_output=True,
                             check=True, timeout=60).stdout
        tags = json.loads(out)[0]
        for key, value in tags.items():
            group, _, name = key.partition(":")
            if group in ("ExifTool", "System", "File", "SourceFile") or key == "SourceFile":
                continue
            assert not re.search(r"GPS|Serial|Artist|Author|Title|Comment|Make$|Model$|Software|Copyright|"
                                 r"Location|XMP|ICC|Encoder|Thumbnail", name), f"{path}: {key}={value}"
            if "Date" in name:
                assert str(value).startswith("0000:00:00"), f"{path}: {key}={value}"


def test_ffprobe_shows_no_tags_chapters_or_extra_streams(built):
    allowed = {"major_brand", "minor_version", "compatible_brands", "language", "handler_name", "vendor_id",
               "encoder"}
    for path in card_files(built):
        if path.suffix not in (".mp4", ".m4a"):
            continue
        data = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams",
                                          "-show_chapters", "-of", "json", str(path)],
                                         capture_output=True, check=True, timeout=60).stdout)
        assert data["chapters"] == []
        tags = dict(data["format"].get("tags", {}))
        for stream in data["streams"]:
            assert stream["codec_type"] in ("video", "audio", "subtitle")
            assert not stream["disposition"].get("attached_pic")
            tags.update(stream.get("tags", {}))
        assert set(tags) <= allowed, f"{path}: {set(tags) - allowed}"
        assert tags.get("encoder", "Lavc libx264") in ("Lavc libx264",)
        assert tags.get("handler_name", "VideoHandler") in ("VideoHandler", "SoundHandler", "SubtitleHandler")


def test_video_matches_the_profile(built):
    path = built / "card-01" / "영상" / "세포의 삶.mp4"
    data = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                                     capture_output=True, check=True, timeout=60).stdout)
    video = next(s for s in data["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "Main", "yuv420p")
    assert video["level"] <= 30 and video["width"] <= 854 and video["height"] <= 480
    assert video.get("field_order", "progressive") == "progressive"     # the interlaced source was deinterlaced
    subs = [s for s in data["streams"] if s["codec_type"] == "subtitle"]
    assert [s["codec_name"] for s in subs] == ["mov_text"]
    wide = built / "card-01" / "바다 이야기" / "01 바다 이야기 1화.mp4"
    data = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(wide)],
                                     capture_output=True, check=True, timeout=60).stdout)
    video = next(s for s in data["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (854, 480)               # 1280x720 scaled, aspect kept


def test_sidecar_subtitles_are_scrubbed_and_readable(built):
    sidecar = (built / "card-01" / "바다 이야기" / "01 바다 이야기 1화.srt").read_bytes()
    assert sidecar.startswith(b"\xef\xbb\xbf")                             # UTF-8 with BOM for the players
    text = sidecar.decode("utf-8-sig")
    assert "바다 위로 해가" in text
    assert "번역" not in text and "example" not in text and "@" not in text
    cp949_source = (built / "card-01" / "영상" / "시장 풍경.srt").read_bytes().decode("utf-8-sig")
    assert "똠방각하" in cp949_source and "KSUB" not in cp949_source and "자막 제작" not in cp949_source
    sami = (built / "card-01" / "영상" / "세포의 삶.srt").read_bytes().decode("utf-8-sig")
    assert "세포들이 모여" in sami and "Cells gather" not in sami


def test_minisign_accepts_the_signature(built, keys_dir):
    proc = subprocess.run(["minisign", "-Vm", str(built / "card-01.manifest.json"), "-p",
                           str(keys_dir / "curator.pub")], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert b"bundle=test-bundle version=3 card=card-01" in proc.stdout


def test_sha256sum_accepts_the_card(built):
    proc = subprocess.run(["sha256sum", "-c", "../card-01.SHA256SUMS"], cwd=built / "card-01",
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(b": OK") == 8


def test_manifest_is_canonical_and_complete(built):
    raw = (built / "card-01.manifest.json").read_bytes()
    data = json.loads(raw)
    assert raw == (json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    assert data["format"] == "infopack-card-manifest/1"
    assert data["bundle"] == {"id": "test-bundle", "title": "시험 묶음", "version": 3}
    assert data["card"]["id"] == "card-01" and data["profile"] == "notel-480p"
    assert data["tool"]["name"] == "infopack"
    on_card = {p.relative_to(built / "card-01").as_posix(): p for p in card_files(built)}
    assert {f["path"] for f in data["files"]} == set(on_card)
    for entry in data["files"]:
        assert entry["size"] == on_card[entry["path"]].stat().st_size


def test_file_times_are_fixed(built):
    for path in [built / "card-01", *(built / "card-01").rglob("*")]:
        assert int(path.stat().st_mtime) == 946684800


def test_two_builds_are_byte_identical(built, demo_manifest, curator_key, tmp_path):
    from infopack.build import build
    from infopack.review.report import write_report_html
    second = tmp_path / "second"
    build(demo_manifest, second, curator_key, jobs=1,                  # another parallelism: same bytes
          report_writers=[write_report_html])
    cmp = filecmp.dircmp(built, second)
    names = sorted(p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    for name in names:
        proc = subprocess.run(["cmp", str(built / name), str(second / name)], capture_output=True)
        assert proc.returncode == 0, f"{name} differs: {proc.stdout!r}"
    assert not cmp.diff_files


def test_rebuild_into_the_same_folder_replaces_the_old_cards(built_copy, demo_manifest, curator_key):
    from infopack.build import build
    (built_copy / "card-01" / "stale.txt").write_text("old")
    build(demo_manifest, built_copy, curator_key, jobs=2)
    assert not (built_copy / "card-01" / "stale.txt").exists()
    assert not [p for p in built_copy.iterdir() if p.name.startswith(".")]
