"""One module per kind of file (video, audio, image, subtitle) and the registry of kinds."""

from __future__ import annotations

from infopack.kinds.audio import AudioHandler
from infopack.kinds.base import Handler
from infopack.kinds.image import ImageHandler
from infopack.kinds.video import VideoHandler


def handler_for(kind: str) -> Handler:
    handlers = {h.kind: h for h in (VideoHandler(), AudioHandler(), ImageHandler())}
    return handlers[kind]
