"""The build's jobs: probe each item, then prepare its subtitles and encode it.

Each item's encode goes through the content-addressed cache: when its key is known the
stored outputs are fetched (after their hashes are checked), else the item's kind
transcodes and validates, and the outputs are stored for the next build.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infopack.build.cache import Cache
from infopack.build.cache_keys import encode_key, probe_key
from infopack.errors import UsageError, naming_instead
from infopack.kinds import REGISTRY, probe_source
from infopack.kinds.base import EncodeJob, Produced
from infopack.kinds.probe import MediaInfo, info_from_json, info_to_json
from infopack.manifest import Bundle, Item
from infopack.notes import localise
from infopack.profiles import Profile
from infopack.progress import reporting
from infopack.tools import logging_commands

Progress = Callable[[dict], None]
WARNINGS_MEMO = "warnings"        # the cache's memo of an encode's warnings, kept for its cache hits


@dataclass
class ItemResult:
    item: Item
    info: MediaInfo
    produced: list[Produced]
    subtitles: dict | None = None
    paths: dict[str, str] = field(default_factory=dict)     # role -> card path
    report: dict | None = None              # the kind's own report (Kind.item_report)
    warnings: list[str] = field(default_factory=list)       # the encoders' warning lines (report.json)
    shortened: list[str] = field(default_factory=list)      # names cut to fit the card (report.json)


@dataclass
class JobContext:
    """What every job of one build shares."""
    bundle: Bundle
    profile: Profile
    work: Path
    progress: Progress
    cache: Cache | None
    ffmpeg_version: str
    profile_recipe: dict = field(default_factory=dict)
    reviewed: dict = field(default_factory=dict)     # glossary entries reviewers confirmed: (sk, nk) -> key ids
    counts: dict = field(default_factory=lambda: {"encoded": 0, "cached": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1


def probe_item(ctx: JobContext, item: Item) -> MediaInfo:
    """What the item's source is (remembered in the cache by content), checked against the
    manifest's `kind` and the profile."""
    info = probe_cached(ctx.cache, item.source, ctx.ffmpeg_version) if ctx.cache else probe_source(item.source)
    if item.kind and item.kind != info.kind:
        raise UsageError(item.source, f"item {item.id}: manifest says kind {item.kind!r} but the file is {info.kind}")
    if not ctx.profile.supports(REGISTRY.kind_named(info.kind)):
        raise UsageError(item.source, f"item {item.id}: profile {ctx.profile.id} cannot carry {info.kind} items")
    return info


def probe_cached(cache: Cache, path: Path, ffmpeg_version: str) -> MediaInfo:
    """probe_source(path), remembered by the input's content hash and the ffprobe version."""
    key = probe_key(cache.file_hash(path), ffmpeg_version, path.suffix)
    memo = cache.recall("probe", key)
    if memo is not None:
        try:
            return info_from_json(memo, path)
        except (ValueError, TypeError, KeyError):
            pass                                    # a damaged memo: probe again
    info = probe_source(path)
    cache.remember("probe", key, info_to_json(info))
    return info


def encode_item(ctx: JobContext, item: Item, info: MediaInfo, video_bitrate: int | None) -> ItemResult:
    """One item's job; its errors name the item's source, never a file in the work folder."""
    with naming_instead(ctx.work, item.source):
        return _encode_item(ctx, item, info, video_bitrate)


def _encode_item(ctx: JobContext, item: Item, info: MediaInfo, video_bitrate: int | None) -> ItemResult:
    """Subtitles, then the encode: from the cache when its key is there, else the kind's
    transcode + validation, stored for next time."""
    kind = REGISTRY.kind_named(info.kind)
    item_dir = ctx.work / item.id          # created only when needed: thousands of folders cost seconds
    subs = None
    if kind.subtitled:
        subs = kind.prepare_subtitles(item, info, ctx.profile, item_dir, language_class=ctx.bundle.subtitle_class,
                                      manifest=ctx.bundle.manifest_path, require=ctx.bundle.require_subtitles,
                                      reviewed=ctx.reviewed or None)
        if subs is not None and subs.report.get("subtitles_missing"):
            ctx.progress({"event": "no-subtitles", "item": item.id,
                          "message": localise(subs.report["missing_message"], "en")})
    job = EncodeJob(item=item, info=info, profile=ctx.profile, work_dir=item_dir, subtitles=subs,
                    video_bitrate=video_bitrate)
    report = subs.report if subs else None
    key = None
    if ctx.cache is not None:
        key = encode_key(job, kind, ctx.ffmpeg_version, ctx.cache.file_hash, ctx.profile_recipe)
        prefix = f"{item.id}.cached."
        found = ctx.cache.lookup(key, ctx.work, prefix)      # a hit is copied into the work folder
        if found.corrupt:
            ctx.progress({"event": "cache-corrupt", "item": item.id, "detail": found.corrupt})
        if found.files:
            ctx.count("cached")
            ctx.progress({"event": "cached", "item": item.id, "duration": info.duration})
            produced = [Produced(f.role, ctx.work / (prefix + f.name), f.extension) for f in found.files]
            return ItemResult(item, info, produced, subtitles=report, report=kind.item_report(job, produced),
                              warnings=ctx.cache.recall(WARNINGS_MEMO, key) or [])
    item_dir.mkdir(exist_ok=True)
    started = time.monotonic()
    ctx.progress({"event": "encode", "item": item.id, "kind": info.kind, "duration": info.duration})
    warnings: list[str] = []

    def heard(event: dict) -> None:        # the encoders' warnings go to the item's report too
        if event.get("event") == "encoder-warning":
            warnings.extend(event["lines"])
        ctx.progress(event)
    with reporting(heard), logging_commands():
        produced = kind.transcode(job)
        for prod in produced:
            kind.validate(job, prod)
    if key is not None:
        ctx.cache.store(key, [(p.role, p.extension, p.path) for p in produced])
        if warnings:
            ctx.cache.remember(WARNINGS_MEMO, key, warnings)
    ctx.count("encoded")
    ctx.progress({"event": "encoded", "item": item.id, "duration": info.duration,
                  "bytes": sum(p.path.stat().st_size for p in produced),
                  "seconds": round(time.monotonic() - started, 3)})
    return ItemResult(item, info, produced, subtitles=report, report=kind.item_report(job, produced),
                      warnings=warnings)
