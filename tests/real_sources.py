"""A realistic source corpus made with real ffmpeg and Pillow: what a curator is really handed.

A portrait phone clip (stored landscape, turned by a 90-degree display matrix, as phones
write it), a DVD rip (720x480 MPEG-2 with SAR 32:27), a drama at 29.97 fps and its next
episode at 59.94 fps (1280x720, release-named), an interlaced 1080i broadcast recording in
MPEG-TS, an old camera's MJPEG clip, and photos and a screenshot named by a phone and by
KakaoTalk. `LONG_TITLE` is the 90-syllable Hangul title (270 bytes in UTF-8: no file system
takes it as a name). `rate_clip` makes the 1280x720 clips at each broadcast frame rate.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
SECONDS = "1.5"

PHONE = "VID_20230501_103000.mp4"
DVD = "Sea.Story.1999.DVDRip.XviD-GRP.mpg"
DRAMA_2997 = "Red.River.S01E01.720p.HDTV.x264-KOR.mkv"
DRAMA_5994 = "Red.River.S01E02.720p.HDTV.x264-KOR.mkv"
BROADCAST_1080I = "나의 아저씨 제3회 1080i HDTV-WITH.ts"
CAMERA_MJPEG = "MVI_0001.AVI"
PHOTOS = ("IMG_20230501_103000.jpg", "KakaoTalk_20230501_123456789.jpg", "Screenshot_2023-05-01-10-30-00.png")
LONG_TITLE = "".join(chr(0xAC00 + 37 * n) for n in range(90))

# source rate -> output rate in profiles capped at 30 fps (50 and 59.94 are halved)
RATES = {"23.976": Fraction(24000, 1001), "25": Fraction(25), "29.97": Fraction(30000, 1001), "30": Fraction(30),
         "50": Fraction(50), "59.94": Fraction(60000, 1001)}


def ffmpeg(*args) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)],
                   check=True, capture_output=True, timeout=300)


def picture(size: str, rate) -> list[str]:
    """A moving test picture with sound: asymmetric, so a turned or stretched output shows."""
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}", "-f", "lavfi", "-i",
            f"sine=frequency=330:sample_rate=48000:duration={SECONDS}", "-t", SECONDS, "-shortest"]


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # a phone's portrait video: landscape pixels and a display matrix that turns them 90 degrees
    # clockwise (ffmpeg 5.1's rotate=-90 writes the matrix phones write; tests/test_geometry.py)
    landscape = folder / "landscape.tmp.mp4"
    ffmpeg(*picture("1280x720", 30), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", landscape)
    ffmpeg("-i", landscape, "-c", "copy", "-metadata:s:v", "rotate=-90", folder / PHONE)
    landscape.unlink()
    # a DVD rip: 720x480 MPEG-2 at 29.97 fps, 16:9 shown through SAR 32:27, AC-3 sound
    ffmpeg(*picture("720x480", "30000/1001"), "-c:v", "mpeg2video", "-b:v", "4M", "-aspect", "16:9",
           "-c:a", "ac3", "-f", "dvd", folder / DVD)
    # a drama and its next episode, 1280x720 at 29.97 and 59.94 fps
    for name, rate in ((DRAMA_2997, "30000/1001"), (DRAMA_5994, "60000/1001")):
        ffmpeg(*picture("1280x720", rate), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
               "-c:a", "aac", folder / name)
    # a broadcast recording: 1080i50 (interlaced, top field first) in MPEG-TS
    ffmpeg(*picture("1920x1080", 25), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
           "-flags", "+ilme+ildct", "-x264-params", "tff=1", "-c:a", "mp2", folder / BROADCAST_1080I)
    # an old compact camera: MJPEG (full-range yuvj420p) with PCM sound in AVI
    ffmpeg(*picture("640x480", 30), "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", "5", "-c:a", "pcm_s16le",
           folder / CAMERA_MJPEG)
    for n, name in enumerate(PHOTOS):
        img = Image.new("RGB", (800, 600), (40 + 60 * n, 120, 200))
        ImageDraw.Draw(img).ellipse((200, 100, 600, 500), fill=(240, 220, 90))
        img.save(folder / name)
    return folder


def rate_clip(folder: Path, label: str) -> Path:
    """A 1 s 1280x720 clip with sound at one of RATES."""
    path = folder / f"rate-{label}.mp4"
    rate = RATES[label]
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate={rate.numerator}/{rate.denominator}", "-f", "lavfi",
           "-i", "sine=frequency=440:sample_rate=48000:duration=1", "-t", "1", "-shortest", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", path)
    return path


def bomb_png(path: Path, side: int = 20000) -> Path:
    """A decompression bomb: a 1-bit side x side PNG of zeros, about 50 KB on disk, 400 megapixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    squeeze = zlib.compressobj(9)
    row = bytes(1 + side // 8)
    data = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path
