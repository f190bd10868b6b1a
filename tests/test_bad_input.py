"""Bad input: one line naming the file and the problem, non-zero exit, no traceback,
and nothing left in OUT that looks like a finished card."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE

MANIFEST = """
[bundle]
id = "bad"
title = "bad"
profile = "notel-480p"
card = "8GB"
[[items]]
id = "good"
title = "좋은 것"
source = "media/clip02.mkv"
[[items]]
id = "bad"
title = "나쁜 것"
source = "{source}"
{extra}
"""


@pytest.fixture
def bad_folder(samples_dir, tmp_path) -> Path:
    shutil.copytree(samples_dir / "media", tmp_path / "media")
    return tmp_path


def build_with(run_cli, folder: Path, keys_dir: Path, source: str, extra: str = ""):
    manifest = folder / "bundle.toml"
    manifest.write_text(MANIFEST.format(source=source, extra=extra), encoding="utf-8")
    out = folder / "out"
    result = run_cli("build", manifest, "--out", out, "--key", keys_dir / "curator.key", "-j", "2")
    return result, out


def assert_clean_failure(result, out: Path, *needles: str):
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("infopack:")]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    if out.exists():
        assert not list(out.glob("card-*")), "a card was left behind"
        assert not [p for p in out.iterdir() if p.name.startswith(".partial")], "staging left behind"


@pytest.mark.parametrize("name, content, needle", [
    ("empty.mp4", b"", "empty file"),
    ("text.mp4", "그냥 글입니다. not a video\n".encode() * 20, "not a media file"),
    ("photo.jpg", b"\xff\xd8\xff\xe0 broken jpeg", "not a readable image"),
])
def test_unusable_media(run_cli, bad_folder, keys_dir, name, content, needle):
    (bad_folder / "media" / name).write_bytes(content)
    result, out = build_with(run_cli, bad_folder, keys_dir, f"media/{name}")
    assert_clean_failure(result, out, name, needle)


def test_truncated_media(run_cli, bad_folder, keys_dir):
    data = (bad_folder / "media" / "clip01.mp4").read_bytes()
    (bad_folder / "media" / "cut.mp4").write_bytes(data[: len(data) // 3])
    result, out = build_with(run_cli, bad_folder, keys_dir, "media/cut.mp4")
    assert_clean_failure(result, out, "cut.mp4")


def test_unreadable_subtitle(run_cli, bad_folder, keys_dir):
    (bad_folder / "media" / "broken.srt").write_text("1\nthis is not a timestamp\n안녕\n", encoding="utf-8")
    result, out = build_with(run_cli, bad_folder, keys_dir, "media/clip03.mp4",
                             extra='subtitles = ["media/broken.srt"]')
    assert_clean_failure(result, out, "broken.srt")


def test_wrong_passphrase(run_cli, bad_folder, keys_dir, monkeypatch):
    monkeypatch.setenv("INFOPACK_PASSPHRASE", PASSPHRASE + "x")
    result, out = build_with(run_cli, bad_folder, keys_dir, "media/clip03.mp4")
    monkeypatch.setenv("INFOPACK_PASSPHRASE", PASSPHRASE)
    assert_clean_failure(result, out, "curator.key", "wrong passphrase")


def test_missing_key(run_cli, bad_folder, tmp_path):
    result, out = build_with(run_cli, bad_folder, tmp_path, "media/clip03.mp4")
    assert_clean_failure(result, out, "curator.key", "no such key file")


def test_key_inside_the_output_folder_is_refused(run_cli, bad_folder, keys_dir):
    out = bad_folder / "out"
    out.mkdir()
    shutil.copy(keys_dir / "curator.key", out / "curator.key")
    manifest = bad_folder / "bundle.toml"
    manifest.write_text(MANIFEST.format(source="media/clip03.mp4", extra=""), encoding="utf-8")
    result = run_cli("build", manifest, "--out", out, "--key", out / "curator.key")
    assert result.exit_code == 2 and "Traceback" not in result.output


@pytest.fixture
def use_ffmpeg(monkeypatch):
    """Point infopack at another ffmpeg binary for one test (the lookup is cached)."""
    from infopack import tools

    def point_at(path: Path) -> None:
        monkeypatch.setenv("INFOPACK_FFMPEG", str(path))
        tools.ffmpeg_info.cache_clear()
    yield point_at
    monkeypatch.delenv("INFOPACK_FFMPEG", raising=False)
    tools.ffmpeg_info.cache_clear()


def test_missing_ffmpeg_says_how_to_install(run_cli, bad_folder, keys_dir, use_ffmpeg):
    use_ffmpeg(bad_folder / "no-such-ffmpeg")
    result, out = build_with(run_cli, bad_folder, keys_dir, "media/clip03.mp4")
    assert_clean_failure(result, out, "apt-get install ffmpeg")


def test_too_old_ffmpeg_is_refused(run_cli, bad_folder, keys_dir, use_ffmpeg, tmp_path):
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'ffmpeg version 3.4.8 Copyright'\n")
    fake.chmod(0o755)
    (tmp_path / "bin" / "ffprobe").symlink_to(fake)
    use_ffmpeg(fake)
    result, out = build_with(run_cli, bad_folder, keys_dir, "media/clip03.mp4")
    assert_clean_failure(result, out, "too old")


def test_module_entry_point_gives_one_line(tmp_path):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "infopack", "verify", str(tmp_path), "--pubkey",
                           str(tmp_path / "none.pub")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "none.pub" in proc.stderr
