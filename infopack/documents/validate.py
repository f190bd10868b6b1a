"""Is a cleaned document still one a reader opens? For the kind's validate step.

Not a full EPUB or PDF validator (EPUBCheck is Java; qpdf --check reads every stream):
the structure readers rely on, checked fast, with one line per problem.
"""

from __future__ import annotations

import os
import zipfile

import pikepdf

from infopack.documents.epub import NCX_TYPE, XHTML_TYPES
from infopack.documents.epubfile import read_epub
from infopack.documents.opf import FIXED_MODIFIED
from infopack.documents.pdf import open_pdf
from infopack.documents.safexml import DC_NS, OPF_NS, parse_xml
from infopack.errors import InfopackError


def epub_problems(path: str | os.PathLike) -> list[str]:
    """Structure problems of a cleaned EPUB: [] when a reader can open it (and its
    dcterms:modified is the fixed one the cleaner writes)."""
    try:
        with zipfile.ZipFile(path) as archive:
            first = archive.infolist()[0]
        if first.compress_type != zipfile.ZIP_STORED or first.extra:
            return ["'mimetype' is compressed or carries an extra field; readers look for it stored, at byte 38"]
        book = read_epub(path)
    except (InfopackError, zipfile.BadZipFile, IndexError, OSError) as exc:
        return [getattr(exc, "problem", str(exc))]
    problems = []
    root = book.opf.getroot()
    uid = root.get("unique-identifier")
    metadata = book.metadata()
    found = {} if metadata is None else {el.tag: el for el in metadata.iter(f"{{{DC_NS}}}identifier",
                                                                            f"{{{DC_NS}}}title", f"{{{DC_NS}}}language")}
    if not any(el.get("id") == uid for el in ([] if metadata is None else metadata.iter(f"{{{DC_NS}}}identifier"))):
        problems.append("the package's unique-identifier names no dc:identifier")
    for name in ("title", "language"):
        if f"{{{DC_NS}}}{name}" not in found:
            problems.append(f"no dc:{name}")
    if book.version.startswith("3"):
        modified = [] if metadata is None else [m.text for m in metadata.iter(f"{{{OPF_NS}}}meta")
                                                 if m.get("property") == "dcterms:modified"]
        if modified != [FIXED_MODIFIED]:
            problems.append(f"dcterms:modified is {modified or 'missing'}, not {FIXED_MODIFIED}")
        if not any("nav" in item.properties for item in book.manifest):
            problems.append("no navigation document (EPUB 3 needs one)")
    ids = {item.id for item in book.manifest}
    problems += [f"spine item {idref} is not in the manifest" for idref, _ in book.spine if idref not in ids]
    for item in book.manifest:
        if item.path not in book.entries:
            problems.append(f"manifest item {item.href} is not in the book")
        elif item.media_type in XHTML_TYPES or item.media_type == NCX_TYPE:
            try:
                parse_xml(book.entries[item.path], item.path)
            except InfopackError as exc:
                problems.append(exc.line())
    return problems


def pdf_problems(path: str | os.PathLike) -> list[str]:
    """Problems a reader would meet: unreadable file, no pages, a page whose content cannot be read."""
    try:
        with open_pdf(path) as pdf:
            if not len(pdf.pages):
                return ["the PDF has no pages"]
            problems = []
            for number, page in enumerate(pdf.pages, start=1):
                try:
                    pikepdf.parse_content_stream(page)
                except pikepdf.PdfError as exc:
                    problems.append(f"page {number}: content cannot be read ({exc})")
            return problems
    except InfopackError as exc:
        return [exc.problem]
