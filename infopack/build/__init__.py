"""The build: manifest -> jobs (probe, subtitles, encode, image) -> cards -> seal.

Everything is written inside a staging folder in OUT and renamed into place only when
the whole build succeeded, so a failed or interrupted build leaves nothing that looks
like a finished card. Encodes go through the content-addressed cache (infopack.build.cache):
a rerun after a kill, or with nothing changed, reuses every finished encode and gives
the same bytes. One build at a time holds OUT (an flock); it removes the staging
folders killed builds left behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import unicodedata
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infopack.build.cache import Cache, encode_key, scanner_identity
from infopack.fat.catalog import CardType, load_card
from infopack.fat.names import check_card_paths
from infopack.checks import ERROR
from infopack.errors import CheckFailed, UsageError
from infopack.kinds.base import EncodeJob, Produced
from infopack.kinds import handler_for
from infopack.kinds.subtitle import prepare_subtitles
from infopack.kinds.video import target_size
from infopack.plan.layout import card_paths
from infopack.manifest import Bundle, Item, load_manifest
from infopack.plan.packing import CardPlan, PackItem, pack
from infopack.kinds.probe import MediaInfo, probe
from infopack.profiles import Profile, load_profile
from infopack.release.seal import (
    FileEntry,
    card_manifest,
    entries_for,
    fix_mtimes,
    item_files,
    sha256sums,
    sign_manifest,
)
from infopack.plan.fit import fit_budgets
from infopack.progress import reporting
from infopack.review.report import write_report_html
from infopack.tools import allow_children, ffmpeg_info, logging_commands, stop_children

Progress = Callable[[dict], None]


@dataclass
class ItemResult:
    item: Item
    info: MediaInfo
    produced: list[Produced]
    subtitles: dict | None = None
    paths: dict[str, str] = field(default_factory=dict)     # role -> card path


@dataclass
class CardResult:
    card_id: str
    items: list[str]
    used_bytes: int
    usable_bytes: int
    files: int
    scans: dict[str, list[dict]] = field(default_factory=dict)   # card path -> the self-scan's findings


@dataclass
class BuildResult:
    out: Path
    cards: list[CardResult]
    items: list[ItemResult]
    left_out: list[str]
    left_out_reasons: dict[str, str] = field(default_factory=dict)


def _quiet(event: dict) -> None:
    pass


@dataclass
class _Context:
    """What every job of one build shares."""
    bundle: Bundle
    profile: Profile
    work: Path
    progress: Progress
    cache: Cache | None
    ffmpeg_version: str
    profile_recipe: dict = field(default_factory=dict)
    counts: dict = field(default_factory=lambda: {"encoded": 0, "cached": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1


def build(manifest_path: str | os.PathLike | Bundle, out: str | os.PathLike, key, *, jobs: int | None = None,
          image: bool = False, progress: Progress = _quiet, fit: bool | None = None,
          exclude: dict[str, str] | None = None, image_size: str = "card",
          cache: str | os.PathLike | None = None, use_cache: bool = True,
          approved: dict[str, dict[str, str]] | None = None) -> BuildResult:
    """Build every card of a bundle into OUT, signed with `key` (an infopack.release.keys.SigningKey).

    Jobs run on a pool of `jobs` threads (default: one per core): probe every item, then
    prepare subtitles and encode (largest first, each encode reused from the cache when
    its key is known), then assemble, image and seal each card. `exclude` (item id ->
    reason) leaves items out of the build; they are listed in report.json. `approved`
    (item id -> {card path: sha256}, from infopack.release.gate) makes the build fail if an
    approved item's files are not the bytes the reviewers approved. `manifest_path` may be
    an already loaded Bundle.
    """
    started = time.monotonic()
    bundle = manifest_path if isinstance(manifest_path, Bundle) else load_manifest(manifest_path)
    profile = load_profile(bundle.profile)
    card = load_card(bundle.card)
    ffinfo = ffmpeg_info()
    exclude = dict(exclude or {})
    unknown = sorted(set(exclude) - {item.id for item in bundle.items})
    if unknown:
        raise UsageError(bundle.manifest_path, f"cannot leave out item {unknown[0]!r}: no such item in the manifest")
    if image_size not in ("card", "content"):
        raise UsageError(None, f"image size {image_size!r}: expected \"card\" or \"content\"")
    store = Cache(cache) if use_cache else None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = max(1, jobs or os.cpu_count() or 1)
    with out_lock(out):
        removed = remove_stale(out)
        if removed:
            progress({"event": "stale", "removed": removed})
        staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=out))
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            work = staging / "work"
            work.mkdir()
            ctx = _Context(bundle, profile, work, progress, store, ffinfo.version, profile.recipe())
            items = [item for item in bundle.items if item.id not in exclude]
            infos = dict(zip([i.id for i in items], run_all(pool, probe_item, [(ctx, i) for i in items])))
            progress({"event": "probed", "items": len(items), "jobs": jobs,
                      "total_s": round(sum(infos[i.id].duration for i in items), 3)})
            budgets = fit_budgets(bundle, profile, card, infos) if (bundle.fit if fit is None else fit) else {}
            order = sorted(items, key=lambda it: (-infos[it.id].duration, -it.source.stat().st_size, it.order))
            results = run_all(pool, encode_item, [(ctx, it, infos[it.id], budgets.get(it.id)) for it in order])
            results.sort(key=lambda r: r.item.order)
            assign_paths(results, profile)
            plan = pack([PackItem(id=r.item.id, files={r.paths[prod.role]: prod.path.stat().st_size
                                                       for prod in r.produced},
                                  group=r.item.group, order=r.item.order, priority=r.item.priority)
                         for r in results], card, max_cards=bundle.max_cards)
            if plan.problems:
                raise CheckFailed(bundle.manifest_path, "; ".join(plan.problems))
            by_id = {r.item.id: r for r in results}
            scan_memo = ScanMemo(store, scanner_identity(ffinfo.version)) if store else None

            def card_job(plan_card: CardPlan) -> CardResult:
                progress({"event": "assemble", "card": plan_card.card_id})
                done = assemble_card(staging, bundle, profile, card, plan_card, len(plan.cards),
                                     [by_id[i] for i in plan_card.items], key, scan_memo)
                if image:
                    progress({"event": "image", "card": plan_card.card_id})
                    write_image(staging, plan_card.card_id, card, image_size)
                return done

            cards = run_all(pool, card_job, [(c,) for c in plan.cards])
            if approved is not None:
                check_approved(staging, approved)
            left = [i.id for i in bundle.items if i.id in exclude] + list(plan.left_out)
            reasons = {i: exclude.get(i, "did not fit within max_cards") for i in left}
            write_report(staging / "report.json", bundle, profile, results, cards, left,
                         reasons if exclude else None)     # without exclusions: the report as before
            shutil.rmtree(work)
            progress({"event": "report"})
            write_report_html(staging, thumb_dir=store.root / "thumbs" if store else None,
                              scans={(c.card_id, path): found for c in cards for path, found in c.scans.items()})
            publish(staging, out)
            progress({"event": "done", "cards": len(cards), "encoded": ctx.counts["encoded"],
                      "cached": ctx.counts["cached"], "seconds": round(time.monotonic() - started, 3)})
            return BuildResult(out, cards, results, left, reasons)
        except BaseException:
            stop_children()          # Ctrl-C or a failed job: no encode keeps running for nothing
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            allow_children()
            shutil.rmtree(staging, ignore_errors=True)


def run_all(pool: ThreadPoolExecutor, fn, arg_lists: list[tuple]) -> list:
    """Run fn(*args) for each on the pool; results in order; the first failure is raised."""
    futures = [pool.submit(fn, *args) for args in arg_lists]
    done, pending = wait(futures, return_when=FIRST_EXCEPTION)
    for fut in futures:
        if fut in done and fut.exception() is not None:
            for other in pending:
                other.cancel()
            raise fut.exception()
    return [fut.result() for fut in futures]


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
    stale = sorted(out.glob(".partial-*"))
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return len(stale)


def write_image(staging: Path, card_id: str, card: CardType, image_size: str) -> None:
    """The card's FAT image: as large as the card class, or (`content`) just large enough."""
    from infopack.fat.image import build_image, content_image_size
    size = content_image_size(staging / card_id, card) if image_size == "content" else None
    build_image(staging / card_id, staging / f"{card_id}.img", card, size=size)


def probe_item(ctx: _Context, item: Item) -> MediaInfo:
    info = ctx.cache.probe(item.source, probe, ctx.ffmpeg_version) if ctx.cache else probe(item.source)
    if item.kind and item.kind != info.kind:
        raise UsageError(item.source, f"item {item.id}: manifest says kind {item.kind!r} but the file is {info.kind}")
    if not ctx.profile.supports(info.kind):
        raise UsageError(item.source, f"item {item.id}: profile {ctx.profile.id} cannot carry {info.kind} items")
    return info


def encode_item(ctx: _Context, item: Item, info: MediaInfo, video_bitrate: int | None) -> ItemResult:
    """Subtitles, then the encode: from the cache when its key is there, else ffmpeg + validation + store."""
    item_dir = ctx.work / item.id          # created only when needed: thousands of folders cost seconds
    subs = None
    if item.subtitles and info.kind == "video":
        item_dir.mkdir()
        play_res = target_size(info.video, ctx.profile.video.max_width, ctx.profile.video.max_height)
        subs = prepare_subtitles(item, ctx.profile, item_dir, duration=info.duration,
                                 language_class=ctx.bundle.subtitle_class, play_res=play_res)
    handler = handler_for(info.kind)
    job = EncodeJob(item=item, info=info, profile=ctx.profile, work_dir=item_dir, subtitles=subs,
                    video_bitrate=video_bitrate)
    report = subs.report if subs else None
    key = None
    if ctx.cache is not None:
        key = encode_key(job, handler, ctx.ffmpeg_version, ctx.cache.file_hash, ctx.profile_recipe)
        found = ctx.cache.lookup(key)
        if found.corrupt:
            ctx.progress({"event": "cache-corrupt", "item": item.id, "detail": found.corrupt})
        prefix = f"{item.id}.cached."
        if found.files and ctx.cache.fetch(key, found.files, ctx.work, prefix):
            ctx.count("cached")
            ctx.progress({"event": "cached", "item": item.id, "duration": info.duration})
            return ItemResult(item, info, [Produced(f.role, ctx.work / (prefix + f.name), f.extension)
                                           for f in found.files], report)
    item_dir.mkdir(exist_ok=True)
    started = time.monotonic()
    ctx.progress({"event": "encode", "item": item.id, "kind": info.kind, "duration": info.duration})
    with reporting(ctx.progress), logging_commands():
        produced = handler.transcode(job)
        for prod in produced:
            handler.validate(job, prod)
    if key is not None:
        ctx.cache.store(key, [(p.role, p.extension, p.path) for p in produced])
    ctx.count("encoded")
    ctx.progress({"event": "encoded", "item": item.id, "duration": info.duration,
                  "bytes": sum(p.path.stat().st_size for p in produced),
                  "seconds": round(time.monotonic() - started, 3)})
    return ItemResult(item, info, produced, report)


def assign_paths(results: list[ItemResult], profile: Profile) -> None:
    paths = card_paths([(r.item, r.info.kind, {p.role: p.extension for p in r.produced}) for r in results],
                       ascii_only=profile.ascii_names)
    for r in results:
        r.paths = paths[r.item.id]


def assemble_card(staging: Path, bundle: Bundle, profile: Profile, card: CardType, plan_card: CardPlan,
                  card_count: int, results: list[ItemResult], key, scan_memo: ScanMemo | None = None) -> CardResult:
    card_id = plan_card.card_id
    card_dir = staging / card_id
    card_dir.mkdir()
    sizes = {}
    for r in results:
        for prod in r.produced:
            rel = r.paths[prod.role]
            target = card_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(prod.path, target)
            sizes[rel] = target.stat().st_size
    problems = [f for f in check_card_paths(sizes, card) if f.level == ERROR]
    if problems:
        raise CheckFailed(bundle.manifest_path, f"{card_id}: {problems[0].path}: {problems[0].message}")
    fix_mtimes(card_dir)
    entries = entries_for(card_dir)
    scans = scan_card(card_dir, card_id, entries, scan_memo)
    items = [{"id": r.item.id, "title": r.item.title, "kind": r.info.kind,
              "files": sorted(r.paths.values())} for r in results]
    manifest = card_manifest(bundle_id=bundle.id, bundle_title=bundle.title, bundle_version=bundle.version,
                             card_id=card_id, card_count=card_count, card_class=card.name,
                             usable_bytes=card.usable_bytes, profile=profile.id, files=entries, items=items)
    (staging / f"{card_id}.manifest.json").write_bytes(manifest)
    (staging / f"{card_id}.manifest.json.minisig").write_text(
        sign_manifest(manifest, key, bundle_id=bundle.id, bundle_version=bundle.version, card_id=card_id),
        encoding="utf-8")
    (staging / f"{card_id}.SHA256SUMS").write_bytes(sha256sums(entries))
    return CardResult(card_id, [r.item.id for r in results], plan_card.used_bytes, card.usable_bytes, len(entries),
                      scans)


@dataclass(frozen=True)
class ScanMemo:
    """Scan verdicts kept in the cache: identical bytes at the same card path scan the same."""
    cache: Cache
    scanner: str

    def token(self, entry: FileEntry) -> str:
        return hashlib.sha256(f"{self.scanner}\0{entry.sha256}\0{entry.path}".encode()).hexdigest()


def scan_card(card_dir: Path, card_id: str, entries: list[FileEntry] | None = None,
              memo: ScanMemo | None = None) -> dict[str, list[dict]]:
    """The build checks its own output with the same scanner QA uses (skipping files the same
    scanner already passed, when `memo` and their `entries` are given).

    Returns each file's findings (warnings: an error fails the build) for report.html.
    """
    from infopack.scan import scan_file
    known = {e.path: e for e in entries or []}
    findings = {}
    for path in sorted(p for p in card_dir.rglob("*") if p.is_file()):
        rel = unicodedata.normalize("NFC", path.relative_to(card_dir).as_posix())
        entry = known.get(rel)
        remembered = memo.cache.scan_findings(memo.token(entry)) if memo and entry else None
        if remembered is not None:
            findings[rel] = remembered
            continue
        found = scan_file(str(path), display_path=rel)
        errors = [f for f in found if f.level == ERROR]
        if errors:
            raise CheckFailed(path, f"{card_id}/{rel}: identifying metadata remains after stripping: "
                                    f"{errors[0].check}: {errors[0].message}")
        findings[rel] = [f.to_dict() for f in found]
        if memo and entry:
            memo.cache.store_scan_findings(memo.token(entry), findings[rel])
    return findings


def write_report(path: Path, bundle: Bundle, profile: Profile, results: list[ItemResult],
                 cards: list[CardResult], left_out: list[str], reasons: dict[str, str] | None = None) -> None:
    """Off-card build report for the curator and reviewers."""
    report = {
        "bundle": {"id": bundle.id, "title": bundle.title, "version": bundle.version},
        "profile": profile.id,
        "cards": [{"id": c.card_id, "items": c.items, "used_bytes": c.used_bytes, "usable_bytes": c.usable_bytes,
                   "fill_percent": round(100 * c.used_bytes / c.usable_bytes, 2), "files": c.files}
                  for c in cards],
        "items": [{"id": r.item.id, "title": r.item.title, "kind": r.info.kind,
                   "duration": round(r.info.duration, 3), "files": r.paths,
                   "subtitles": r.subtitles} for r in results],
        "left_out": left_out,
    }
    if reasons:
        report["left_out_reasons"] = reasons
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def check_approved(staging: Path, approved: dict[str, dict[str, str]]) -> None:
    """Every approved item must be, file for file, the bytes its reviewers approved."""
    built: dict[str, dict[str, str]] = {}
    for manifest_path in sorted(staging.glob("card-*.manifest.json")):
        built.update(item_files(json.loads(manifest_path.read_bytes())))
    for item_id, files in sorted(approved.items()):
        if item_id in built and built[item_id] != files:
            changed = sorted(set(built[item_id].items()) ^ set(files.items()))[0][0]
            raise CheckFailed(changed, f"item {item_id} is not what the reviewers approved (this file "
                                       f"differs: its source or subtitles changed since); have it reviewed again")


def publish(staging: Path, out: Path) -> None:
    """Move the finished cards into OUT.

    Old signed manifests go first and new ones come last, so an interruption part-way
    leaves card folders without a manifest: visibly incomplete, never mistakenly "verified".
    Reviewers' approval signatures are kept where the new manifest has exactly the bytes
    they signed (an unchanged rebuild); elsewhere they would no longer verify, and go.
    """
    for approval in sorted(out.glob("card-*.manifest.json.*.minisig")):
        manifest = approval.name.split(".manifest.json.")[0] + ".manifest.json"
        old, new = out / manifest, staging / manifest
        if old.is_file() and new.is_file() and old.read_bytes() == new.read_bytes():
            os.replace(approval, staging / approval.name)
    for old in sorted(out.glob("card-*.manifest.json*")) + sorted(out.glob("card-*.SHA256SUMS")):
        old.unlink()
    trash = staging / "old"
    trash.mkdir()
    for old in sorted(out.glob("card-*")):
        if old.is_dir() or old.suffix == ".img":
            os.replace(old, trash / old.name)
    names = sorted(p.name for p in staging.iterdir() if p.name != "old")
    last = [n for n in names if ".manifest.json" in n or n.endswith(".SHA256SUMS")]
    for name in [n for n in names if n not in last] + last:
        os.replace(staging / name, out / name)
