"""What every ffmpeg call that writes card files shares: the stripping flags and checks."""

from __future__ import annotations

from pathlib import Path

from infopack.errors import CheckFailed
from infopack.probe import ffprobe_json
from infopack.tools import ffmpeg_info, run, safe_arg

# No tags, no chapters, no version strings: see FIELD-NOTES "Identifying traces".
STRIP_FLAGS = ["-map_metadata", "-1", "-map_chapters", "-1",
               "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
               "-flags:s", "+bitexact"]

LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11"   # EBU R128, a little louder for tiny speakers


def ffmpeg_head() -> list[str]:
    return [ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def encode_timeout(duration: float) -> float:
    """Generous: a slow preset on an old laptop runs well below real time."""
    return 600 + duration * 20


def run_ffmpeg(args: list[str], *, item_id: str, source: Path, duration: float) -> None:
    run(args, timeout=encode_timeout(duration), what=f"encoding item {item_id}", subject=source)


def decode_check(path: Path, *, item_id: str, duration: float) -> None:
    """Decode the whole output with errors fatal: a file a player chokes on fails the build."""
    proc = run(ffmpeg_head() + ["-xerror", "-i", safe_arg(path), "-f", "null", "-"],
               timeout=encode_timeout(duration), what="decode check", check=False)
    if proc.returncode != 0 or proc.stderr.strip():
        raise CheckFailed(path, f"item {item_id}: output does not decode cleanly "
                                f"({proc.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] or 'exit code'})")


def output_streams(path: Path) -> dict:
    return ffprobe_json(path)


def check_duration(path: Path, data: dict, expected: float, item_id: str, tolerance: float = 0.1) -> None:
    got = float(data.get("format", {}).get("duration") or 0)
    if abs(got - expected) > max(tolerance, 0.0):
        raise CheckFailed(path, f"item {item_id}: output lasts {got:.2f} s, source {expected:.2f} s")
