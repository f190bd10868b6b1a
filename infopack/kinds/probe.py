"""What a source file is: ffprobe for audio/video, Pillow for still images."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from infopack.errors import UsageError, InfopackError
from infopack.tools import ffmpeg_info, last_error_line, run, safe_arg

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class VideoStream:
    width: int
    height: int
    fps: float
    pix_fmt: str
    interlaced: bool
    sample_aspect: Fraction


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    kind: str                 # "video", "audio" or "image"
    duration: float           # seconds (0 for images)
    video: VideoStream | None
    has_audio: bool
    audio_channels: int = 0
    audio_rate: int = 0
    width: int = 0            # images
    height: int = 0


def probe(path: Path) -> MediaInfo:
    """Probe a source; a file that is not usable media raises one clear UsageError."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise UsageError(path, "empty file")
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return _probe_image(path)
    return _probe_av(path)


def _probe_image(path: Path) -> MediaInfo:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            width, height = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UsageError(path, f"not a readable image ({exc})") from None
    return MediaInfo(path, "image", 0.0, None, False, width=width, height=height)


def ffprobe_json(path: Path, *, subject=None) -> dict:
    info = ffmpeg_info()
    proc = run([info.ffprobe, "-v", "error", "-show_format", "-show_streams", "-show_chapters",
                "-of", "json", safe_arg(path)], timeout=120, what="ffprobe", check=False)
    if proc.returncode != 0:
        raise UsageError(subject or path, f"not a media file ffmpeg can read ({last_error_line(proc.stderr)})")
    try:
        return json.loads(proc.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError:
        raise InfopackError(path, "ffprobe gave unreadable output") from None


def _rate(text: str | None) -> float:
    try:
        value = Fraction(text or "0")
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(value) if value > 0 else 0.0


def _probe_av(path: Path) -> MediaInfo:
    data = ffprobe_json(path)
    streams = data.get("streams", [])
    videos = [s for s in streams if s.get("codec_type") == "video"
              and not s.get("disposition", {}).get("attached_pic")]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if not videos and not audios:
        raise UsageError(path, "has no audio or video stream")
    duration = _rate(data.get("format", {}).get("duration"))
    if duration <= 0:
        durations = [_rate(s.get("duration")) for s in streams]
        duration = max(durations or [0.0])
    if duration <= 0:
        raise UsageError(path, "has no duration (truncated or damaged file?)")
    video = None
    if videos:
        v = videos[0]
        sar_text = v.get("sample_aspect_ratio") or "1:1"
        try:
            num, den = (int(x) for x in sar_text.split(":"))
            sar = Fraction(num, den) if num > 0 and den > 0 else Fraction(1)
        except ValueError:
            sar = Fraction(1)
        fps = _rate(v.get("avg_frame_rate")) or _rate(v.get("r_frame_rate")) or 25.0
        video = VideoStream(width=int(v.get("width") or 0), height=int(v.get("height") or 0), fps=fps,
                            pix_fmt=v.get("pix_fmt") or "", sample_aspect=sar,
                            interlaced=v.get("field_order", "progressive") not in ("progressive", "unknown"))
        if video.width <= 0 or video.height <= 0:
            raise UsageError(path, "video stream has no picture size (damaged file?)")
    a = audios[0] if audios else {}
    return MediaInfo(path, "video" if video else "audio", duration, video, bool(audios),
                     audio_channels=int(a.get("channels") or 0), audio_rate=int(a.get("sample_rate") or 0))
