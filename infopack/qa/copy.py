"""Putting a built card onto a mounted card (or any folder), then proving it arrived intact.

`copy_card` does, in order, and writes nothing before the last three steps:

1. checks the manifest's signatures (only what the curator signed is copied);
2. looks at the target: files of the manifest already there (same size and SHA-256: kept),
   temporary files of an interrupted copy (ours: removed), and anything else, which refuses
   the copy unless `clean` is given, and then is removed only once `confirm` agrees;
3. checks the free space (statvfs) against what the files still to write take in whole
   clusters of the target's file system (infopack.fat.cost), counting what cleaning frees;
4. copies each file to a temporary name in its folder, checking its SHA-256 against the
   manifest on the way, flushes it (fsync) and renames it into place, then flushes the
   folder; the written pages are dropped from the page cache, so what follows reads the card;
5. verifies the target against the signed manifest (infopack.qa.verify.verify_card).

An interrupted copy leaves whole files and temporary names only: running it again keeps
the whole files, removes the temporary ones and copies the rest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infopack.cardtime import CARD_EPOCH
from infopack.checks import ERROR
from infopack.errors import CheckFailed, UsageError
from infopack.fat.catalog import CardType
from infopack.fat.cost import card_cost, cluster_rounded_size
from infopack.qa.verify import CardReport, VerifyOptions, as_policy, verify_card, walk_card
from infopack.release.card_manifest import CardManifest, CardManifestError, FileEntry
from infopack.release.seal import CHUNK, sha256_file
from infopack.release.trust import check_signatures

PARTIAL = re.compile(r"^\.infopack-\d+\.partial$")     # a file being copied (or left by an interrupted copy)
FILESYSTEMS = {"vfat": "fat32", "msdos": "fat16", "exfat": "exfat"}   # mount types -> infopack.fat.cost's models

Progress = Callable[[dict], None]


@dataclass
class CopyResult:
    copied: list[str] = field(default_factory=list)       # card paths written
    kept: list[str] = field(default_factory=list)         # already there, same size and SHA-256
    removed: list[str] = field(default_factory=list)      # other files removed with `clean`
    bytes_written: int = 0
    report: CardReport | None = None                      # the verify of the target afterwards

    def to_dict(self) -> dict:
        return {"copied": self.copied, "kept": self.kept, "removed": self.removed,
                "bytes_written": self.bytes_written, "verify": self.report.to_dict() if self.report else None}


@dataclass
class TargetState:
    """What is on the target before copying."""
    kept: list[FileEntry] = field(default_factory=list)
    stale: dict[str, int] = field(default_factory=dict)   # manifest paths there with other bytes: size
    partial: dict[str, int] = field(default_factory=dict)  # our temporary files: size
    other: dict[str, int] = field(default_factory=dict)    # files not in the manifest: size
    other_dirs: list[str] = field(default_factory=list)


def copy_card(card_dir: Path, manifest_path: Path, target: Path, trust, *, clean: bool = False,
              confirm: Callable[[list[str]], bool] | None = None, progress: Progress | None = None,
              options: VerifyOptions = VerifyOptions()) -> CopyResult:
    """Copy the card folder `card_dir` onto `target` and verify it there (see the module docstring)."""
    report = progress or (lambda event: None)
    manifest = _signed_manifest(manifest_path, trust)
    target = Path(target)
    if not target.is_dir():
        raise UsageError(target, "no such folder; mount the card and give its folder (e.g. /media/card)")
    if target.resolve() == Path(card_dir).resolve() or Path(card_dir).resolve() in target.resolve().parents:
        raise UsageError(target, "the target is the card folder itself (or inside it); give the mounted card")
    state = look(target, manifest.files)
    others = sorted(state.other) + [f"{folder}/" for folder in sorted(state.other_dirs)]
    if others and not clean:
        listed = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise UsageError(target, f"holds {len(others)} file(s) or folder(s) that are not on {manifest.card.id} "
                                 f"({listed}); use an empty card, or --clean to remove them")
    to_write = [e for e in manifest.files if e not in state.kept]
    check_space(target, to_write, freed=[*state.other.values(), *state.stale.values(), *state.partial.values()])
    if others and not (confirm or (lambda paths: False))(others):
        raise UsageError(target, "nothing was removed or copied (not confirmed)")
    result = CopyResult(kept=[e.path for e in state.kept], removed=others)
    for rel in sorted([*state.partial, *state.stale, *state.other]):
        (target / rel).unlink()
    for rel in sorted(state.other_dirs, key=lambda p: p.count("/"), reverse=True):
        shutil.rmtree(target / rel, ignore_errors=True)
    report({"event": "copying", "files": len(to_write), "bytes": sum(e.size for e in to_write)})
    for number, entry in enumerate(to_write):
        _copy_file(Path(card_dir) / entry.path, target / entry.path, entry, number, report)
        result.copied.append(entry.path)
        result.bytes_written += entry.size
    _fix_folder_times(target, manifest.files)
    result.report = verify_card(target, manifest_path, trust, options)
    return result


def _signed_manifest(manifest_path: Path, trust) -> CardManifest:
    """The manifest, once its signatures satisfy `trust`; nothing is copied from an unsigned card."""
    try:
        data = Path(manifest_path).read_bytes()
    except OSError as exc:
        raise UsageError(manifest_path, f"cannot read the card's manifest ({exc.strerror}); give the card "
                                        f"folder of a build (OUT/card-NN) or --manifest") from None
    try:
        manifest = CardManifest.from_bytes(data)
    except CardManifestError as exc:
        raise CheckFailed(manifest_path, f"not a card manifest ({exc})") from None
    errors = [f for f in check_signatures(Path(manifest_path), data, as_policy(trust), manifest).findings
              if f.level == ERROR]
    if errors:
        raise CheckFailed(manifest_path, f"{errors[0].check}: {errors[0].path}: {errors[0].message}; nothing "
                                         f"was copied")
    return manifest


def look(target: Path, files: tuple[FileEntry, ...]) -> TargetState:
    """Sort what is on the target (reading, for a file of the manifest's size, its SHA-256)."""
    expected = {e.path: e for e in files}
    folders = {parent for e in files for parent in _parents(e.path)}
    state = TargetState()
    for rel, is_dir in walk_card(target):
        key = unicodedata.normalize("NFC", rel)
        if is_dir:
            if key not in folders:
                state.other_dirs.append(rel)
            continue
        path = target / rel
        size = path.lstat().st_size
        entry = expected.get(key)
        if PARTIAL.match(path.name):
            state.partial[rel] = size
        elif entry is None or path.is_symlink() or key != rel:
            state.other[rel] = size
        elif size == entry.size and sha256_file(path) == entry.sha256:
            state.kept.append(entry)
        else:
            state.stale[rel] = size
    return state


def check_space(target: Path, to_write: list[FileEntry], freed: list[int]) -> None:
    """Refuse, before writing, a target without room for `to_write` in its own clusters."""
    stat = os.statvfs(target)
    cluster = stat.f_frsize or stat.f_bsize
    free = stat.f_bavail * cluster + sum(cluster_rounded_size(size, cluster) for size in freed)
    card = CardType("target", free, cluster, filesystem_of(target), stat.f_blocks * cluster)
    needed = card_cost({e.path: e.size for e in to_write}, card)
    if needed > free:
        raise UsageError(target, f"not enough room: the card's files need {needed:,} bytes in "
                                 f"{cluster:,}-byte clusters, the target has {free:,} free; nothing was written "
                                 f"(use a larger or an emptier card)")


def filesystem_of(target: Path) -> str:
    """The cost model of the file system `target` is on: FAT32 unless /proc/self/mounts says FAT16 or exFAT."""
    where = os.path.realpath(target)
    best, fstype = "", ""
    try:
        lines = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 3:
            mount = parts[1].replace("\\040", " ")
            if (where == mount or where.startswith(mount.rstrip("/") + "/")) and len(mount) > len(best):
                best, fstype = mount, parts[2]
    return FILESYSTEMS.get(fstype, "fat32")


def _copy_file(source: Path, dest: Path, entry: FileEntry, number: int, report: Progress) -> None:
    """Write to a temporary name beside `dest`, check the bytes, flush, rename, flush the folder."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    temporary = dest.parent / f".infopack-{number}.partial"
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as src, open(temporary, "wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                report({"event": "copied", "path": entry.path, "bytes": len(chunk)})
            out.flush()
            os.fsync(out.fileno())
            os.posix_fadvise(out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)   # verify reads the card, not memory
        if digest.hexdigest() != entry.sha256:
            raise CheckFailed(source, f"differs from the signed manifest ({entry.path}); the build folder was "
                                      f"changed since it was signed: build again")
        os.utime(temporary, (CARD_EPOCH, CARD_EPOCH))
        os.replace(temporary, dest)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(dest, f"cannot write onto the card ({exc.strerror}); run the copy again to "
                               f"resume") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(dest.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fix_folder_times(target: Path, files: tuple[FileEntry, ...]) -> None:
    """The card's folders get the one card time, as on a built card."""
    for folder in sorted({p for e in files for p in _parents(e.path)}, key=lambda p: p.count("/"), reverse=True):
        os.utime(target / folder, (CARD_EPOCH, CARD_EPOCH))
        _fsync_folder((target / folder).parent)


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
