"""Putting a finished build in place: OUT checked, one build per OUT at a time, then an ordered move.

A build writes everything into a staging folder inside OUT (`.partial-*`) and moves it
into place only when it all succeeded. The flock on OUT keeps two builds apart; a
staging folder left by a killed build is removed by the next one.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from infopack.errors import InfopackError, UsageError
from infopack.release.outdir import OutDir

STAGING_PREFIX = ".partial-"


def out_folder(out: Path) -> Path:
    """OUT, created if need be: one line naming it when it is a file or cannot be created."""
    if out.exists() and not out.is_dir():
        raise UsageError(out, "is a file, not a folder; give --out a new or existing folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise out_failure(exc, out) or UsageError(out, f"cannot create this folder ({exc.strerror})") from None
    return out


def out_failure(exc: BaseException, out: Path) -> UsageError | None:
    """What a failed write into OUT means for the curator (None: the failure is not OUT's).

    A full disk (the build's own writes, or ffmpeg's "No space left on device"), a
    read-only disk and a folder we may not write into are each one line naming OUT; the
    build removes its staging folder, so nothing half-written is left that looks complete.
    """
    code = exc.errno if isinstance(exc, OSError) else None
    if code in (errno.ENOSPC, errno.EDQUOT) and exc.filename and not _inside(exc.filename, out):
        return UsageError(exc.filename, "no space left on the disk holding this file; free some space")
    if code in (errno.ENOSPC, errno.EDQUOT) or (isinstance(exc, InfopackError)
                                                 and "No space left on device" in exc.problem):
        return UsageError(out, f"the disk holding this folder is full ({_free_bytes(out)} free); "
                               f"free some space or choose another --out")
    if code == errno.EROFS:
        return UsageError(out, "is on a read-only disk (write-protected card or read-only mount); "
                               "choose another --out")
    if code in (errno.EACCES, errno.EPERM) and _inside(exc.filename, out):
        return UsageError(out, f"cannot write into this folder ({exc.strerror}); choose another --out "
                               f"or change its permissions")
    return None


def _free_bytes(out: Path) -> str:
    try:
        return f"{shutil.disk_usage(out).free:,} bytes"
    except OSError:
        return "no space"


def _inside(filename, out: Path) -> bool:
    if not filename:
        return False
    path, folder = Path(os.path.abspath(filename)), Path(os.path.abspath(out))
    return path == folder or folder in path.parents


@contextmanager
def out_lock(out: Path):
    """One build at a time per OUT: an flock on the folder itself (released even on SIGKILL)."""
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(out, "another infopack build is writing into this folder; wait for it to "
                                  "finish or choose another --out") from None
        yield
    finally:
        os.close(fd)


def remove_stale(out: Path) -> int:
    """Staging folders of killed builds (we hold the lock, so none is in use)."""
    stale = sorted(out.glob(STAGING_PREFIX + "*"))
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return len(stale)


def publish(staging: Path, out: Path) -> None:
    """Move the finished cards into OUT.

    Old signed manifests go first and new ones come last, so an interruption part-way
    leaves card folders without a manifest: visibly incomplete, never mistakenly "verified".
    Reviewers' approval signatures are kept where the new manifest has exactly the bytes
    they signed (an unchanged rebuild); elsewhere they would no longer verify, and go.
    """
    old_dir, new_dir = OutDir(out), OutDir(staging)
    for card_id, approval in old_dir.all_approvals():
        old, new = old_dir.manifest_path(card_id), new_dir.manifest_path(card_id)
        if old.is_file() and new.is_file() and old.read_bytes() == new.read_bytes():
            os.replace(approval, staging / approval.name)
    for old in old_dir.seal_files():
        old.unlink()
    trash = staging / "old"
    trash.mkdir()
    for old in old_dir.card_contents():
        os.replace(old, trash / old.name)
    names = sorted(p.name for p in staging.iterdir() if p.name != "old")
    last = [n for n in names if OutDir.is_seal_name(n)]
    for name in [n for n in names if n not in last] + last:
        os.replace(staging / name, out / name)
