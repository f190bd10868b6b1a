"""One handler per kind of file, one small interface (as mat2 does it).

A handler turns one probed source into the files that go on the card (`transcode`) and
checks that what it wrote is what the profile promises (`validate`). Adding a kind of
media is adding a module here and an entry in `HANDLERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from infopack.manifest import Item
from infopack.kinds.probe import MediaInfo
from infopack.profiles import Profile


@dataclass(frozen=True)
class PreparedSubtitles:
    """Subtitles read, cleaned and scrubbed, ready for the card."""
    mux_srt: Path | None            # UTF-8 SRT for a soft track or burn-in (in the work folder)
    sidecar: bytes | None           # the sidecar file's bytes, in the profile's encoding
    burn_ass: Path | None           # ASS file for libass burn-in
    report: dict = field(default_factory=dict)
    fonts_dir: Path | None = None   # folder of the Korean font libass must use for burn-in


@dataclass(frozen=True)
class EncodeJob:
    item: Item
    info: MediaInfo
    profile: Profile
    work_dir: Path
    subtitles: PreparedSubtitles | None = None
    video_bitrate: int | None = None    # bits/s from size fitting (infopack.plan.fit); None: the profile's rates


@dataclass(frozen=True)
class Produced:
    """A file a handler wrote: `role` is "main" or "sidecar", or for a video split into parts
    "part-01", "part-02", ... each with its "sidecar-01", ...; `extension` includes the dot."""
    role: str
    path: Path
    extension: str


class Handler:
    kind = ""

    def command(self, job: EncodeJob, out: Path) -> list[str] | None:
        """The ffmpeg command this handler runs (None for handlers that need none)."""
        return None

    def recipe(self, job: EncodeJob) -> list[str]:
        """Everything besides the input bytes that decides the output (the cache key's recipe).

        By default the ffmpeg command with a fixed output name; handlers whose output
        depends on more (two-pass settings, split parts) extend it.
        """
        return list(self.command(job, Path("out")) or [])

    def transcode(self, job: EncodeJob) -> list[Produced]:
        raise NotImplementedError

    def validate(self, job: EncodeJob, produced: Produced) -> None:
        """Raise CheckFailed naming the item if the output breaks the profile."""
