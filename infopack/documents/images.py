"""Images inside documents: metadata found and removed.

Two ways, for two places:
- inside a PDF an image is drawn by the page, so it is cleaned without re-encoding:
  JPEG (/DCTDecode) keeps only the segments decoding needs (tables, frame, scans and an
  Adobe APP14, which tells CMYK from YCCK); EXIF, XMP, ICC, Photoshop blocks, comments,
  JFXX thumbnails and anything after the end-of-image marker (a second MPO picture) go.
  The quantisation tables stay: they are the encoder's, a weak fingerprint, and changing
  them means re-encoding the page's pictures. JPEG 2000 (/JPXDecode) loses its XML,
  UUID (XMP) and UUID-info boxes and the comment markers of its main header.
- inside an EPUB an image is a file: `reencode_image` rebuilds it from pixels (EXIF
  orientation applied first), as the image kind does, so no metadata block survives.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageOps, ImageSequence

from infopack.errors import UsageError

JPEG_QUALITY = 90          # books are read closely: higher than the photo profiles' quality
RASTER_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")

_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_STANDALONE = {0x01, *range(0xD0, 0xD8)}          # TEM, RST0-7: markers without a length
_APP_NAMES = (  # (marker, payload prefix, what it is)
    (0xE1, b"Exif\x00", "EXIF"), (0xE1, b"http://ns.adobe.com/xap/1.0/", "XMP"),
    (0xE1, b"http://ns.adobe.com/xmp/extension/", "XMP"), (0xE2, b"ICC_PROFILE", "ICC profile"),
    (0xED, b"Photoshop", "Photoshop block (IPTC)"), (0xE0, b"JFXX", "JFIF thumbnail"),
)


def _segments(data: bytes):
    """(marker, start, end) for each JPEG marker segment; entropy-coded data is skipped.

    Ends at EOI (included) or at the first byte that does not parse; `end` of the last
    item tells how much of `data` is the image.
    """
    if data[:2] != b"\xff\xd8":
        return
    yield _SOI, 0, 2
    pos = 2
    while pos + 1 < len(data):
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:                    # fill byte
            pos += 1
            continue
        if marker == _EOI:
            yield marker, pos, pos + 2
            return
        if marker in _STANDALONE:
            yield marker, pos, pos + 2
            pos += 2
            continue
        if pos + 4 > len(data):
            return
        end = pos + 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker == _SOS:                    # header, then entropy-coded data up to the next marker
            while end + 1 < len(data) and not (data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))):
                end += 1
        yield marker, pos, min(end, len(data))
        pos = end


def _segment_name(marker: int, payload: bytes) -> str | None:
    """What a metadata-bearing segment is, or None for segments decoding needs."""
    if marker == 0xFE:
        return "comment"
    if 0xE0 <= marker <= 0xEF:
        if marker == 0xEE and payload.startswith(b"Adobe"):
            return None
        if marker == 0xE0 and payload.startswith(b"JFIF\x00"):
            thumb = len(payload) > 13 and payload[12] * payload[13] > 0
            return "JFIF thumbnail" if thumb else "JFIF header"
        return next((name for m, prefix, name in _APP_NAMES if m == marker and payload.startswith(prefix)),
                    f"APP{marker - 0xE0} segment")
    return None


def jpeg_metadata(data: bytes) -> list[str]:
    """Names of the metadata a JPEG stream carries (empty when there is none to remove).

    A bare JFIF header (version and pixel density) is not listed: it says nothing.
    """
    found, end = [], 0
    for marker, start, end in _segments(data):
        name = _segment_name(marker, data[start + 4:start + 40])
        if name and name != "JFIF header" and name not in found:
            found.append(name)
    if end and data[end:].strip(b"\x00"):
        found.append(f"{len(data) - end} bytes after the end of the image")
    return found


def strip_jpeg_metadata(data: bytes) -> tuple[bytes, list[str]]:
    """The JPEG without APPn (except Adobe APP14), comments and trailing data; what went."""
    kept, removed, end = [], [], 0
    for marker, start, end in _segments(data):
        name = _segment_name(marker, data[start + 4:start + 40])
        if name is None:
            kept.append(data[start:end])
        elif name not in removed:
            removed.append(name)
    if not end:
        return data, []                      # not a JPEG we can walk: left as it is
    if data[end:].strip(b"\x00"):
        removed.append(f"{len(data) - end} bytes after the end of the image")
    return b"".join(kept), [r for r in removed if r != "JFIF header"]


# --- JPEG 2000 ---------------------------------------------------------------------------

_JP2_METADATA_BOXES = {b"xml ": "XML box", b"uuid": "UUID box (XMP)", b"uinf": "UUID info box"}
_J2K_COM = 0xFF64


def _boxes(data: bytes):
    """(type, start, header length, end) of the top-level boxes of a JP2 file."""
    pos = 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if length == 1 and pos + 16 <= len(data):
            length, header = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
        elif length == 0:
            length = len(data) - pos
        if length < header:
            return
        yield kind, pos, header, min(pos + length, len(data))
        pos += length


def _strip_codestream_comments(code: bytes) -> tuple[bytes, bool]:
    """Drop COM markers from a J2K main header (SOC ... first SOT); True if any went."""
    if code[:2] != b"\xff\x4f":
        return code, False
    pos, kept, dropped = 2, [code[:2]], False
    while pos + 4 <= len(code):
        marker, length = struct.unpack(">HH", code[pos:pos + 4])
        if marker == 0xFF90:                 # SOT: tile data follows, the main header is over
            break
        if marker == _J2K_COM:
            dropped = True
        else:
            kept.append(code[pos:pos + 2 + length])
        pos += 2 + length
    kept.append(code[pos:])
    return b"".join(kept), dropped


def strip_jpx_metadata(data: bytes) -> tuple[bytes, list[str]]:
    """JPEG 2000 (JP2 file or bare codestream) without XML/UUID boxes and header comments."""
    if data[:2] == b"\xff\x4f":
        code, dropped = _strip_codestream_comments(data)
        return code, ["comment"] if dropped else []
    out, removed = [], []
    for kind, start, header, end in _boxes(data):
        if kind in _JP2_METADATA_BOXES:
            removed.append(_JP2_METADATA_BOXES[kind])
        elif kind == b"jp2c":
            code, dropped = _strip_codestream_comments(data[start + header:end])
            removed += ["comment"] if dropped else []
            out.append(struct.pack(">I4s", 8 + len(code), kind) + code)
        else:
            out.append(data[start:end])
    if not out:
        return data, []
    return b"".join(out), list(dict.fromkeys(removed))


def jpx_metadata(data: bytes) -> list[str]:
    return strip_jpx_metadata(data)[1]


# --- EPUB images: rebuilt from pixels ----------------------------------------------------

def _pixels_only(frame: Image.Image) -> Image.Image:
    """A copy that carries pixels (and a palette) but no info: no EXIF, ICC, XMP or comment."""
    if frame.mode == "P":
        fresh = frame.copy()
        transparency = frame.info.get("transparency")
        fresh.info = {} if transparency is None else {"transparency": transparency}
        return fresh
    return Image.frombytes(frame.mode, frame.size, frame.tobytes())


def reencode_image(data: bytes, media_type: str, where: str = "") -> bytes:
    """Rebuild a JPEG, PNG, GIF or WebP from its pixels, in the same format.

    The default image cleaner of `clean_epub`: the format stays (the book's manifest
    names it) and the size stays; orientation is applied to the pixels first.
    """
    if media_type not in RASTER_TYPES:
        raise UsageError(where, f"cannot clean images of type {media_type}; "
                                f"convert it to JPEG or PNG in the book first")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            out = io.BytesIO()
            if media_type == "image/gif":
                frames = [_pixels_only(f.convert("P") if f.mode not in ("P", "L") else f)
                          for f in ImageSequence.Iterator(img)]
                extra = {"save_all": True, "append_images": frames[1:], "loop": img.info.get("loop", 0),
                         "duration": img.info.get("duration", 100)} if len(frames) > 1 else {}
                frames[0].save(out, "GIF", **extra)
                return out.getvalue()
            upright = ImageOps.exif_transpose(img)
            if media_type == "image/jpeg":
                pixels = _pixels_only(upright.convert("L" if upright.mode in ("L", "1") else "RGB"))
                pixels.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=False)
            elif media_type == "image/png":
                mode = upright.mode if upright.mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16") else "RGBA"
                _pixels_only(upright.convert(mode)).save(out, "PNG", optimize=True)
            else:
                mode = "RGBA" if "A" in upright.getbands() else "RGB"
                _pixels_only(upright.convert(mode)).save(out, "WEBP", quality=JPEG_QUALITY, method=6)
            return out.getvalue()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UsageError(where, f"cannot read this {media_type} image ({exc}); replace it in the book") from None


def raster_metadata(data: bytes) -> list[str]:
    """Names of metadata blocks Pillow sees in an image file (for the scan)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            info = img.info
            found = [name for key, name in (("exif", "EXIF"), ("icc_profile", "ICC profile"), ("xmp", "XMP"),
                                            ("XML:com.adobe.xmp", "XMP"), ("comment", "comment"),
                                            ("photoshop", "Photoshop block (IPTC)")) if info.get(key)]
            if img.format == "PNG":
                found += [f"text chunk {key!r}" for key in getattr(img, "text", {}) if key != "XML:com.adobe.xmp"]
            if img.format == "JPEG":
                found += [n for n in jpeg_metadata(data) if n not in found]
            return list(dict.fromkeys(found))
    except (OSError, ValueError, SyntaxError):
        return ["unreadable image"]
