#!/usr/bin/env python3
"""How many bytes each video profile needs for a given picture quality (a script, not a test).

Generates five short 854x480 clips that resemble real content (slow pan over a detailed
landscape, fast motion, a talking head, text on a board, a dark scene), encodes each

  * with notel-480p's real command (infopack's VideoHandler) at several CRFs,
  * with the reference: the best-known offline pipeline's recipe
    `-c:v libx264 -profile:v baseline -level 3.0 -preset slow -crf N`, height <= 480,
  * with the other video profiles at a couple of rates,

measures SSIM against the source (ffmpeg's ssim filter; VMAF too when libvmaf exists),
computes the Bjøntegaard delta rate of notel-480p against the reference (piecewise
cubic interpolation of log-rate over SSIM in dB, integrated over the shared quality
range) per clip and overall, and the encode speed. Every encoder runs with one thread,
so speeds compare like for like and the run fits on a small machine.

Audio is benchmarked apart (the clips are silent): the table lists each recipe's audio
bitrate, which adds the same bytes whatever the picture.

    .venv/bin/python bench/compactness.py [--seconds 5] [--jobs 2] [--write-docs] [--notel KEY=VALUE ...]

`--notel crf=...` style overrides change notel-480p's [video] settings for a tuning run;
`--write-docs` replaces the `## Compactness` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402

from infopack.kinds.base import EncodeJob  # noqa: E402
from infopack.kinds.video import VideoHandler  # noqa: E402
from infopack.manifest import Item  # noqa: E402
from infopack.kinds.probe import probe  # noqa: E402
from infopack.profiles import load_profile  # noqa: E402

WIDTH, HEIGHT, FPS = 854, 480, 25
REFERENCE_CRFS = [26, 29, 32, 35, 38]
NOTEL_CRFS = [24, 27, 30, 33, 36]
OTHER_RATES = {"phone-720p": ("crf", [25, 30]), "modern-hevc": ("crf", [27, 32]),
               "legacy-avi": ("qscale", [5, 8])}
REFERENCE_AUDIO = "AAC 32k mono"
DOCS = REPO / "docs" / "benchmarks.md"
FONT = "/usr/share/fonts/truetype/nanum/NanumSquareRoundB.ttf"


def ffmpeg(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-y", *args], capture_output=True,
                          timeout=timeout, check=True)


# --- clips ------------------------------------------------------------------------------

def landscape(width: int = 2400, height: int = 720) -> Image.Image:
    """A detailed, seeded landscape (the demo's generator) with extra fine texture."""
    sys.path.insert(0, str(REPO / "samples"))
    from generate import landscape as draw_landscape
    with tempfile.TemporaryDirectory() as tmp:
        draw_landscape(Path(tmp) / "l.png", width, height)
        img = Image.open(Path(tmp) / "l.png").convert("RGB")
    rnd = random.Random(3)
    draw = ImageDraw.Draw(img)
    for _ in range(6000):                          # grass, leaves, ripples: detail to spend bits on
        x, y = rnd.randrange(width), rnd.randrange(int(height * 0.3), height)
        shade = rnd.randrange(-40, 40)
        r, g, b = img.getpixel((x, y))
        draw.line([(x, y), (x + rnd.randrange(1, 6), y + rnd.randrange(-3, 4))],
                  fill=(max(0, r + shade), max(0, g + shade), max(0, b + shade)))
    return img


def pipe_frames(frames, out: Path, seconds: float) -> None:
    """Raw RGB frames into a lossless FFV1 source (yuv420p), so every recipe starts from the same pixels."""
    proc = subprocess.Popen(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
                             "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "-",
                             "-t", str(seconds), "-pix_fmt", "yuv420p", "-c:v", "ffv1", str(out)],
                            stdin=subprocess.PIPE)
    for frame in frames:
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait(timeout=600):
        raise RuntimeError(f"could not write {out}")


def make_clips(dest: Path, seconds: float) -> dict[str, Path]:
    frames = int(seconds * FPS)
    land = landscape()
    land.save(dest / "landscape.png")
    clips = {}

    def from_landscape(name: str, crop_x: str, extra: str) -> None:
        ffmpeg("-loop", "1", "-framerate", str(FPS), "-i", str(dest / "landscape.png"), "-t", str(seconds),
               "-vf", f"crop=1280:720:x='{crop_x}':y=0,scale={WIDTH}:{HEIGHT}:flags=lanczos{extra},format=yuv420p",
               "-c:v", "ffv1", str(dest / f"{name}.mkv"))
        clips[name] = dest / f"{name}.mkv"

    # A slow pan across a detailed scene, with light film grain.
    from_landscape("pan", f"t*{(2400 - 1280) / 4 / seconds:.1f}", ",noise=alls=3:allf=t")
    # Fast motion: a whip pan back and forth with motion blur-free detail.
    from_landscape("fast", "(2400-1280)*(0.5+0.5*sin(2.6*t))", ",noise=alls=3:allf=t")
    # Night: the same world, dark and grainy (banding and blocking show here first).
    from_landscape("dark", f"t*{(2400 - 1280) / 8 / seconds:.1f}",
                   ",eq=brightness=-0.18:gamma=0.55:saturation=0.6,noise=alls=3:allf=t")

    # A talking head: a mostly still person before a soft background; head sway, blinks, mouth.
    rnd = random.Random(5)
    background = Image.new("RGB", (WIDTH, HEIGHT))
    bg = ImageDraw.Draw(background)
    for y in range(HEIGHT):
        bg.line([(0, y), (WIDTH, y)], fill=(70 + y // 12, 80 + y // 10, 95 + y // 14))
    for _ in range(40):
        x, y = rnd.randrange(WIDTH), rnd.randrange(HEIGHT)
        bg.rectangle([x, y, x + rnd.randrange(30, 120), y + rnd.randrange(30, 160)],
                     fill=(rnd.randrange(60, 140), rnd.randrange(60, 120), rnd.randrange(60, 110)))
    background = background.filter(ImageFilter.GaussianBlur(6))

    def head_frames():
        for i in range(frames):
            t = i / FPS
            img = background.copy()
            d = ImageDraw.Draw(img)
            cx, cy = WIDTH // 2 + int(6 * math.sin(t * 1.3)), 230 + int(3 * math.sin(t * 0.7))
            d.polygon([(cx - 170, HEIGHT), (cx - 120, 360), (cx + 120, 360), (cx + 170, HEIGHT)], fill=(40, 45, 70))
            d.ellipse([cx - 95, cy - 125, cx + 95, cy + 125], fill=(226, 188, 160))
            d.chord([cx - 100, cy - 140, cx + 100, cy + 10], 180, 360, fill=(35, 25, 20))
            blink = (i % 90) < 4
            for ex in (cx - 40, cx + 40):
                if blink:
                    d.line([(ex - 15, cy - 20), (ex + 15, cy - 20)], fill=(60, 40, 30), width=3)
                else:
                    d.ellipse([ex - 15, cy - 30, ex + 15, cy - 10], fill=(250, 250, 250))
                    d.ellipse([ex - 6, cy - 26, ex + 6, cy - 14], fill=(50, 35, 25))
            opening = int(4 + 12 * abs(math.sin(t * 9)) * (0.5 + 0.5 * math.sin(t * 2)))
            d.ellipse([cx - 30, cy + 55 - opening // 2, cx + 30, cy + 55 + opening // 2], fill=(120, 40, 50))
            yield img.filter(ImageFilter.GaussianBlur(0.8))

    pipe_frames(head_frames(), dest / "talking-head.mkv", seconds)
    clips["talking-head"] = dest / "talking-head.mkv"

    # Text on a board: lines of Hangul and Latin written one after another, a slightly shaky camera.
    lines = ["세포는 생명의 가장 작은 단위입니다", "DNA → RNA → 단백질", "광합성: 6CO₂ + 6H₂O → C₆H₁₂O₆ + 6O₂",
             "오늘의 숙제: 교과서 42-45쪽", "질문은 언제든지 환영합니다"]
    font = ImageFont.truetype(FONT, 30) if Path(FONT).exists() else ImageFont.load_default()
    board = Image.new("RGB", (WIDTH + 20, HEIGHT + 20), (32, 62, 48))
    bd = ImageDraw.Draw(board)
    for _ in range(3000):
        x, y = rnd.randrange(WIDTH + 20), rnd.randrange(HEIGHT + 20)
        bd.point((x, y), fill=(44, 76, 60))
    bd.rectangle([0, HEIGHT - 10, WIDTH + 20, HEIGHT + 20], fill=(120, 90, 60))

    def board_frames():
        per_line = max(1, frames // (len(lines) + 1))
        for i in range(frames):
            img = board.copy()
            d = ImageDraw.Draw(img)
            for n, text in enumerate(lines):
                shown = min(len(text), max(0, int((i - n * per_line) / per_line * len(text) * 1.5)))
                if shown:
                    d.text((50, 40 + n * 70), text[:shown], font=font, fill=(235, 235, 225))
            dx, dy = int(3 + 2 * math.sin(i / 7)), int(3 + 2 * math.cos(i / 11))
            yield img.crop((dx, dy, dx + WIDTH, dy + HEIGHT))

    pipe_frames(board_frames(), dest / "board.mkv", seconds)
    clips["board"] = dest / "board.mkv"
    return dict(sorted(clips.items(), key=lambda kv: ["pan", "fast", "talking-head", "board", "dark"].index(kv[0])))


# --- encodes and measurements -------------------------------------------------------------

@dataclasses.dataclass
class Point:
    clip: str
    recipe: str
    setting: str
    kbps: float
    ssim: float
    fps: float
    vmaf: float | None = None

    @property
    def ssim_db(self) -> float:
        return -10 * math.log10(max(1e-10, 1 - self.ssim))


def reference_command(src: Path, out: Path, crf: float) -> list[str]:
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-an",
            "-vf", "scale=-2:'min(480,ih)'", "-c:v", "libx264", "-profile:v", "baseline", "-level", "3.0",
            "-preset", "slow", "-crf", str(crf), "-threads", "1", "-f", "mp4", str(out)]


def profile_command(profile, src: Path, out: Path) -> list[str]:
    info = probe(src)
    job = EncodeJob(item=Item(id="bench", title="bench", source=src), info=info, profile=profile, work_dir=out.parent)
    return VideoHandler().command(job, out)


def with_video(profile, **changes):
    return dataclasses.replace(profile, video=dataclasses.replace(profile.video, **changes))


def has_libvmaf() -> bool:
    out = subprocess.run(["ffmpeg", "-hide_banner", "-filters"], capture_output=True, timeout=30).stdout
    return b" libvmaf " in out


def measure(clip: str, recipe: str, setting: str, command: list[str], src: Path, out: Path,
            frames: int, seconds: float, vmaf: bool) -> Point:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=1800)
    elapsed = time.perf_counter() - start
    kbps = out.stat().st_size * 8 / seconds / 1000
    graph = "[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[r0];[r0][a]scale2ref=flags=lanczos[r][b];[b][r]ssim"
    text = ffmpeg("-i", str(out), "-i", str(src), "-lavfi", graph, "-f", "null", "-").stderr.decode()
    ssim = float(re.findall(r"All:([0-9.]+)", text)[-1])
    score = None
    if vmaf:
        graph = "[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[r0];[r0][a]scale2ref=flags=lanczos[r][b];[b][r]libvmaf"
        text = ffmpeg("-i", str(out), "-i", str(src), "-lavfi", graph, "-f", "null", "-").stderr.decode()
        found = re.findall(r"VMAF score: ([0-9.]+)", text)
        score = float(found[-1]) if found else None
    return Point(clip, recipe, setting, kbps, ssim, frames / elapsed, score)


# --- Bjøntegaard delta rate ---------------------------------------------------------------

def _pchip(xs: list[float], ys: list[float]):
    """Monotone piecewise cubic Hermite interpolation (Fritsch-Carlson), as modern BD-rate tools use."""
    n = len(xs)
    h = [xs[i + 1] - xs[i] for i in range(n - 1)]
    delta = [(ys[i + 1] - ys[i]) / h[i] for i in range(n - 1)]
    m = [0.0] * n
    m[0], m[-1] = delta[0], delta[-1]
    for i in range(1, n - 1):
        if delta[i - 1] * delta[i] <= 0:
            m[i] = 0.0
        else:
            w1, w2 = 2 * h[i] + h[i - 1], h[i] + 2 * h[i - 1]
            m[i] = (w1 + w2) / (w1 / delta[i - 1] + w2 / delta[i])

    def f(x: float) -> float:
        i = max(0, min(n - 2, next((k for k in range(n - 1) if x <= xs[k + 1]), n - 2)))
        t = (x - xs[i]) / h[i]
        h00, h10 = 2 * t ** 3 - 3 * t ** 2 + 1, t ** 3 - 2 * t ** 2 + t
        h01, h11 = -2 * t ** 3 + 3 * t ** 2, t ** 3 - t ** 2
        return h00 * ys[i] + h10 * h[i] * m[i] + h01 * ys[i + 1] + h11 * h[i] * m[i + 1]
    return f


def bd_rate(anchor: list[Point], test: list[Point]) -> float | None:
    """Average bitrate difference (%) of `test` against `anchor` at equal SSIM (dB); None if the
    curves share no quality range."""
    curves = []
    for points in (anchor, test):
        pts = sorted({round(p.ssim_db, 6): p for p in points}.values(), key=lambda p: p.ssim_db)
        if len(pts) < 2:
            return None
        curves.append(([p.ssim_db for p in pts], [math.log10(p.kbps) for p in pts]))
    low = max(curves[0][0][0], curves[1][0][0])
    high = min(curves[0][0][-1], curves[1][0][-1])
    if high - low < 0.05:
        return None
    fa, ft = _pchip(*curves[0]), _pchip(*curves[1])
    steps = 400
    diff = sum(ft(low + (high - low) * (k + 0.5) / steps) - fa(low + (high - low) * (k + 0.5) / steps)
               for k in range(steps)) / steps
    return (10 ** diff - 1) * 100


# --- the run ------------------------------------------------------------------------------

def parse_override(text: str):
    key, _, value = text.partition("=")
    for cast in (int, float):
        try:
            return key, cast(value)
        except ValueError:
            pass
    return key, value


def run(seconds: float, jobs: int, notel_overrides: dict, quick: bool) -> tuple[list[Point], dict]:
    vmaf = has_libvmaf()
    notel = load_profile("notel-480p")
    if notel_overrides:
        notel = with_video(notel, **notel_overrides)
    others = {pid: load_profile(pid) for pid in OTHER_RATES}
    with tempfile.TemporaryDirectory(prefix="compactness-") as tmp:
        work = Path(tmp)
        clips = make_clips(work, seconds)
        frames = int(seconds * FPS)
        tasks = []
        for clip, src in clips.items():
            for crf in REFERENCE_CRFS:
                out = work / f"{clip}-ref-{crf}.mp4"
                tasks.append((clip, "reference", f"crf {crf}", reference_command(src, out, crf), src, out))
            for crf in NOTEL_CRFS:
                out = work / f"{clip}-notel-{crf}.mp4"
                tasks.append((clip, "notel-480p", f"crf {crf}",
                              profile_command(with_video(notel, crf=crf), src, out), src, out))
            if quick:
                continue
            for pid, (key, values) in OTHER_RATES.items():
                for value in values:
                    out = work / f"{clip}-{pid}-{value}{others[pid].extension}"
                    tasks.append((clip, pid, f"{key} {value}",
                                  profile_command(with_video(others[pid], **{key: value}), src, out), src, out))
        # Slow encodes first, so the pool's two workers finish together.
        tasks.sort(key=lambda t: t[1] != "modern-hevc")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            points = list(pool.map(lambda t: measure(*t, frames=frames, seconds=seconds, vmaf=vmaf), tasks))
    settings = {"notel": dataclasses.asdict(notel.video), "vmaf": vmaf, "seconds": seconds,
                "audio": {"reference": REFERENCE_AUDIO,
                          **{pid: f"{p.audio.codec} {p.audio.bitrate} "
                                  f"{'mono' if p.audio.channels == 1 else 'stereo'}"
                             for pid, p in [("notel-480p", notel), *others.items()]}}}
    return points, settings


def summarise(points: list[Point], settings: dict) -> tuple[str, float | None]:
    clips = list(dict.fromkeys(p.clip for p in points))
    lines = ["| clip | notel-480p BD-rate vs reference (SSIM) | reference kbps @ SSIM (crf 32) | "
             "notel kbps / SSIM at crf " + str(settings["notel"]["crf"]) + " | ref fps | notel fps |",
             "|---|---:|---:|---:|---:|---:|"]
    rates, ref_speed, notel_speed = [], [], []
    for clip in clips:
        ref = [p for p in points if p.clip == clip and p.recipe == "reference"]
        notel = [p for p in points if p.clip == clip and p.recipe == "notel-480p"]
        rate = bd_rate(ref, notel)
        if rate is not None:
            rates.append(rate)
        r32 = next((p for p in ref if p.setting == "crf 32"), ref[len(ref) // 2])
        nearest = min(notel, key=lambda p: abs(float(p.setting.split()[1]) - float(settings["notel"]["crf"])))
        rf = sum(p.fps for p in ref) / len(ref)
        nf = sum(p.fps for p in notel) / len(notel)
        ref_speed.append(rf)
        notel_speed.append(nf)
        lines.append(f"| {clip} | {'n/a' if rate is None else f'{rate:+.1f}%'} | {r32.kbps:.0f} @ {r32.ssim:.4f} | "
                     f"{nearest.kbps:.0f} / {nearest.ssim:.4f} ({nearest.setting}) | {rf:.1f} | {nf:.1f} |")
    overall = sum(rates) / len(rates) if rates else None
    speed_ratio = (sum(ref_speed) / len(ref_speed)) / (sum(notel_speed) / len(notel_speed))
    lines.append(f"| **overall** | **{'n/a' if overall is None else f'{overall:+.1f}%'}** | | | "
                 f"{sum(ref_speed) / len(ref_speed):.1f} | {sum(notel_speed) / len(notel_speed):.1f} |")
    lines.append("")
    lines.append(f"Negative BD-rate = fewer bits than the reference for the same SSIM. Encode speed: notel-480p "
                 f"takes {speed_ratio:.2f}x the reference's time per frame (one thread each).")
    lines.append("")
    lines.append("All rate points (video only; kbps = file bits / duration; SSIM against the lossless source"
                 + (", VMAF with libvmaf" if settings["vmaf"] else "; libvmaf is not in this ffmpeg") + "):")
    lines.append("")
    lines.append("| clip | recipe | setting | kbps | SSIM | SSIM dB | fps |" + (" VMAF |" if settings["vmaf"] else ""))
    lines.append("|---|---|---|---:|---:|---:|---:|" + ("---:|" if settings["vmaf"] else ""))
    order = ["reference", "notel-480p", *OTHER_RATES]
    for p in sorted(points, key=lambda p: (clips.index(p.clip), order.index(p.recipe), -p.kbps)):
        lines.append(f"| {p.clip} | {p.recipe} | {p.setting} | {p.kbps:.0f} | {p.ssim:.4f} | {p.ssim_db:.2f} | "
                     f"{p.fps:.1f} |" + (f" {p.vmaf:.1f} |" if settings["vmaf"] and p.vmaf is not None else ""))
    lines.append("")
    lines.append("Audio (not in the kbps above; the clips are silent): "
                 + "; ".join(f"{k}: {v}" for k, v in settings["audio"].items())
                 + ". The reference's 32k mono garbles speech on tiny speakers; notel-480p keeps 64k stereo AAC-LC, "
                   "so at the same video quality a notel file carries 32 kbps more audio.")
    return "\n".join(lines), overall


def write_docs(body: str, settings: dict) -> None:
    v = settings["notel"]
    notel_line = (f"notel-480p as benchmarked: libx264 {v['profile']} level {v['level']}, preset {v['preset']}, "
                  f"crf {v['crf']} (capped at {v['maxrate']}/{v['bufsize']}), bframes {v['bframes']}, "
                  f"refs {v['refs']}, x264-params `{v['params'] or '-'}`, threads {v['threads']}.")
    section = ("## Compactness\n\n"
               "Written by `bench/compactness.py` (re-run it after changing a profile). "
               f"Five synthetic {settings['seconds']:g} s clips at {WIDTH}x{HEIGHT}, {FPS} fps, "
               "encoded from lossless sources. Reference: the best-known offline pipeline, "
               "`-c:v libx264 -profile:v baseline -level 3.0 -preset slow -crf 26..38`, height <= 480. "
               "BD-rate: piecewise cubic (PCHIP) fit of log-rate over SSIM in dB, averaged over the shared "
               "quality range; overall = mean of the clips.\n\n" + notel_line + "\n\n" + body + "\n")
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    match = re.search(r"(?ms)^## Compactness\n.*?(?=^## |\Z)", text)
    if match:
        text = text[:match.start()] + section + ("\n" if text[match.end():] else "") + text[match.end():]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--notel", action="append", default=[], metavar="KEY=VALUE",
                        help="override a notel-480p [video] setting (tuning runs)")
    parser.add_argument("--quick", action="store_true", help="reference and notel-480p only")
    parser.add_argument("--write-docs", action="store_true", help="replace ## Compactness in docs/benchmarks.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    points, settings = run(args.seconds, args.jobs, dict(parse_override(o) for o in args.notel), args.quick)
    body, overall = summarise(points, settings)
    print(body)
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")
    if args.write_docs:
        write_docs(body, settings)
        print(f"wrote the Compactness section of {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
