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
from infopack.errors import UsageError
from infopack.kinds import REGISTRY, probe_source
from infopack.kinds.base import EncodeJob, Produced
from infopack.kinds.probe import MediaInfo, info_from_json, info_to_json
from infopack.manifest import Bundle, Item
from infopack.profiles import Profile
from infopack.progress import reporting
from infopack.tools import logging_commands

Progress = Callable[[dict], None]


@dataclass
class ItemResult:
    item: Item
    info: MediaInfo
    produced: list[Produced]
    subtitles: dict | None = None
    paths: dict[str, str] = field(default_factory=dict)     # role -> card path


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
    """Subtitles, then the encode: from the cache when its key is there, else the kind's
    transcode + validation, stored for next time."""
    kind = REGISTRY.kind_named(info.kind)
    item_dir = ctx.work / item.id          # created only when needed: thousands of folders cost seconds
    subs = None
    if item.subtitles and kind.subtitled:
        item_dir.mkdir()
        subs = kind.prepare_subtitles(item, info, ctx.profile, item_dir, language_class=ctx.bundle.subtitle_class)
    job = EncodeJob(item=item, info=info, profile=ctx.profile, work_dir=item_dir, subtitles=subs,
                    video_bitrate=video_bitrate)
    report = subs.report if subs else None
    key = None
    if ctx.cache is not None:
        key = encode_key(job, kind, ctx.ffmpeg_version, ctx.cache.file_hash, ctx.profile_recipe)
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
        produced = kind.transcode(job)
        for prod in produced:
            kind.validate(job, prod)
    if key is not None:
        ctx.cache.store(key, [(p.role, p.extension, p.path) for p in produced])
    ctx.count("encoded")
    ctx.progress({"event": "encoded", "item": item.id, "duration": info.duration,
                  "bytes": sum(p.path.stat().st_size for p in produced),
                  "seconds": round(time.monotonic() - started, 3)})
    return ItemResult(item, info, produced, report)
