"""Calling external programs safely: argument lists, never a shell, always a timeout.

ffmpeg/ffprobe are found on PATH, or through `--ffmpeg` / `INFOPACK_FFMPEG` (the path of
the ffmpeg binary; ffprobe is looked for beside it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from infopack.errors import InfopackError

MIN_FFMPEG = (5, 0)
INSTALL_HINT = {
    "ffmpeg": "install it with `sudo apt-get install ffmpeg` (or set INFOPACK_FFMPEG to its path)",
    "ffprobe": "it comes with ffmpeg: `sudo apt-get install ffmpeg`",
    "minisign": "`sudo apt-get install minisign`",
    "exiftool": "`sudo apt-get install libimage-exiftool-perl`",
    "mkfs.fat": "`sudo apt-get install dosfstools`",
    "mcopy": "`sudo apt-get install mtools`",
    "tesseract": "`sudo apt-get install tesseract-ocr tesseract-ocr-kor`",
}

_ffmpeg_override: str | None = None


def set_ffmpeg(path: str | None) -> None:
    """Use this ffmpeg binary (from `--ffmpeg`) instead of the one on PATH."""
    global _ffmpeg_override
    _ffmpeg_override = path
    ffmpeg_info.cache_clear()


def _locate(name: str) -> str:
    if name in ("ffmpeg", "ffprobe"):
        configured = _ffmpeg_override or os.environ.get("INFOPACK_FFMPEG")
        if configured:
            base = Path(configured)
            candidate = base if name == "ffmpeg" else base.with_name(base.name.replace("ffmpeg", "ffprobe"))
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
            raise InfopackError(str(candidate), f"{name} not found or not executable; {INSTALL_HINT[name]}")
    found = shutil.which(name)
    if not found:
        raise InfopackError(None, f"{name} is not installed; {INSTALL_HINT.get(name, 'install it')}")
    return found


def binary(name: str) -> str:
    return _locate(name)


@dataclass(frozen=True)
class FfmpegInfo:
    ffmpeg: str
    ffprobe: str
    version: str          # e.g. "5.1.6-0+deb12u1", used in cache keys, never written to cards
    encoders: frozenset


@lru_cache(maxsize=1)
def ffmpeg_info() -> FfmpegInfo:
    """Locate ffmpeg and ffprobe and check the version; one clear line if unusable."""
    ffmpeg = _locate("ffmpeg")
    ffprobe = _locate("ffprobe")
    out = run([ffmpeg, "-hide_banner", "-version"], timeout=30, what="ffmpeg -version").stdout
    text = out.decode("utf-8", "replace")
    m = re.search(r"ffmpeg version (\S+)", text)
    version = m.group(1) if m else "unknown"
    nums = re.match(r"n?(\d+)\.(\d+)", version)
    if nums and (int(nums.group(1)), int(nums.group(2))) < MIN_FFMPEG:
        raise InfopackError(ffmpeg, f"ffmpeg {version} is too old (need {MIN_FFMPEG[0]}.{MIN_FFMPEG[1]} or newer); "
                                    f"{INSTALL_HINT['ffmpeg']}")
    enc = run([ffmpeg, "-hide_banner", "-encoders"], timeout=30, what="ffmpeg -encoders").stdout.decode()
    encoders = frozenset(line.split()[1] for line in enc.splitlines()
                         if len(line.split()) > 1 and len(line.split()[0]) == 6 and line.startswith(" "))
    return FfmpegInfo(ffmpeg, ffprobe, version, encoders)


def safe_arg(path: str | os.PathLike) -> str:
    """A path argument that cannot be mistaken for an option (`-x.mp4` -> `./-x.mp4`)."""
    p = os.fspath(path)
    return "./" + p if p.startswith("-") else p


def run(args: list[str], *, timeout: float, what: str, input: bytes | None = None,
        check: bool = True, subject: str | None = None) -> subprocess.CompletedProcess:
    """Run a program; on failure raise InfopackError with the last meaningful stderr line."""
    try:
        proc = subprocess.run(args, input=input, capture_output=True, timeout=timeout,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise InfopackError(None, f"{Path(args[0]).name} is not installed; "
                                  f"{INSTALL_HINT.get(Path(args[0]).name, 'install it')}") from None
    except subprocess.TimeoutExpired:
        raise InfopackError(subject, f"{what} took longer than {timeout:.0f} s and was stopped") from None
    if check and proc.returncode != 0:
        raise InfopackError(subject, f"{what} failed: {last_error_line(proc.stderr)}")
    return proc


def last_error_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no error message"
