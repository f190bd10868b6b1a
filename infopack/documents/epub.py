"""EPUB: rebuilt from scratch with only what reading needs.

Kept: the files the manifest lists that a reader uses (XHTML, SVG, CSS, images, fonts,
the NCX), cleaned one by one (`markup`, `opf`, the image cleaner); the spine order;
the table of contents. Removed, and listed in the report: every file the manifest does
not list (`META-INF/calibre_bookmarks.txt`, `iTunesMetadata.plist`, `.DS_Store`,
`__MACOSX/`, `META-INF/*` but container.xml), scripts, outside resources, and the
metadata `opf` describes. Refused with a clear message: DRM (Adobe ADEPT, Readium LCP,
Apple FairPlay, any encryption but font obfuscation), audio, video and other media this
cleaner cannot clean, XML that declares entities.

Font obfuscation is undone (the fonts are keyed on the old identifier, which goes).
Images go through `image_cleaner(data, media_type, where) -> bytes`, which must return
the same format (the manifest names it); the default rebuilds JPEG, PNG, GIF and WebP
from pixels. Fonts are kept as they are: their name tables name the foundry and the
typeface, not the book's maker.

The zip is reproducible: `mimetype` first and stored, then META-INF/container.xml, the
OPF, then every other entry by name; each entry dated 2000-01-01 00:00 (the time every
file on an infopack card carries), Unix permissions 0644, deflate level 9.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import quoteattr

from infopack.cardtime import CARD_ZIP_DATE
from infopack.documents.epubfile import EpubBook, ManifestItem, deobfuscate, read_epub
from infopack.documents.images import RASTER_TYPES, raster_metadata, reencode_image
from infopack.documents.markup import clean_css, clean_svg, clean_xhtml
from infopack.documents.opf import build_opf, clean_ncx, content_identifier, plan_metadata
from infopack.documents.removals import RemovalLog
from infopack.documents.sniff import EPUB_MIMETYPE
from infopack.errors import CheckFailed, UsageError

XHTML_TYPES = frozenset({"application/xhtml+xml", "text/html"})
SVG_TYPE, CSS_TYPE, NCX_TYPE = "image/svg+xml", "text/css", "application/x-dtbncx+xml"
SCRIPT_TYPES = frozenset({"application/javascript", "text/javascript", "application/ecmascript",
                          "application/x-javascript", "text/ecmascript"})
FONT_TYPES = frozenset({"font/ttf", "font/otf", "font/sfnt", "font/woff", "font/woff2", "application/font-sfnt",
                        "application/vnd.ms-opentype", "application/x-font-ttf", "application/x-font-otf",
                        "application/x-font-truetype", "application/x-font-opentype", "application/font-woff",
                        "application/font-woff2", "application/x-font-woff"})
ZIP_DATE = CARD_ZIP_DATE
ZIP_MODE = 0o100644
DEFLATE_LEVEL = 9
CONTAINER = "META-INF/container.xml"

ImageCleaner = Callable[[bytes, str, str], bytes]


@dataclass(frozen=True)
class EpubCleanReport:
    identifier: str                 # urn:sha256:... written as the book's unique identifier
    entries: tuple[str, ...]        # the zip entries written, in order
    removals: tuple[str, ...]       # one line per kind of thing removed, with counts


def clean_epub(src: str | os.PathLike, dest: str | os.PathLike, *, keep_author: bool = True,
               image_cleaner: ImageCleaner | None = None, title: str | None = None) -> EpubCleanReport:
    """Write a cleaned copy of the EPUB `src` to `dest`.

    keep_author: keep `dc:creator` (the work's author; the curator's choice).
    image_cleaner: called for every raster image; default `reencode_image`.
    title: replaces the book's title (e.g. the manifest item's); needed when it has none.
    """
    book = read_epub(src)
    log = RemovalLog()
    plan = plan_metadata(book, keep_author)
    if title:
        plan.title = title
    if not plan.title:
        raise UsageError(src, "has no title (dc:title); give the item a title in the manifest")
    for dropped in plan.dropped:
        log.add(f"metadata {dropped} removed")
    files, kept_ids, ncx = _clean_items(book, image_cleaner or reencode_image, log)
    _log_unlisted(book, {item.path for item in book.manifest}, log)
    identifier = content_identifier(files, plan)
    if ncx is not None:
        files[ncx.path], dropped = clean_ncx(book.entries[ncx.path], book.where(ncx.path), identifier, keep_author)
        for what in dropped:
            log.add(f"{what} removed")
    files[book.opf_path] = build_opf(book, plan, identifier, kept_ids)
    order = write_epub(dest, files, book.opf_path)
    return EpubCleanReport(identifier, order, log.lines())


def _clean_items(book: EpubBook, image_cleaner: ImageCleaner, log: RemovalLog
                 ) -> tuple[dict[str, bytes], set[str], ManifestItem | None]:
    """Clean each manifest item; (entry -> bytes, ids kept, the NCX item to clean last)."""
    spine_ids = {idref for idref, _ in book.spine}
    files: dict[str, bytes] = {}
    kept_ids: set[str] = set()
    ncx = None
    markup_removed: Counter = Counter()
    for item in book.manifest:
        where = book.where(item.path or item.href)
        if item.remote or item.path not in book.entries:
            if item.id in spine_ids:
                raise UsageError(where, "is in the reading order but is not inside the book; the book is damaged")
            log.add(f"manifest item {'outside the book' if item.remote else 'without a file'} removed: {item.href}")
            continue
        if item.path in (book.opf_path, "mimetype") or item.path.startswith("META-INF/"):
            log.add(f"manifest item pointing at {item.path} removed")
            continue
        data = book.entries[item.path]
        kind = item.media_type
        if kind in SCRIPT_TYPES:
            log.add("script file removed")
            continue
        kept_ids.add(item.id)
        if kind == NCX_TYPE:
            ncx = item
        elif kind in XHTML_TYPES:
            files[item.path], removed = clean_xhtml(data, where)
            markup_removed.update(removed)
        elif kind == SVG_TYPE:
            files[item.path], removed = clean_svg(data, where)
            markup_removed.update(removed)
        elif kind == CSS_TYPE:
            files[item.path], removed = clean_css(data, where)
            markup_removed.update(removed)
        elif kind in RASTER_TYPES:
            files[item.path] = _clean_image(data, kind, where, image_cleaner, log)
        elif kind in FONT_TYPES or kind.startswith("font/"):
            algorithm = book.obfuscated.get(item.path)
            if algorithm:
                data = deobfuscate(data, algorithm, book.unique_identifier(), where)
                log.add("font obfuscation undone (it was keyed on the old identifier)")
            files[item.path] = data
        else:
            raise UsageError(where, f"is {kind or 'of no media type'}, which infopack cannot clean inside "
                                    f"an EPUB; remove it from the book (or convert the book) first")
    for what, times in markup_removed.items():
        log.add(f"{what} removed", times)
    return files, kept_ids, ncx


def _clean_image(data: bytes, media_type: str, where: str, image_cleaner: ImageCleaner, log: RemovalLog) -> bytes:
    for what in raster_metadata(data):
        log.add(f"image {what} removed")
    cleaned = image_cleaner(data, media_type, where)
    left = raster_metadata(cleaned)
    if left:
        raise CheckFailed(where, f"the image cleaner left {', '.join(left)} in this image")
    return cleaned


def _log_unlisted(book: EpubBook, listed: set[str], log: RemovalLog) -> None:
    for name in book.entries:
        if name in listed or name in ("mimetype", CONTAINER, book.opf_path):
            continue
        if name.startswith("__MACOSX/"):
            log.add("__MACOSX/ folder removed")
        else:
            log.add(f"file outside the manifest removed: {name}")


def container_xml(opf_path: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\n'
            f'  <rootfiles>\n    <rootfile full-path={quoteattr(opf_path)} '
            'media-type="application/oebps-package+xml"/>\n  </rootfiles>\n</container>\n').encode("utf-8")


def write_epub(dest: str | os.PathLike, files: dict[str, bytes], opf_path: str) -> tuple[str, ...]:
    """Write a reproducible EPUB zip (see the module docstring); return the entry order."""
    entries = {"mimetype": EPUB_MIMETYPE, CONTAINER: container_xml(opf_path), opf_path: files[opf_path]}
    entries.update((name, files[name]) for name in sorted(files) if name not in entries)
    dest = Path(dest)
    handle, temp = tempfile.mkstemp(prefix=".epub-", dir=dest.parent)
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, data in entries.items():
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.create_system = 3                   # Unix, so the permissions below are read
                info.external_attr = ZIP_MODE << 16
                info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=None if name == "mimetype" else DEFLATE_LEVEL)
        os.chmod(temp, 0o644)
        os.replace(temp, dest)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return tuple(entries)
