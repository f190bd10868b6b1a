"""Calling external programs safely: argument lists, never a shell, always a timeout.

ffmpeg/ffprobe are found on PATH, or through `--ffmpeg` / `INFOPACK_FFMPEG` (the path of
the ffmpeg binary; ffprobe is looked for beside it).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

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
    "pdftotext": "`sudo apt-get install poppler-utils`",
    "pdftoppm": "`sudo apt-get install poppler-utils`",
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
    if getattr(_log_here, "on", False):
        log_command(args)
    proc = _start(args, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise InfopackError(subject, f"{what} took longer than {timeout:.0f} s and was stopped") from None
    except BaseException:          # Ctrl-C in this thread: no orphan left behind
        _stop(proc)
        raise
    finally:
        _forget(proc)
    result = subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
    if check and proc.returncode != 0:
        raise InfopackError(subject, f"{what} failed: {last_error_line(stderr)}")
    return result


def run_with_progress(args: list[str], *, timeout: float, what: str, subject=None,
                      on_progress: Callable[[float], None] | None = None) -> bytes:
    """Run an ffmpeg that writes `-progress pipe:1`; call on_progress(seconds of media done) as it goes.

    ffmpeg writes a block of `key=value` lines ending in `progress=continue|end` about twice a
    second, and each block holds the time twice (`out_time_us` and `out_time_ms`, both in
    microseconds in ffmpeg 5): one call per block, and only when the time moved on. Returns what
    it wrote to stderr (its warnings: the caller decides what they mean).
    """
    log_command(args)
    with tempfile.TemporaryFile() as errors:
        proc = _start(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        timed_out = threading.Event()
        timer = threading.Timer(timeout, lambda: (timed_out.set(), _stop(proc)))
        timer.start()
        try:
            block_us, reported_us = None, -1
            for line in proc.stdout:
                key, _, value = line.partition(b"=")
                if key in (b"out_time_us", b"out_time_ms") and value.strip().isdigit():
                    block_us = int(value)
                elif key == b"progress" and block_us is not None and block_us > reported_us:
                    reported_us = block_us
                    if on_progress:
                        on_progress(block_us / 1e6)
            proc.wait()
        except BaseException:
            _stop(proc)
            raise
        finally:
            timer.cancel()
            proc.stdout.close()
            _forget(proc)
        if timed_out.is_set():
            raise InfopackError(subject, f"{what} took longer than {timeout:.0f} s and was stopped")
        errors.seek(0)
        stderr = errors.read()
        if proc.returncode != 0:
            if _stopping.is_set():
                raise InfopackError(subject, f"{what} stopped: interrupted")
            raise InfopackError(subject, f"{what} failed: {last_error_line(stderr)}")
        return stderr


# -- children: a registry, so an interrupt stops every program we started -----------------

_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()
_stopping = threading.Event()
_command_log: Callable[[list[str]], None] | None = None
_PR_SET_PDEATHSIG = 1
# Variables no child may inherit: INFOPACK_PASSPHRASE, and any other passphrase,
# password or secret a curator's shell may hold (no program we run reads one).
_SECRET_NAME = re.compile(r"PASSPHRASE|PASSWORD|SECRET", re.IGNORECASE)


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL us if the infopack process dies (even by SIGKILL)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


try:
    import ctypes
    _libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:       # pragma: no cover - no libc to load
    _libc = None


def child_env() -> dict[str, str]:
    """Our environment minus its secrets: what every program infopack starts receives.

    The key's passphrase (INFOPACK_PASSPHRASE) is for infopack alone: infopack signs
    in-process, and ffmpeg, mtools, tesseract and whatever they load never need it, so
    it must not sit in their /proc/PID/environ or crash reports.
    """
    return {name: value for name, value in os.environ.items() if not _SECRET_NAME.search(name)}


def _start(args: list[str], **kwargs) -> subprocess.Popen:
    """Popen in its own process group (Ctrl-C is ours to handle), registered until it ends."""
    if _stopping.is_set():
        raise InfopackError(None, "interrupted")
    try:
        proc = subprocess.Popen(args, start_new_session=True, env=child_env(),
                                preexec_fn=_die_with_parent if _libc is not None else None, **kwargs)
    except FileNotFoundError:
        raise InfopackError(None, f"{Path(args[0]).name} is not installed; "
                                  f"{INSTALL_HINT.get(Path(args[0]).name, 'install it')}") from None
    with _live_lock:
        _live.add(proc)
    return proc


def _forget(proc: subprocess.Popen) -> None:
    with _live_lock:
        _live.discard(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Stop one child and its process group: SIGTERM, then SIGKILL after 5 s."""
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if proc.returncode is not None:       # reaped: its pid may belong to someone else now
            return
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_children() -> None:
    """Refuse new children and stop every live one (on Ctrl-C or a failed build); waits for them."""
    _stopping.set()
    with _live_lock:
        live = list(_live)
    for proc in live:
        _stop(proc)


def allow_children() -> None:
    _stopping.clear()


def set_command_log(log: Callable[[list[str]], None] | None) -> None:
    """Call `log(args)` for every encode as it starts (`--print-commands`), and for every
    program run inside `logging_commands()` (an item's validation: ffprobe, decode check)."""
    global _command_log
    _command_log = log


_log_here = threading.local()


@contextmanager
def logging_commands():
    """Log every program this thread runs (the build wraps each item's encode + validation)."""
    _log_here.on = True
    try:
        yield
    finally:
        _log_here.on = False


def log_command(args: list[str], worker: str | None = None) -> None:
    """`worker`: the cluster worker that ran it (the log then takes it as a second argument)."""
    if _command_log is not None:
        _command_log(list(args)) if worker is None else _command_log(list(args), worker)


def last_error_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no error message"


READ_WORKERS = 3      # threads: enough to keep ffprobe and hashing busy beside a GIL-bound search


def parallel_map(fn, items: list, workers: int = 0) -> Iterator:
    """`map(fn, items)` on a few threads, results in the order of `items` (reproducible output).

    For work that waits outside the GIL (external programs, reading, hashing): the scanner
    and verify read several files at once with it.
    """
    workers = workers or READ_WORKERS
    if workers <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="infopack-read") as pool:
        yield from pool.map(fn, items)
