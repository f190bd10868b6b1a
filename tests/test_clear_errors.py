"""Causes a person can fix end in one line naming the file or folder, never `internal error`:
a decompression-bomb image, OUT being a file, a read-only OUT, a full disk. Exit 1 or 2, and
nothing left in OUT that looks like a finished card.

Read-only and full disks are real where this machine lets the tests mount a tmpfs (as root
here); elsewhere a read-only OUT is a folder without write permission (a non-root user) or,
for root without `mount`, the OS call simulated with monkeypatch, and a full disk is the
OS error simulated at a write of the build. Each test records which ran as its `disk`
property (`pytest --junitxml`).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infopack.build import build as build_bundle
from infopack.review.report import write_report_html
from real_sources import bomb_png

MANIFEST = """[bundle]
id = "errors"
title = "시험"
profile = "notel-480p"
card = "8GB"
[[items]]
id = "clip"
title = "시장 풍경"
source = "media/clip02.mkv"
"""


@pytest.fixture
def folder(samples_dir, tmp_path) -> Path:
    (tmp_path / "media").mkdir()
    shutil.copy(samples_dir / "media" / "clip02.mkv", tmp_path / "media")
    (tmp_path / "bundle.toml").write_text(MANIFEST, encoding="utf-8")
    return tmp_path


def build(run_cli, folder: Path, keys_dir: Path, out: Path, manifest: str = "bundle.toml"):
    """`--no-cache`: every build encodes, so the disk cases fill the disk with ffmpeg's own writes."""
    return run_cli("build", folder / manifest, "--out", out, "--key", keys_dir / "curator.key", "-j", "1",
                   "--no-cache")


def assert_one_line(result, out: Path, *needles: str) -> str:
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert "internal error" not in result.output and "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("infopack:")]     # not progress lines
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    if out.is_dir():
        assert not list(out.glob("card-*")) and not (out / "report.json").exists(), "a finished-looking build"
        assert not list(out.glob(".partial-*")), "the staging folder was left behind"
    return lines[0]


def mount_tmpfs(where: Path, options: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    return proc.returncode == 0


@pytest.fixture
def tmpfs(tmp_path):
    """mount(where, options) -> whether it mounted; every mount is undone afterwards."""
    mounted: list[Path] = []

    def mount(where: Path, options: str) -> bool:
        if mount_tmpfs(where, options):
            mounted.append(where)
            return True
        return False
    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", str(where)], check=True)


def test_a_decompression_bomb_is_named_and_refused(run_cli, folder, keys_dir):
    bomb_png(folder / "media" / "huge.png")
    (folder / "bomb.toml").write_text(MANIFEST + '[[items]]\nid = "huge"\ntitle = "큰 그림"\n'
                                                'source = "media/huge.png"\n', encoding="utf-8")
    out = folder / "out"
    line = assert_one_line(build(run_cli, folder, keys_dir, out, "bomb.toml"), out, "huge.png", "100 megapixels",
                           "decompression bomb")
    assert "20,000" in line or "larger than" in line
    plan = run_cli("plan", folder / "bomb.toml")
    assert plan.exit_code == 2 and "huge.png" in plan.stderr and "internal error" not in plan.stderr


def test_an_image_over_the_limit_but_under_pillows_is_refused_too(run_cli, folder, keys_dir):
    """10,240 x 10,240 = 105 megapixels: Pillow only warns there; infopack's own limit refuses it."""
    bomb_png(folder / "media" / "big.png", side=10240)
    (folder / "big.toml").write_text(MANIFEST + '[[items]]\nid = "big"\ntitle = "큰 그림"\n'
                                               'source = "media/big.png"\n', encoding="utf-8")
    out = folder / "out"
    assert_one_line(build(run_cli, folder, keys_dir, out, "big.toml"), out, "big.png", "(10,240 x 10,240 pixels)")


def test_out_being_a_file_is_named(run_cli, folder, keys_dir):
    out = folder / "out"
    out.write_bytes(b"not a folder")
    assert_one_line(build(run_cli, folder, keys_dir, out), out, str(out), "is a file, not a folder")
    assert out.read_bytes() == b"not a folder"


def test_out_inside_a_file_is_named(run_cli, folder, keys_dir):
    (folder / "file").write_bytes(b"x")
    out = folder / "file" / "out"
    assert_one_line(build(run_cli, folder, keys_dir, out), out, str(out), "cannot create this folder")


@pytest.mark.parametrize("existing", [True, False], ids=["existing", "to-create"])
def test_a_read_only_out_is_named(run_cli, folder, keys_dir, tmpfs, monkeypatch, record_property, existing):
    disk = folder / "card"
    if tmpfs(disk, "ro,size=1m"):
        how = "tmpfs"
    elif os.geteuid() != 0:
        disk.mkdir()
        disk.chmod(0o555)                         # permissions stop a non-root user
        how = "chmod 555 (non-root)"
    else:
        disk.mkdir()
        how = "EROFS simulated at os.mkdir"
        real_mkdir = os.mkdir

        def read_only_mkdir(path, *args, **kwargs):
            if Path(path).resolve().is_relative_to(disk.resolve()):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real_mkdir(path, *args, **kwargs)
        monkeypatch.setattr(os, "mkdir", read_only_mkdir)
    record_property("disk", how)
    out = disk if existing else disk / "out"
    wanted = "cannot write" if how.startswith("chmod") else "read-only disk"
    assert_one_line(build(run_cli, folder, keys_dir, out), out, str(out), wanted)


@pytest.fixture(scope="module")
def build_sizes(samples_dir, curator_key, tmp_path_factory) -> tuple[int, int]:
    """(bytes of the card's video, bytes of the whole build) of MANIFEST, built where there is room."""
    folder = tmp_path_factory.mktemp("roomy")
    (folder / "media").mkdir()
    shutil.copy(samples_dir / "media" / "clip02.mkv", folder / "media")
    (folder / "bundle.toml").write_text(MANIFEST, encoding="utf-8")
    build_bundle(folder / "bundle.toml", folder / "out", curator_key, use_cache=False,
                 report_writers=[write_report_html])
    files = [p for p in (folder / "out").rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files if p.suffix == ".mp4"), sum(p.stat().st_size for p in files)


@pytest.mark.parametrize("where", ["encoding", "sealing"])
def test_a_full_disk_is_named(run_cli, folder, keys_dir, tmpfs, monkeypatch, record_property, build_sizes, where):
    """Full while ffmpeg writes the video (ffmpeg 5.1 may still exit 0), or while the build writes
    its manifests and reports after the video fitted."""
    video, total = build_sizes
    pages = 4096
    size = 16 * 1024 if where == "encoding" else (video + (total - video) // 4) // pages * pages + pages
    disk = folder / "disk"
    how = "tmpfs"
    if not tmpfs(disk, f"size={size}"):
        disk.mkdir()
        how = "ENOSPC simulated"
        target = {"sealing": "infopack.build.assemble.fix_mtimes",
                  "encoding": "infopack.kinds.ffmpeg.run_with_progress"}[where]

        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(target, full)
    record_property("disk", how)
    out = disk / "out"
    assert_one_line(build(run_cli, folder, keys_dir, out), out, str(out), "disk holding this folder is full")
    assert list(out.iterdir()) == []
