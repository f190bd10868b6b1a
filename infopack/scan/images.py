"""Metadata of still images, read with Pillow: EXIF, GPS, XMP, ICC, comments, thumbnails, IPTC."""

from __future__ import annotations

import io

from infopack.checks import ERROR, Finding
from infopack.scan.messages import shown

# EXIF tags worth naming one by one, with the check they belong to.
_EXIF_TIME_TAGS = {0x0132: "DateTime", 0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized",
                   0x9010: "OffsetTime", 0x9011: "OffsetTimeOriginal", 0x9012: "OffsetTimeDigitized"}
_EXIF_NAMED_TAGS = {0x010F: "Make", 0x0110: "Model", 0x013B: "Artist", 0x8298: "Copyright",
                    0x0131: "Software", 0x013C: "HostComputer", 0x010E: "ImageDescription",
                    0xA430: "CameraOwnerName", 0xA431: "BodySerialNumber",
                    0xA433: "LensMake", 0xA434: "LensModel", 0xA435: "LensSerialNumber",
                    0xA420: "ImageUniqueID", 0x927C: "MakerNote", 0x9286: "UserComment",
                    0x9C9B: "XPTitle", 0x9C9C: "XPComment", 0x9C9D: "XPAuthor"}
_EXIF_POINTERS = {0x8769, 0x8825, 0xA005}          # Exif, GPS, Interop IFD offsets
_TIFF_STRUCTURE_TAGS = {0x00FE, 0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0111, 0x0112,
                        0x0115, 0x0116, 0x0117, 0x011A, 0x011B, 0x011C, 0x0128, 0x013D,
                        0x0140, 0x0142, 0x0143, 0x0144, 0x0145, 0x0152, 0x0153, 0x0155}
_XMP_KEYS = ("xmp", "XML:com.adobe.xmp")
_PNG_TEXT_XMP = "XML:com.adobe.xmp"


def image_findings(path: str, where: str) -> list[Finding]:
    """EXIF, XMP, ICC, comments and thumbnails of a still image."""
    from PIL import Image

    with Image.open(path) as im:
        if im.format == "JPEG":                  # decode at 1/8 scale: every byte is still read,
            im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))   # at a tenth the work
        im.load()                                # truncated data raises here
        findings = _exif_findings(im.getexif(), where, tiff=im.format == "TIFF")
        findings += _image_info_findings(im, where)
        if im.format == "MPO" and getattr(im, "n_frames", 1) > 1:
            findings.append(Finding("meta-thumbnail", ERROR, where,
                                    f"{im.n_frames} images in one file (MPO: preview or depth "
                                    f"images); rebuild from pixels"))
    return findings


def _exif_findings(exif, where: str, *, tiff: bool = False) -> list[Finding]:
    """Named findings for the telling tags, one summary for the rest.

    In a TIFF, IFD0 *is* the image structure (width, strips, ...): those tags are not
    metadata and are skipped; in a JPEG/PNG/WebP any EXIF at all is reported.
    """
    from PIL import ExifTags

    if not exif:
        return []
    findings = []
    ifd0 = {t: v for t, v in exif.items() if not (tiff and t in _TIFF_STRUCTURE_TAGS)}
    ifds = {"IFD0": ifd0, "Exif": dict(exif.get_ifd(ExifTags.IFD.Exif))}
    gps = dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
    if gps:
        findings.append(Finding("meta-gps", ERROR, where, f"EXIF GPS position {_gps_text(gps)}"))
    thumb = dict(exif.get_ifd(ExifTags.IFD.IFD1))
    if 0x0201 in thumb or 0x0111 in thumb:
        findings.append(Finding("meta-thumbnail", ERROR, where,
                                "EXIF thumbnail (IFD1): a small copy of the original picture, "
                                "possibly before cropping; rebuild from pixels"))
    others = []
    for ifd in ifds.values():
        for tag, value in ifd.items():
            if tag in _EXIF_POINTERS:
                continue
            if tag in _EXIF_TIME_TAGS:
                findings.append(Finding("meta-creation-time", ERROR, where,
                                        f"EXIF {_EXIF_TIME_TAGS[tag]}={shown(value)}"))
            elif tag in _EXIF_NAMED_TAGS:
                findings.append(Finding("meta-exif", ERROR, where,
                                        f"EXIF {_EXIF_NAMED_TAGS[tag]}={shown(value)}"))
            else:
                others.append(ExifTags.TAGS.get(tag, f"0x{tag:04X}"))
    if others:
        findings.append(Finding("meta-exif", ERROR, where,
                                f"{len(others)} other EXIF tag(s) ({', '.join(sorted(others)[:8])}"
                                f"{', …' if len(others) > 8 else ''}); rebuild from pixels"))
    return findings


def _gps_text(gps: dict) -> str:
    def degrees(value) -> float:
        d, m, s = (float(x) for x in value)
        return d + m / 60 + s / 3600
    try:
        lat = degrees(gps[2]) * (-1 if str(gps.get(1, "N")).startswith("S") else 1)
        lon = degrees(gps[4]) * (-1 if str(gps.get(3, "E")).startswith("W") else 1)
        return f"{lat:+.5f} {lon:+.5f}"
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return f"({len(gps)} GPS tags)"


def _image_info_findings(im, where: str) -> list[Finding]:
    """XMP, ICC, comments and Photoshop blocks from Pillow's `info`/`text`."""
    info = im.info
    findings = []
    xmp = next((info[k] for k in _XMP_KEYS if info.get(k)), None)
    if xmp:
        findings.append(Finding("meta-xmp", ERROR, where,
                                f"XMP packet ({len(xmp)} bytes: tool, history, paths, people)"))
    if info.get("icc_profile"):
        findings.append(Finding("meta-icc", ERROR, where,
                                f"ICC profile {_icc_description(info['icc_profile'])}"
                                f"({len(info['icc_profile'])} bytes; can name the device or "
                                f"software); rebuild from pixels without icc_profile"))
    if info.get("comment"):
        findings.append(Finding("meta-comment", ERROR, where,
                                f"{im.format} comment {shown(info['comment'])}"))
    for key, value in (getattr(im, "text", None) or {}).items():
        if key != _PNG_TEXT_XMP:
            findings.append(Finding("meta-comment", ERROR, where,
                                    f"{im.format} text chunk {key}={shown(value)}"))
    if info.get("photoshop"):
        findings.append(Finding("meta-iptc", ERROR, where,
                                "Photoshop resource block (APP13: IPTC captions, credits, "
                                "places, thumbnail)"))
    return findings


def _icc_description(icc: bytes) -> str:
    try:
        from PIL import ImageCms
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
        return f"{shown(desc.strip(), 50)} "
    except Exception:  # noqa: BLE001 - the description is a courtesy; the finding stands
        return ""
