"""Reading an EPUB: its entries, its package document (OPF), manifest and spine.

Shared by the cleaner, the text extraction and the scan. The whole book is read into
memory (a book is megabytes), with limits against zip bombs. DRM is refused with a
clear message; font obfuscation (IDPF or Adobe), which is not DRM but a XOR keyed on
the book's identifier, is noted so the cleaner can undo it before changing the
identifier.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from lxml import etree

from infopack.documents.safexml import CONTAINER_NS, DC_NS, OPF_NS, localname, parse_xml
from infopack.documents.sniff import EPUB_MIMETYPE
from infopack.errors import UsageError

MAX_ENTRY_BYTES = 256 * 1024 * 1024
MAX_BOOK_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200                     # deflate rarely beats 100:1 on real content
IDPF_OBFUSCATION = "http://www.idpf.org/2008/embedding"
ADOBE_OBFUSCATION = "http://ns.adobe.com/pdf/enc#RC"
DRM_FILES = {"META-INF/rights.xml": "Adobe ADEPT", "META-INF/license.lcpl": "Readium LCP",
             "META-INF/sinf.xml": "Apple FairPlay"}
_ENC_NS = "http://www.w3.org/2001/04/xmlenc#"


@dataclass(frozen=True)
class ManifestItem:
    id: str
    href: str                    # as the OPF writes it
    path: str                    # the zip entry it names ("" for a remote resource)
    media_type: str
    properties: tuple[str, ...]
    element: etree._Element = field(repr=False, compare=False)

    @property
    def remote(self) -> bool:
        return not self.path


@dataclass
class EpubBook:
    source: str
    entries: dict[str, bytes]            # zip order
    opf_path: str
    opf: etree._ElementTree
    manifest: list[ManifestItem]
    spine: list[tuple[str, bool]]        # (idref, linear)
    obfuscated: dict[str, str]           # entry -> obfuscation algorithm

    def where(self, name: str) -> str:
        return f"{self.source}: {name}"

    @property
    def version(self) -> str:
        return self.opf.getroot().get("version", "2.0")

    def item(self, item_id: str) -> ManifestItem | None:
        return next((i for i in self.manifest if i.id == item_id), None)

    def metadata(self) -> etree._Element | None:
        return next((el for el in self.opf.getroot() if localname(el) == "metadata"), None)

    def unique_identifier(self) -> str:
        """The text of the dc:identifier the package names as its unique identifier."""
        wanted = self.opf.getroot().get("unique-identifier")
        metadata = self.metadata()
        identifiers = [] if metadata is None else metadata.iter(f"{{{DC_NS}}}identifier")
        for element in identifiers:
            if wanted is None or element.get("id") == wanted:
                return (element.text or "").strip()
        return ""

    def spine_items(self) -> list[ManifestItem]:
        return [item for idref, _ in self.spine if (item := self.item(idref)) is not None]


def resolve_href(base_dir: str, href: str) -> str:
    """The zip entry a relative IRI points to; "" for anything with a scheme or a host."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("//"):
        return ""
    path = posixpath.normpath(posixpath.join(base_dir, unquote(parts.path)))
    return "" if path.startswith("../") or path == ".." else path.lstrip("/")


def read_entries(path: str | os.PathLike) -> dict[str, bytes]:
    """Every file entry of the zip, in zip order, within the size limits."""
    where = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            total = sum(i.file_size for i in infos)
            for info in infos:
                if info.file_size > MAX_ENTRY_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1024):
                    raise UsageError(where, f"entry {info.filename} would unpack to {info.file_size} bytes; "
                                            f"refusing (a zip bomb or a damaged book)")
            if total > MAX_BOOK_BYTES:
                raise UsageError(where, f"would unpack to {total} bytes; refusing (more than a book)")
            return {info.filename: archive.read(info) for info in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, ValueError, EOFError) as exc:
        raise UsageError(where, f"is not a readable EPUB (zip: {exc})") from None
    except OSError as exc:
        raise UsageError(where, f"cannot be read: {exc.strerror or exc}") from None


def read_epub(path: str | os.PathLike) -> EpubBook:
    """Read and check an EPUB's structure; UsageError naming what is wrong."""
    source = os.fspath(path)
    entries = read_entries(path)
    if next(iter(entries), None) != "mimetype" or entries["mimetype"].strip() != EPUB_MIMETYPE:
        raise UsageError(source, "is not an EPUB: its first entry is not 'mimetype' = application/epub+zip")
    for name, scheme in DRM_FILES.items():
        if name in entries:
            _refuse_drm(source, scheme)
    container = entries.get("META-INF/container.xml")
    if container is None:
        raise UsageError(source, "has no META-INF/container.xml; the book is damaged")
    opf_path = _rootfile(parse_xml(container, f"{source}: META-INF/container.xml"), source)
    if opf_path not in entries:
        raise UsageError(source, f"names its package document {opf_path}, which is missing")
    opf = parse_xml(entries[opf_path], f"{source}: {opf_path}")
    if opf.getroot().tag != f"{{{OPF_NS}}}package":
        raise UsageError(f"{source}: {opf_path}", "is not an EPUB package document (no <package>)")
    base = posixpath.dirname(opf_path)
    manifest, spine = [], []
    for section in opf.getroot():
        for element in section if localname(section) in ("manifest", "spine") else ():
            if localname(element) == "item" and element.get("id") and element.get("href") is not None:
                manifest.append(ManifestItem(element.get("id"), element.get("href"),
                                             resolve_href(base, element.get("href")),
                                             (element.get("media-type") or "").strip().lower(),
                                             tuple((element.get("properties") or "").split()), element))
            elif localname(element) == "itemref" and element.get("idref"):
                spine.append((element.get("idref"), element.get("linear", "yes") != "no"))
    book = EpubBook(source, entries, opf_path, opf, manifest, spine, {})
    if "META-INF/encryption.xml" in entries:
        book.obfuscated = _obfuscated_fonts(book)
    return book


def _rootfile(container: etree._ElementTree, source: str) -> str:
    for element in container.getroot().iter(f"{{{CONTAINER_NS}}}rootfile"):
        if element.get("media-type", "application/oebps-package+xml") == "application/oebps-package+xml":
            path = resolve_href("", element.get("full-path", ""))
            if path:
                return path
    raise UsageError(source, "META-INF/container.xml names no package document; the book is damaged")


def _refuse_drm(source: str, scheme: str) -> None:
    raise UsageError(source, f"is locked with DRM ({scheme}); infopack does not remove DRM: "
                             f"use a DRM-free copy of the book")


def _obfuscated_fonts(book: EpubBook) -> dict[str, str]:
    """Entries under font obfuscation; any other encryption is DRM and refused."""
    tree = parse_xml(book.entries["META-INF/encryption.xml"], book.where("META-INF/encryption.xml"))
    found = {}
    for data in tree.getroot().iter(f"{{{_ENC_NS}}}EncryptedData"):
        method = data.find(f"{{{_ENC_NS}}}EncryptionMethod")
        reference = data.find(f".//{{{_ENC_NS}}}CipherReference")
        algorithm = method.get("Algorithm", "") if method is not None else ""
        target = resolve_href("", reference.get("URI", "")) if reference is not None else ""
        if algorithm not in (IDPF_OBFUSCATION, ADOBE_OBFUSCATION) or not target:
            _refuse_drm(book.source, f"encrypted content, {algorithm or 'unknown method'}")
        found[target] = algorithm
    return found


def deobfuscate(data: bytes, algorithm: str, identifier: str, where: str) -> bytes:
    """Undo IDPF or Adobe font obfuscation (a XOR over the file's first bytes)."""
    if algorithm == IDPF_OBFUSCATION:
        key = hashlib.sha1(re.sub(r"[\x20\x09\x0d\x0a]", "", identifier).encode("utf-8")).digest()
        length = 1040
    else:
        hex_digits = re.sub(r"[^0-9a-fA-F]", "", identifier.removeprefix("urn:uuid:"))
        if len(hex_digits) != 32:
            raise UsageError(where, "uses Adobe font obfuscation but the book's identifier is not a UUID; "
                                    "the font cannot be recovered")
        key, length = bytes.fromhex(hex_digits), 1024
    head = bytes(b ^ key[i % len(key)] for i, b in enumerate(data[:length]))
    return head + data[length:]
