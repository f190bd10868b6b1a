"""What kind of document a file is, by its bytes rather than its name.

A PDF starts with `%PDF-` (readers accept it anywhere in the first KiB); an EPUB is a
zip whose first entry is `mimetype` holding `application/epub+zip`; a text file is
bytes that decode as Korean or Unicode text (the subtitle decoder: BOMs, UTF-8, CP949,
then charset-normalizer), without the control characters binary data is full of, and
not subtitle cues (an SRT saved as `.txt` is subtitles).
"""

from __future__ import annotations

import os
import re
import zipfile

from infopack.errors import InfopackError
from infopack.subtitles.encoding import decode_subtitle_bytes
from infopack.subtitles.readers import READERS

PDF, EPUB, TXT = "pdf", "epub", "txt"
DOCUMENT_KINDS = (PDF, EPUB, TXT)
DOCUMENT_EXTENSIONS = {".pdf": PDF, ".epub": EPUB, ".txt": TXT}
EPUB_MIMETYPE = b"application/epub+zip"
_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
MAX_TXT_BYTES = 64 * 1024 * 1024     # a long novel is a few MB; more is not a book to read as text


def sniff_document(path: str | os.PathLike) -> str | None:
    """PDF, EPUB or TXT for a document, None for anything else (never raises on bad files)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1024)
            if _PDF_HEADER.search(head):
                return PDF
            if head.startswith(b"PK\x03\x04"):
                return EPUB if _is_epub(path) else None
            if os.fstat(handle.fileno()).st_size > MAX_TXT_BYTES:
                return None
            handle.seek(0)
            data = handle.read()
    except OSError:
        return None
    return TXT if is_text(data) else None


def _is_epub(path: str | os.PathLike) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if not entries or entries[0].filename != "mimetype" or entries[0].file_size > 100:
                return False
            return archive.read(entries[0]).strip() == EPUB_MIMETYPE
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
        return False


def is_text(data: bytes) -> bool:
    """True for bytes that decode to text a person wrote (empty files are not books)."""
    if not data.strip():
        return False
    try:
        text, _ = decode_subtitle_bytes(data)
    except InfopackError:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return printable >= 0.98 * len(text) and not _is_subtitles(text)


def _is_subtitles(text: str) -> bool:
    """Cues with timings (an SRT saved as .txt, common in downloads) are subtitles, not a book."""
    return any(reader.sniff(text) for reader in READERS)
