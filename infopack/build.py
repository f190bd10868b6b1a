"""The build: manifest -> jobs (probe, subtitles, encode, image) -> cards -> seal.

Everything is written inside a staging folder in OUT and renamed into place only when
the whole build succeeded, so a failed or interrupted build leaves nothing that looks
like a finished card.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infopack.cards import CardType, check_card_paths, load_card
from infopack.checks import ERROR
from infopack.errors import CheckFailed, UsageError
from infopack.handlers import EncodeJob, Produced, handler_for
from infopack.handlers.subtitle import prepare_subtitles
from infopack.handlers.video import target_size
from infopack.layout import card_paths
from infopack.manifest import Bundle, Item, load_manifest
from infopack.packing import CardPlan, PackItem, pack
from infopack.probe import MediaInfo, probe
from infopack.profiles import Profile, load_profile
from infopack.seal import card_manifest, entries_for, fix_mtimes, sha256sums, sign_manifest
from infopack.tools import ffmpeg_info

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


@dataclass
class BuildResult:
    out: Path
    cards: list[CardResult]
    items: list[ItemResult]
    left_out: list[str]


def _quiet(event: dict) -> None:
    pass


def build(manifest_path: str | os.PathLike, out: str | os.PathLike, key, *, jobs: int | None = None,
          image: bool = False, progress: Progress = _quiet) -> BuildResult:
    """Build every card of a bundle into OUT, signed with `key` (an infopack.keys.SigningKey)."""
    bundle = load_manifest(manifest_path)
    profile = load_profile(bundle.profile)
    card = load_card(bundle.card)
    ffmpeg_info()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=out))
    try:
        work = staging / "work"
        work.mkdir()
        results = run_items(bundle, profile, work, jobs or os.cpu_count() or 1, progress)
        assign_paths(results, profile)
        plan = pack([PackItem(id=r.item.id, files={r.paths[prod.role]: prod.path.stat().st_size
                                                   for prod in r.produced},
                              group=r.item.group, order=r.item.order, priority=r.item.priority)
                     for r in results], card, max_cards=bundle.max_cards)
        if plan.problems:
            raise CheckFailed(bundle.manifest_path, "; ".join(plan.problems))
        by_id = {r.item.id: r for r in results}
        cards = []
        for plan_card in plan.cards:
            progress({"event": "assemble", "card": plan_card.card_id})
            cards.append(assemble_card(staging, bundle, profile, card, plan_card, len(plan.cards),
                                       [by_id[i] for i in plan_card.items], key))
            if image:
                from infopack.fatimage import build_image
                progress({"event": "image", "card": plan_card.card_id})
                build_image(staging / plan_card.card_id, staging / f"{plan_card.card_id}.img", card)
        write_report(staging / "report.json", bundle, profile, results, cards, plan.left_out)
        shutil.rmtree(work)
        publish(staging, out)
        progress({"event": "done", "cards": len(cards)})
        return BuildResult(out, cards, results, list(plan.left_out))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_items(bundle: Bundle, profile: Profile, work: Path, jobs: int, progress: Progress) -> list[ItemResult]:
    """Probe, prepare subtitles, encode and validate every item; large items start first."""
    order = sorted(bundle.items, key=lambda it: (-it.source.stat().st_size, it.order))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(process_item, bundle, profile, item, work, progress): item for item in order}
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for fut in pending:
            fut.cancel()
        for fut in done:
            if fut.exception():
                raise fut.exception()
        results = [fut.result() for fut in futures]
    return sorted(results, key=lambda r: r.item.order)


def process_item(bundle: Bundle, profile: Profile, item: Item, work: Path, progress: Progress) -> ItemResult:
    info = probe(item.source)
    if item.kind and item.kind != info.kind:
        raise UsageError(item.source, f"item {item.id}: manifest says kind {item.kind!r} but the file is {info.kind}")
    if not profile.supports(info.kind):
        raise UsageError(item.source, f"item {item.id}: profile {profile.id} cannot carry {info.kind} items")
    item_dir = work / item.id
    item_dir.mkdir()
    subs = None
    if item.subtitles and info.kind == "video":
        play_res = target_size(info.video, profile.video.max_width, profile.video.max_height)
        subs = prepare_subtitles(item, profile, item_dir, duration=info.duration,
                                 language_class=bundle.subtitle_class, play_res=play_res)
    progress({"event": "encode", "item": item.id, "kind": info.kind, "duration": info.duration})
    handler = handler_for(info.kind)
    job = EncodeJob(item=item, info=info, profile=profile, work_dir=item_dir, subtitles=subs)
    produced = handler.transcode(job)
    for prod in produced:
        handler.validate(job, prod)
    progress({"event": "encoded", "item": item.id, "bytes": sum(p.path.stat().st_size for p in produced)})
    return ItemResult(item, info, produced, subs.report if subs else None)


def assign_paths(results: list[ItemResult], profile: Profile) -> None:
    paths = card_paths([(r.item, r.info.kind, {p.role: p.extension for p in r.produced}) for r in results],
                       ascii_only=profile.ascii_names)
    for r in results:
        r.paths = paths[r.item.id]


def assemble_card(staging: Path, bundle: Bundle, profile: Profile, card: CardType, plan_card: CardPlan,
                  card_count: int, results: list[ItemResult], key) -> CardResult:
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
    scan_card(card_dir, card_id)
    fix_mtimes(card_dir)
    entries = entries_for(card_dir)
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
    return CardResult(card_id, [r.item.id for r in results], plan_card.used_bytes, card.usable_bytes, len(entries))


def scan_card(card_dir: Path, card_id: str) -> None:
    """The build checks its own output with the same scanner QA uses."""
    from infopack.scan import scan_file
    for path in sorted(p for p in card_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(card_dir).as_posix()
        errors = [f for f in scan_file(str(path), display_path=rel) if f.level == ERROR]
        if errors:
            raise CheckFailed(path, f"{card_id}/{rel}: identifying metadata remains after stripping: "
                                    f"{errors[0].check}: {errors[0].message}")


def write_report(path: Path, bundle: Bundle, profile: Profile, results: list[ItemResult],
                 cards: list[CardResult], left_out: list[str]) -> None:
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
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def publish(staging: Path, out: Path) -> None:
    """Move the finished cards into OUT.

    Old signed manifests go first and new ones come last, so an interruption part-way
    leaves card folders without a manifest: visibly incomplete, never mistakenly "verified".
    """
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
