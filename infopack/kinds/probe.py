"""What a source file is (MediaInfo), read with ffprobe for audio and video, and its memo form.

Everything a later step needs of the source is recorded here, once: computing a cache
key or a command never probes again (colour transfer and primaries decide the HDR tone
mapping, so they are recorded too).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from infopack.errors import InfopackError, UsageError
from infopack.subtitles.sources import TrackInfo, language_is_korean, list_tracks
from infopack.kinds.geometry import source_geometry
from infopack.tools import ffmpeg_info, last_error_line, run, safe_arg

# The memo of a MediaInfo (JSON in the encode cache): a new field means a new format, so an
# old memo is never read as if it knew the field.
PROBE_MEMO_FORMAT = "infopack-probe/4"


@dataclass(frozen=True)
class VideoStream:
    width: int
    height: int
    fps: float
    pix_fmt: str
    interlaced: bool
    sample_aspect: Fraction
    color_transfer: str = ""      # as ffprobe names it: "smpte2084" (PQ) and "arib-std-b67" (HLG) are HDR
    color_primaries: str = ""
    rotation: int = 0             # degrees clockwise a player turns the stored picture (phones' display matrix)


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    kind: str                 # the name of its kind in infopack.kinds.REGISTRY
    duration: float           # seconds (0 for images)
    video: VideoStream | None
    has_audio: bool
    audio_channels: int = 0
    audio_rate: int = 0
    width: int = 0            # images
    height: int = 0
    subtitle_tracks: tuple[TrackInfo, ...] = ()   # every subtitle stream, numbered as `track:N` counts them
    audio_languages: tuple[str, ...] = ()         # each audio stream's language tag ("" when untagged)

    @property
    def korean_audio(self) -> bool:
        """The soundtrack the card gets (the first audio stream) is tagged Korean: it needs no subtitles."""
        return bool(self.audio_languages) and language_is_korean(self.audio_languages[0])


def container_signature(head: bytes) -> bool:
    """Whether a file's first bytes are those of a container that may hold pictures or sound:
    MP4/MOV, Matroska/WebM, Ogg, FLV, ASF/WMV, MPEG program or transport stream, AVI."""
    if head[:4] == b"RIFF" and len(head) >= 12:
        return head[8:12] not in (b"WEBP", b"WAVE")
    if head[4:8] == b"ftyp" or any(head.startswith(magic) for magic in _CONTAINER_MAGIC):
        return True
    return len(head) > 188 and head[0] == 0x47 and head[188] == 0x47       # MPEG-TS sync bytes


def sound_signature(head: bytes) -> bool:
    """Whether a file's first bytes are those of a sound-only format: FLAC, MP3 with ID3, WAV."""
    return head.startswith((b"fLaC", b"ID3")) or (head[:4] == b"RIFF" and head[8:12] == b"WAVE")


_CONTAINER_MAGIC = (b"\x1a\x45\xdf\xa3", b"OggS", b"FLV\x01", b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", b"\x00\x00\x01\xba")


def info_to_json(info: MediaInfo) -> dict:
    """The memo of a MediaInfo (its path left out: the memo is keyed by content)."""
    data = asdict(info)
    data.pop("path")
    if info.video is not None:
        data["video"]["sample_aspect"] = str(info.video.sample_aspect)
    return data


def info_from_json(data: dict, path: Path) -> MediaInfo:
    """A MediaInfo from its memo; raises ValueError, TypeError or KeyError for a damaged one."""
    data = dict(data)
    video = data.pop("video")
    if video:
        video = VideoStream(**{**video, "sample_aspect": Fraction(video["sample_aspect"])})
    tracks = tuple(TrackInfo(**{**track, "canvas": tuple(track["canvas"]) if track["canvas"] else None})
                   for track in data.pop("subtitle_tracks"))
    return MediaInfo(path=path, video=video, subtitle_tracks=tracks,
                     audio_languages=tuple(data.pop("audio_languages")), **data)


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


def probe_av(path: Path) -> MediaInfo:
    """An audio or video source: "video" when it has a picture stream (cover art aside), else "audio"."""
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
    picture_and_sound = max((_stream_duration(s) for s in videos + audios), default=0.0)
    if 0 < picture_and_sound < duration:
        duration = picture_and_sound      # a subtitle track outlasting picture and sound: the card's file ends
    video = None
    if videos:
        v = videos[0]
        try:
            geometry = source_geometry(v)
        except UsageError as exc:
            raise UsageError(path, exc.problem) from None
        fps = _rate(v.get("avg_frame_rate")) or _rate(v.get("r_frame_rate")) or 25.0
        video = VideoStream(width=geometry.width, height=geometry.height, fps=fps,
                            pix_fmt=v.get("pix_fmt") or "", sample_aspect=geometry.sar,
                            interlaced=v.get("field_order", "progressive") not in ("progressive", "unknown"),
                            color_transfer=v.get("color_transfer") or "",
                            color_primaries=v.get("color_primaries") or "", rotation=geometry.rotation)
    a = audios[0] if audios else {}
    return MediaInfo(path, "video" if video else "audio", duration, video, bool(audios),
                     audio_channels=int(a.get("channels") or 0), audio_rate=int(a.get("sample_rate") or 0),
                     subtitle_tracks=tuple(list_tracks(data)),
                     audio_languages=tuple(_language(s) for s in audios))


def _stream_duration(stream: dict) -> float:
    """A stream's own duration, or Matroska's DURATION tag (`00:42:07.125000000`); 0 when unknown."""
    seconds = _rate(stream.get("duration"))
    tag = {str(k).upper(): str(v) for k, v in (stream.get("tags") or {}).items()}.get("DURATION", "")
    match = re.fullmatch(r"(\d+):(\d\d):(\d\d(?:\.\d+)?)", tag.strip())
    if not seconds and match:
        seconds = int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])
    return seconds


def _language(stream: dict) -> str:
    """A stream's language tag as written ("kor", "und"), "" when it has none."""
    tags = {str(key).lower(): str(value) for key, value in (stream.get("tags") or {}).items()}
    return tags.get("language", "").strip()
