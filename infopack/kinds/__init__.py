"""The kinds of file infopack knows, one module each, and the registry that finds them.

`REGISTRY` is the only list of kinds and of their extensions: the manifest, planning,
layout, the build, `init`, profiles and the review app ask it. A kind module imports
`infopack.kinds.base` (never this package), so registering here makes no import cycle.
"""

from __future__ import annotations

from pathlib import Path

from infopack.errors import UsageError
from infopack.kinds.audio import AudioKind
from infopack.kinds.base import Kind
from infopack.kinds.document import DocumentKind
from infopack.kinds.image import ImageKind
from infopack.kinds.probe import MediaInfo
from infopack.kinds.registry import Registry
from infopack.kinds.subtitle import SubtitleKind
from infopack.kinds.video import VideoKind

REGISTRY = Registry(fallback="video")
REGISTRY.register(VideoKind())
REGISTRY.register(AudioKind())
REGISTRY.register(ImageKind())
REGISTRY.register(SubtitleKind())
REGISTRY.register(DocumentKind())

__all__ = ["REGISTRY", "Kind", "MediaInfo", "probe_source"]


def probe_source(path: str | Path) -> MediaInfo:
    """What a source is, asked of its kind; a file that is not usable raises one clear UsageError."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise UsageError(path, "empty file")
    return REGISTRY.kind_for_source(path).probe(path)
