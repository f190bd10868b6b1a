"""The EPUB package document (OPF) and the EPUB 2 table of contents (NCX), rebuilt.

The metadata keeps what a reader shows: the work's title, its language(s) and, by the
curator's choice (default kept), its author(s): `dc:creator` without a role or with
role `aut`. Everything else goes and is listed: contributors, translators and editors
(creators with other roles), publisher, rights (a rights holder is a name; the book's
own copyright page stays in the text), dates, identifiers, subjects, descriptions,
sources (often a file path), `<meta name="generator">`, calibre's and other vendors'
metadata, refinements, links to outside records. Kept besides: the cover reference
(`<meta name="cover">`) and `rendition:*` layout properties, which change how pages show.

The identifier becomes `urn:sha256:<hex>`, a hash of the cleaned book (every other
entry's name and bytes, then title, languages and authors), so two copies of one book
cleaned alike share it and nothing else is in it. EPUB 3 requires `dcterms:modified`:
it is the fixed 2000-01-01T00:00:00Z (infopack's card time).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from lxml import etree

from infopack.cardtime import CARD_ISO
from infopack.documents.epubfile import EpubBook, resolve_href
from infopack.documents.removals import shorten
from infopack.documents.safexml import (DC_NS, NCX_NS, OPF_NS, XML_NS, drop_node, localname, namespace, parse_xml,
                                        serialise)

FIXED_MODIFIED = CARD_ISO
HASH_IDENTIFIER = re.compile(r"^urn:sha256:[0-9a-f]{64}$")
UID = "uid"
RENDITION_PROPERTY = re.compile(r"^rendition:(layout|orientation|spread|flow|viewport)$")
RENDITION_VALUE = re.compile(r"^[A-Za-z0-9 =,.\-]{1,64}$")
ITEM_PROPERTIES = frozenset({"nav", "cover-image", "mathml", "svg", "switch"})
ITEMREF_PROPERTY = re.compile(r"^(page-spread-(left|right|center)|rendition:[a-z-]+)$")
NCX_KEPT_META = frozenset({"dtb:depth", "dtb:totalPageCount", "dtb:maxPageNumber"})


@dataclass
class MetadataPlan:
    """What the cleaned OPF will say, and what the source said that will go."""
    title: str = ""
    languages: list[str] = field(default_factory=list)
    creators: list[str] = field(default_factory=list)
    cover_id: str = ""
    rendition: list[tuple[str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)        # "dc:publisher 'Seoul Books'", ...


def plan_metadata(book: EpubBook, keep_author: bool = True) -> MetadataPlan:
    """Sort the source's metadata into kept and dropped (shared by clean and scan)."""
    plan = MetadataPlan()
    metadata = book.metadata()
    if metadata is None:
        return plan
    roles = _refined(metadata, "role")
    for element in metadata.iter():
        if element is metadata or not isinstance(element.tag, str) or localname(element) in ("dc-metadata",
                                                                                             "x-metadata"):
            if not isinstance(element.tag, str) and element is not metadata:
                plan.dropped.append("XML comment")
            continue
        text = (element.text or "").strip()
        name = localname(element)
        if namespace(element) == DC_NS:
            _plan_dc(plan, element, name, text, roles, keep_author, book)
        elif name == "meta":
            _plan_meta(plan, element, text, book)
        else:
            plan.dropped.append(f"<{etree.QName(element).localname}> {shorten(text or _attributes(element))!r}")
    return plan


def _attributes(element) -> str:
    return " ".join(f"{etree.QName(k).localname}={v}" for k, v in element.attrib.items())


def _refined(metadata, prop: str) -> dict[str, str]:
    """EPUB 3 refinements: element id -> value of <meta refines="#id" property=prop>."""
    return {(m.get("refines") or "").lstrip("#"): (m.text or "").strip()
            for m in metadata.iter(f"{{{OPF_NS}}}meta") if m.get("property") == prop}


def _plan_dc(plan, element, name, text, roles, keep_author, book) -> None:
    if name == "title" and text and not plan.title:
        plan.title = text
    elif name == "language" and text:
        plan.languages.append(text)
    elif name == "creator" and text:
        role = element.get(f"{{{OPF_NS}}}role") or roles.get(element.get("id", ""), "")
        if keep_author and role in ("", "aut"):
            plan.creators.append(text)
        else:
            plan.dropped.append(f"dc:creator {shorten(text)!r}" + (f" (role {role})" if role else ""))
    elif name == "identifier" and HASH_IDENTIFIER.match(text) and element.get("id") == book.opf.getroot().get(
            "unique-identifier"):
        pass                                           # already a content hash: not a trace
    else:
        plan.dropped.append(f"dc:{name} {shorten(text)!r}")


def _plan_meta(plan, element, text, book) -> None:
    prop, meta_name = element.get("property") or "", element.get("name") or ""
    content = element.get("content") or ""
    if meta_name == "cover" and book.item(content) is not None:
        plan.cover_id = content
    elif RENDITION_PROPERTY.match(prop) and not element.get("refines") and RENDITION_VALUE.match(text):
        plan.rendition.append((prop, text))
    elif prop == "dcterms:modified" and text == FIXED_MODIFIED:
        pass
    elif prop:
        plan.dropped.append(f"meta {prop} {shorten(text)!r}")
    else:
        plan.dropped.append(f"meta {meta_name or '?'} {shorten(content)!r}")


def content_identifier(entries: dict[str, bytes], plan: MetadataPlan) -> str:
    """urn:sha256 over the cleaned entries (except OPF and NCX) and the kept metadata."""
    digest = hashlib.sha256()
    for name in sorted(entries):
        digest.update(b"%s\0%d\0" % (name.encode("utf-8"), len(entries[name])))
        digest.update(entries[name])
    for value in [plan.title, *plan.languages, *plan.creators]:
        digest.update(value.encode("utf-8") + b"\0")
    return "urn:sha256:" + digest.hexdigest()


def build_opf(book: EpubBook, plan: MetadataPlan, identifier: str, kept_ids: set[str]) -> bytes:
    """The new package document: fixed metadata, manifest and spine of what was kept."""
    source = book.opf.getroot()
    epub3 = book.version.startswith("3")
    package = etree.Element(f"{{{OPF_NS}}}package", nsmap={None: OPF_NS})
    package.set("version", "3.0" if epub3 else "2.0")
    package.set("unique-identifier", UID)
    for attribute in (f"{{{XML_NS}}}lang", "dir"):
        if source.get(attribute):
            package.set(attribute, source.get(attribute))
    metadata = etree.SubElement(package, f"{{{OPF_NS}}}metadata", nsmap={"dc": DC_NS})
    _dc(metadata, "identifier", identifier).set("id", UID)
    _dc(metadata, "title", plan.title)
    for language in plan.languages or ["und"]:
        _dc(metadata, "language", language)
    for creator in plan.creators:
        _dc(metadata, "creator", creator)
    if epub3:
        _meta(metadata, "dcterms:modified", FIXED_MODIFIED)
        for prop, value in plan.rendition:
            _meta(metadata, prop, value)
    if plan.cover_id in kept_ids:
        etree.SubElement(metadata, f"{{{OPF_NS}}}meta", name="cover", content=plan.cover_id)
    _manifest(package, book, kept_ids)
    _spine(package, book, kept_ids)
    _guide(package, book, kept_ids)
    return serialise(package, pretty=True)


def _dc(parent, name: str, text: str):
    element = etree.SubElement(parent, f"{{{DC_NS}}}{name}")
    element.text = text
    return element


def _meta(parent, prop: str, text: str) -> None:
    etree.SubElement(parent, f"{{{OPF_NS}}}meta", property=prop).text = text


def _manifest(package, book: EpubBook, kept_ids: set[str]) -> None:
    manifest = etree.SubElement(package, f"{{{OPF_NS}}}manifest")
    for item in book.manifest:
        if item.id not in kept_ids:
            continue
        element = etree.SubElement(manifest, f"{{{OPF_NS}}}item", id=item.id, href=item.href)
        element.set("media-type", item.media_type)
        properties = [p for p in item.properties if p in ITEM_PROPERTIES]
        if properties:
            element.set("properties", " ".join(properties))
        for reference in ("fallback", "media-overlay"):
            if item.element.get(reference) in kept_ids:
                element.set(reference, item.element.get(reference))


def _spine(package, book: EpubBook, kept_ids: set[str]) -> None:
    source = next((el for el in book.opf.getroot() if localname(el) == "spine"), None)
    spine = etree.SubElement(package, f"{{{OPF_NS}}}spine")
    if source is None:
        return
    if source.get("toc") in kept_ids:
        spine.set("toc", source.get("toc"))
    if source.get("page-progression-direction") in ("ltr", "rtl"):
        spine.set("page-progression-direction", source.get("page-progression-direction"))
    for idref, linear in book.spine:
        if idref not in kept_ids:
            continue
        itemref = etree.SubElement(spine, f"{{{OPF_NS}}}itemref", idref=idref)
        if not linear:
            itemref.set("linear", "no")
        source_ref = next((el for el in source if el.get("idref") == idref), None)
        properties = [p for p in (source_ref.get("properties") or "").split() if ITEMREF_PROPERTY.match(p)]
        if properties:
            itemref.set("properties", " ".join(properties))


def _guide(package, book: EpubBook, kept_ids: set[str]) -> None:
    """EPUB 2 landmarks (cover, table of contents, start), for references that still resolve."""
    source = next((el for el in book.opf.getroot() if localname(el) == "guide"), None)
    kept_paths = {item.path for item in book.manifest if item.id in kept_ids}
    base = book.opf_path.rpartition("/")[0]
    references = [] if source is None else [
        r for r in source if localname(r) == "reference" and r.get("type") and r.get("href")
        and resolve_href(base, r.get("href")) in kept_paths]
    if not references:
        return
    guide = etree.SubElement(package, f"{{{OPF_NS}}}guide")
    for reference in references:
        element = etree.SubElement(guide, f"{{{OPF_NS}}}reference", type=reference.get("type"),
                                   href=reference.get("href"))
        if reference.get("title"):
            element.set("title", reference.get("title"))


def clean_ncx(data: bytes, where: str, identifier: str, keep_author: bool) -> tuple[bytes, list[str]]:
    """The NCX with dtb:uid set to the new identifier and nothing else in its head."""
    tree = parse_xml(data, where)
    root = tree.getroot()
    dropped = []
    for node in list(root.iter()):
        if not isinstance(node.tag, str):
            dropped.append("XML comment")
            drop_node(node)
    head = root.find(f"{{{NCX_NS}}}head")
    if head is None:
        head = etree.Element(f"{{{NCX_NS}}}head")
        root.insert(0, head)
    for child in list(head):
        name = child.get("name") or ""
        if name not in NCX_KEPT_META:
            if name != "dtb:uid" or not HASH_IDENTIFIER.match(child.get("content") or ""):
                dropped.append(f"NCX {name or localname(child)} {shorten(child.get('content') or '')!r}")
            head.remove(child)
    uid = etree.Element(f"{{{NCX_NS}}}meta", name="dtb:uid", content=identifier)
    head.insert(0, uid)
    if not keep_author:
        for author in root.findall(f"{{{NCX_NS}}}docAuthor"):
            dropped.append(f"NCX docAuthor {shorten(''.join(author.itertext()))!r}")
            root.remove(author)
    etree.cleanup_namespaces(root)
    return serialise(root), dropped
