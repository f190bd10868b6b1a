#!/usr/bin/env python3
"""Make the demo's sample media: a few seconds each, with natural-looking motion.

Several samples deliberately carry identifying metadata (GPS, camera serial, author,
chapter titles, cover art, creation time, encoder strings) so the demo can show it
removed. Everything is generated here; nothing is downloaded. Deterministic: the same
ffmpeg and Pillow give the same bytes.

    python samples/generate.py [DEST] [--seconds N]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
PLANTED_NAME = "Kim Planted-Author"
PLANTED_GPS = "+37.5665+126.9780/"
PLANTED_SERIAL = "SN-0042-PLANTED"


def ffmpeg(*args: str) -> None:
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    subprocess.run(cmd, check=True, timeout=600)


def landscape(path: Path, width: int = 2400, height: int = 720) -> None:
    """A detailed, seeded landscape (sky, hills, sea, boats) to pan across."""
    rnd = random.Random(7)
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height // 2):
        shade = int(120 + 100 * y / (height / 2))
        draw.line([(0, y), (width, y)], fill=(shade // 2, int(shade * 0.8), 255))
    for layer, colour in enumerate([(70, 110, 80), (50, 90, 60), (35, 70, 45)]):
        points = [(0, height)]
        y = height * (0.35 + 0.06 * layer)
        for x in range(0, width + 40, 40):
            y = min(max(y + rnd.uniform(-25, 25), height * 0.25), height * 0.55)
            points.append((x, y))
        points.append((width, height))
        draw.polygon(points, fill=colour)
    for y in range(int(height * 0.55), height):
        draw.line([(0, y), (width, y)], fill=(20, 60 + (y % 7) * 4, 110 + (y % 5) * 6))
    for _ in range(900):
        x, y = rnd.randrange(width), rnd.randrange(int(height * 0.56), height)
        draw.line([(x, y), (x + rnd.randrange(8, 30), y)], fill=(200, 220, 240))
    for _ in range(12):
        x, y = rnd.randrange(width - 80), rnd.randrange(int(height * 0.6), height - 60)
        draw.polygon([(x, y), (x + 70, y), (x + 55, y + 18), (x + 12, y + 18)], fill=(110, 60, 30))
        draw.line([(x + 35, y), (x + 35, y - 45)], fill=(40, 30, 20), width=3)
        draw.polygon([(x + 37, y - 45), (x + 37, y - 5), (x + 65, y - 8)], fill=(235, 230, 215))
    img.filter(ImageFilter.SMOOTH).save(path)


def cover_art(path: Path) -> None:
    img = Image.new("RGB", (300, 300), (180, 30, 40))
    ImageDraw.Draw(img).text((20, 140), f"COVER - {PLANTED_NAME}", fill=(255, 255, 255))
    img.save(path, "JPEG", quality=80)


def chapters_file(path: Path, seconds: float) -> None:
    half = int(seconds * 500)
    path.write_text(";FFMETADATA1\ntitle=Raw cut from Seoul office\n"
                    f"artist={PLANTED_NAME}\n"
                    "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\n"
                    f"END={half}\ntitle=Opening (edited by {PLANTED_NAME})\n"
                    f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={half}\nEND={int(seconds * 1000)}\ntitle=Harbour\n",
                    encoding="utf-8")


def photo(path: Path) -> None:
    """A JPEG with EXIF GPS, camera serial, artist, date, rotated orientation, comment and ICC."""
    img = Image.new("RGB", (1600, 1200))
    draw = ImageDraw.Draw(img)
    for y in range(1200):
        draw.line([(0, y), (1600, y)], fill=(30 + y // 8, 80 + y // 12, 160))
    draw.ellipse([600, 300, 1000, 700], fill=(250, 210, 80))
    exif = Image.Exif()
    exif[0x010F] = "PlantedCam"            # Make
    exif[0x0110] = "Model X-42"            # Model
    exif[0x013B] = PLANTED_NAME            # Artist
    exif[0x0132] = "2024:05:01 10:00:00"   # DateTime
    exif[0x0112] = 6                       # Orientation: rotate 90 CW to display
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0xA431] = PLANTED_SERIAL      # BodySerialNumber
    exif_ifd[0x9003] = "2024:05:01 10:00:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (37.0, 33.0, 59.4)
    gps[3], gps[4] = "E", (126.0, 58.0, 40.8)
    from PIL import ImageCms
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img.save(path, "JPEG", quality=90, exif=exif, icc_profile=icc, comment=f"shot by {PLANTED_NAME}".encode())


SUBTITLES = {
    # UTF-8 SRT with a translator credit and a URL that the build must scrub.
    "clip01.ko.srt": ("utf-8", """1
00:00:00,300 --> 00:00:01,800
바다 위로 해가 떠오릅니다.

2
00:00:02,000 --> 00:00:03,600
배들이 항구를 떠나 고기잡이를 나갑니다.

3
00:00:03,800 --> 00:00:05,500
번역: 김민준 (minjun.kim@example.org)

4
00:00:05,600 --> 00:00:05,950
www.example-subs.kr
"""),
    # CP949 SRT (the common older Korean encoding), with a character outside KS X 1001 ('똠').
    "clip02.ko.srt": ("cp949", """1
00:00:00,200 --> 00:00:01,900
여기는 작은 마을의 시장입니다.

2
00:00:02,100 --> 00:00:03,800
똠방각하라는 옛 소설이 있습니다.

3
00:00:04,000 --> 00:00:04,900
[KSUB] 자막 제작: 한결
"""),
}

SAMI = """<SAMI>
<HEAD>
<TITLE>clip03</TITLE>
<STYLE TYPE="text/css">
<!--
P { margin-left:8pt; margin-right:8pt; margin-bottom:2pt; margin-top:2pt; text-align:center; }
.KRCC { Name:Korean; lang:ko-KR; SAMIType:CC; }
.ENCC { Name:English; lang:en-US; SAMIType:CC; }
-->
</STYLE>
</HEAD>
<BODY>
<SYNC Start=300><P Class=KRCC>세포들이 모여 새로운 모양을 만듭니다.
<SYNC Start=300><P Class=ENCC>Cells gather into new shapes.
<SYNC Start=1900><P Class=KRCC>&nbsp;
<SYNC Start=1900><P Class=ENCC>&nbsp;
<SYNC Start=2200><P Class=KRCC>살아남은 것들은<br>다음 세대로 이어집니다.
<SYNC Start=2200><P Class=ENCC>Survivors carry on<br>to the next generation.
<SYNC Start=3900><P Class=KRCC>&nbsp;
<SYNC Start=3900><P Class=ENCC>&nbsp;
</BODY>
</SAMI>
"""


def write_subtitles(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name, (encoding, text) in SUBTITLES.items():
        (dest / name).write_bytes(text.replace("\n", "\r\n").encode(encoding))
    (dest / "clip03.smi").write_bytes(SAMI.replace("\n", "\r\n").encode("cp949"))


def generate(dest: Path, seconds: float = 6.0) -> None:
    media = dest / "media"
    media.mkdir(parents=True, exist_ok=True)
    write_subtitles(dest / "subs")
    work = dest / ".work"
    work.mkdir(exist_ok=True)
    s = f"{seconds:g}"

    # clip01: slow pan across a detailed landscape, 1280x720, with every kind of planted metadata.
    landscape(work / "landscape.png")
    cover_art(work / "cover.jpg")
    chapters_file(work / "chapters.txt", seconds)
    ffmpeg("-loop", "1", "-framerate", "25", "-i", str(work / "landscape.png"),
           "-f", "lavfi", "-i", f"anoisesrc=color=brown:amplitude=0.25:seed=3:duration={s},"
                                f"aformat=channel_layouts=stereo",
           "-i", str(work / "chapters.txt"), "-i", str(work / "cover.jpg"),
           "-map", "0:v", "-map", "1:a", "-map", "3:v", "-map_metadata", "2", "-map_chapters", "2",
           "-filter:v:0", f"crop=1280:720:x='t*(2400-1280)/{s}':y=0,format=yuv420p", "-t", s,
           "-c:v:0", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "aac", "-b:a", "128k",
           "-c:v:1", "copy", "-disposition:v:1", "attached_pic",
           "-metadata", f"artist={PLANTED_NAME}", "-metadata", "comment=camera roll 17, Yanji",
           "-metadata", "creation_time=2024-05-01T10:00:00Z", "-metadata", f"location={PLANTED_GPS}",
           "-metadata", "encoder=PlantedEncoder 9.1 (build 1234)",
           str(media / "clip01.mp4"))

    # clip02: a zoom into moving colour fields, 720x480 @ 30 fps, Matroska with tags. (ffmpeg 5.1's
    # `gradients` source draws different frames on every run despite its seed: not used.) Bit-exact
    # and one encoder thread, so the same sample every time and the encode cache keeps working.
    ffmpeg("-f", "lavfi", "-i", f"mandelbrot=s=720x480:r=30:end_pts=200,trim=duration={s},format=yuv420p",
           "-f", "lavfi", "-i", f"sine=frequency=220:sample_rate=48000:duration={s}",
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "22", "-threads", "1", "-c:a", "aac",
           "-fflags", "+bitexact",
           "-metadata", "title=Market day raw", "-metadata", f"director={PLANTED_NAME}",
           "-metadata", "creation_time=2024-06-02T08:30:00Z",
           str(media / "clip02.mkv"))

    # clip03: living cells, interlaced 640x360 (the build must deinterlace).
    ffmpeg("-f", "lavfi", "-i", f"life=s=640x360:r=25:mold=10:ratio=0.2:seed=5:death_color=#102040"
                                f":life_color=#f0d070:mold_color=#305030,format=yuv420p",
           "-f", "lavfi", "-i", f"aevalsrc=0.2*sin(2*PI*330*t)*sin(PI*t):s=44100:d={s}",
           "-t", s, "-c:v", "libx264", "-preset", "veryfast", "-flags", "+ilme+ildct", "-x264-params", "tff=1",
           "-c:a", "aac", "-metadata", f"author={PLANTED_NAME}", str(media / "clip03.mp4"))

    # song01: a tune with ID3 tags and cover art.
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc=0.3*sin(2*PI*(440+110*floor(t*2))*t):s=44100:d={s}",
           "-i", str(work / "cover.jpg"), "-map", "0:a", "-map", "1:v",
           "-c:a", "libmp3lame", "-b:a", "128k", "-c:v", "copy", "-id3v2_version", "3",
           "-metadata", f"artist={PLANTED_NAME}", "-metadata", "album=Seoul Sessions",
           "-metadata", "date=2024", "-metadata", "comment=ripped on laptop HOME-PC",
           str(media / "song01.mp3"))

    photo(media / "photo01.jpg")
    shutil.rmtree(work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", nargs="?", default=str(HERE))
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args(argv)
    generate(Path(args.dest), args.seconds)
    print(f"samples written to {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
