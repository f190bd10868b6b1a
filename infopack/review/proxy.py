"""Review copies of card videos a browser cannot play, made from the card file itself.

Cheap players take MPEG-4 Part 2 with MP3 in AVI, and some profiles HEVC: no browser plays
the first, most cannot play the second. The review app then plays a proxy: the card file
re-encoded to H.264/AAC in MP4 (burned-in subtitles are pixels, so they show exactly as on
the device). Proxies are kept by the card file's hash in `OUT/reviews/.proxies/`, never on
a card or in a manifest; a reviewer's approval still covers the card's own bytes.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

from infopack.errors import InfopackError
from infopack.review.model import CardFile
from infopack.tools import ffmpeg_info, run, safe_arg

PROXY_DIR = ".proxies"
# What Chromium and Firefox play without a platform decoder: container, then stream codecs.
BROWSER_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": ({"h264", "av1", "vp9"}, {"aac", "mp3", "opus", "flac", "alac"}),
                      "matroska,webm": ({"vp8", "vp9", "av1"}, {"opus", "vorbis"}),
                      "mp3": (set(), {"mp3"}), "ogg": ({"theora", "vp8"}, {"vorbis", "opus", "flac"}),
                      "wav": (set(), {"pcm_s16le", "pcm_u8", "pcm_f32le"}), "flac": (set(), {"flac"})}
PICTURE_CODECS = {"mjpeg", "png"}          # cover art in audio files: not a video stream a player needs
SECONDS_PER_MEDIA_SECOND = 4               # encode time limit: far above veryfast x264 on one slow core


def browser_plays(card_file: CardFile) -> bool:
    """Whether a browser plays the card file as it is (probed once per file content)."""
    return _plays(str(card_file.absolute), card_file.sha256)


@lru_cache(maxsize=4096)
def _plays(path: str, sha256: str) -> bool:
    proc = run([ffmpeg_info().ffprobe, "-v", "error", "-show_entries",
                "format=format_name:stream=codec_type,codec_name", "-of", "json", safe_arg(path)],
               timeout=60, what="ffprobe", check=False, subject=path)
    try:
        found = json.loads(proc.stdout or b"{}")
    except ValueError:
        return True                       # unreadable here: let the browser try, and say so if it fails
    video_ok, audio_ok = BROWSER_CONTAINERS.get(found.get("format", {}).get("format_name", ""), (None, None))
    if video_ok is None:
        return False
    for stream in found.get("streams", []):
        codec = stream.get("codec_name", "")
        if stream.get("codec_type") == "video" and codec not in video_ok and codec not in PICTURE_CODECS:
            return False
        if stream.get("codec_type") == "audio" and codec not in audio_ok:
            return False
    return True


class ProxyCache:
    """Proxies in `folder` by card file hash; each is made once, by one thread, then reused."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path_for(self, card_file: CardFile) -> Path:
        return self.folder / f"{card_file.sha256[:32]}.mp4"

    def get(self, card_file: CardFile, duration: float) -> Path | None:
        """The proxy of a card file, made now if needed (None when ffmpeg cannot make one)."""
        target = self.path_for(card_file)
        with self._guard:
            lock = self._locks.setdefault(target.name, threading.Lock())
        with lock:
            if not target.is_file():
                self._make(card_file.absolute, target, duration)
        return target if target.is_file() else None

    def _make(self, source: Path, target: Path, duration: float) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.stem}.tmp.mp4")
        try:
            proc = self._encode(source, tmp, duration)
        except InfopackError:             # too slow or ffmpeg missing: no proxy, the page says the file cannot play
            proc = None
        if proc is not None and proc.returncode == 0 and tmp.is_file():
            os.replace(tmp, target)
        else:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _encode(source: Path, tmp: Path, duration: float):
        return run([ffmpeg_info().ffmpeg, "-v", "error", "-nostdin", "-y", "-i", safe_arg(source),
                    "-map", "0:V:0?", "-map", "0:a:0?", "-sn",
                    "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                    "-c:a", "aac", "-b:a", "128k", "-ac", "2",
                    "-movflags", "+faststart", "-map_metadata", "-1", "-f", "mp4", safe_arg(tmp)],
                   timeout=max(120.0, duration * SECONDS_PER_MEDIA_SECOND), what="ffmpeg (review copy)",
                   check=False, subject=str(source))
