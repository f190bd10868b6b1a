"""Putting a finished build in place: OUT checked, one build per OUT at a time; only the build's
own files are replaced, each atomically, and nothing else in OUT is ever lost.

A build writes everything into a staging folder inside OUT (`.partial-*`) and moves it
into place only when it all succeeded. The flock on OUT keeps two builds apart; a
staging folder left by a killed build is removed by the next one, so nothing but the
build's own files ever goes into it.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from infopack.build.pause import pause_point
from infopack.errors import InfopackError, UsageError
from infopack.release.outdir import OutDir

STAGING_PREFIX = ".partial-"
REPLACED = ".replaced"            # inside the staging folder: what publishing took out of OUT
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2

try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
except (OSError, AttributeError):       # pragma: no cover - a libc without renameat2
    _renameat2 = None


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
    """Move the finished cards into OUT, replacing only what a build makes.

    OUT also holds what others made: reviewers' approvals, `reviews/`, anything a person put
    there. None of it is ever moved into the staging folder (which a killed build leaves for
    the next one to delete) or deleted. In order:

    1. An approval of a manifest that this build replaces with other bytes would no longer
       verify beside it: it is set aside in OUT (`OutDir.superseded_dir`) with a copy of the
       manifest and build signature it goes with, where it still verifies. An unchanged
       rebuild keeps every approval where it is.
    2. The old manifest, build signature and SHA256SUMS of a changed card go, so a card
       published only in part has no manifest: visibly incomplete, never mistakenly verified.
    3. Card folders, images and reports are swapped in, each at once (a folder with
       renameat2's RENAME_EXCHANGE where the file system has it); the old ones go into the
       staging folder. Cards the new build no longer has go there too.
    4. The new seal files come last, each replaced atomically.

    A kill at any moment leaves every approval in OUT, at its place or set aside; the next
    build finishes the job.
    """
    old_dir, new_dir = OutDir(out), OutDir(staging)
    cards = set(old_dir.cards()) | set(new_dir.cards()) | {card for card, _ in old_dir.all_approvals()}
    changed = sorted(card for card in cards
                     if _read(old_dir.manifest_path(card)) != _read(new_dir.manifest_path(card)))
    for card, approval in old_dir.all_approvals():
        if card in changed:
            set_aside(old_dir, card, approval)
    pause_point("publish-set-aside")
    for card in changed:
        for path in old_dir.build_files(card):
            path.unlink(missing_ok=True)
    pause_point("publish-unsealed")
    replaced = staging / REPLACED
    replaced.mkdir()
    names = sorted(p.name for p in staging.iterdir() if p != replaced)
    seals = [name for name in names if OutDir.is_seal_name(name)]
    for name in [name for name in names if name not in seals]:
        _swap_in(staging / name, out / name, replaced)
        pause_point("publish-card")
    for old in old_dir.card_contents():
        if old.name not in names:
            os.replace(old, replaced / old.name)        # a card this build no longer has
    pause_point("publish-cards")
    for name in seals:
        os.replace(staging / name, out / name)
        pause_point("publish-seal")


def set_aside(out_dir: OutDir, card: str, approval: Path) -> Path:
    """Move an approval beside a copy of the manifest (and build signature) it goes with, in
    OUT; returns its new path. Nothing is overwritten: another approval by the same key of the
    same manifest goes into a folder of its own."""
    manifest = _read(out_dir.manifest_path(card))
    base = out_dir.superseded_dir(card, hashlib.sha256(manifest).hexdigest() if manifest is not None else None)
    folder, n = base, 1
    while (folder / approval.name).exists() and _read(folder / approval.name) != _read(approval):
        n += 1
        folder = base.with_name(f"{base.name}.{n}")
    kept = OutDir(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if manifest is not None:
        _write_new(kept.manifest_path(card), manifest)
        signature = _read(out_dir.build_signature_path(card))
        if signature is not None:
            _write_new(kept.build_signature_path(card), signature)
    os.replace(approval, folder / approval.name)
    return folder / approval.name


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _write_new(path: Path, data: bytes) -> None:
    """`path` holds `data` (written beside it and renamed: whole or not at all)."""
    if _read(path) == data:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _swap_in(new: Path, dest: Path, replaced: Path) -> None:
    """Put `new` at `dest` at once; whatever was at `dest` ends up in the staging folder."""
    if dest.is_dir() and not dest.is_symlink():
        if new.is_dir() and _exchange(new, dest):
            return                                      # the old folder is now where `new` was
        os.replace(dest, replaced / dest.name)
    os.replace(new, dest)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where it cannot."""
    if _renameat2 is None:
        return False
    return _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0
