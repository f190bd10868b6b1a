"""Which handler reads a file: media, image, subtitle or other, by content first, then extension."""

from __future__ import annotations

import os

MEDIA, IMAGE, SUBTITLE, OTHER = "media", "image", "subtitle", "other"
KINDS = (MEDIA, IMAGE, SUBTITLE, OTHER)

MEDIA_EXTENSIONS = frozenset(
    ".mp4 .m4v .mkv .webm .avi .mov .mpg .mpeg .ts .m2ts .mts .vob .3gp .3g2 .flv .wmv .asf "
    ".ogv .mp3 .m4a .m4b .aac .ogg .oga .opus .flac .wav .wma .amr .mka .ac3".split())
IMAGE_EXTENSIONS = frozenset(".jpg .jpeg .png .webp .gif .bmp .tif .tiff .mpo".split())
SUBTITLE_EXTENSIONS = frozenset(".srt .smi .sami .vtt .ass .ssa".split())


_MAGIC = [  # (offset, bytes, kind): content wins over the extension
    (4, b"ftyp", MEDIA), (0, b"\x1a\x45\xdf\xa3", MEDIA), (0, b"OggS", MEDIA),
    (0, b"fLaC", MEDIA), (0, b"ID3", MEDIA), (0, b"FLV\x01", MEDIA),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", MEDIA), (0, b"\x00\x00\x01\xba", MEDIA),
    (0, b"\xff\xd8\xff", IMAGE), (0, b"\x89PNG\r\n\x1a\n", IMAGE), (0, b"GIF8", IMAGE),
    (0, b"II*\x00", IMAGE), (0, b"MM\x00*", IMAGE),
]


def file_kind(path: str) -> str:
    """media, image, subtitle or other: by content signature first, then by extension.

    Content first, so that a JPEG renamed `.mp4` is still read for EXIF; text has no
    signature, so a text file renamed `.mp4` goes to ffprobe and comes back unreadable.
    """
    sniffed = sniff_kind(path)
    if sniffed:
        return sniffed
    ext = os.path.splitext(path)[1].lower()
    if ext in MEDIA_EXTENSIONS:
        return MEDIA
    if ext in IMAGE_EXTENSIONS:
        return IMAGE
    if ext in SUBTITLE_EXTENSIONS:
        return SUBTITLE
    return OTHER


def sniff_kind(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(400)
    except OSError:
        return None
    if head[:4] == b"RIFF" and len(head) >= 12:
        return IMAGE if head[8:12] == b"WEBP" else MEDIA        # AVI, WAV
    for offset, magic, kind in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return kind
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return MEDIA                                             # MPEG-TS sync bytes
    return None
