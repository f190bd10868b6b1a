"""The content-addressed encode cache: an item's outputs stored under the hash of what made them.

The keys are made elsewhere (infopack.build.cache_keys); equal keys mean equal output
bytes, so a rebuild reuses them. Besides encodes the cache keeps file hashes and small
JSON memos of other steps (probe results, scan verdicts), as bytes it does not interpret.

Layout of the cache folder (`--cache DIR`, else $INFOPACK_CACHE, else
$XDG_CACHE_HOME/infopack, else ~/.cache/infopack):

    entries/ab/abcdef.../   one entry: the output files and meta.json (written last)
    tmp/                    entries being written; renamed into entries/ when complete
    hashes/ab/abcdef...     sha256 of an input file, keyed by its path, size, mtime and inode
    probe/ab/abcdef...      memo: what an input is (infopack.kinds.probe's JSON form), keyed by its content
    scanned/ab/abcdef...    memo: a card file (sha256 + card path) that scanned clean with this scanner
    warnings/ab/abcdef...   memo: the encoders' warnings of an entry (same key), for report.json

An entry is written under tmp/ and renamed into place only when every file and meta.json
are on disk, so a killed build never leaves a half entry under entries/. Its files are
read-only (0444). A hit is cloned into the work folder (`clone_file`: a copy-on-write clone
where the file system has them, else a copy), never linked or moved: a card file in OUT is
a file of its own, so changing it changes neither the cache nor another OUT. Each copy's
size and sha256 are checked against the entry's meta.json as it is made (one streamed read);
a mismatch deletes the entry and its copies and counts as a miss.

A full or read-only cache only costs speed: the first write that fails calls `warn` once
and the cache stops writing (lookups go on).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from infopack.errors import UsageError
from infopack.release.seal import sha256_file

CACHE_FORMAT = "infopack-cache/1"
META = "meta.json"
MEMOS = ("probe", "scanned", "warnings")     # the JSON memo areas
FICLONE = 0x40049409             # linux/fs.h: _IOW(0x94, 9, int), a copy-on-write clone of a whole file
COPY_CHUNK = 1 << 20
READ_ONLY = 0o444


def default_cache_dir() -> Path:
    env = os.environ.get("INFOPACK_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "infopack"


@dataclass(frozen=True)
class CachedFile:
    role: str
    extension: str
    name: str
    size: int
    sha256: str


@dataclass
class Lookup:
    files: list[CachedFile] | None      # None: a miss
    corrupt: str | None = None           # why a stored entry was thrown away


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int
    oldest_use: float | None
    newest_use: float | None


class Cache:
    """The cache in `root`. `warn(message)` is called once if the cache cannot be written
    (full, read-only); without `warn` (the `cache` commands) a folder that cannot be made is
    a usage error."""

    def __init__(self, root: str | os.PathLike | None = None, warn: Callable[[str], None] | None = None):
        self.root = Path(root) if root else default_cache_dir()
        self._hashes: dict[str, str] = {}        # this process's memo of file_hash
        self._warn = warn
        self.writable = True
        try:
            for sub in ("entries", "tmp", "hashes") + MEMOS:
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if warn is None:
                raise UsageError(self.root, f"cannot use this cache folder ({exc.strerror}); "
                                            f"choose another with --cache DIR or INFOPACK_CACHE") from None
            self._cannot_write(exc)

    def _cannot_write(self, exc: OSError) -> None:
        """The first failed write says so once; after it the cache only reads."""
        if self.writable and self._warn is not None:
            self._warn(f"cannot write to the cache {self.root} ({exc.strerror or exc}); this build goes on "
                       f"without storing encodes (it only costs speed next time): free some space or "
                       f"choose another folder with --cache DIR")
        self.writable = False

    def _entry(self, key: str) -> Path:
        return self.root / "entries" / key[:2] / key

    # -- input hashes and probes: what makes a no-op rebuild fast ----------------------

    def file_hash(self, path: Path) -> str:
        """sha256 of a file, remembered by (path, size, mtime, inode) so unchanged inputs are not re-read."""
        st = path.stat()
        ident = _h(json.dumps([str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]))
        if ident in self._hashes:
            return self._hashes[ident]
        slot = self.root / "hashes" / ident[:2] / ident
        try:
            digest = slot.read_text("ascii").strip()
        except OSError:
            digest = ""
        if len(digest) != 64:
            digest = sha256_file(path)
            self._write_atomic(slot, digest.encode("ascii"))
        self._hashes[ident] = digest
        return digest

    def recall(self, area: str, key: str):
        """The JSON value remembered under `key` in a memo area, or None (never stored, or unreadable)."""
        try:
            return json.loads((self.root / area / key[:2] / key).read_bytes())
        except (OSError, ValueError):
            return None

    def remember(self, area: str, key: str, value) -> None:
        """Keep a JSON value under `key` in a memo area (a full or read-only cache only costs speed)."""
        data = json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
        self._write_atomic(self.root / area / key[:2] / key, data)

    def _write_atomic(self, path: Path, data: bytes) -> None:
        if not self.writable:
            return
        tmp = self.root / "tmp" / f"{path.name}.{uuid.uuid4().hex[:8]}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)           # a part written before the disk filled
            self._cannot_write(exc)

    # -- encode entries ----------------------------------------------------------------

    def lookup(self, key: str, dest: Path, prefix: str = "") -> Lookup:
        """The entry's files, cloned (or copied) into `dest` as `prefix + name` and checked there
        against its meta.json: what the build uses is what was stored. A miss when there is
        none (or it vanished meanwhile: pruned by another process); a damaged entry is dropped
        with the copies made of it, and the Lookup says why."""
        entry = self._entry(key)
        try:
            meta = json.loads((entry / META).read_text("utf-8"))
            files = [CachedFile(**f) for f in meta["files"]]
        except FileNotFoundError:
            if entry.exists():
                self._drop(entry)
                return Lookup(None, "entry without meta.json")
            return Lookup(None)
        except (OSError, ValueError, TypeError, KeyError):
            self._drop(entry)
            return Lookup(None, "unreadable meta.json")
        made: list[Path] = []
        for f in files:
            target = dest / (prefix + f.name)
            try:
                size, digest = clone_file(entry / f.name, target)
                problem = (f"{f.name} is {size} bytes, expected {f.size} (truncated?)" if size != f.size
                           else f"{f.name} does not match its sha256" if digest != f.sha256 else None)
            except FileNotFoundError:
                problem = f"{f.name} missing" if entry.exists() else ""
            made.append(target)
            if problem is not None:
                for path in made:
                    path.unlink(missing_ok=True)
                if problem:
                    self._drop(entry)
                return Lookup(None, problem or None)
        now = time.time()
        try:
            os.utime(entry / META, (now, now))        # "last use", for stats and prune
        except OSError:
            pass
        return Lookup(files)

    def store(self, key: str, outputs: list[tuple[str, str, Path]]) -> None:
        """Store (role, extension, path) outputs under `key`: files first (read-only), meta.json
        last, then rename."""
        final = self._entry(key)
        if not self.writable or final.exists():    # stored meanwhile by another job (a damaged one is dropped by lookup)
            return
        tmp = self.root / "tmp" / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir(parents=True)
            files = []
            for role, ext, path in outputs:
                name = f"{role}{ext}"
                size, digest = clone_file(path, tmp / name)
                os.chmod(tmp / name, READ_ONLY)
                files.append(asdict(CachedFile(role, ext, name, size, digest)))
            (tmp / META).write_text(json.dumps({"format": CACHE_FORMAT, "key": key, "files": files},
                                               sort_keys=True), encoding="utf-8")
            final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._cannot_write(exc)
            shutil.rmtree(tmp, ignore_errors=True)
            return
        try:
            os.rename(tmp, final)
        except OSError:
            pass                                    # another job got there first: fine
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _drop(self, entry: Path) -> None:
        doomed = self.root / "tmp" / f"drop-{entry.name}-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(entry, doomed)
        except OSError:
            return
        shutil.rmtree(doomed, ignore_errors=True)

    # -- maintenance -------------------------------------------------------------------

    def _entries(self) -> list[tuple[Path, float, int]]:
        """(entry folder, last use, bytes) of every complete entry."""
        found = []
        for entry in sorted((self.root / "entries").glob("*/*")):
            try:
                used = (entry / META).stat().st_mtime
            except OSError:
                used = 0.0
            size = sum(p.stat().st_size for p in entry.iterdir() if p.is_file())
            found.append((entry, used, size))
        return found

    def stats(self) -> CacheStats:
        entries = self._entries()
        uses = [used for _, used, _ in entries if used]
        return CacheStats(len(entries), sum(size for _, _, size in entries),
                          min(uses) if uses else None, max(uses) if uses else None)

    def prune(self, *, max_bytes: int | None = None, older_than_days: float | None = None,
              everything: bool = False) -> tuple[int, int]:
        """Remove entries (least recently used first); returns (entries removed, bytes freed)."""
        entries = sorted(self._entries(), key=lambda e: e[1])
        total = sum(size for _, _, size in entries)
        cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
        removed = freed = 0
        for entry, used, size in entries:
            if not (everything or (cutoff is not None and used < cutoff)
                    or (max_bytes is not None and total - freed > max_bytes)):
                continue
            self._drop(entry)
            removed += 1
            freed += size
        if everything:
            for sub in ("hashes",) + MEMOS:
                shutil.rmtree(self.root / sub, ignore_errors=True)
                (self.root / sub).mkdir(exist_ok=True)
        for stale in (self.root / "tmp").iterdir():
            if time.time() - stale.stat().st_mtime > 86400:
                shutil.rmtree(stale, ignore_errors=True)
        return removed, freed


def json_digest(value) -> str:
    """sha256 of a JSON value's canonical text: the cache's keys."""
    return _h(json.dumps(value, sort_keys=True, default=str))


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clone_file(source: Path, target: Path) -> tuple[int, str]:
    """Make `target`, a new file with `source`'s bytes that never shares its inode; returns
    the size and sha256 of what `target` holds, read once.

    A copy-on-write clone where the file system has them (btrfs, XFS: the FICLONE ioctl,
    instant and no extra space; the clone is then read to hash it), else a plain copy
    hashed as it is written. Never a hard link: writing into one file cannot change the other.
    """
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as src, open(target, "xb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            reader, writer = open(target, "rb"), None
        except OSError:            # ext4, tmpfs, two file systems: no clone here, copy
            reader, writer = src, dst
        with reader:
            while chunk := reader.read(COPY_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if writer is not None:
                    writer.write(chunk)
    return size, digest.hexdigest()
