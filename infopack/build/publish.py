"""Putting a finished build in place: one build per OUT at a time, then an ordered move.

A build writes everything into a staging folder inside OUT (`.partial-*`) and moves it
into place only when it all succeeded. The flock on OUT keeps two builds apart; a
staging folder left by a killed build is removed by the next one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from infopack.errors import UsageError
from infopack.release.outdir import OutDir

STAGING_PREFIX = ".partial-"


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
