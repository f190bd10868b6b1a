"""Device profiles: data files describing what a kind of player can play.

Built-in profiles live in `infopack/data/profiles/*.toml`; a curator adds their own in a
folder passed with `--profiles DIR` (a file there with a built-in id replaces it).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from infopack.errors import UsageError

_extra_dirs: list[Path] = []


@dataclass(frozen=True)
class VideoSpec:
    codec: str
    profile: str
    level: str
    max_width: int
    max_height: int
    max_fps: float
    pix_fmt: str = "yuv420p"
    preset: str = "medium"
    crf: float | None = None
    maxrate: str | None = None
    bufsize: str | None = None
    bitrate: str | None = None
    gop_seconds: float = 5.0
    bframes: int = 3
    threads: int = 1
    tune: str = ""


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
    mode: str                      # "sidecar", "soft", "sidecar+soft", "burn"
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
    container: str
    extension: str
    video: VideoSpec
    audio: AudioSpec
    subtitles: SubtitleSpec
    audio_only: AudioSpec
    image: ImageSpec
    ascii_names: bool = False
    source: str = ""

    def recipe(self) -> dict:
        """Everything that shapes the output bytes (for cache keys and reports)."""
        from dataclasses import asdict
        data = asdict(self)
        data.pop("source")
        data.pop("description")
        return data


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


def load_profile(profile_id: str) -> Profile:
    files = _profile_files()
    if profile_id not in files:
        raise UsageError(None, f"unknown profile {profile_id!r} (known: {', '.join(sorted(files))})")
    origin, text = files[profile_id]
    try:
        data = tomllib.loads(text.decode("utf-8"))
        return _build(data, origin)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(origin, f"invalid profile: {exc}") from None


def _section(cls, data: dict, name: str, origin: str):
    table = data.get(name)
    if not isinstance(table, dict):
        raise KeyError(f"missing [{name}] table")
    known = {f.name for f in fields(cls)}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"[{name}] has unknown key {sorted(unknown)[0]!r}")
    return cls(**table)


def _build(data: dict, origin: str) -> Profile:
    return Profile(
        id=data["id"], description=data["description"], container=data["container"],
        extension=data["extension"],
        video=_section(VideoSpec, data, "video", origin),
        audio=_section(AudioSpec, data, "audio", origin),
        subtitles=_section(SubtitleSpec, data, "subtitles", origin),
        audio_only=_section(AudioSpec, data, "audio_only", origin),
        image=_section(ImageSpec, data, "image", origin),
        ascii_names=bool(data.get("names", {}).get("ascii_only", False)),
        source=origin,
    )
