#!/usr/bin/env python3
"""How close `infopack plan`'s size estimates come to what the build writes (a script, not a test).

Generates a varied set of 1280x720, 25 fps clips with lavfi (a talking head, fast motion,
a dark scene, film-grain noise, flat-colour animation, static slides, and one item that
changes from slides to noise to motion half-way), plans a bundle of them for every video
profile (sample encodes, infopack.plan.samples; and the `--fast` upper estimate), builds it,
and prints estimate against built bytes per item and per bundle. The requirement
(issue 16): every item within +-25%, every bundle within +-10%.

    .venv/bin/python bench/plan_accuracy.py [--seconds 30] [--jobs 2] [--work DIR] [--write-docs]

`--work DIR` keeps the clips and the builds' encode cache between runs (a rerun builds
nothing; the sample encodes run every time, so their time is measured);
`--write-docs` replaces the `## Plan accuracy` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from infopack.build import build  # noqa: E402
from infopack.build.cache import Cache  # noqa: E402
from infopack.manifest import load_manifest  # noqa: E402
from infopack.plan import make_plan  # noqa: E402
from infopack.plan.samples import SAMPLE_HEADROOM  # noqa: E402
from infopack.release.keys import keygen, load_signing_key  # noqa: E402

PROFILES = ["notel-480p", "phone-720p", "modern-hevc", "legacy-avi"]
DOCS = REPO / "docs" / "benchmarks.md"
SIZE = "1280x720"
ITEM_LIMIT, BUNDLE_LIMIT = 0.25, 0.10

# name -> (title, lavfi video graph for `seconds`); every clip gets the same kind of soundtrack.
CLIPS = {
    "talking-head": ("talking head", "gradients=s={size}:r=25:c0=0x303848:c1=0x605040:speed=0.0002[bg];"
                     "testsrc2=s=320x400:r=25[face];"
                     "[bg][face]overlay=x='480+14*sin(t*1.3)':y='200+8*sin(t*2.1)',noise=alls=4:allf=t"),
    "fast-motion": ("fast motion", "testsrc2=s={size}:r=25,rotate=a='t*0.9':c=black,scroll=h=0.004:v=0.002"),
    "dark": ("dark scene", "mandelbrot=s={size}:r=25:maxiter=200:start_scale=3:end_scale=0.05,"
             "eq=brightness=-0.3:contrast=0.6,noise=alls=3:allf=t"),
    "noisy": ("film grain", "testsrc=s={size}:r=25,noise=alls=28:allf=t+u"),
    "animation": ("flat animation", "life=s=320x180:r=25:mold=8:ratio=0.15:seed=7:life_color=#ffcc00:"
                  "death_color=#203080:mold_color=#402060,scale={size}:flags=neighbor"),
    "slides": ("static slides", "testsrc=s={size}:r=0.2,fps=25"),
    "mixed": ("slides, then grain, then motion", "testsrc=s={size}:r=0.2,fps=25,trim=0:{third}[a];"
              "testsrc=s={size}:r=25,noise=alls=28:allf=t+u,trim=0:{third},setpts=PTS-STARTPTS[b];"
              "testsrc2=s={size}:r=25,rotate=a='t*0.9':c=black,trim=0:{third},setpts=PTS-STARTPTS[c];"
              "[a][b][c]concat=n=3:v=1:a=0"),
}


def generate(folder: Path, seconds: float) -> dict[str, Path]:
    """The clips, made once per folder (x264 CRF 16 + AAC: sources much better than any profile)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, (_, graph) in CLIPS.items():
        length = seconds * 1.5 if name == "mixed" else seconds
        path = folder / f"{name}-{length:g}s.mp4"
        made[name] = path
        if path.exists():
            continue
        video = graph.format(size=SIZE, third=length / 3)
        audio = (f"aevalsrc='0.25*sin(2*PI*220*t)*sin(2*PI*0.5*t)+0.04*(random(0)-0.5)|"
                 f"0.25*sin(2*PI*330*t)*sin(2*PI*0.7*t)+0.04*(random(1)-0.5)':s=44100:d={length}")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-filter_complex", f"{video}[v]",
                        "-f", "lavfi", "-i", audio, "-map", "[v]", "-map", "0:a", "-t", str(length),
                        "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "192k", str(path)], check=True, timeout=1800)
    return made


def write_manifest(folder: Path, profile: str, clips: dict[str, Path]) -> Path:
    lines = ["[bundle]", f'id = "accuracy-{profile}"', 'title = "plan accuracy"', f'profile = "{profile}"',
             'card = "64GB"', ""]
    for name, path in clips.items():
        source = path.relative_to(folder).as_posix()
        lines += ["[[items]]", f'id = "{name}"', f'title = "{CLIPS[name][0]}"', f'source = "{source}"', ""]
    manifest = folder / f"{profile}.toml"
    manifest.write_text("\n".join(lines), encoding="utf-8")
    return manifest


def measure(profile: str, clips: dict[str, Path], work: Path, key, jobs: int) -> list[dict]:
    """One row per item (and a bundle row): upper, sampled estimate, built bytes."""
    manifest = write_manifest(work, profile, clips)
    bundle = load_manifest(manifest)
    with tempfile.TemporaryDirectory(prefix="samples-", dir=work) as fresh:    # sample encodes timed every run
        started = time.monotonic()
        sampled = make_plan(bundle, memo=Cache(fresh), jobs=jobs)
        sample_seconds = time.monotonic() - started
    upper = make_plan(bundle, fast=True)
    result = build(bundle, work / f"out-{profile}", key, jobs=jobs, cache=work / "cache")
    out = result.out
    rows = []
    for item in result.items:
        built = sum((out / result.cards[0].card_id / path).stat().st_size for path in item.paths.values())
        rows.append({"item": item.item.id, "seconds": item.info.duration,
                     "upper": sum(upper.items[item.item.id].sizes.values()),
                     "estimate": sum(sampled.items[item.item.id].sizes.values()), "built": built})
    rows.append({"item": "bundle", "seconds": sum(r["seconds"] for r in rows),
                 "upper": sum(r["upper"] for r in rows), "estimate": sum(r["estimate"] for r in rows),
                 "built": sum(r["built"] for r in rows), "sample_seconds": sample_seconds})
    return rows


def error(row: dict, column: str = "estimate") -> float:
    return row[column] / row["built"] - 1


def table(results: dict[str, list[dict]]) -> tuple[str, bool]:
    lines = ["| profile | item | seconds | built bytes | estimate | error | `--fast` (caps) | error |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    ok = True
    for profile, rows in results.items():
        for row in rows:
            limit = BUNDLE_LIMIT if row["item"] == "bundle" else ITEM_LIMIT
            within = abs(error(row)) <= limit
            ok &= within
            name = f"**{row['item']}**" if row["item"] == "bundle" else row["item"]
            mark = "" if within else " ✗"
            lines.append(f"| {profile} | {name} | {row['seconds']:.0f} | {row['built']:,} | {row['estimate']:,} | "
                         f"{100 * error(row):+.1f}%{mark} | {row['upper']:,} | {100 * error(row, 'upper'):+.0f}% |")
    return "\n".join(lines), ok


def summary(results: dict[str, list[dict]]) -> str:
    items = [abs(error(r)) for rows in results.values() for r in rows if r["item"] != "bundle"]
    bundles = [abs(error(rows[-1])) for rows in results.values()]
    low = min(error(r) for rows in results.values() for r in rows if r["item"] != "bundle")
    return (f"Largest item error {100 * max(items):.1f}%, largest bundle error {100 * max(bundles):.1f}%, "
            f"largest underestimate {100 * low:+.1f}% (packing headroom on sampled sizes: "
            f"{SAMPLE_HEADROOM:.0%}).")


def write_docs(text: str) -> None:
    doc = DOCS.read_text(encoding="utf-8")
    section = "## Plan accuracy\n\n" + text.rstrip("\n") + "\n"
    pattern = re.compile(r"^## Plan accuracy\n.*?(?=^## |\Z)", re.S | re.M)
    doc = pattern.sub(lambda _: section + "\n", doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + section
    DOCS.write_text(doc, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each clip (the mixed one: 1.5x)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None, help="keep clips and cache here between runs")
    parser.add_argument("--profiles", default=",".join(PROFILES))
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="infopack-accuracy-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        clips = generate(work / "clips", args.seconds)
        if not (work / "curator.key").exists():
            keygen(work / "curator", "curator", None)
        key = load_signing_key(work / "curator.key", None)
        results = {}
        for profile in args.profiles.split(","):
            started = time.monotonic()
            results[profile] = measure(profile, clips, work, key, args.jobs)
            print(f"{profile}: {time.monotonic() - started:.0f} s", file=sys.stderr)
        text, ok = table(results)
    sample_note = ", ".join(f"{p} {rows[-1]['sample_seconds']:.0f} s" for p, rows in results.items())
    body = (f"`bench/plan_accuracy.py --seconds {args.seconds:g}`: `infopack plan`'s estimate of each item "
            f"against the bytes the build wrote, on {len(CLIPS)} generated {SIZE} clips (talking head, fast "
            f"motion, dark, film grain, flat animation, static slides, and one that goes from slides to grain "
            f"to motion). Estimates come from sample encodes (`infopack/plan/samples.py`: windows of one GOP "
            f"with the profile's own command); `--fast` is the profile's caps. Requirement: items within "
            f"±{ITEM_LIMIT:.0%}, bundles within ±{BUNDLE_LIMIT:.0%}.\n\n{text}\n\n{summary(results)} "
            f"Sample encodes took (first plan, {args.jobs} jobs): {sample_note}; a second plan reuses them.\n")
    print(body)
    if args.write_docs:
        write_docs(body)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
