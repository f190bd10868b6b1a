"""How the scanner reads a file (its container, its image metadata, its subtitle text, its
document structure, or only its bytes): the kind registry's word (`Kind.scanned_as`), by content signature first,
then by extension.

Content first, so that a JPEG renamed `.mp4` is still read for EXIF; text has no
signature, so a text file renamed `.mp4` goes to ffprobe and comes back unreadable.
"""

from __future__ import annotations

from infopack.kinds import REGISTRY
from infopack.kinds.base import SCANNED_AS

MEDIA, IMAGE, SUBTITLE, OTHER, DOCUMENT = SCANNED_AS
KINDS = SCANNED_AS


def file_kind(path: str) -> str:
    """media, image, subtitle, document or other."""
    kind = REGISTRY.kind_for_file(path)
    return kind.scanned_as if kind is not None else OTHER
