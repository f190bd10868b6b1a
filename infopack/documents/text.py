"""A document's text in reading order: for the vocabulary lint and for TXT-only players.

PDF text comes from `pdftotext` (poppler-utils): pikepdf does not lay text out, and
poppler is the engine behind the `pdfinfo`/`pdftoppm` checks already used, a Debian
package with no Python wheel bundling its own PDF engine; its default mode writes
blocks in reading order with a blank line between them, and a form feed between pages.
EPUB text follows the spine; each block element (p, h1-h6, li, blockquote, td, ...)
is a paragraph; scripts, styles and page-break markers are skipped. TXT is read with
the subtitle decoder (BOMs, UTF-8, CP949, ...), one paragraph a non-blank line.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from dataclasses import dataclass

from lxml import etree

from infopack.documents.epub import XHTML_TYPES
from infopack.documents.epubfile import read_epub
from infopack.documents.safexml import localname, parse_xml
from infopack.documents.sniff import EPUB, PDF, TXT, sniff_document
from infopack.documents.txt import clean_txt, encode_txt
from infopack.errors import InfopackError, UsageError
from infopack.subtitles.encoding import decode_subtitle_bytes
from infopack.tools import run, safe_arg

PDFTOTEXT_TIMEOUT = 600          # a 1,000-page book on a slow machine
BLOCKS = frozenset("p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote pre td th tr table caption figcaption "
                   "figure section article aside header footer nav address hr br body".split())
SKIPPED = frozenset({"script", "style", "head", "rp", "noscript", "template"})
PDFTOTEXT_HINT = "pdftotext is not installed; install it with `sudo apt-get install poppler-utils`"


def document_text(path: str | os.PathLike) -> list[str]:
    """The paragraphs of a PDF, EPUB or TXT, in reading order, NFC."""
    kind = sniff_document(path)
    if kind == PDF:
        return pdf_paragraphs(path)
    if kind == EPUB:
        return epub_paragraphs(path)
    if kind == TXT:
        return [line.strip() for line in read_txt(path).split("\n") if line.strip()]
    raise UsageError(path, "is not a PDF, EPUB or text file")


def pdf_paragraphs(path: str | os.PathLike) -> list[str]:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        raise InfopackError(None, PDFTOTEXT_HINT)
    result = run([pdftotext, "-q", "-enc", "UTF-8", "-eol", "unix", safe_arg(path), "-"],
                 timeout=PDFTOTEXT_TIMEOUT, what="pdftotext", subject=os.fspath(path))
    text = unicodedata.normalize("NFC", result.stdout.decode("utf-8", "replace"))
    paragraphs = []
    for page in text.split("\f"):
        for block in page.split("\n\n"):
            joined = " ".join(block.split())
            if joined:
                paragraphs.append(joined)
    return paragraphs


def epub_paragraphs(path: str | os.PathLike) -> list[str]:
    book = read_epub(path)
    paragraphs = []
    for item in book.spine_items():
        if item.media_type in XHTML_TYPES and item.path in book.entries:
            tree = parse_xml(book.entries[item.path], book.where(item.path))
            paragraphs += xhtml_paragraphs(tree.getroot())
    return paragraphs


def xhtml_paragraphs(root: etree._Element) -> list[str]:
    """Block elements' text, in document order (iterative: deep nesting cannot overflow)."""
    paragraphs, buffer, skipping = [], [], 0

    def flush() -> None:
        text = unicodedata.normalize("NFC", " ".join("".join(buffer).split()))
        if text:
            paragraphs.append(text)
        buffer.clear()

    for event, node in etree.iterwalk(root, events=("start", "end")):
        name = localname(node)
        skip = name in SKIPPED or "pagebreak" in (node.get("{http://www.idpf.org/2007/ops}type") or "")
        if event == "start":
            if skip:
                skipping += 1
            elif not skipping:
                if name in BLOCKS:
                    flush()
                if name and node.text:
                    buffer.append(node.text)
            continue
        if skip:
            skipping -= 1
        elif not skipping and name in BLOCKS:
            flush()
        if not skipping and node is not root and node.tail:
            buffer.append(node.tail)
    flush()
    return paragraphs


def read_txt(path: str | os.PathLike) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UsageError(path, f"cannot be read: {exc.strerror or exc}") from None
    text, _ = decode_subtitle_bytes(data, os.fspath(path))
    return unicodedata.normalize("NFC", text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))


@dataclass(frozen=True)
class TxtConversion:
    data: bytes                  # the TXT file's bytes, in the requested encoding, CRLF
    removals: list[str]          # credits, URLs, e-mails scrubbed from the text
    replaced: list[str]          # characters the encoding could not hold (on_unencodable="replace")


def document_to_txt(path: str | os.PathLike, encoding: str, *, on_unencodable: str = "error",
                    patterns_file: str | os.PathLike | None = None) -> TxtConversion:
    """A PDF, EPUB or TXT as a clean TXT book: paragraphs separated by a blank line
    (a TXT source keeps its own lines), scrubbed, encoded for the player."""
    if sniff_document(path) == TXT:
        text = read_txt(path)
    else:
        text = "\n\n".join(document_text(path))
    text, removals = clean_txt(text, patterns_file)
    try:
        data, replaced = encode_txt(text, encoding, on_unencodable=on_unencodable)
    except UsageError as exc:
        raise UsageError(path, exc.problem) from None
    return TxtConversion(data, removals, replaced)


def epub_to_txt(path: str | os.PathLike, encoding: str, **options) -> TxtConversion:
    """The book's text in spine order, for players that read only TXT."""
    _require(path, EPUB)
    return document_to_txt(path, encoding, **options)


def pdf_to_txt(path: str | os.PathLike, encoding: str, **options) -> TxtConversion:
    """The PDF's text in reading order, for players that read only TXT."""
    _require(path, PDF)
    return document_to_txt(path, encoding, **options)


def _require(path, kind: str) -> None:
    found = sniff_document(path)
    if found != kind:
        article = {PDF: "a PDF", EPUB: "an EPUB", TXT: "a text file"}
        raise UsageError(path, f"is not {article[kind]} (its content reads as {article.get(found, 'none of these')})")
