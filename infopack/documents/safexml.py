"""Parsing the XML inside books without letting it reach out or blow up.

A book is anyone's file. Its XML must not read local files or the network (XXE),
nor expand entities into gigabytes: the parser loads no DTD, resolves no entity and
never touches the network, and a document that declares or uses entities is refused
outright (books need none). HTML's named character references (`&nbsp;` in EPUB 2
books, which relied on the XHTML DTD) are turned into numeric ones before parsing.
"""

from __future__ import annotations

import html.entities
import re

from lxml import etree

from infopack.errors import UsageError

XHTML_NS = "http://www.w3.org/1999/xhtml"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
OPS_NS = "http://www.idpf.org/2007/ops"          # epub:type, epub:switch
OPF_NS = "http://www.idpf.org/2007/opf"
DC_NS = "http://purl.org/dc/elements/1.1/"
NCX_NS = "http://www.daisy.org/z3986/2005/ncx/"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"

_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_NAMED_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XHTML_PUBLIC_IDS = {
    "-//W3C//DTD XHTML 1.1//EN": "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd",
    "-//W3C//DTD XHTML 1.0 Strict//EN": "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd",
    "-//W3C//DTD XHTML 1.0 Transitional//EN": "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd",
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False)


def _numeric_refs(data: bytes) -> bytes:
    """`&nbsp;` -> `&#160;` for HTML's named references (ASCII-compatible encodings only)."""
    def replace(match: re.Match) -> bytes:
        name = match.group(1).decode("ascii")
        chars = html.entities.html5.get(name + ";")
        if name in _XML_ENTITIES or chars is None:
            return match.group()
        return "".join(f"&#{ord(c)};" for c in chars).encode("ascii")
    return _NAMED_REF.sub(replace, data)


def parse_xml(data: bytes, where: str) -> etree._ElementTree:
    """Parse untrusted XML; UsageError (naming `where`) when it is broken or uses entities."""
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" not in data[:4]:
        data = _numeric_refs(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise UsageError(where, f"is not well-formed XML ({exc}); repair the book (an EPUB editor's "
                                f"'fix' or 'validate' command does it) and try again") from None
    tree = root.getroottree()
    dtd = tree.docinfo.internalDTD
    declared = [entity.name for entity in dtd.iterentities()] if dtd is not None else []
    used = sorted({node.name for node in root.iter(etree.Entity)})
    if declared or used:
        names = ", ".join(f"&{n};" for n in dict.fromkeys(declared + used))
        raise UsageError(where, f"declares or uses XML entities ({names}); books need none and entities "
                                f"can read files or expand without bound, so this file is refused")
    return tree


def localname(node) -> str:
    """The tag without its namespace ('' for comments and processing instructions)."""
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def namespace(node) -> str | None:
    return etree.QName(node).namespace if isinstance(node.tag, str) else None


def xhtml_doctype(tree: etree._ElementTree) -> str:
    """The document type to write back: a standard XHTML one, or HTML5's short form.

    A DOCTYPE's system identifier is a free string (it can be a local path), so only
    the W3C's own identifiers are ever written.
    """
    public_id = tree.docinfo.public_id
    if public_id in _XHTML_PUBLIC_IDS:
        return f'<!DOCTYPE html PUBLIC "{public_id}" "{_XHTML_PUBLIC_IDS[public_id]}">'
    return "<!DOCTYPE html>"


def serialise(root: etree._Element, doctype: str | None = None, *, pretty: bool = False) -> bytes:
    """UTF-8 bytes of an element: XML declaration, optional DOCTYPE, the element.

    Only the root element is written: comments and processing instructions beside it
    are left behind. `pretty` indents: only for documents built here (no mixed content).
    """
    head = b'<?xml version="1.0" encoding="utf-8"?>\n'
    if doctype:
        head += doctype.encode("ascii") + b"\n"
    return head + etree.tostring(root, encoding="utf-8", pretty_print=pretty).rstrip(b"\n") + b"\n"


def drop_node(node) -> None:
    """Remove an element, comment or PI but keep the text that follows it."""
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def unwrap(node) -> None:
    """Replace an element by its content (text and children stay, the tag goes)."""
    parent = node.getparent()
    if parent is None:
        return
    index = parent.index(node)
    previous = node.getprevious()
    if node.text:
        if previous is not None:
            previous.tail = (previous.tail or "") + node.text
        else:
            parent.text = (parent.text or "") + node.text
    children = list(node)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last = children[-1] if children else node.getprevious()
    if node.tail:
        if last is not None and last is not node:
            last.tail = (last.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)
