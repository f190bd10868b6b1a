"""Scale-out: the cost of the cluster path on one machine, and 300 hours on N office PCs, on paper.

Builds the benchmark bundle of bench/speed.py (clips of 1280x720 25 fps testsrc2 + sine,
a Korean SRT each, profile notel-480p) twice per run, each with a cold cache:

  1. locally, `infopack build -j 2`;
  2. through a Dask LocalCluster of 2 single-thread worker processes on 127.0.0.1
     (`--executor dask://127.0.0.1:PORT`), started once before the runs, as an office's
     scheduler and workers would be;

and prints the wall-time ratio cluster / local (the overhead of the cluster path: worker
checks, events, moving encodes through the shared cache; goal <= 1.10), whether the two
builds are byte-identical, the measured rate of one core (media seconds built per CPU
second of the local build and every program it ran: probes, subtitles, encodes,
validation, scan; CPU time, so other load on the machine does not lower it), and from that
rate the projected wall time of 300 hours of such video on N office PCs. Replaces the
`## Scale-out` section of docs/benchmarks.md.

    .venv/bin/python bench/scale.py [--clips 8] [--min-s 10] [--max-s 30] [--runs 2] [--cores-per-pc 4] [--no-doc]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.speed import (BuildRun, _ffmpeg_version, clip_seconds, make_clip_bundle, make_key,  # noqa: E402
                         results_table)

SECTION = "## Scale-out"
TARGET_RATIO = 1.10
FPS = 25                       # the benchmark clips' frame rate (notel-480p keeps it)
SEASON_HOURS = 300
OFFICE_PCS = (1, 2, 3, 5, 10)


def same_build(a: Path, b: Path) -> bool:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    return files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()) and \
        all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)


def media_seconds(run: BuildRun) -> float:
    """Seconds of media the run encoded afresh."""
    return sum(e["duration"] for e in run.events if e["event"] == "encoded")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--min-s", type=float, default=10)
    parser.add_argument("--max-s", type=float, default=30)
    parser.add_argument("--runs", type=int, default=2, help="best of N (local and cluster builds alternate)")
    parser.add_argument("--cores-per-pc", type=int, default=4, help="cores of one office PC, for the projection")
    parser.add_argument("--dir", default=None)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args(argv)
    os.environ["PYTHONPATH"] = str(REPO)          # the workers import this infopack
    from distributed import LocalCluster          # the cluster extra: pip install infopack[cluster]
    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="infopack-scale-", dir=args.dir) as tmp, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address="127.0.0.1:0") as cluster:
        root = Path(tmp)
        key = make_key(root)
        clips = make_clip_bundle(root / "clips", args.clips, args.min_s, args.max_s)
        executor = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
        local_runs, cluster_runs = [], []
        for run in range(args.runs):
            here = BuildRun(clips, root / f"local-{run}", key, root / f"cache-local-{run}", 2)
            there = BuildRun(clips, root / f"cluster-{run}", key, root / f"cache-cluster-{run}", 2,
                             "--executor", executor)
            print(f"run {run + 1}: local -j 2 {here.seconds:.1f} s, cluster of 2 workers {there.seconds:.1f} s",
                  flush=True)
            local_runs.append(here)
            cluster_runs.append(there)
        identical = all(same_build(root / f"local-{n}", root / f"cluster-{n}") for n in range(args.runs))
    local = min(local_runs, key=lambda r: r.seconds)
    remote = min(cluster_runs, key=lambda r: r.seconds)
    ratio = remote.seconds / local.seconds
    per_core = sum(media_seconds(r) for r in local_runs) / sum(r.cpu_seconds for r in local_runs)
    wall_rate = sum(e["duration"] for r in local_runs for e in r.events if e["event"] == "encoded") / \
        sum(e["seconds"] for r in local_runs for e in r.events if e["event"] == "encoded")
    workers = {e["worker"] for e in remote.events if e["event"] == "encoded"}
    rows = [
        ("local build, `-j 2`, cold cache (s)", f"{local.seconds:.1f}", ""),
        ("cluster build, LocalCluster of 2 single-thread workers, cold cache (s)", f"{remote.seconds:.1f}", ""),
        ("cluster / local, wall time", f"{ratio:.3f}", f"≤ {TARGET_RATIO}"),
        ("cluster / local, each run (noise of the shared machine)",
         ", ".join(f"{c.seconds / h.seconds:.3f}" for h, c in zip(local_runs, cluster_runs)), ""),
        ("workers that ran encodes", str(len(workers)), "2"),
        ("cluster and local builds byte-identical", "yes" if identical else "NO", "yes"),
        ("build rate of one core (media s per CPU s)", f"{per_core:.3f}", ""),
        ("build rate of one core (frames of 854x480 per CPU s)", f"{per_core * FPS:.1f}", ""),
        ("one encode's rate on this shared machine (media s per wall s)", f"{wall_rate:.3f}", ""),
    ]
    season_s = SEASON_HOURS * 3600
    projection = [(n, season_s / (per_core * args.cores_per_pc * n)) for n in OFFICE_PCS]
    table = results_table(rows)
    paper = (f"| office PCs ({args.cores_per_pc} cores each) | projected wall time for {SEASON_HOURS} h |\n"
             "|---:|---:|\n" + "".join(f"| {n} | {_days(s)} |\n" for n, s in projection))
    print(table)
    print(paper)
    ok = ratio <= TARGET_RATIO and identical
    seconds = sum(clip_seconds(args.clips, args.min_s, args.max_s))
    body = (f"{SECTION}\n\n`bench/scale.py`: the bundle of `bench/speed.py` ({args.clips} clips of "
            f"{args.min_s:.0f}–{args.max_s:.0f} s, {seconds:.0f} s of 1280x720 25 fps testsrc2 + sine, a Korean "
            f"SRT each, profile notel-480p) built with a cold cache locally (`-j 2`) and through a Dask "
            f"LocalCluster of 2 single-thread worker processes on 127.0.0.1 (`--executor dask://...`, the "
            f"cluster started once beforehand), best of {args.runs}, alternating, on {platform.machine()} with "
            f"{os.cpu_count()} cores (Python {platform.python_version()}, {_ffmpeg_version()}; load average at "
            f"the end: {os.getloadavg()[0]:.1f}; other work shared the machine, so wall times vary between "
            f"runs). The per-core rate is media seconds built per CPU second of the local builds and every "
            f"program they ran (probe, subtitles, encode, validation, scan), so other load does not lower "
            f"it; each encode runs on one thread, as the profile pins it. The projection divides {SEASON_HOURS} "
            f"hours by that rate times the cores of the office's PCs; it assumes sources like these (1280x720 "
            f"in, 854x480 out, preset slow), inputs and cache on a shared folder that keeps up, and one "
            f"single-thread encode per core (`dask worker --nworkers CORES --nthreads 1`). All targets met: "
            f"{'yes' if ok else 'no'}.\n\n" + table + "\n" + paper)
    if not args.no_doc:
        doc = REPO / "docs" / "benchmarks.md"
        import bench.verify_speed as vs
        saved, vs.SECTION = vs.SECTION, SECTION
        try:
            vs.write_section(doc, body)
        finally:
            vs.SECTION = saved
        print(f"wrote {SECTION} in {doc}")
    return 0 if ok else 1


def _days(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:.0f} h ({hours / 24:.1f} days)" if hours >= 24 else f"{hours:.1f} h"


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"bench/scale.py took {time.perf_counter() - started:.0f} s")
    sys.exit(code)
