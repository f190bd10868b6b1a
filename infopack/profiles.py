"""Device profiles: data files describing what a kind of player can play.

Built-in profiles live in `infopack/data/profiles/*.toml`; a curator adds their own in a
folder passed with `--profiles DIR` (a file there with a built-in id replaces it).

A profile has these tables: `[video]`, `[audio]` (the soundtrack of videos) and
`[subtitles]` for players that show video; `[audio_only]` (music, audiobooks) and
`[image]` always; `[names]` and `[documents]` optionally. A profile for audio players (MP3
players) leaves out the three video tables, and then plays no video items
(`Profile.supports`); one without `[documents]` carries no documents.
"""

from __future__ import annotations

import tomllib
import types
import typing
from dataclasses import MISSING, fields
from importlib import resources
from pathlib import Path

from infopack.documents import DOCUMENT_KINDS, TXT_ENCODINGS
from infopack.errors import UsageError
from infopack.kinds.codecs import AUDIO_CODECS, VIDEO_CODECS
from infopack.kinds.specs import (DEFAULT_MAX_FILE_BYTES, AudioSpec, DocumentSpec, ImageSpec, Profile, SubtitleSpec,
                                  VideoSpec)

_extra_dirs: list[Path] = []

FAT32_MAX_FILE = 4_294_967_295          # bytes; a file must stay below 4 GiB on FAT32

CONTAINERS = {"mp4", "avi", "matroska", "mp3", "ipod", "adts"}
SUBTITLE_MODES = {"none", "sidecar", "soft", "sidecar+soft", "burn"}
IMAGE_FORMATS = {"jpeg": ".jpg", "webp": ".webp"}

__all__ = ["AudioSpec", "ImageSpec", "Profile", "SubtitleSpec", "VideoSpec", "add_profile_dir", "load_profile",
           "profile_ids", "profile_text"]


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
             "video", "audio", "subtitles", "audio_only", "image", "names", "documents"}
_VIDEO_TABLES = ("video", "audio", "subtitles")


def _check_type(value, annotation, where: str) -> None:
    """A light check of TOML values against the dataclass annotations (str, int, float, bool, dict)."""
    hint = eval(annotation, {"dict": dict}) if isinstance(annotation, str) else annotation  # noqa: S307
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (typing.get_origin(hint) or hint,)
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
        elif kind is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
            ok = True                  # a TOML list of strings, kept as a tuple
    if not ok:
        names = " or ".join("a list of strings" if k is tuple else k.__name__ for k in allowed if k is not type(None))
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
    return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in table.items()})


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
    documents = _section(DocumentSpec, data, "documents") if "documents" in data else None
    profile = Profile(id=data["id"], description=data["description"].strip(), container=container,
                      extension=extension, video=video, audio=audio, subtitles=subtitles,
                      audio_only=audio_only, image=image, ascii_names=bool(names.get("ascii_only", False)),
                      max_file_bytes=max_file_bytes, split_parts=split_parts, source=origin, documents=documents)
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
        problem = VIDEO_CODECS[v.codec].profile_problem(v)
        if problem:
            raise ValueError(problem)
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
    if p.documents is not None:
        _check_documents(p.documents)


def _check_documents(spec: DocumentSpec) -> None:
    unknown = [f for f in spec.formats if f not in DOCUMENT_KINDS]
    if not spec.formats or unknown or len(set(spec.formats)) != len(spec.formats):
        raise ValueError(f"[documents] formats must list some of {', '.join(DOCUMENT_KINDS)}, each once"
                         + (f" ({unknown[0]!r} is not one)" if unknown else ""))
    if spec.encoding not in TXT_ENCODINGS:
        raise ValueError(f"[documents] encoding {spec.encoding!r} is not one of {', '.join(TXT_ENCODINGS)}")
    if spec.unencodable not in ("error", "replace"):
        raise ValueError("[documents] unencodable must be \"error\" or \"replace\"")
