"""Honest progress: ffmpeg's -progress output becomes events; --json prints them as JSON lines;
--print-commands prints the exact encodes, which rerun bare give the card's bytes."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

from test_resume import build_cmd, build_env


def test_json_events_are_json_lines_with_honest_progress(demo_manifest, keys_dir, tmp_path):
    proc = subprocess.run(build_cmd(demo_manifest, tmp_path / "out", keys_dir, "--json"),
                          env=build_env(tmp_path / "cache"), capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    events = [json.loads(line) for line in proc.stdout.decode().splitlines()]   # every line is JSON
    seen = [json.dumps(e, sort_keys=True) for e in events]
    assert sorted(seen) == sorted(set(seen)), "an event was printed twice"
    names = [e["event"] for e in events]
    assert names[0] == "probed" and names[-1] == "done"
    probed = events[0]
    assert abs(probed["total_s"] - sum(e["duration"] for e in events if e["event"] == "encode")) < 0.01
    for item in ("clip-01", "clip-02", "clip-03", "song-01"):
        steps = [e for e in events if e.get("item") == item and e["event"] == "progress"]
        assert steps, f"no progress events for {item}"
        done = [e["done_s"] for e in steps]
        assert done == sorted(done) and 0 <= done[0] and done[-1] <= steps[-1]["total_s"]
        assert done[-1] >= steps[-1]["total_s"] - 0.5                     # reaches the end
        assert names.index("encode") < names.index("progress") < names.index("assemble")
    assert events[-1]["encoded"] == 5 and events[-1]["cached"] == 0 and events[-1]["cards"] == 1


def test_plain_lines_when_not_a_terminal(demo_manifest, keys_dir, tmp_path):
    proc = subprocess.run(build_cmd(demo_manifest, tmp_path / "out", keys_dir), env=build_env(tmp_path / "cache"),
                          capture_output=True, timeout=600)
    assert proc.returncode == 0
    lines = proc.stderr.decode().splitlines()
    assert sorted(ln.split()[1] for ln in lines if ln.startswith("  encoded ")) == \
        ["clip-01", "clip-02", "clip-03", "photo-01", "song-01"]
    assert "progress" not in proc.stderr.decode() and "\r" not in proc.stderr.decode()   # no bars in a log
    assert "card-01: 5 items" in proc.stdout.decode()


def test_print_commands_rerun_bare_give_the_same_bytes(demo_manifest, keys_dir, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(build_cmd(demo_manifest, out, keys_dir, "--print-commands"),
                          env=build_env(tmp_path / "cache"), capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    printed = [shlex.split(line) for line in proc.stdout.decode().splitlines()
               if Path(line.split()[0]).name in ("ffmpeg", "ffprobe")]
    encodes = [c for c in printed if "-progress" in c]
    assert len(encodes) == 4                                   # three videos and one song; photos need no ffmpeg
    assert all(Path(c[0]).name == "ffmpeg" and "-nostats" in c for c in encodes)
    for encode in encodes:                                     # each output is then probed and fully decoded
        checks = [c for c in printed if encode[-1] in c and c is not encode]
        assert {Path(c[0]).name for c in checks} == {"ffmpeg", "ffprobe"}
        assert printed.index(encode) < min(printed.index(c) for c in checks)
    song = next(c for c in encodes if c[-1].endswith(".m4a"))
    card_song = out / "card-01" / "소리" / "아침 노래.m4a"
    subprocess.run(song[:-1] + [str(tmp_path / "bare.m4a")], check=True, timeout=120, stdout=subprocess.DEVNULL)
    assert (tmp_path / "bare.m4a").read_bytes() == card_song.read_bytes()
    # and -progress does not change the output bytes
    i = song.index("-progress")
    plain = song[:i] + song[i + 3:-1] + [str(tmp_path / "plain.m4a")]
    subprocess.run(plain, check=True, timeout=120)
    assert (tmp_path / "plain.m4a").read_bytes() == card_song.read_bytes()


def test_bars_count_media_seconds_and_drop_cache_hits():
    from infopack.cli.progress import Bars
    bars = Bars()
    try:
        bars({"event": "probed", "items": 3, "jobs": 2, "total_s": 30.0})
        bars({"event": "cached", "item": "a", "duration": 10.0})
        bars({"event": "encode", "item": "b", "kind": "video", "duration": 12.0})
        bars({"event": "encode", "item": "c", "kind": "audio", "duration": 8.0})
        bars({"event": "progress", "item": "b", "done_s": 6.0, "total_s": 12.0})
        bars({"event": "progress", "item": "c", "done_s": 2.0, "total_s": 8.0})
        overall = bars.progress.tasks[bars.overall]
        assert overall.total == 20.0 and overall.completed == 8.0
        assert len(bars.progress.tasks) == 3                   # one bar per running encode + the build
        bars({"event": "encoded", "item": "c", "duration": 8.0, "bytes": 1, "seconds": 1.0})
        assert bars.progress.tasks[bars.overall].completed == 14.0
        assert len(bars.progress.tasks) == 2
    finally:
        bars.close()


def test_ffmpeg_progress_parsing_reports_media_seconds(tmp_path):
    from infopack.tools import ffmpeg_info, run_with_progress
    seen: list[float] = []
    run_with_progress([ffmpeg_info().ffmpeg, "-progress", "pipe:1", "-nostats", "-nostdin", "-loglevel", "error",
                       "-f", "lavfi", "-i", "sine=d=3", "-f", "null", "-"],
                      timeout=60, what="test", on_progress=seen.append)
    assert seen and seen == sorted(seen) and abs(seen[-1] - 3.0) < 0.1
    assert len(seen) == len(set(seen)), "ffmpeg's out_time_us and out_time_ms are one time, reported once"


def test_a_failing_encode_names_the_error(tmp_path):
    from infopack.errors import InfopackError
    from infopack.tools import ffmpeg_info, run_with_progress
    try:
        run_with_progress([ffmpeg_info().ffmpeg, "-progress", "pipe:1", "-nostdin", "-loglevel", "error",
                           "-i", str(tmp_path / "missing.mp4"), "-f", "null", "-"],
                          timeout=60, what="encoding item x", subject=Path("missing.mp4"))
    except InfopackError as exc:
        assert "encoding item x failed" in exc.line() and "No such file" in exc.line()
    else:
        raise AssertionError("a failing ffmpeg must raise")
