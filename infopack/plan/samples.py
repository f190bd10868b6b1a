"""Size estimates from sample encodes: the profile's own command on a few windows of a source.

A profile's rate caps overestimate constant-quality output about threefold, and no rate
model knows what a picture costs: a static slide costs almost nothing, film grain a lot.
So a video's main file is estimated by encoding short windows of the source with its
kind's real one-pass command (input seeking: `-ss START -t SECONDS` before `-i`), its
soundtrack and container included, and scaling the bytes per second to the duration.

- A window is one GOP long (the profile's `gop_seconds`) and its encode starts a second
  earlier (the pre-roll): the encoder's keyframe and rate control start there, and only the
  packets inside the window are counted (ffprobe), so the window holds one forced keyframe
  as each GOP of the real encode does, and no start-up costs. (Measured: counting whole
  window encodes overestimated by 2-20%, most on static pictures, where the extra
  keyframe is the window's largest packet.) The container's bytes are shared out in
  proportion to the packets. There are 3 to 8 windows (one per five minutes), each in the
  middle of its share of the item. An item not much longer than its windows together is
  encoded whole (its estimate is then its encode, less its subtitles).
- Each window's bytes are remembered in a memo (the encode cache's, given by the caller)
  under the source's content hash and the window's command with paths as tokens: a second
  `plan`, and the build's own plan, run no encode.
- A sampled kind without an ffmpeg command (images: Pillow) is transcoded whole, which
  costs a fraction of a second and gives the exact size.
- Only kinds that say so are sampled (`Kind.sampled`), and never a fitted video: two-pass
  at a known rate lands near that rate, which the kind's model already uses.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from infopack.kinds.base import EncodeJob, Kind, with_placeholders
from infopack.kinds.ffmpeg import encode_timeout
from infopack.kinds.probe import MediaInfo
from infopack.kinds.specs import Profile
from infopack.tools import ffmpeg_info, run

SAMPLE_FORMAT = "infopack-sample/2"     # part of every memo key: bump when windows change meaning
MEMO_AREA = "sampled"
MIN_WINDOWS, MAX_WINDOWS = 3, 8
SECONDS_PER_WINDOW = 300                # one window per five minutes, between the bounds above
WHOLE_FACTOR = 1.5                      # an item up to 1.5x its windows' length is encoded whole
MIN_WINDOW_SECONDS = 2.0
PREROLL_SECONDS = 1.0                   # encoded before each window, not counted
# Packing raises every sampled size by this much (infopack.plan.estimate): bench/plan_accuracy.py
# measured sampled estimates within this of the built bytes on its set (docs/benchmarks.md).
SAMPLE_HEADROOM = 0.10


class Memo(Protocol):
    """What sampling needs of the encode cache (infopack.build.cache.Cache is one)."""

    def file_hash(self, path: Path) -> str: ...
    def recall(self, area: str, key: str): ...
    def remember(self, area: str, key: str, value) -> None: ...


@dataclass(frozen=True)
class Window:
    start: float        # seconds into the source
    seconds: float      # length; the whole item when start is 0 and seconds its duration
    whole: bool = False
    preroll: float = 0.0    # seconds encoded before `start` and not counted


def windows(duration: float, gop_seconds: float) -> list[Window]:
    """Where an item of `duration` seconds is sampled (see the module docstring)."""
    length = max(gop_seconds, MIN_WINDOW_SECONDS)
    count = min(MAX_WINDOWS, max(MIN_WINDOWS, math.ceil(duration / SECONDS_PER_WINDOW)))
    if duration <= count * length * WHOLE_FACTOR:
        return [Window(0.0, duration, whole=True)]
    stretch = duration / count
    starts = [round(min(max(0.0, stretch * (n + 0.5) - length / 2), duration - length), 3) for n in range(count)]
    return [Window(start, length, preroll=min(PREROLL_SECONDS, start)) for start in starts]


def window_command(kind: Kind, job: EncodeJob, out: Path, window: Window) -> list[str]:
    """The kind's one-pass command, reading only `window` of the source (input seeking)."""
    args = kind.command(job, out)
    if window.whole:
        return args
    at = args.index("-i")
    seek = ["-ss", f"{window.start - window.preroll:.3f}", "-t", f"{window.seconds + window.preroll:.3f}"]
    return args[:at] + seek + args[at:]


def window_bytes(out: Path, window: Window) -> int:
    """The bytes a window adds: its packets (after the pre-roll), with their share of the container."""
    size = out.stat().st_size
    if window.whole:
        return size
    listing = run([ffmpeg_info().ffprobe, "-v", "error", "-show_entries", "packet=pts_time,size", "-of", "csv=p=0",
                   str(out)], timeout=120, what="reading a sample encode's packets", subject=str(out)).stdout
    inside = everything = 0
    for line in listing.decode("ascii", "replace").splitlines():
        fields = line.split(",")
        if len(fields) < 2 or not fields[1].isdigit():
            continue
        everything += int(fields[1])
        if fields[0] != "N/A" and float(fields[0]) >= window.preroll - 0.001:
            inside += int(fields[1])
    return round(inside * size / everything) if everything else size


@dataclass
class SampleJob:
    """One window of one item to encode (or recall); without `args`, the kind's whole transcode."""
    item_id: str
    window: Window
    args: list[str] | None
    key: str
    out: Path
    job: EncodeJob
    kind: Kind
    nbytes: int | None = None


def sampled_sizes(items: list[tuple[object, MediaInfo, Kind]], profile: Profile, *, memo: Memo | None = None,
                  jobs: int | None = None, progress: Callable[[dict], None] | None = None) -> dict[str, int]:
    """{item id: estimated bytes of its main file} for (item, info, kind) triples of sampled kinds.

    Windows not in `memo` are encoded, `jobs` at a time, in a temporary folder.
    `progress` gets {"event": "sampled", "item", "done", "total"} after each window.
    """
    if not items:
        return {}
    version = ffmpeg_info().version
    report = progress or (lambda event: None)
    with tempfile.TemporaryDirectory(prefix="infopack-samples-") as tmp:
        work = Path(tmp)
        planned: list[SampleJob] = []
        durations: dict[str, float] = {}
        for n, (item, info, kind) in enumerate(items):
            durations[item.id] = info.duration
            job = EncodeJob(item=item, info=info, profile=profile, work_dir=work / str(n), subtitles=None)
            content = memo.file_hash(info.path) if memo else ""
            encoded_by_ffmpeg = kind.command(job, work / "probe") is not None
            spans = windows(info.duration, profile.video.gop_seconds if profile.video else 0) \
                if encoded_by_ffmpeg and info.duration > 0 else [Window(0.0, info.duration, whole=True)]
            for w, window in enumerate(spans):
                out = work / f"{n}-{w}{profile.extension}"
                args = window_command(kind, job, out, window) if encoded_by_ffmpeg else None
                recipe = with_placeholders(args, kind.placeholders(job) | {str(out): "<out>"}) if args \
                    else kind.recipe(job)
                key = hashlib.sha256(json.dumps([SAMPLE_FORMAT, content, version, recipe, profile.recipe()],
                                                sort_keys=True).encode()).hexdigest()
                planned.append(SampleJob(item.id, window, args, key, out, job, kind))
        for sample in planned:
            remembered = memo.recall(MEMO_AREA, sample.key) if memo else None
            if isinstance(remembered, int):
                sample.nbytes = remembered
        todo = [s for s in planned if s.nbytes is None]
        done = len(planned) - len(todo)
        report({"event": "sampling", "windows": len(planned), "to_encode": len(todo)})

        def encode(sample: SampleJob) -> SampleJob:
            if sample.args is None:
                sample.job.work_dir.mkdir(exist_ok=True)
                produced = sample.kind.transcode(sample.job)
                sample.nbytes = sum(p.path.stat().st_size for p in produced if p.role == "main")
            else:
                run(sample.args, timeout=encode_timeout(sample.window.seconds),
                    what=f"sample encode of item {sample.item_id}", subject=str(sample.job.info.path))
                sample.nbytes = window_bytes(sample.out, sample.window)
                sample.out.unlink()
            if memo:
                memo.remember(MEMO_AREA, sample.key, sample.nbytes)
            return sample

        workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="infopack-sample") as pool:
            for sample in pool.map(encode, todo):
                done += 1
                report({"event": "sampled", "item": sample.item_id, "done": done, "total": len(planned)})
    return {item_id: _scaled([s for s in planned if s.item_id == item_id], durations[item_id])
            for item_id in durations}


def _scaled(samples: list[SampleJob], duration: float) -> int:
    """Bytes per second of the windows together, times the item's duration."""
    seconds = sum(s.window.seconds for s in samples)
    if any(s.window.whole for s in samples) or seconds <= 0:
        return sum(s.nbytes for s in samples)
    return int(sum(s.nbytes for s in samples) / seconds * duration)
