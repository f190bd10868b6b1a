"""The build: manifest -> jobs (probe, subtitles, encode, image) -> cards -> seal.

Everything is written inside a staging folder in OUT and renamed into place only when
the whole build succeeded, so a failed or interrupted build leaves nothing that looks
like a finished card. Encodes go through the content-addressed cache (infopack.build.cache):
a rerun after a kill, or with nothing changed, reuses every finished encode and gives
the same bytes. One build at a time holds OUT (an flock); it removes the staging
folders killed builds left behind.

The stages, in order: infopack.build.jobs (probe, encode), infopack.build.assemble
(cards, manifests, report.json), then the caller's report writers (report.html), then
infopack.build.publish.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from infopack.build.assemble import (
    CardResult,
    ImageSpec,
    ScanMemo,
    assemble_card,
    assign_paths,
    check_approved,
    write_report,
)
from infopack.build.cache import Cache
from infopack.build.cache_keys import scanner_identity
from infopack.build.executors import ExecutorChoice, open_executor
from infopack.build.jobs import ItemResult, JobContext, Progress, probe_item
from infopack.build.pause import pausing
from infopack.build.publish import out_failure, out_folder, out_lock, publish, remove_stale
from infopack.errors import CheckFailed, UsageError
from infopack.fat.catalog import load_card
from infopack.fat.image import DEFAULT_LAYOUT, image_problems
from infopack.manifest import Bundle, load_manifest
from infopack.manifest.titles import refuse_identifying_titles
from infopack.plan.assign import build_plan, pack_items, packing_notes, settle
from infopack.plan.fit import fit_budgets
from infopack.plan.packing import CardPlan, GroupSplit
from infopack.profiles import load_profile
from infopack.release.trust import CURATOR
from infopack.tools import allow_children, ffmpeg_info, stop_children

# A report writer adds its page to the finished build before it is published (so it is as
# atomic as the cards): writer(folder, thumb_dir=..., scans=...), with the folder holding
# report.json and the cards, a folder of the cache to keep thumbnails in (or None), and the
# build's own scan findings ((card id, card path) -> findings). infopack.review.report's
# write_report_html is one.
ReportWriter = Callable[..., object]


@dataclass
class BuildResult:
    out: Path
    cards: list[CardResult]
    items: list[ItemResult]
    left_out: list[str]
    left_out_reasons: dict[str, str] = field(default_factory=dict)
    splits: list[GroupSplit] = field(default_factory=list)     # series on more than one card
    repacked: str | None = None      # why the cards are not the ones `plan` printed (None: they are)


def _quiet(event: dict) -> None:
    pass


def build(manifest_path: str | os.PathLike | Bundle, out: str | os.PathLike, key, *, jobs: int | None = None,
          image: bool = False, progress: Progress = _quiet, fit: bool | None = None,
          exclude: dict[str, str] | None = None, image_size: str = "card", image_layout: str = DEFAULT_LAYOUT,
          cache: str | os.PathLike | None = None, use_cache: bool = True,
          approved: dict[str, dict[str, str]] | None = None,
          report_writers: Sequence[ReportWriter] = (), reviewed_glossary: dict | None = None,
          executor: str | ExecutorChoice | None = None) -> BuildResult:
    """Build every card of a bundle into OUT, signed with `key` (an infopack.release.keys.SigningKey).

    Jobs run on a pool of `jobs` threads (default: one per core): probe every item, then
    prepare subtitles and encode (largest first, each encode reused from the cache when
    its key is known), then assemble, image and seal each card. `exclude` (item id ->
    reason) leaves items out of the build; they are listed in report.json. `approved`
    (item id -> {card path: sha256}, from infopack.release.gate) makes the build fail if an
    approved item's files are not the bytes the reviewers approved. `report_writers` add
    their pages (report.html) beside report.json. `manifest_path` may be an already loaded Bundle.
    `reviewed_glossary` ((sk, nk) -> key ids, from infopack.release.glossary_review) are glossary
    entries reviewers confirmed: subtitles use their suggested forms.
    `executor` ("local", "dask://HOST:PORT"; None: $INFOPACK_EXECUTOR, else local) is where the
    encodes run (infopack.build.executors).
    """
    started = time.monotonic()
    progress = pausing(progress)          # a test may stop the build at a named event (infopack.build.pause)
    bundle = manifest_path if isinstance(manifest_path, Bundle) else load_manifest(manifest_path)
    refuse_identifying_titles(bundle.manifest_path, bundle.items)        # titles become names on the card
    profile = load_profile(bundle.profile)
    card = load_card(bundle.card)
    ffinfo = ffmpeg_info()
    exclude = dict(exclude or {})
    unknown = sorted(set(exclude) - {item.id for item in bundle.items})
    if unknown:
        raise UsageError(bundle.manifest_path, f"cannot leave out item {unknown[0]!r}: no such item in the manifest")
    if image_size not in ("card", "content"):
        raise UsageError(None, f"image size {image_size!r}: expected \"card\" or \"content\"")
    if key.role != CURATOR:
        raise UsageError(None, f"a {key.role} key cannot sign a build; use the curator's key")
    problems = image_problems(card, image_layout, image_size) if image else []
    if problems:                          # said before anything is encoded, not after
        raise UsageError(bundle.manifest_path, f"--image: {problems[0]}")
    store = Cache(cache, warn=lambda message: progress({"event": "cache-unwritable", "detail": message})) \
        if use_cache else None
    out = out_folder(Path(out))
    jobs = max(1, jobs or os.cpu_count() or 1)
    with out_lock(out):
        removed = remove_stale(out)
        if removed:
            progress({"event": "stale", "removed": removed})
        runner = open_executor(executor, jobs, store)
        try:
            staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=out))
        except OSError as exc:
            runner.close()
            raise out_failure(exc, out) or exc from None
        try:
            work = staging / "work"
            work.mkdir()
            ctx = JobContext(bundle, profile, work, progress, store, ffinfo.version, profile.recipe(),
                             reviewed=dict(reviewed_glossary or {}))
            items = [item for item in bundle.items if item.id not in exclude]
            infos = dict(zip([i.id for i in items], runner.map(probe_item, [(ctx, i) for i in items])))
            progress({"event": "probed", "items": len(items), "jobs": jobs,
                      "total_s": round(sum(infos[i.id].duration for i in items), 3)})
            budgets = fit_budgets(bundle, profile, card, infos) if (bundle.fit if fit is None else fit) else {}
            planned = build_plan(bundle, profile, card, infos, budgets, memo=store, jobs=jobs, progress=progress)
            order = sorted(items, key=lambda it: (-infos[it.id].duration, -it.source.stat().st_size, it.order))
            results = runner.encode(ctx, [(it, infos[it.id], budgets.get(it.id)) for it in order])
            results.sort(key=lambda r: r.item.order)
            assign_paths(results, profile)
            settled = settle(planned, pack_items(bundle, {r.item.id: {r.paths[p.role]: p.path.stat().st_size
                                                                      for p in r.produced} for r in results}),
                             card, bundle)
            plan = settled.result
            if plan.problems:
                raise CheckFailed(bundle.manifest_path, "; ".join(plan.problems))
            if settled.reason:
                progress({"event": "repacked", "reason": settled.reason})
            by_id = {r.item.id: r for r in results}
            scan_memo = ScanMemo(store, scanner_identity(ffinfo.version)) if store else None

            def card_job(plan_card: CardPlan) -> CardResult:
                progress({"event": "assemble", "card": plan_card.card_id})
                done = assemble_card(staging, bundle, profile, card, plan_card, len(plan.cards),
                                     [by_id[i] for i in plan_card.items], key, scan_memo,
                                     ImageSpec(image_size, image_layout) if image else None, progress)
                progress({"event": "sealed", "card": plan_card.card_id, "bytes": plan_card.used_bytes})
                return done

            progress({"event": "sealing", "cards": len(plan.cards), "bytes": sum(c.used_bytes for c in plan.cards)})
            cards = runner.map(card_job, [(c,) for c in plan.cards])
            if approved is not None:
                check_approved(staging, approved)
            left = [i.id for i in bundle.items if i.id in exclude] + list(plan.left_out)
            reasons = {i: exclude.get(i, "did not fit within max_cards") for i in left}
            write_report(staging / "report.json", bundle, profile, results, cards, left,
                         reasons if exclude else None,     # without exclusions: the report as before
                         packing_notes(settled))
            shutil.rmtree(work)
            progress({"event": "report"})
            scans = {(c.card_id, path): found for c in cards for path, found in c.scans.items()}
            for writer in report_writers:
                writer(staging, thumb_dir=store.root / "thumbs" if store and store.writable else None, scans=scans)
            publish(staging, out)
            progress({"event": "done", "cards": len(cards), "encoded": ctx.counts["encoded"],
                      "cached": ctx.counts["cached"], "seconds": round(time.monotonic() - started, 3)})
            return BuildResult(out, cards, results, left, reasons, settled.splits, settled.reason)
        except BaseException as exc:
            stop_children()          # Ctrl-C or a failed job: no encode keeps running for nothing
            failure = out_failure(exc, out)      # a full or read-only disk: one line naming OUT
            if failure is not None:
                raise failure from None
            raise
        finally:
            runner.close()
            allow_children()
            shutil.rmtree(staging, ignore_errors=True)
