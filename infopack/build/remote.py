"""What runs on a Dask worker: one item's encode job, and the check that the worker would
make the bytes this machine would make.

Everything travels as plain data (pickled by Dask; infopack is installed on the worker):
a `RemoteBuild` (the build's shared facts: bundle settings, profile, cache root, ffmpeg
version, the facts of the client's machine) and per job the item, its MediaInfo, its
fitted bitrate and the size and hash prefix of its input files. The job runs the same
`encode_item` as a local build, in a work folder of its own under the shared cache's
tmp/ (one per attempt: a worker that dies leaves a folder nobody reads), and stores the
encode in the shared cache by the cache's write-then-rename rule. What comes back is plain
data too: the produced files' paths in that folder, the subtitle report, the outcome and
the worker's name. Errors meant for people come back as data (an InfopackError does not
survive pickling) and are raised again on the client, naming the worker.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from infopack.build.cache import Cache
from infopack.build.jobs import JobContext, encode_item
from infopack.errors import CheckFailed, InfopackError, UsageError
from infopack.kinds.fonts import find_korean_font
from infopack.kinds.probe import MediaInfo
from infopack.kinds.subtitle import sidecar_paths
from infopack.manifest import Bundle, Item
from infopack.profiles import Profile
from infopack.release.seal import sha256_file
from infopack.subtitles.images import tesseract_data, tesseract_version
from infopack.tools import ffmpeg_info, run, set_command_log

PACKAGE = Path(__file__).resolve().parent.parent       # the infopack package on this machine
PREFIX_BYTES = 65536            # an input's hash prefix: enough to tell two files apart, cheap over NFS
LIBRARIES = ("pillow", "pikepdf")       # Python libraries whose output reaches the card
TERMINAL = ("cached", "encoded", "cache-corrupt")       # events the client replays from the job's result
ERRORS = {cls.__name__: cls for cls in (InfopackError, UsageError, CheckFailed)}
ENCODER_MARKS = {   # encoder -> (output format, what its stream says about its build)
    "libx264": ("h264", rb"x264 - core (\d+ r\d+ [0-9a-f]+)"),
    "libx265": ("hevc", rb"x265 \(build \d+\) - ([^:\s]+)"),
}


@dataclass(frozen=True)
class RemoteBuild:
    """What every encode job of one build shares, sent to the workers."""
    token: str                  # names this build's events topic, check file and work folders
    bundle: Bundle              # without its items: settings only (subtitle class)
    profile: Profile
    profile_recipe: dict
    cache_root: str             # the shared cache, at the same path on every machine
    ffmpeg_version: str         # the client's: part of every cache key
    facts: dict                 # the client's machine_facts(): what a worker must match
    reviewed: dict = field(default_factory=dict)   # glossary entries reviewers confirmed (JobContext.reviewed)
    reads_pictures: bool = False  # some item may have its subtitles read by OCR (`reads_pictures`)


def events_topic(token: str) -> str:
    return f"infopack-{token}"


def check_file(cache_root: str | Path, token: str) -> Path:
    """The file the client writes in the shared cache and every worker must read back."""
    return Path(cache_root) / "tmp" / f"cluster-{token}"


def attempt_glob(token: str) -> str:
    return f"work-{token}-*"


# -- what a machine would make: the facts a worker must share with the client ----------

@lru_cache(maxsize=4)
def machine_facts(burns_subtitles: bool, reads_pictures: bool = False) -> dict[str, str]:
    """What decides the bytes of an encode besides the job: ffmpeg, its encoders and their
    builds, infopack's own code and data, the Python libraries that write card files,
    (for burned-in subtitles) the Korean font and (for subtitles read from pictures)
    tesseract and its Korean data. Computed once per process."""
    info = ffmpeg_info()
    text = run([info.ffmpeg, "-hide_banner", "-version"], timeout=30, what="ffmpeg -version").stdout.decode(
        "utf-8", "replace")
    libraries = [" ".join(line.split("/")[0].split()).replace(". ", ".") for line in text.splitlines()
                 if line.startswith("lib")]
    facts = {"ffmpeg": info.version, "ffmpeg libraries": ", ".join(libraries),
             "encoders": " ".join(sorted(info.encoders)), "infopack code": code_digest()}
    for encoder, (fmt, mark) in ENCODER_MARKS.items():
        if encoder in info.encoders:
            facts[encoder] = _encoder_build(info.ffmpeg, encoder, fmt, mark)
    for name in LIBRARIES:
        try:
            facts[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            facts[name] = "not installed"
    if burns_subtitles:
        try:
            font = find_korean_font()
            facts["Korean font"] = f"{font.family} ({sha256_file(font.file)[:16]})"
        except InfopackError:
            facts["Korean font"] = "none"
    if reads_pictures:
        try:
            data = tesseract_data("kor")
            facts["tesseract (OCR)"] = (f"{tesseract_version()}, kor data "
                                        f"{sha256_file(data)[:16] if data and data.is_file() else 'unknown'}")
        except InfopackError as exc:
            facts["tesseract (OCR)"] = f"none ({exc.problem.split(';')[0]})"
    return facts


def build_facts(build: RemoteBuild) -> dict[str, str]:
    """This machine's facts that matter to `build`."""
    return machine_facts(burns_subtitles(build.profile), build.reads_pictures)


def reads_pictures(profile: Profile, infos: list[MediaInfo]) -> bool:
    """Whether an item may get its subtitles by OCR: the profile delivers text and a source has
    a picture track (the choice itself is made on the worker)."""
    return bool(profile.subtitles) and not burns_subtitles(profile) and any(
        track.kind == "image" for info in infos for track in info.subtitle_tracks)


def _encoder_build(ffmpeg: str, encoder: str, fmt: str, mark: bytes) -> str:
    """The encoder library's build, as it writes it into one encoded frame (the card never
    gets this: the build strips it)."""
    out = run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
               "color=s=64x64:d=0.04", "-frames:v", "1", "-c:v", encoder, "-f", fmt, "-"],
              timeout=60, what=f"a test frame with {encoder}", check=False).stdout
    found = re.search(mark, out)
    return found.group(1).decode("ascii", "replace") if found else "unknown"


def code_digest() -> str:
    """sha256 of every file of the infopack package (code, profiles, scrub lists, glossary)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def input_marks(item: Item) -> dict[str, list]:
    """{path: [size, sha256 of the first bytes]} of an item's source and subtitle files (those the
    manifest names, and those found beside the source when it names none)."""
    marks = {}
    for path in (item.source, *sidecar_paths(item)):
        with open(path, "rb") as fh:
            marks[str(path)] = [path.stat().st_size, hashlib.sha256(fh.read(PREFIX_BYTES)).hexdigest()]
    return marks


def differences(build: RemoteBuild, marks: dict[str, list]) -> list[str]:
    """How this machine differs from the client's for this build (empty: it makes the same bytes)."""
    try:
        facts = build_facts(build)
    except InfopackError as exc:
        return [exc.line()]
    return fact_differences(build.facts, facts) + share_problems(build, marks)


def burns_subtitles(profile: Profile) -> bool:
    return bool(profile.subtitles and profile.subtitles.burn)


def fact_differences(wanted: dict[str, str], found: dict[str, str]) -> list[str]:
    """One line per fact a worker ("there") does not share with the client ("here")."""
    lines = []
    for name, want in wanted.items():
        have = found.get(name, "missing")
        if have == want:
            continue
        if name == "encoders":
            missing = sorted(set(want.split()) - set(have.split()))
            extra = sorted(set(have.split()) - set(want.split()))
            lines.append("its ffmpeg's encoders differ (" + "; ".join(
                part for part in (f"missing {', '.join(missing)}" if missing else "",
                                  f"also {', '.join(extra)}" if extra else "") if part) + ")")
        else:
            lines.append(f"{name} is {have} there, {want} here")
    return lines


def share_problems(build: RemoteBuild, marks: dict[str, list]) -> list[str]:
    """What this machine does not see of the shared folder: inputs (size, hash prefix), the cache."""
    found = []
    for path, (size, prefix) in marks.items():
        source = Path(path)
        try:
            with open(source, "rb") as fh:
                there = hashlib.sha256(fh.read(PREFIX_BYTES)).hexdigest()
            there_size = source.stat().st_size
        except OSError:
            found.append(f"cannot read {path} (inputs must be on a shared folder at the same path)")
            continue
        if there_size != size:
            found.append(f"{path} is {there_size:,} bytes there, {size:,} here")
        elif there != prefix:
            found.append(f"{path} has other bytes there (its first {PREFIX_BYTES // 1024} KiB differ)")
    return found + _cache_problems(build)


def _cache_problems(build: RemoteBuild) -> list[str]:
    """The shared cache: this build's check file readable (the same folder), and writable."""
    try:
        seen = check_file(build.cache_root, build.token).read_text("ascii")
    except OSError:
        seen = ""
    if seen != build.token:
        return [f"does not see this build's cache folder {build.cache_root} (it must be the shared folder, "
                f"mounted at the same path)"]
    probe = Path(build.cache_root) / "tmp" / f"cluster-{build.token}-{uuid.uuid4().hex[:8]}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return [f"cannot write to the cache folder {build.cache_root} ({exc.strerror})"]
    return []


# -- on the worker ---------------------------------------------------------------------------

def worker_label(worker) -> str:
    """A worker's name for people: its --name and address, or its address."""
    name = worker.name
    return f"{name} ({worker.address})" if isinstance(name, str) and name and name != worker.address \
        else worker.address


def check_worker(build: RemoteBuild, marks: dict[str, list], dask_worker=None) -> dict:
    """Run on every worker before the build sends jobs (Client.run, which passes `dask_worker`):
    its name, its facts (the client compares them with its own, made meanwhile) and what it
    does not see of the shared folder."""
    label = worker_label(dask_worker)
    try:
        facts = build_facts(build)
    except InfopackError as exc:          # no usable ffmpeg there
        return {"worker": label, "facts": None, "problems": [exc.line()]}
    return {"worker": label, "facts": facts, "problems": share_problems(build, marks)}


_job = threading.local()       # the events sender of the job this worker thread runs


def _route_command(args: list[str]) -> None:
    """The worker's command log: each command goes to the client as an event of its job."""
    send = getattr(_job, "send", None)
    if send is not None:
        send({"event": "command", "args": list(args)})


def encode_on_worker(build: RemoteBuild, item: Item, info: MediaInfo, video_bitrate: int | None,
                     marks: dict[str, list]) -> dict:
    """One item's encode job on this worker (checked first: a worker that joined late is
    checked too); returns plain data for infopack.build.cluster."""
    import distributed         # heavy optional dependency: only workers and cluster builds have it
    worker = distributed.get_worker()
    label = worker_label(worker)
    kept: list[dict] = []

    def send(event: dict) -> None:
        event = json.loads(json.dumps(event, default=str))      # msgpack-safe plain data
        if event.get("event") in TERMINAL:
            kept.append(event)
        else:
            worker.log_event(events_topic(build.token), {**event, "by": label})

    problems = differences(build, marks)
    if problems:
        return {"worker": label, "refused": problems}
    attempt = Path(build.cache_root) / "tmp" / f"work-{build.token}-{item.id}-{uuid.uuid4().hex[:8]}"
    attempt.mkdir(parents=True)
    ctx = JobContext(build.bundle, build.profile, attempt, send, Cache(build.cache_root), build.ffmpeg_version,
                     build.profile_recipe, reviewed=build.reviewed)
    set_command_log(_route_command)
    _job.send = send
    try:
        result = encode_item(ctx, item, info, video_bitrate)
    except InfopackError as exc:
        return {"worker": label, "error": [type(exc).__name__, exc.path, exc.problem], "attempt": str(attempt)}
    finally:
        _job.send = None
    return {"worker": label, "outcome": "encoded" if ctx.counts["encoded"] else "cached", "events": kept,
            "produced": [(p.role, str(p.path), p.extension) for p in result.produced],
            "subtitles": result.subtitles, "report": result.report, "warnings": result.warnings,
            "attempt": str(attempt)}


def raise_error(result: dict) -> None:
    """Raise on the client the error a job met on its worker, naming the worker."""
    name, path, problem = result["error"]
    raise ERRORS.get(name, InfopackError)(path, f"{problem} (on worker {result['worker']})")
