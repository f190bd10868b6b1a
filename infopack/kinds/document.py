"""Documents and e-books: PDF, EPUB and TXT, cleaned and delivered in a format the players read.

A source is known by its content (`infopack.documents.sniff_document`): a PDF named
`.bin` is still a PDF. The profile's `[documents]` table says which formats its readers
open; a PDF or EPUB it does not take becomes TXT (the text in reading order, in the
profile's encoding), and a profile without the table carries no documents. The curator's
title becomes the EPUB's title; a PDF gets none (the scanner cannot tell a curator's Info
title from a leaked one, "Draft from C:/Users/...", so a clean PDF has no Info at all: readers
show the file name, which is the title). `keep_author = false` on an item drops the EPUB's
author too (it is kept by default: it is the work's, not the maker's).

Cleaning is exact, so the plan's estimate is the size of the cleaned file itself (an EPUB's
with a stand-in title: a few bytes off). The cleaners are infopack's own code, so their
source is part of the cache key's recipe. `pdftotext` and `pdftoppm` (poppler-utils) are
needed for PDF text and page pictures.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import PIL
import pikepdf
from lxml import etree
from PIL import Image

from infopack.checks import ERROR
from infopack.documents import (DOCUMENT_EXTENSIONS, EPUB, PDF, TXT, clean_epub, clean_pdf, document_findings,
                                document_text, document_to_txt, epub_problems, lint_paragraphs, pdf_problems,
                                sniff_document)
from infopack.documents.epubfile import read_epub
from infopack.documents.pdf import open_pdf
from infopack.documents.sniff import EPUB_MIMETYPE
from infopack.documents.text import read_txt
from infopack.errors import CheckFailed, InfopackError, UsageError
from infopack.kinds.base import EncodeJob, Kind, Produced
from infopack.kinds.probe import MediaInfo
from infopack.kinds.specs import DocumentSpec, Profile
from infopack.kinds.thumbnails import png_bytes
from infopack.tools import run, safe_arg

PACKAGE = Path(__file__).resolve().parent.parent
# The code and data that decide a cleaned document's bytes (besides the libraries' versions).
CLEANER_FILES = ("documents/*.py", "subtitles/encoding.py", "subtitles/scrub.py", "data/scrub-patterns.toml")
ESTIMATE_TITLE = "책 제목 " * 3               # stands in for the manifest title the plan does not pass
PAGES_SHOWN = 3                              # the review's picture of a PDF: its first pages, side by side
PAGE_WIDTH = 400
PAGE_GAP = 4
POPPLER_TIMEOUT = 120
_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")


@dataclass(frozen=True)
class Conversion:
    """What cleaning or converting one source did, for report.json."""
    removals: tuple[str, ...]
    replaced: tuple[str, ...] = ()      # characters the TXT encoding could not hold
    pages: int | None = None            # a cleaned PDF's page count


class DocumentKind(Kind):
    name = "document"
    extensions = frozenset(DOCUMENT_EXTENSIONS)
    scanned_as = "document"
    card_folder, card_folder_ascii = "문서", "DOCS"
    thumbnails = ("pages",)
    item_options = {"keep_author": bool}

    def sniff(self, head: bytes) -> bool:
        """PDF and EPUB have signatures (an EPUB's first zip entry is `mimetype`); text has none."""
        if _PDF_HEADER.search(head):
            return True
        return head.startswith(b"PK\x03\x04") and head[30:38] == b"mimetype" and EPUB_MIMETYPE in head[38:120]

    def claims(self, path: Path) -> bool:
        return sniff_document(path) is not None

    def probe(self, path: Path) -> MediaInfo:
        """Readable as its format (a password, DRM or damage is said now, not at build time)."""
        fmt = source_format(path)
        if fmt == PDF:
            open_pdf(path).close()
        elif fmt == EPUB:
            read_epub(path)
        else:
            read_txt(path)
        return MediaInfo(path, self.name, 0.0, None, False)

    def supported_by(self, profile: Profile) -> bool:
        return profile.documents is not None

    def output_roles(self, info: MediaInfo, profile: Profile, *, subtitles: tuple[Path, ...] = ()) -> dict[str, str]:
        return {"main": "." + card_format(info.path, profile)}

    def estimate(self, info: MediaInfo, profile: Profile, *, subtitles: tuple[Path, ...] = (),
                 video_bits: int | None = None) -> dict[str, int]:
        """The cleaned file's own size (cleaning is fast and exact; remembered per source)."""
        target = card_format(info.path, profile)
        stat = info.path.stat()
        return {"main": _cleaned_size(str(info.path), stat.st_size, stat.st_mtime_ns, target, profile.documents)}

    def recipe(self, job: EncodeJob) -> list[str]:
        spec = documents_spec(job.profile, job.info.path)
        fmt, target = source_format(job.info.path), card_format(job.info.path, job.profile)
        recipe = ["documents", fmt, target, f"pikepdf {pikepdf.__version__}", f"qpdf {pikepdf.__libqpdf_version__}",
                  f"lxml {'.'.join(map(str, etree.LXML_VERSION))}", f"pillow {PIL.__version__}",
                  f"zlib {zlib.ZLIB_RUNTIME_VERSION}", f"cleaner {cleaner_digest()}"]
        if target == TXT:
            recipe += [f"encoding {spec.encoding}", f"unencodable {spec.unencodable}"]
            if fmt == PDF:
                recipe.append(f"pdftotext {poppler_version()}")
        elif target == EPUB:
            recipe += [f"title {job.item.title}", f"keep_author {keep_author(job)}"]
        return recipe

    def transcode(self, job: EncodeJob) -> list[Produced]:
        target = card_format(job.info.path, job.profile)
        out = job.work_dir / f"{job.item.id}.{target}"
        convert_for(job, out)
        return [Produced("main", out, "." + target)]

    def validate(self, job: EncodeJob, produced: Produced) -> None:
        """The file opens as its format, carries no trace the scanner knows, and fits the profile."""
        path, target = produced.path, produced.extension[1:]
        problems = {PDF: pdf_problems, EPUB: epub_problems, TXT: lambda p: _txt_problems(p, job.profile)}[target](path)
        if sniff_document(path) != target:
            problems.insert(0, f"the file does not read as {target.upper()}")
        errors = [f for f in document_findings(path, job.item.id) if f.level == ERROR]
        problems += [f"{f.check}: {f.message}" for f in errors]
        if path.stat().st_size > job.profile.max_file_bytes:
            problems.append(f"{path.stat().st_size} bytes, more than profile {job.profile.id} allows in one file")
        if problems:
            raise CheckFailed(path, f"item {job.item.id}: the cleaned document is not fit for the card: {problems[0]}")

    def item_report(self, job: EncodeJob, produced: list[Produced]) -> dict:
        """What cleaning removed, what the encoding could not hold, and the vocabulary lint of
        the card file's text (the text readers will see)."""
        conversion = remembered_conversion(job)
        target = produced[0].extension[1:]
        paragraphs = document_text(produced[0].path)
        report = {"source_format": source_format(job.info.path), "format": target,
                  "paragraphs": len(paragraphs), "removals": list(conversion.removals),
                  "lint": [f.to_dict() for f in lint_paragraphs(paragraphs, job.item.id)]}
        if conversion.pages is not None:
            report["pages"] = conversion.pages
        if target == TXT:
            report["encoding"] = job.profile.documents.encoding
            report["replaced"] = list(conversion.replaced)
        if target == EPUB:
            report["keep_author"] = keep_author(job)
        return report

    def thumbnails_for(self, path: Path) -> tuple[str, ...]:
        return self.thumbnails if sniff_document(path) == PDF else ()

    def thumbnail(self, path: Path, duration: float, what: str) -> bytes | None:
        return first_pages(path) if what == "pages" else None

    def reading_text(self, path: Path) -> list[str]:
        return document_text(path)


# --- formats ----------------------------------------------------------------------------

def source_format(path: Path) -> str:
    """pdf, epub or txt, by content; UsageError for anything else."""
    stat = path.stat()
    fmt = _sniffed(str(path), stat.st_size, stat.st_mtime_ns)
    if fmt is None:
        raise UsageError(path, "is not a PDF, EPUB or text file (by its content); convert it to one of these")
    return fmt


@lru_cache(maxsize=1024)
def _sniffed(path: str, size: int, mtime_ns: int) -> str | None:
    """A text source is read whole to be told from binary data: once per file version."""
    return sniff_document(path)


def documents_spec(profile: Profile, source: Path) -> DocumentSpec:
    if profile.documents is None:
        raise UsageError(source, f"profile {profile.id} carries no documents (it has no [documents] table); "
                                 f"use a profile whose players read books, or leave this item out")
    return profile.documents


def card_format(source: Path, profile: Profile) -> str:
    """The source's own format when the profile takes it, else TXT (the text in reading order)."""
    spec = documents_spec(profile, source)
    fmt = source_format(source)
    if fmt in spec.formats:
        return fmt
    if TXT in spec.formats:
        return TXT
    raise UsageError(source, f"is {fmt.upper()}, which profile {profile.id} does not take "
                             f"({', '.join(spec.formats)}), and infopack turns documents only into TXT")


def keep_author(job: EncodeJob) -> bool:
    return bool(job.item.options.get("keep_author", True))


# --- cleaning, remembered -----------------------------------------------------------------

_conversions: dict[tuple, Conversion] = {}
_conversions_lock = threading.Lock()
REMEMBERED = 256


def convert(source: Path, dest: Path, target: str, spec: DocumentSpec, *, title: str,
            keep_author: bool) -> Conversion:
    """Write the card file for `source` to `dest`: cleaned as it is, or as TXT."""
    fmt = source_format(source)
    if target == PDF and fmt == PDF:
        report = clean_pdf(source, dest)
        return Conversion(report.removals, pages=report.pages)
    if target == EPUB and fmt == EPUB:
        return Conversion(clean_epub(source, dest, keep_author=keep_author, title=title).removals)
    if target != TXT:
        raise UsageError(source, f"infopack cannot turn {fmt.upper()} into {target.upper()}")
    conversion = document_to_txt(source, spec.encoding, on_unencodable=spec.unencodable)
    dest.write_bytes(conversion.data)
    return Conversion(tuple(conversion.removals), tuple(conversion.replaced))


def _memo_key(source: Path, target: str, spec: DocumentSpec, title: str, keep: bool) -> tuple:
    stat = source.stat()
    return (str(source), stat.st_size, stat.st_mtime_ns, target, spec, title, keep)


def _remember(key: tuple, conversion: Conversion) -> None:
    with _conversions_lock:
        if len(_conversions) >= REMEMBERED:
            _conversions.pop(next(iter(_conversions)))
        _conversions[key] = conversion


def convert_for(job: EncodeJob, dest: Path) -> Conversion:
    """The job's card file, written to `dest`; what was done is remembered for `item_report`."""
    source, spec = job.info.path, documents_spec(job.profile, job.info.path)
    target, keep = card_format(source, job.profile), keep_author(job)
    conversion = convert(source, dest, target, spec, title=job.item.title, keep_author=keep)
    _remember(_memo_key(source, target, spec, job.item.title, keep), conversion)
    return conversion


def remembered_conversion(job: EncodeJob) -> Conversion:
    """What `convert_for` did for this job, or (an encode reused from the cache) the same
    conversion done again aside: it is deterministic."""
    source, spec = job.info.path, documents_spec(job.profile, job.info.path)
    target, keep = card_format(source, job.profile), keep_author(job)
    found = _conversions.get(_memo_key(source, target, spec, job.item.title, keep))
    if found is not None:
        return found
    with tempfile.TemporaryDirectory(prefix="infopack-document-") as tmp:
        return convert_for(job, Path(tmp) / f"again.{target}")


@lru_cache(maxsize=256)
def _cleaned_size(source: str, size: int, mtime_ns: int, target: str, spec: DocumentSpec) -> int:
    with tempfile.TemporaryDirectory(prefix="infopack-estimate-") as tmp:
        dest = Path(tmp) / f"estimate.{target}"
        convert(Path(source), dest, target, spec, title=ESTIMATE_TITLE, keep_author=True)
        return dest.stat().st_size


@lru_cache(maxsize=1)
def cleaner_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for pattern in CLEANER_FILES for p in PACKAGE.glob(pattern)):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def poppler_version() -> str:
    """pdftotext's version (it lays out the text of a PDF turned into TXT)."""
    proc = run(["pdftotext", "-v"], timeout=POPPLER_TIMEOUT, what="pdftotext", check=False)
    words = (proc.stderr + proc.stdout).decode("utf-8", "replace").split()
    return next((w for w in words if w[:1].isdigit()), "unknown")


def _txt_problems(path: Path, profile: Profile) -> list[str]:
    encoding = profile.documents.encoding
    try:
        path.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        return [f"the text is not {encoding} (byte {exc.start})"]
    return []


# --- the review's picture of a PDF ------------------------------------------------------------

def first_pages(path: Path) -> bytes | None:
    """The first PAGES_SHOWN pages side by side, PAGE_WIDTH pixels wide each (pdftoppm)."""
    with tempfile.TemporaryDirectory(prefix="infopack-pages-") as tmp:
        try:
            proc = run(["pdftoppm", "-png", "-f", "1", "-l", str(PAGES_SHOWN), "-scale-to-x", str(PAGE_WIDTH),
                        "-scale-to-y", "-1", safe_arg(path), str(Path(tmp) / "page")],
                       timeout=POPPLER_TIMEOUT, what="pdftoppm", check=False, subject=str(path))
        except InfopackError:
            return None                  # pdftoppm missing or stuck: the review shows the text only
        files = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if proc.returncode != 0 or not files:
            return None
        pages = []
        for file in files:
            with Image.open(file) as page:
                pages.append(page.convert("RGB"))
    height = max(page.height for page in pages)
    strip = Image.new("RGB", (sum(p.width for p in pages) + PAGE_GAP * (len(pages) + 1), height + 2 * PAGE_GAP),
                      (128, 128, 128))
    x = PAGE_GAP
    for page in pages:
        strip.paste(page, (x, PAGE_GAP))
        x += page.width + PAGE_GAP
    return png_bytes(strip)
