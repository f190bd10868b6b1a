"""Poster frames, contact sheets and picture thumbnails for the review: frames pulled with
ffmpeg, composed with Pillow.

Deterministic on purpose (report.html must be byte-identical for the same inputs):
one decoder thread, bitexact PNG frames, PNGs saved without any metadata chunk.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from infopack.tools import ffmpeg_info, run, safe_arg

POSTER_WIDTH = 480
SHEET_COLUMNS = 4
SHEET_ROWS = 3
SHEET_TILE_WIDTH = 160
SHEET_GAP = 4
IMAGE_THUMB_WIDTH = 480


def frame_times(duration: float, count: int) -> list[float]:
    """Evenly spread times, the centre of each of `count` equal slices."""
    if duration <= 0:
        return [0.0] * count
    return [round(duration * (n + 0.5) / count, 3) for n in range(count)]


def grab_frame(path: Path, seconds: float, width: int):
    """One frame as a Pillow image (None if the file has no picture there)."""
    proc = run([ffmpeg_info().ffmpeg, "-v", "error", "-threads", "1", "-ss", f"{seconds:.3f}", "-i", safe_arg(path),
                "-map", "0:V:0", "-frames:v", "1", "-vf", f"scale={width}:-2:flags=bicubic", "-threads", "1",
                "-flags", "+bitexact", "-fflags", "+bitexact", "-f", "image2pipe", "-c:v", "png", "-"],
               timeout=60, what="ffmpeg (frame)", check=False, subject=str(path))
    if proc.returncode != 0 or not proc.stdout:
        return None
    with Image.open(io.BytesIO(proc.stdout)) as image:
        return image.convert("RGB")


def png_bytes(image) -> bytes:
    """A PNG with pixels only: no text, time or ICC chunks."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()


def poster(path: Path, duration: float) -> bytes | None:
    frame = grab_frame(path, frame_times(duration, 3)[0] if duration > 0 else 0.0, POSTER_WIDTH)
    return png_bytes(frame) if frame is not None else None


def contact_sheet(path: Path, duration: float) -> bytes | None:
    frames = [grab_frame(path, t, SHEET_TILE_WIDTH) for t in frame_times(duration, SHEET_COLUMNS * SHEET_ROWS)]
    frames = [f for f in frames if f is not None]
    if not frames:
        return None
    tile_w, tile_h = frames[0].size
    rows = -(-len(frames) // SHEET_COLUMNS)
    sheet = Image.new("RGB", (SHEET_COLUMNS * (tile_w + SHEET_GAP) + SHEET_GAP,
                              rows * (tile_h + SHEET_GAP) + SHEET_GAP), (32, 32, 32))
    for n, frame in enumerate(frames):
        row, col = divmod(n, SHEET_COLUMNS)
        sheet.paste(frame.resize((tile_w, tile_h)), (SHEET_GAP + col * (tile_w + SHEET_GAP),
                                                     SHEET_GAP + row * (tile_h + SHEET_GAP)))
    return png_bytes(sheet)


def image_thumb(path: Path) -> bytes | None:
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
    except (OSError, UnidentifiedImageError):
        return None
    if image.width > IMAGE_THUMB_WIDTH:
        image = image.resize((IMAGE_THUMB_WIDTH, max(1, round(image.height * IMAGE_THUMB_WIDTH / image.width))))
    return png_bytes(image)
