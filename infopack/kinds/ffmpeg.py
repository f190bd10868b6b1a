"""What every ffmpeg call that writes card files shares: the stripping flags and checks."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from infopack.errors import CheckFailed, InfopackError
from infopack.kinds.codecs import AUDIO_CODECS
from infopack.kinds.levels import level_warnings, with_warnings
from infopack.kinds.probe import ffprobe_json
from infopack.kinds.specs import AudioSpec
from infopack.progress import current_reporter
from infopack.tools import ffmpeg_info, run, run_with_progress, safe_arg

# No tags, no chapters, no version strings: see FIELD-NOTES "Identifying traces".
STRIP_FLAGS = ["-map_metadata", "-1", "-map_chapters", "-1",
               "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
               "-flags:s", "+bitexact"]

# What ffmpeg says when its output could not be written to the end (it may still exit 0).
_WRITE_FAILED = re.compile(r"Error writing trailer|Error closing file|No space left on device|Disk quota exceeded")

_ADDRESS = re.compile(r" @ 0x[0-9a-f]+")
_REPEATED = re.compile(r"Last message repeated \d+ times?$")

LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11"   # EBU R128, a little louder for tiny speakers

# Size estimates of what ffmpeg writes: MP4/AVI/MP3 headers and indexes as a share of the
# streams, plus fixed bytes per file.
CONTAINER_OVERHEAD = 0.02
AUDIO_FILE_EXTRA, VIDEO_FILE_EXTRA = 4096, 16384


def ffmpeg_head() -> list[str]:
    return [ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def encode_timeout(duration: float) -> float:
    """Generous: a slow preset on an old laptop runs well below real time."""
    return 600 + duration * 20


def run_ffmpeg(args: list[str], *, item_id: str, source: Path, duration: float) -> list[str]:
    """Run one encode; `-progress pipe:1 -nostats` (global options, output bytes unchanged) feeds the
    progress events of the build running in this thread (infopack.progress.reporting).

    It runs at `-loglevel warning` (bytes unchanged), so the encoders' warnings are heard: a
    level warning (x264/x265 saying the stream breaks the level it signals) fails the item,
    and every warning line is returned and reported as an "encoder-warning" event, which the
    build keeps in the item's report.
    """
    report = current_reporter()
    args = with_warnings(args[:1] + ["-progress", "pipe:1", "-nostats"] + args[1:])
    on_progress = None
    if report is not None:
        said = [-1.0]                   # the last done_s reported: an event only when it moved on

        def on_progress(done_s: float) -> None:
            done = round(min(done_s, duration), 3)
            if done > said[0]:
                said[0] = done
                report({"event": "progress", "item": item_id, "done_s": done, "total_s": round(duration, 3)})
    stderr = run_with_progress(args, timeout=encode_timeout(duration), what=f"encoding item {item_id}",
                               subject=source, on_progress=on_progress)
    broken = level_warnings(stderr)
    if broken:
        raise CheckFailed(source, f"item {item_id}: the encoder says the output breaks the level it signals "
                                  f"({broken[0]}); a player may refuse it")
    lines = warning_lines(stderr)
    unwritten = [line for line in lines if _WRITE_FAILED.search(line)]
    if unwritten:              # ffmpeg 5.1 may exit 0 when it could not finish writing its output
        raise InfopackError(source, f"encoding item {item_id} failed: {unwritten[-1]}")
    if lines and report is not None:
        report({"event": "encoder-warning", "item": item_id, "lines": lines})
    return lines


def warning_lines(stderr: bytes) -> list[str]:
    """The lines of an encode's stderr, each once, in order, without the memory addresses
    ffmpeg prints (`[swscaler @ 0x5605...]`: they differ on every run, the report must not)."""
    lines = (_ADDRESS.sub("", line).strip() for line in stderr.decode("utf-8", "replace").splitlines())
    return list(dict.fromkeys(line for line in lines if line and not _REPEATED.match(line)))


def decode_check(path: Path, *, item_id: str, duration: float, forbid_b_frames: bool = False) -> None:
    """Decode the whole output with errors fatal: a file a player chokes on fails the build.

    With `forbid_b_frames`, the same pass counts the decoded B-frames (a `select` on the
    picture type feeding the null muxer) and fails if there is any: cheap MP4 players
    without B-frame support show garbage or stop on them.
    """
    args = ffmpeg_head() + ["-xerror", "-i", safe_arg(path)]
    if forbid_b_frames:
        args += ["-map", "0:v:0", "-map", "0:a?", "-vf", r"select=eq(pict_type\,B)", "-fps_mode", "passthrough",
                 "-progress", "pipe:1", "-nostats"]
    args += ["-f", "null", "-"]
    proc = run(args, timeout=encode_timeout(duration), what="decode check", check=False)
    if proc.returncode != 0 or proc.stderr.strip():
        raise CheckFailed(path, f"item {item_id}: output does not decode cleanly "
                                f"({proc.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] or 'exit code'})")
    if forbid_b_frames:
        counts = re.findall(rb"^frame=(\d+)", proc.stdout, re.MULTILINE)
        if not counts:
            raise CheckFailed(path, f"item {item_id}: could not count B-frames in the decode check")
        if int(counts[-1]):
            raise CheckFailed(path, f"item {item_id}: {int(counts[-1])} B-frames, but the profile's players "
                                    f"cannot decode B-frames")


def check_file_size(path: Path, max_bytes: int, item_id: str, profile_id: str) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise CheckFailed(path, f"item {item_id}: output is {size:,} bytes, over profile {profile_id}'s "
                                f"max_file_bytes {max_bytes:,}; split the source or lower the rates")


@lru_cache(maxsize=1)
def ffmpeg_filters() -> frozenset:
    """Names of the filters this ffmpeg has (zscale for HDR tone mapping is optional)."""
    out = run([ffmpeg_info().ffmpeg, "-hide_banner", "-filters"], timeout=30, what="ffmpeg -filters").stdout
    names = set()
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and "->" in parts[2]:
            names.add(parts[1])
    return frozenset(names)


def output_streams(path: Path) -> dict:
    return ffprobe_json(path)


def check_duration(path: Path, data: dict, expected: float, item_id: str, tolerance: float = 0.1) -> None:
    got = float(data.get("format", {}).get("duration") or 0)
    if abs(got - expected) > tolerance:
        raise CheckFailed(path, f"item {item_id}: output lasts {got:.2f} s, source {expected:.2f} s")


def audio_problems(a: dict, spec: AudioSpec) -> list[str]:
    """What in one ffprobe audio stream breaks the profile's audio table."""
    problems = []
    codec = AUDIO_CODECS[spec.codec]
    if a.get("codec_name") != codec.ffprobe_name:
        problems.append(f"audio codec {a.get('codec_name')} (expected {codec.ffprobe_name})")
    if codec.ffprobe_profile and a.get("profile") != codec.ffprobe_profile:
        problems.append(f"{codec.ffprobe_name.upper()} profile {a.get('profile')} (expected {codec.ffprobe_profile})")
    if int(a.get("channels") or 0) != spec.channels:
        problems.append(f"audio channels {a.get('channels')} (expected {spec.channels})")
    if int(a.get("sample_rate") or 0) != spec.sample_rate:
        problems.append(f"audio sample rate {a.get('sample_rate')} (expected {spec.sample_rate})")
    return problems
