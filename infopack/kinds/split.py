"""Cut a video that is too large for one file into parts at keyframes, without re-encoding.

FAT32 holds no file of 4 GiB or more, and some players choke on files far smaller
(the profile's `max_file_bytes`). Where the profile allows it (`split_parts = true`), the
encoded file is re-muxed with ffmpeg's segment muxer (`-c copy`): every part starts on a
keyframe, so each plays on its own, and no quality is lost. Parts become the roles
"part-01", "part-02", ... (infopack.plan.layout names them so alphabetical order is playback
order). A sidecar subtitle is cut the same way: one sidecar per part, its cues shifted by
the part's start; a cue that straddles a cut is shown in both parts.
"""

from __future__ import annotations

import csv
from pathlib import Path

from infopack.errors import CheckFailed
from infopack.kinds.base import EncodeJob, Produced
from infopack.kinds.ffmpeg import STRIP_FLAGS, ffmpeg_head, output_streams, run_ffmpeg
from infopack.subtitles import Cue, encode_text, to_srt
from infopack.subtitles.readers import parse_text
from infopack.tools import safe_arg

PART_FILL = 0.9          # aim each part at 90% of the limit: bitrates vary along a video
MAX_ATTEMPTS = 6         # each retry cuts shorter parts; a GOP longer than a part cannot be cut


def part_role(kind: str, number: int, count: int) -> str:
    """"part-01" / "sidecar-01": zero-padded to at least 2 digits, so roles sort in order."""
    return f"{kind}-{number:0{max(2, len(str(count)))}d}"


def split_video(job: EncodeJob, encoded: Path, sidecar: bytes | None) -> list[Produced]:
    """Cut `encoded` into parts no larger than the profile's max_file_bytes."""
    limit = job.profile.max_file_bytes
    size = encoded.stat().st_size
    seconds = job.info.duration * limit * PART_FILL / size
    for _ in range(MAX_ATTEMPTS):
        parts = _segment(job, encoded, seconds)
        largest = max(path.stat().st_size for path, _, _ in parts)
        if largest <= limit:
            break
        seconds *= limit * PART_FILL / largest
    else:
        gop = job.profile.video.gop_seconds
        raise CheckFailed(encoded, f"item {job.item.id}: output is {size:,} bytes, over profile "
                                   f"{job.profile.id}'s max_file_bytes {limit:,}, and cannot be cut at keyframes "
                                   f"(every {gop:g} s) into parts below it; lower the rates or gop_seconds")
    _check_total_duration(job, parts)
    encoded.unlink()
    produced = []
    for number, (path, _, _) in enumerate(parts, start=1):
        produced.append(Produced(part_role("part", number, len(parts)), path, job.profile.extension))
    if sidecar is not None:
        produced += _split_sidecar(job, parts)
    return produced


def _segment(job: EncodeJob, encoded: Path, seconds: float) -> list[tuple[Path, float, float]]:
    """Run the segment muxer; [(part path, start s, end s)] in playback order."""
    work, ext = job.work_dir, job.profile.extension
    for old in work.glob(f"{job.item.id}.part-*{ext}"):
        old.unlink()
    listing = work / f"{job.item.id}.parts.csv"
    args = ffmpeg_head() + ["-i", safe_arg(encoded), "-map", "0", "-c", "copy"] + STRIP_FLAGS
    args += ["-f", "segment", "-segment_time", f"{seconds:.3f}", "-reset_timestamps", "1",
             "-segment_format", job.profile.container, "-segment_list", safe_arg(listing),
             "-segment_list_type", "csv"]
    if job.profile.container == "mp4":
        args += ["-segment_format_options", "movflags=+faststart"]
    args.append(safe_arg(work / f"{job.item.id}.part-%03d{ext}"))
    run_ffmpeg(args, item_id=job.item.id, source=job.info.path, duration=job.info.duration)
    with open(listing, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    listing.unlink()
    return [(work / name, float(start), float(end)) for name, start, end in rows]


def _check_total_duration(job: EncodeJob, parts: list[tuple[Path, float, float]]) -> None:
    """The parts together must last as long as the source (each may add a few ms of audio priming)."""
    total = sum(float(output_streams(path).get("format", {}).get("duration") or 0) for path, _, _ in parts)
    tolerance = 0.1 + 0.02 * len(parts)
    if abs(total - job.info.duration) > tolerance:
        raise CheckFailed(parts[0][0], f"item {job.item.id}: the {len(parts)} parts last {total:.2f} s "
                                       f"together, the source {job.info.duration:.2f} s")


def _split_sidecar(job: EncodeJob, parts: list[tuple[Path, float, float]]) -> list[Produced]:
    """One sidecar per part, cues shifted by the part's start and clipped to its span."""
    doc = parse_text(job.subtitles.mux_srt.read_text(encoding="utf-8"), str(job.subtitles.mux_srt))
    produced = []
    for number, (_, start, end) in enumerate(parts, start=1):
        start_ms, end_ms = round(start * 1000), round(end * 1000)
        if number == len(parts):
            end_ms = max(end_ms, max((c.end_ms for c in doc.cues), default=0))
        cues = [Cue(0, max(c.start_ms, start_ms) - start_ms, min(c.end_ms, end_ms) - start_ms, c.text)
                for c in doc.cues if c.end_ms > start_ms and c.start_ms < end_ms]
        cues = [c for c in cues if c.end_ms > c.start_ms]
        if not cues:
            continue                  # no subtitles in this part: no empty sidecar beside it
        path = job.work_dir / f"{job.item.id}.{number:03d}.srt"
        path.write_bytes(encode_text(to_srt(doc.evolve(cues)), job.profile.subtitles.sidecar_encoding))
        produced.append(Produced(part_role("sidecar", number, len(parts)), path, ".srt"))
    return produced
