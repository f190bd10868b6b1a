"""Documents and e-books (PDF, EPUB, TXT): sniffed, cleaned, converted, scanned and linted.

The library behind the `document` kind, as `infopack.subtitles` is behind the subtitle
kind. What each cleaner removes, and why, is in its module's docstring; each returns a
report of what went, for the curator.

    sniff_document(path) -> "pdf" | "epub" | "txt" | None          by content
    clean_pdf(src, dest, *, title=None) -> PdfCleanReport
    clean_epub(src, dest, *, keep_author=True, image_cleaner=None, title=None) -> EpubCleanReport
    clean_txt(text) -> (text, removals);  encode_txt(text, encoding) -> (bytes, replaced)
    document_text(path) -> [paragraph, ...]                          reading order
    document_to_txt / epub_to_txt / pdf_to_txt(path, encoding) -> TxtConversion
    lint_paragraphs(paragraphs, source) -> [Finding]                 "sk-vocabulary"
    document_findings(path, where) -> [Finding]                      doc-* checks (scan.py)
    epub_problems(path), pdf_problems(path) -> [str]                 a cleaned file still opens
"""

from infopack.documents.epub import EpubCleanReport, clean_epub
from infopack.documents.images import reencode_image
from infopack.documents.lint import lint_paragraphs
from infopack.documents.pdf import PdfCleanReport, clean_pdf
from infopack.documents.scan import CHECKS, document_findings
from infopack.documents.sniff import DOCUMENT_EXTENSIONS, DOCUMENT_KINDS, EPUB, PDF, TXT, sniff_document
from infopack.documents.text import TxtConversion, document_text, document_to_txt, epub_to_txt, pdf_to_txt
from infopack.documents.txt import TXT_ENCODINGS, clean_txt, encode_txt
from infopack.documents.validate import epub_problems, pdf_problems

__all__ = [
    "sniff_document", "DOCUMENT_KINDS", "DOCUMENT_EXTENSIONS", "PDF", "EPUB", "TXT",
    "clean_pdf", "PdfCleanReport", "clean_epub", "EpubCleanReport", "reencode_image",
    "clean_txt", "encode_txt", "TXT_ENCODINGS",
    "document_text", "document_to_txt", "epub_to_txt", "pdf_to_txt", "TxtConversion",
    "lint_paragraphs", "document_findings", "CHECKS", "epub_problems", "pdf_problems",
]
