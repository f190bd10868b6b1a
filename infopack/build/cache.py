"""The content-addressed encode cache: an item's outputs stored under the hash of what made them.

Key = sha256 over the input bytes' hash, the handler's recipe (absolute paths replaced by
placeholders or content hashes, so the work folder never leaks in), the subtitle inputs'
bytes, the font burned in, the profile's recipe, the bitrate from size fitting, the ffmpeg
version and CACHE_FORMAT. Equal keys mean equal output bytes, so a rebuild reuses them.

Layout of the cache folder (`--cache DIR`, else $INFOPACK_CACHE, else
$XDG_CACHE_HOME/infopack, else ~/.cache/infopack):

    entries/ab/abcdef.../   one entry: the output files and meta.json (written last)
    tmp/                    entries being written; renamed into entries/ when complete
    hashes/ab/abcdef...     sha256 of an input file, keyed by its path, size, mtime and inode
    scanned/ab/abcdef...    a card file (sha256 + card path) that scanned clean with this scanner
    probe/ab/abcdef....json MediaInfo of an input, keyed by its content hash

An entry is written under tmp/ and renamed into place only when every file and meta.json
are on disk, so a killed build never leaves a half entry under entries/. On lookup each
file's size and sha256 are checked (streamed); a mismatch deletes the entry and counts as
a miss. A hit is hard-linked (or copied) into the work folder, never moved out of the
cache: assembly renames and re-times the work file while the cache keeps its own name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from infopack.errors import UsageError
from infopack.release.seal import sha256_file

CACHE_FORMAT = "infopack-cache/1"
META = "meta.json"


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
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else default_cache_dir()
        self._hashes: dict[str, str] = {}        # this process's memo of file_hash
        try:
            for sub in ("entries", "tmp", "hashes", "probe", "scanned"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(self.root, f"cannot use this cache folder ({exc.strerror}); "
                                        f"choose another with --cache DIR or INFOPACK_CACHE") from None

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
            _write_atomic(slot, digest.encode("ascii"), self.root / "tmp")
        self._hashes[ident] = digest
        return digest

    def probe(self, path: Path, probe_fn, version: str):
        """probe_fn(path) -> MediaInfo, remembered by the input's content hash and the ffprobe version."""
        from infopack.kinds.probe import MediaInfo, VideoStream
        key = _h(json.dumps([CACHE_FORMAT, "probe", self.file_hash(path), version, path.suffix.lower()]))
        slot = self.root / "probe" / key[:2] / f"{key}.json"
        try:
            data = json.loads(slot.read_text("utf-8"))
            video = data.pop("video")
            if video:
                video["sample_aspect"] = Fraction(video["sample_aspect"])
                video = VideoStream(**video)
            return MediaInfo(path=path, video=video, **data)
        except (OSError, ValueError, TypeError, KeyError):
            pass
        info = probe_fn(path)
        data = asdict(info)
        data.pop("path")
        if data["video"]:
            data["video"]["sample_aspect"] = str(info.video.sample_aspect)
        _write_atomic(slot, json.dumps(data, sort_keys=True).encode("utf-8"), self.root / "tmp")
        return info

    def scan_findings(self, token: str) -> list[dict] | None:
        """The findings (warnings only: it passed) of a card file that already scanned clean, or None.

        token: its sha256, card path and scanner identity.
        """
        try:
            data = (self.root / "scanned" / token[:2] / token).read_bytes()
            findings = json.loads(data)
        except (OSError, ValueError):
            return None
        return findings if isinstance(findings, list) else None

    def store_scan_findings(self, token: str, findings: list[dict]) -> None:
        data = json.dumps(findings, ensure_ascii=False, sort_keys=True).encode("utf-8")
        _write_atomic(self.root / "scanned" / token[:2] / token, data, self.root / "tmp")

    # -- encode entries ----------------------------------------------------------------

    def lookup(self, key: str) -> Lookup:
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
        for f in files:
            path = entry / f.name
            try:
                size = path.stat().st_size
            except OSError:
                self._drop(entry)
                return Lookup(None, f"{f.name} missing")
            if size != f.size:
                self._drop(entry)
                return Lookup(None, f"{f.name} is {size} bytes, expected {f.size} (truncated?)")
            if sha256_file(path) != f.sha256:
                self._drop(entry)
                return Lookup(None, f"{f.name} does not match its sha256")
        now = time.time()
        try:
            os.utime(entry / META, (now, now))        # "last use", for stats and prune
        except OSError:
            pass
        return Lookup(files)

    def fetch(self, key: str, files: list[CachedFile], dest: Path, prefix: str = "") -> bool:
        """Hard-link (or copy, across file systems) a verified entry's files into `dest`;
        False if the entry vanished meanwhile (pruned by another process): a miss.

        Linking is safe here: the build only renames and re-times the linked file (the
        entry's meta.json, not its files, records use), and should anything later write
        into a card file in place, the next lookup's sha256 check notices and rebuilds.
        """
        for f in files:
            source, target = self._entry(key) / f.name, dest / (prefix + f.name)
            try:
                os.link(source, target)
            except FileNotFoundError:
                return False
            except OSError:
                try:
                    shutil.copyfile(source, target)
                except FileNotFoundError:
                    return False
        return True

    def store(self, key: str, outputs: list[tuple[str, str, Path]]) -> None:
        """Store (role, extension, path) outputs under `key`: files first, meta.json last, then rename."""
        final = self._entry(key)
        if final.exists():          # stored meanwhile by another job (a damaged one is dropped by lookup)
            return
        tmp = self.root / "tmp" / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            files = []
            for role, ext, path in outputs:
                name = f"{role}{ext}"
                shutil.copyfile(path, tmp / name)
                files.append(asdict(CachedFile(role, ext, name, (tmp / name).stat().st_size, sha256_file(tmp / name))))
            (tmp / META).write_text(json.dumps({"format": CACHE_FORMAT, "key": key, "files": files},
                                               sort_keys=True), encoding="utf-8")
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(tmp, final)                   # fails if another job got there first: fine
        except OSError:
            pass                                    # a full or read-only cache only costs speed
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
            for sub in ("hashes", "probe", "scanned"):
                shutil.rmtree(self.root / sub, ignore_errors=True)
                (self.root / sub).mkdir(exist_ok=True)
        for stale in (self.root / "tmp").iterdir():
            if time.time() - stale.stat().st_mtime > 86400:
                shutil.rmtree(stale, ignore_errors=True)
        return removed, freed


def scanner_identity(ffmpeg_version: str) -> str:
    """What a scan verdict depends on besides the file: infopack's code and data, and ffmpeg."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(ffmpeg_version.encode())
    for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".toml", ".json", ".txt")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_atomic(path: Path, data: bytes, tmp_dir: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{path.name}.{uuid.uuid4().hex[:8]}"
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass


def encode_key(job, handler, ffmpeg_version: str, file_hash, profile_recipe: dict | None = None) -> str:
    """The cache key of one item's encode; `file_hash(path)` hashes an input's bytes.

    `profile_recipe`: job.profile.recipe(), passed in when many keys are computed at once.
    """
    from infopack.kinds.video import filter_path
    replacements = {}
    subs = job.subtitles
    for name, path in (("mux_srt", subs and subs.mux_srt), ("burn_ass", subs and subs.burn_ass)):
        if path:
            replacements[str(path)] = f"<{name}>"
    if subs and subs.fonts_dir:
        replacements[str(subs.fonts_dir)] = "<fonts>"
    replacements[str(job.work_dir)] = "<work>"
    replacements[str(job.info.path)] = "<source>"
    for text, token in list(replacements.items()):
        replacements[filter_path(Path(text))] = token
    recipe = []
    for i, arg in enumerate(handler.recipe(job)):
        if i == 0 and Path(arg).name.startswith("ffmpeg"):
            arg = "ffmpeg"
        for text in sorted(replacements, key=len, reverse=True):
            arg = arg.replace(text, replacements[text])
        recipe.append(arg)
    parts = {
        "format": CACHE_FORMAT,
        "kind": job.info.kind,
        "input": file_hash(job.info.path),
        "recipe": recipe,
        "profile": profile_recipe if profile_recipe is not None else job.profile.recipe(),
        "video_bitrate": job.video_bitrate,
        "ffmpeg": ffmpeg_version,
        "subtitles": None,
    }
    if job.info.kind == "image":
        import PIL
        parts["pillow"] = PIL.__version__
    if subs:
        parts["subtitles"] = {
            "mux_srt": sha256_file(subs.mux_srt) if subs.mux_srt else None,      # work files: not memoised
            "burn_ass": sha256_file(subs.burn_ass) if subs.burn_ass else None,
            "sidecar": hashlib.sha256(subs.sidecar).hexdigest() if subs.sidecar is not None else None,
            "fonts": sorted((p.name, file_hash(p.resolve())) for p in subs.fonts_dir.iterdir())
            if subs.fonts_dir else None,
        }
    return _h(json.dumps(parts, sort_keys=True, default=str))
