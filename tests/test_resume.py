"""Resume: a build killed at any point (SIGKILL mid-encode, mid-assemble, Ctrl-C) finishes on
rerun, reusing the encodes it completed, with a result byte-identical to a clean build."""

from __future__ import annotations

import filecmp
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import PASSPHRASE, REPO

SEALS = ["card-01.manifest.json", "card-01.manifest.json.minisig", "card-01.SHA256SUMS", "report.json"]


def build_cmd(manifest: Path, out: Path, keys_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "infopack", "build", str(manifest), "--out", str(out),
            "--key", str(keys_dir / "curator.key"), "-j", "2", *extra]


def build_env(cache: Path) -> dict:
    return dict(os.environ, INFOPACK_PASSPHRASE=PASSPHRASE, INFOPACK_CACHE=str(cache), PYTHONPATH=str(REPO))


def run_build(manifest: Path, out: Path, keys_dir: Path, cache: Path, *extra: str) -> list[dict]:
    """A real `infopack build --json` in a subprocess; returns its events."""
    proc = subprocess.run(build_cmd(manifest, out, keys_dir, "--json", *extra), env=build_env(cache),
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def assert_same_build(out: Path, clean: Path) -> None:
    """cmp every card file and every seal with a clean build; nothing else in OUT."""
    ours = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(clean).as_posix() for p in clean.rglob("*") if p.is_file())
    assert ours == theirs
    for rel in ours:
        assert filecmp.cmp(out / rel, clean / rel, shallow=False), f"{rel} differs from a clean build"
    for seal in SEALS:
        assert (out / seal).is_file()
    assert not list(out.glob(".partial-*"))


def ffmpeg_children_of(out: Path) -> list[int]:
    """ffmpeg processes still working on anything under OUT."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"ffmpeg") and any(str(out).encode() in arg for arg in cmdline):
            found.append(int(proc.name))
    return found


def wait_gone(out: Path, seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := ffmpeg_children_of(out)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def start_and_kill_after_first(event_name: str, manifest, out, keys_dir, cache, sig=signal.SIGKILL) -> subprocess.Popen:
    """Start `infopack build --json` and send `sig` (None: nothing yet) at the first `event_name`."""
    proc = subprocess.Popen(build_cmd(manifest, out, keys_dir, "--json"), env=build_env(cache),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in proc.stdout:
        if json.loads(line)["event"] == event_name:
            break
    else:
        raise AssertionError(f"the build ended before any {event_name!r} event: {proc.stderr.read().decode()}")
    if sig is not None:
        os.kill(proc.pid, sig)
        proc.wait(60)
    return proc


def test_sigkill_mid_encode_then_rerun_equals_a_clean_build(demo_manifest, keys_dir, built, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    killed = start_and_kill_after_first("encoded", demo_manifest, out, keys_dir, cache)
    assert killed.returncode == -signal.SIGKILL
    assert list(out.glob(".partial-*")), "the killed build should have left its staging folder"
    assert wait_gone(out) == [], "ffmpeg children outlived a SIGKILLed build"
    assert not (out / "card-01.manifest.json").exists()
    events = run_build(demo_manifest, out, keys_dir, cache)
    names = [e["event"] for e in events]
    assert "stale" in names                                  # the dead staging folder was removed
    done = events[-1]
    assert done["event"] == "done" and done["cached"] >= 1   # the encode finished before the kill is reused
    assert done["cached"] + done["encoded"] == 5
    assert_same_build(out, built)


def test_sigkill_mid_assemble_then_rerun_equals_a_clean_build(demo_manifest, keys_dir, built, tmp_path):
    """Killed once every encode is done and the staging card folder exists (its files are being
    moved in and scanned: with a cold cache no scan verdict is known, so this lasts a while)."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    proc = start_and_kill_after_first("assemble", demo_manifest, out, keys_dir, cache, sig=None)
    deadline = time.monotonic() + 60
    while not list(out.glob(".partial-*/card-01")):                      # the staging card folder exists
        assert proc.poll() is None, "the build finished before it could be killed mid-assemble"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(60)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "card-01").exists() and not (out / "card-01.manifest.json").exists()
    events = run_build(demo_manifest, out, keys_dir, cache)
    assert events[-1]["encoded"] == 0 and events[-1]["cached"] == 5        # every encode was kept
    assert_same_build(out, built)


def test_ctrl_c_stops_ffmpeg_children_and_rerun_finishes(demo_manifest, keys_dir, built, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    proc = start_and_kill_after_first("progress", demo_manifest, out, keys_dir, cache, sig=signal.SIGINT)
    assert proc.returncode == 130, proc.stderr.read().decode()
    assert "interrupted" in proc.stderr.read().decode()
    assert ffmpeg_children_of(out) == []                     # stopped before the process exited
    assert not list(out.glob(".partial-*"))                  # Ctrl-C cleans up its own staging folder
    run_build(demo_manifest, out, keys_dir, cache)
    assert_same_build(out, built)


def test_a_second_build_into_the_same_out_is_refused_while_one_runs(demo_manifest, keys_dir, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = subprocess.Popen(build_cmd(demo_manifest, out, keys_dir, "--json"), env=build_env(cache),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for line in first.stdout:
            if json.loads(line)["event"] == "encode":
                break
        second = subprocess.run(build_cmd(demo_manifest, out, keys_dir), env=build_env(cache),
                                capture_output=True, timeout=120)
        assert second.returncode == 2
        assert "another infopack build is writing into this folder" in second.stderr.decode()
        assert "Traceback" not in second.stderr.decode()
    finally:
        first.kill()
        first.wait(60)
