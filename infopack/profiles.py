"""Device profiles: data files describing what a kind of player can play.

Built-in profiles live in `infopack/data/profiles/*.toml`; a curator adds their own in a
folder passed with `--profiles DIR` (a file there with a built-in id replaces it).

A profile has these tables: `[video]`, `[audio]` (the soundtrack of videos) and
`[subtitles]` for players that show video; `[audio_only]` (music, audiobooks) and
`[image]` always; `[names]` optionally. A profile for audio players (MP3 players) leaves
out the three video tables, and then plays no video items (`Profile.supports`).
"""

from __future__ import annotations

import tomllib
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path

from infopack.errors import UsageError

_extra_dirs: list[Path] = []

FAT32_MAX_FILE = 4_294_967_295          # bytes; a file must stay below 4 GiB on FAT32
DEFAULT_MAX_FILE_BYTES = 4_000_000_000  # a margin below the FAT32 limit

VIDEO_CODECS = {"libx264": "h264", "libx265": "hevc", "mpeg4": "mpeg4"}
AUDIO_CODECS = {"aac": "aac", "libmp3lame": "mp3"}
CONTAINERS = {"mp4", "avi", "matroska", "mp3", "ipod", "adts"}
SUBTITLE_MODES = {"none", "sidecar", "soft", "sidecar+soft", "burn"}
IMAGE_FORMATS = {"jpeg": ".jpg", "webp": ".webp"}


@dataclass(frozen=True)
class VideoSpec:
    codec: str                     # ffmpeg encoder: libx264, libx265, mpeg4
    profile: str                   # libx264: baseline/main/high; libx265: main; mpeg4: simple/advanced_simple
    level: str                     # "3.0", "3.1"; mpeg4: "3", "4a", "5"
    max_width: int
    max_height: int
    max_fps: float
    pix_fmt: str = "yuv420p"
    preset: str = "medium"         # x264/x265 preset (ignored by mpeg4)
    crf: float | None = None       # x264/x265 constant quality
    qscale: float | None = None    # mpeg4 constant quantiser (2-31)
    maxrate: str | None = None     # a cap (VBV), not a target
    bufsize: str | None = None
    bitrate: str | None = None     # a target bitrate instead of crf/qscale
    gop_seconds: float = 5.0
    bframes: int = 3
    refs: int | None = None        # reference frames (x264/x265)
    threads: int = 1               # fixed: x264/x265 output depends on the thread count
    tune: str = ""
    params: str = ""               # -x264-params / -x265-params (key=value:key=value)
    flags: str = ""                # extra codec flags joined to +bitexact, e.g. "+mv4"
    options: dict = field(default_factory=dict)   # extra encoder options, e.g. {mbd = "rd"}
    tag: str = ""                  # codec tag (fourcc): hvc1 for HEVC in MP4, XVID for MPEG-4 in AVI
    hdr_tonemap: str = "hable"     # tone mapping for HDR (PQ/HLG) sources when zscale is available
    # Size fitting (infopack.plan.fit): the lowest video rate worth watching, in kb/s at the
    # profile's max frame size (smaller frames get (pixels ratio)^0.75 of it). None: no floor.
    fit_floor_kbps: float | None = None


@dataclass(frozen=True)
class AudioSpec:
    codec: str
    channels: int
    sample_rate: int
    bitrate: str
    loudnorm: bool = False
    container: str | None = None
    extension: str | None = None


@dataclass(frozen=True)
class SubtitleSpec:
    mode: str                      # "sidecar", "soft", "sidecar+soft", "burn", "none"
    sidecar_encoding: str = "utf-8-sig"
    max_chars_per_line: int = 24
    max_lines: int = 2
    min_duration_ms: int = 700
    max_cps: float = 20.0

    @property
    def sidecar(self) -> bool:
        return "sidecar" in self.mode

    @property
    def soft(self) -> bool:
        return "soft" in self.mode

    @property
    def burn(self) -> bool:
        return "burn" in self.mode


@dataclass(frozen=True)
class ImageSpec:
    format: str
    extension: str
    max_long_side: int
    quality: int = 82


@dataclass(frozen=True)
class Profile:
    id: str
    description: str
    container: str                 # of video items ("" for audio-only profiles)
    extension: str
    video: VideoSpec | None        # None: the players show no video (MP3 players)
    audio: AudioSpec | None
    subtitles: SubtitleSpec | None
    audio_only: AudioSpec
    image: ImageSpec
    ascii_names: bool = False
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    split_parts: bool = False      # a video over max_file_bytes is cut into parts at keyframes
    source: str = ""

    def recipe(self) -> dict:
        """Everything that shapes the output bytes (for cache keys and reports)."""
        data = asdict(self)
        data.pop("source")
        data.pop("description")
        return data

    def supports(self, kind: str) -> bool:
        """Whether items of this kind ("video", "audio", "image") can go on this profile's cards."""
        return kind != "video" or self.video is not None


def add_profile_dir(path: str | Path) -> None:
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(folder, "no such profiles folder")
    _extra_dirs.append(folder)


def _profile_files() -> dict[str, tuple[str, bytes]]:
    found: dict[str, tuple[str, bytes]] = {}
    for entry in sorted(resources.files("infopack").joinpath("data/profiles").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            found[entry.name[:-5]] = (f"built-in {entry.name}", entry.read_bytes())
    for folder in _extra_dirs:
        for path in sorted(folder.glob("*.toml")):
            found[path.stem] = (str(path), path.read_bytes())
    return found


def profile_ids() -> list[str]:
    return sorted(_profile_files())


def profile_text(profile_id: str) -> tuple[str, str]:
    """(origin, TOML text) of a profile, comments included: what `profiles show` prints."""
    files = _profile_files()
    if profile_id not in files:
        raise UsageError(None, f"unknown profile {profile_id!r} (known: {', '.join(sorted(files))})")
    origin, text = files[profile_id]
    return origin, text.decode("utf-8", "replace")


def load_profile(profile_id: str) -> Profile:
    files = _profile_files()
    if profile_id not in files:
        raise UsageError(None, f"unknown profile {profile_id!r} (known: {', '.join(sorted(files))})")
    origin, text = files[profile_id]
    try:
        data = tomllib.loads(text.decode("utf-8"))
        profile = _build(data, origin)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, LookupError, TypeError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise UsageError(origin, f"invalid profile: {message}") from None
    if profile.id != profile_id:
        raise UsageError(origin, f"invalid profile: id {profile.id!r} does not match the file name {profile_id!r}")
    return profile


# --- parsing and checking -------------------------------------------------------------

_TOP_KEYS = {"id", "description", "container", "extension", "max_file_bytes", "split_parts",
             "video", "audio", "subtitles", "audio_only", "image", "names"}
_VIDEO_TABLES = ("video", "audio", "subtitles")


def _check_type(value, annotation, where: str) -> None:
    """A light check of TOML values against the dataclass annotations (str, int, float, bool, dict)."""
    hint = eval(annotation, {"dict": dict}) if isinstance(annotation, str) else annotation  # noqa: S307
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None and type(None) in allowed:
        return
    ok = False
    for kind in allowed:
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            ok = True
        elif kind is int and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        elif kind in (str, bool, dict) and isinstance(value, kind):
            ok = True
    if not ok:
        names = " or ".join(k.__name__ for k in allowed if k is not type(None))
        raise ValueError(f"{where} must be {names}, not {value!r}")


def _section(cls, data: dict, name: str):
    table = data.get(name)
    if table is None:
        raise ValueError(f"missing [{name}] table")
    if not isinstance(table, dict):
        raise ValueError(f"{name} must be a [{name}] table")
    known = {f.name: f for f in fields(cls)}
    unknown = set(table) - set(known)
    if unknown:
        raise ValueError(f"[{name}] has unknown key {sorted(unknown)[0]!r} "
                         f"(known: {', '.join(sorted(known))})")
    missing = [f.name for f in known.values()
               if f.default is MISSING and f.default_factory is MISSING and f.name not in table]
    if missing:
        raise ValueError(f"[{name}] is missing key {missing[0]!r}")
    for key, value in table.items():
        _check_type(value, known[key].type, f"[{name}] {key}")
    return cls(**table)


def _build(data: dict, origin: str) -> Profile:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ValueError(f"unknown key or table {sorted(unknown)[0]!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("id", "description"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ValueError(f"missing {key!r} (a string)")
    has_video = [name for name in _VIDEO_TABLES if name in data]
    if has_video and len(has_video) != len(_VIDEO_TABLES):
        missing = next(name for name in _VIDEO_TABLES if name not in data)
        raise ValueError(f"missing [{missing}] table (a profile with [{has_video[0]}] needs "
                         f"[video], [audio] and [subtitles])")
    video = audio = subtitles = None
    container = extension = ""
    if has_video:
        for key in ("container", "extension"):
            if not isinstance(data.get(key), str):
                raise ValueError(f"missing {key!r} (the video container and its file extension)")
        container, extension = data["container"], data["extension"]
        video = _section(VideoSpec, data, "video")
        audio = _section(AudioSpec, data, "audio")
        subtitles = _section(SubtitleSpec, data, "subtitles")
    audio_only = _section(AudioSpec, data, "audio_only")
    image = _section(ImageSpec, data, "image")
    names = data.get("names", {})
    if not isinstance(names, dict) or set(names) - {"ascii_only"}:
        raise ValueError("[names] may only hold ascii_only = true/false")
    max_file_bytes = data.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)
    _check_type(max_file_bytes, int, "max_file_bytes")
    split_parts = data.get("split_parts", False)
    _check_type(split_parts, bool, "split_parts")
    profile = Profile(id=data["id"], description=data["description"].strip(), container=container,
                      extension=extension, video=video, audio=audio, subtitles=subtitles,
                      audio_only=audio_only, image=image, ascii_names=bool(names.get("ascii_only", False)),
                      max_file_bytes=max_file_bytes, split_parts=split_parts, source=origin)
    _check_values(profile)
    return profile


def _check_values(p: Profile) -> None:
    """Catch settings ffmpeg would reject or a player could not play, at load time."""
    if not 0 < p.max_file_bytes <= FAT32_MAX_FILE:
        raise ValueError(f"max_file_bytes must be between 1 and {FAT32_MAX_FILE} (the FAT32 limit)")
    if p.video is not None:
        v = p.video
        if p.container not in CONTAINERS:
            raise ValueError(f"container {p.container!r} is not one of {', '.join(sorted(CONTAINERS))}")
        if v.codec not in VIDEO_CODECS:
            raise ValueError(f"[video] codec {v.codec!r} is not one of {', '.join(sorted(VIDEO_CODECS))}")
        if v.max_width % 2 or v.max_height % 2 or v.max_width <= 0 or v.max_height <= 0:
            raise ValueError("[video] max_width and max_height must be positive and even")
        if v.max_fps <= 0 or v.threads < 1 or v.gop_seconds <= 0 or v.bframes < 0:
            raise ValueError("[video] max_fps, threads and gop_seconds must be positive, bframes >= 0")
        if v.fit_floor_kbps is not None and v.fit_floor_kbps <= 0:
            raise ValueError("[video] fit_floor_kbps must be positive")
        if v.codec == "mpeg4":
            if v.crf is not None:
                raise ValueError("[video] crf does not exist for mpeg4: use qscale or bitrate")
            if v.profile not in ("simple", "advanced_simple"):
                raise ValueError("[video] profile for mpeg4 must be simple or advanced_simple")
            if v.profile == "simple" and v.bframes:
                raise ValueError("[video] MPEG-4 Simple profile has no B-frames: set bframes = 0")
        elif v.qscale is not None:
            raise ValueError(f"[video] qscale is for mpeg4; {v.codec} uses crf")
        if [v.crf, v.qscale, v.bitrate].count(None) != 2:
            raise ValueError("[video] needs exactly one of crf, qscale or bitrate")
        if p.subtitles.mode not in SUBTITLE_MODES:
            raise ValueError(f"[subtitles] mode {p.subtitles.mode!r} is not one of {', '.join(sorted(SUBTITLE_MODES))}")
        try:
            "".encode(p.subtitles.sidecar_encoding)
        except LookupError:
            raise ValueError(f"[subtitles] sidecar_encoding {p.subtitles.sidecar_encoding!r} is not a known "
                             f"encoding (e.g. utf-8-sig, cp949)") from None
        for spec, name in ((p.audio, "audio"),):
            if spec.codec not in AUDIO_CODECS:
                raise ValueError(f"[{name}] codec {spec.codec!r} is not one of {', '.join(sorted(AUDIO_CODECS))}")
    if p.audio_only.codec not in AUDIO_CODECS:
        raise ValueError(f"[audio_only] codec {p.audio_only.codec!r} is not one of {', '.join(sorted(AUDIO_CODECS))}")
    for spec, name in ((p.audio, "audio"), (p.audio_only, "audio_only")):
        if spec is not None and spec.channels not in (1, 2):
            raise ValueError(f"[{name}] channels must be 1 or 2")
    if p.image.format not in IMAGE_FORMATS:
        raise ValueError(f"[image] format {p.image.format!r} is not one of {', '.join(sorted(IMAGE_FORMATS))}")


# --- sizes ------------------------------------------------------------------------------

def bitrate_bits(text: str | None) -> int:
    """'900k' -> 900000; '1.5M' -> 1500000; None -> 0."""
    if not text:
        return 0
    text = str(text).strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


CONTAINER_OVERHEAD = 0.02              # MP4/AVI headers and indexes, as a share of the streams
AUDIO_FILE_EXTRA, VIDEO_FILE_EXTRA = 4096, 16384   # fixed container bytes per file


def estimate_bytes(profile: Profile, duration: float, kind: str, *, has_audio: bool = True,
                   video_bits: int | None = None) -> int:
    """An upper-side estimate of one output's size from the profile's rates.

    Video: `video_bits` (a fitted rate, see infopack.plan.fit), else the target bitrate, else the
    maxrate cap (CRF output is usually well below it), plus the soundtrack; audio: the
    audio-only bitrate. 2% and a few KiB for the container.
    Images have no duration: use the image's pixels instead (see infopack.plan).
    """
    if kind == "audio":
        bits = bitrate_bits(profile.audio_only.bitrate)
        return int(duration * bits / 8 * (1 + CONTAINER_OVERHEAD)) + AUDIO_FILE_EXTRA
    if kind == "video":
        if profile.video is None:
            raise UsageError(profile.source, f"profile {profile.id} plays no video")
        if video_bits is None:
            video_bits = bitrate_bits(profile.video.bitrate or profile.video.maxrate)
        audio_bits = bitrate_bits(profile.audio.bitrate) if has_audio else 0
        return int(duration * (video_bits + audio_bits) / 8 * (1 + CONTAINER_OVERHEAD)) + VIDEO_FILE_EXTRA
    raise ValueError(f"estimate_bytes: no rate-based estimate for kind {kind!r}")
