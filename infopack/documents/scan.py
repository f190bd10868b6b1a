"""Finding the traces in anyone's PDF, EPUB or TXT, as named checks.

The same rules as the cleaners, read instead of applied: a file the cleaners wrote
gives no finding. Every trace is a `Finding`; a file that cannot be read is one too
("could not check" must never look like "clean"). Never raises on a bad document.

Checks (for the registry, `infopack/data/checks.toml`):

| check              | level   | what it means                                            | what to do |
|--------------------|---------|----------------------------------------------------------|------------|
| doc-info           | error   | a PDF Info dictionary entry: author, title, creator tool, producer and version, dates | clean the PDF (`clean_pdf`) |
| doc-xmp            | error   | an XMP metadata stream in a PDF (document, page, image, font): names, tool, dates, IDs, paths | clean the PDF |
| doc-javascript     | error   | a script or an action that runs by itself or reaches outside: JavaScript, /OpenAction, /AA, Launch, SubmitForm, ImportData, GoToR; EPUB scripts | clean the document |
| doc-embedded-file  | error   | a file embedded in or attached to a PDF                  | clean the PDF |
| doc-annotation     | error   | a PDF annotation with an author, comment, date or unique name (notes, highlights, stamps) | clean the PDF |
| doc-private-data   | error   | PDF application data, thumbnails, modification dates, forms and signatures, OPI paths | clean the PDF |
| doc-image-metadata | error   | EXIF, XMP, ICC, comments or thumbnails inside an image of a PDF or EPUB | clean the document |
| doc-link           | warning | a link or resource pointing outside the document (a URI names a place) | clean the document; links go, the words stay |
| doc-epub-metadata  | error   | EPUB metadata beyond title, language and author: contributors, publisher, generator, identifiers, dates, vendor (calibre) data; files outside the manifest; XHTML meta, comments | clean the EPUB (`clean_epub`) |
| doc-credit         | error   | a credit line, URL, e-mail, path or handle in a TXT book | clean the text (`clean_txt`) |
| scan-unreadable    | error   | (existing check) the document could not be read as its kind | repair or replace the file |

Not reported: a PDF's /ID (every PDF has one; the cleaner's is content-derived), fonts'
name tables, the author kept by the curator's choice, calibre's `calibreN` class names.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from infopack.checks import ERROR, WARNING, Finding
from infopack.documents.epub import CSS_TYPE, SCRIPT_TYPES, SVG_TYPE, XHTML_TYPES, NCX_TYPE
from infopack.documents.epubfile import read_epub
from infopack.documents.images import RASTER_TYPES, jpeg_metadata, jpx_metadata, raster_metadata
from infopack.documents.markup import clean_css, clean_svg, clean_xhtml
from infopack.documents.opf import clean_ncx, plan_metadata
from infopack.documents.pdf import internal_action, open_pdf
from infopack.documents.removals import shorten
from infopack.documents.sniff import EPUB, PDF, TXT, sniff_document
from infopack.documents.text import read_txt
from infopack.documents.txt import TXT_PART_KINDS
from infopack.errors import InfopackError
from infopack.subtitles.scrub import load_patterns

CHECKS = {  # name -> level
    "doc-info": ERROR, "doc-xmp": ERROR, "doc-javascript": ERROR, "doc-embedded-file": ERROR,
    "doc-annotation": ERROR, "doc-private-data": ERROR, "doc-image-metadata": ERROR, "doc-link": WARNING,
    "doc-epub-metadata": ERROR, "doc-credit": ERROR,
}
OUTSIDE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
                             "/ResetForm", "/Rendition", "/Movie", "/Sound", "/RichMediaExecute"})
PRIVATE_KEYS = {"/PieceInfo": "application private data (/PieceInfo)", "/Thumb": "page thumbnail",
                "/LastModified": "modification date", "/OPI": "OPI link to an outside image file",
                "/AcroForm": "form fields or signatures", "/Perms": "signature permissions",
                "/SpiderInfo": "web-capture data"}
ANNOTATION_TRACES = ("/T", "/Contents", "/M", "/CreationDate", "/NM", "/RC", "/Subj")
XMP_FIELD = re.compile(r"<((?:dc|xmp|xmpMM|pdf|photoshop|xmpRights|pdfx|exif|tiff|stEvt|stRef):[A-Za-z]+)[\s>]")


def document_findings(path: str | os.PathLike, where: str | None = None) -> list[Finding]:
    """Traces in a PDF, EPUB or TXT (by content); [] for other files."""
    where = os.fspath(path) if where is None else where
    kind = sniff_document(path)
    scanners = {PDF: _pdf_findings, EPUB: _epub_findings, TXT: _txt_findings}
    if kind is None:
        return []
    try:
        return scanners[kind](path, where)
    except InfopackError as exc:
        return [Finding("scan-unreadable", ERROR, where, exc.problem)]
    except Exception as exc:  # a scanner bug must not hide the file from QA
        return [Finding("scan-unreadable", ERROR, where, f"could not be scanned ({exc.__class__.__name__})")]


class _Found:
    """Findings counted by (check, message), so 300 identical annotations are one line."""

    def __init__(self, where: str):
        self.where, self.counts = where, Counter()

    def add(self, check: str, message: str, times: int = 1) -> None:
        if times:
            self.counts[(check, message)] += times

    def findings(self) -> list[Finding]:
        return [Finding(check, CHECKS[check], self.where, message if n == 1 else f"{message} (x{n})")
                for (check, message), n in self.counts.items()]


# --- PDF -----------------------------------------------------------------------------------

def _pdf_findings(path, where: str) -> list[Finding]:
    found = _Found(where)
    with open_pdf(path) as pdf:
        info = pdf.trailer.get("/Info")
        if isinstance(info, Dictionary):
            for key, value in sorted(info.items(), key=lambda entry: entry[0]):
                found.add("doc-info", f"Info {key.lstrip('/')}: {shorten(str(value))!r}")
        names = pdf.Root.get("/Names")
        if isinstance(names, Dictionary):
            if "/JavaScript" in names:
                found.add("doc-javascript", "document JavaScript")
            if "/EmbeddedFiles" in names:
                found.add("doc-embedded-file", "embedded files: " + ", ".join(sorted(pdf.attachments)))
        for number, obj in _pdf_dictionaries(pdf):
            _pdf_object(found, number, obj)
    return found.findings()


def _pdf_dictionaries(pdf: pikepdf.Pdf):
    """(object number, dictionary or stream) for every object and its direct sub-dictionaries."""
    for obj in pdf.objects:
        stack = [obj]
        while stack:
            item = stack.pop()
            if isinstance(item, (Dictionary, Stream)):
                yield obj.objgen[0], item
                children = item.values()
            elif isinstance(item, Array):
                children = list(item)
            else:
                continue
            stack += [c for c in children if isinstance(c, (Dictionary, Array)) and not c.is_indirect]


def _pdf_object(found: _Found, number: int, obj) -> None:
    if isinstance(obj, Stream) and (obj.get("/Type") == Name.Metadata or obj.get("/Subtype") == Name.XML):
        fields = sorted(set(XMP_FIELD.findall(obj.read_bytes().decode("utf-8", "replace"))))
        found.add("doc-xmp", f"XMP metadata (object {number})" + (f": {', '.join(fields[:8])}" if fields else ""))
    if isinstance(obj, Stream) and obj.get("/Subtype") == Name.Image:
        _pdf_image(found, number, obj)
    for key, what in PRIVATE_KEYS.items():
        if key in obj:
            found.add("doc-private-data", what)
    for key, what in (("/OpenAction", "opening action"), ("/AA", "automatic action")):
        action = obj.get(key)
        if action is not None and not (isinstance(action, Array) or internal_action(action)):
            found.add("doc-javascript", what)
    kind = obj.get("/S")
    if "/JS" in obj or str(kind) in OUTSIDE_ACTIONS:
        found.add("doc-javascript", f"{str(kind).lstrip('/') if kind is not None else 'JavaScript'} action")
    elif kind == Name.URI:
        found.add("doc-link", f"link to {shorten(str(obj.get('/URI', '')))!r}")
    if obj.get("/Type") == Name.EmbeddedFile or "/EF" in obj or obj.get("/Subtype") == Name.FileAttachment:
        found.add("doc-embedded-file", "embedded file")
    subtype = obj.get("/Subtype")
    if obj.get("/Type") == Name.Annot or (subtype is not None and "/Rect" in obj and "/P" in obj):
        traces = [k.lstrip("/") for k in ANNOTATION_TRACES if k in obj]
        if traces and subtype != Name.Widget:
            author = f" by {shorten(str(obj['/T']))!r}" if "/T" in obj else ""
            found.add("doc-annotation", f"annotation {str(subtype).lstrip('/')}{author} ({', '.join(traces)})")


def _pdf_image(found: _Found, number: int, obj) -> None:
    filters = obj.get("/Filter")
    last = filters[-1] if isinstance(filters, Array) and len(filters) else filters
    if last not in (Name.DCTDecode, Name.JPXDecode):
        return
    data = obj.read_raw_bytes() if not isinstance(filters, Array) or len(filters) == 1 else \
        obj.read_bytes(pikepdf.StreamDecodeLevel.generalized)
    for what in (jpeg_metadata if last == Name.DCTDecode else jpx_metadata)(data):
        found.add("doc-image-metadata", f"image (object {number}): {what}")


# --- EPUB ----------------------------------------------------------------------------------

def _markup_check(what: str) -> str:
    if what in ("script", "script attribute"):
        return "doc-javascript"
    return "doc-link" if "outside" in what or what.startswith("<base>") else "doc-epub-metadata"


def _epub_findings(path, where: str) -> list[Finding]:
    found = _Found(where)
    book = read_epub(path)
    for dropped in plan_metadata(book).dropped:
        found.add("doc-epub-metadata", f"{book.opf_path}: {dropped}")
    if book.opf.getroot().get("prefix"):
        found.add("doc-epub-metadata", f"{book.opf_path}: vocabulary prefixes "
                                       f"{shorten(book.opf.getroot().get('prefix'))!r}")
    listed = {item.path for item in book.manifest}
    for name in book.entries:
        if name not in listed and name not in ("mimetype", "META-INF/container.xml", book.opf_path):
            found.add("doc-epub-metadata", f"file outside the manifest: {name}")
    cleaners = {SVG_TYPE: clean_svg, CSS_TYPE: clean_css} | dict.fromkeys(XHTML_TYPES, clean_xhtml)
    for item in book.manifest:
        data = book.entries.get(item.path)
        if item.remote:
            found.add("doc-link", f"resource outside the book: {shorten(item.href)!r}")
        elif data is None:
            continue
        elif item.media_type in SCRIPT_TYPES:
            found.add("doc-javascript", f"script file {item.path}")
        elif item.media_type == NCX_TYPE:
            for what in clean_ncx(data, book.where(item.path), "", keep_author=True)[1]:
                found.add("doc-epub-metadata", f"{item.path}: {what}")
        elif item.media_type in cleaners:
            for what, times in cleaners[item.media_type](data, book.where(item.path))[1].items():
                found.add(_markup_check(what), f"{item.path}: {what}", times)
        elif item.media_type in RASTER_TYPES:
            for what in raster_metadata(data):
                found.add("doc-image-metadata", f"{item.path}: {what}")
    return found.findings()


# --- TXT -----------------------------------------------------------------------------------

def _txt_findings(path, where: str) -> list[Finding]:
    found = _Found(where)
    patterns = load_patterns()
    for number, line in enumerate(read_txt(path).split("\n"), start=1):
        if patterns.credit_match(line) is not None:
            found.add("doc-credit", f"line {number}: credit {shorten(line.strip())!r}")
        for kind, what in patterns.find_parts(line):
            if kind in TXT_PART_KINDS:
                found.add("doc-credit", f"line {number}: {kind} {shorten(what)!r}")
    return found.findings()
