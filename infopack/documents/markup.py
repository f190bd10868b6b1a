"""Cleaning the XHTML, SVG and CSS inside a book: the text and pictures stay, the traces go.

XHTML and SVG lose comments and processing instructions, `<meta>` other than the
character set and viewport (generator, author, dates, keywords ...), scripts and
script attributes (`on*`), `data-*` attributes (only scripts read them), `<base>`,
`<link>` other than local stylesheets, elements and attributes of tools' own
namespaces (Inkscape, Sodipodi, Adobe, Word's `o:p` ...; their content stays), SVG
`<metadata>` and RDF blocks, and every reference to the outside: a link to an address
loses its href (the words stay), a picture or frame loaded from the network goes.
CSS loses comments, `@import` of outside sheets and declarations that load an outside `url(...)`.

Each cleaner returns the new bytes and a list of what went (`Counter` of short phrases),
so the scan can run the same rules and report instead of remove.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

from lxml import etree

from infopack.documents.safexml import (MATHML_NS, OPS_NS, SVG_NS, XHTML_NS, XLINK_NS, XML_NS, drop_node,
                                        localname, namespace, parse_xml, serialise, unwrap, xhtml_doctype)

KNOWN_NAMESPACES = frozenset({XHTML_NS, SVG_NS, MATHML_NS, OPS_NS, None})   # None: HTML without xmlns
KNOWN_ATTRIBUTE_NAMESPACES = frozenset({XML_NS, XLINK_NS, OPS_NS})
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
EMBEDDING = frozenset({"img", "image", "audio", "video", "source", "track", "iframe", "object", "embed",
                       "input", "frame", "use", "feImage"})
REFERENCE_ATTRIBUTES = ("src", "href", "data", "poster", "srcset", f"{{{XLINK_NS}}}href")
KEPT_META = ("charset", "viewport")


def is_remote(reference: str) -> bool:
    """True for a reference that leaves the book: any scheme (http:, file:, data:, mailto:,
    a drive letter) or a host."""
    parts = urlsplit(reference.strip())
    return bool(parts.scheme or parts.netloc or reference.strip().startswith("//"))


def clean_xhtml(data: bytes, where: str) -> tuple[bytes, Counter]:
    """A content document (or the EPUB 3 navigation document) without traces."""
    tree = parse_xml(data, where)
    removed = _clean_tree(tree.getroot())
    return serialise(tree.getroot(), xhtml_doctype(tree)), removed


def clean_svg(data: bytes, where: str) -> tuple[bytes, Counter]:
    tree = parse_xml(data, where)
    removed = _clean_tree(tree.getroot())
    return serialise(tree.getroot()), removed


def _drop_unused_namespaces(root: etree._Element, removed: Counter) -> None:
    """Declarations left by tools (xmlns:o for Word, xmlns:calibre ...) once nothing uses them."""
    before = set(root.nsmap.items())
    etree.cleanup_namespaces(root)
    removed["unused namespace declaration"] += len(before - set(root.nsmap.items()))
    if not removed["unused namespace declaration"]:
        del removed["unused namespace declaration"]


def _attached(node, root) -> bool:
    while node is not None:
        if node is root:
            return True
        node = node.getparent()
    return False


def _clean_tree(root: etree._Element) -> Counter:
    removed: Counter = Counter()
    for node in list(root.iter()):
        if node is not root and not _attached(node, root):
            continue                                  # inside something already removed
        if not isinstance(node.tag, str):
            removed["comment" if isinstance(node, etree._Comment) else "processing instruction"] += 1
            drop_node(node)
            continue
        what = _element_verdict(node)
        if what == "unwrap":
            removed[f"<{etree.QName(node).localname}> of another tool's namespace"] += 1
            unwrap(node)
            continue
        if what:
            removed[what] += 1
            drop_node(node)
            continue
        _clean_attributes(node, removed)
        if localname(node) == "style" and node.text:
            node.text, css_removed = _clean_css_text(node.text)
            removed.update(css_removed)
    _drop_unused_namespaces(root, removed)
    return removed


def _element_verdict(node) -> str | None:
    """Why an element must go ("unwrap": its tag only), or None to keep it."""
    ns, name = namespace(node), localname(node)
    if ns == RDF_NS or (ns == SVG_NS and name == "metadata"):
        return "metadata block"
    if ns not in KNOWN_NAMESPACES:
        return "unwrap"
    if name == "script":
        return "script"
    if name == "base":
        return "<base> address"
    if name == "meta" and ns in (XHTML_NS, None):
        return _meta_verdict(node)
    if name == "link" and ns in (XHTML_NS, None):
        rel = (node.get("rel") or "").lower().split()
        href = node.get("href") or ""
        if "stylesheet" in rel and href and not is_remote(href):
            return None
        return f"<link rel={' '.join(rel) or '?'}>"
    if name in EMBEDDING:
        for attribute in REFERENCE_ATTRIBUTES:
            value = node.get(attribute)
            if value and (is_remote(value) if attribute != "srcset" else any(
                    is_remote(part.split()[0]) for part in value.split(",") if part.strip())):
                return f"<{name}> loaded from outside the book"
    return None


def _meta_verdict(node) -> str | None:
    if node.get("charset") is not None:
        node.set("charset", "utf-8")                  # the file is written as UTF-8 whatever it said
        return None
    if (node.get("name") or "").lower() == "viewport":
        return None
    if (node.get("http-equiv") or "").lower() == "content-type":
        node.set("content", "text/html; charset=utf-8")
        return None
    label = node.get("name") or node.get("property") or node.get("http-equiv") or node.get("itemprop") or "?"
    return f"<meta {label}>"


def _clean_attributes(node, removed: Counter) -> None:
    for attribute in list(node.attrib):
        qname = etree.QName(attribute)
        if qname.namespace and qname.namespace not in KNOWN_ATTRIBUTE_NAMESPACES:
            removed["attribute of another tool's namespace"] += 1
            del node.attrib[attribute]
        elif not qname.namespace and attribute.lower().startswith("on"):
            removed["script attribute"] += 1
            del node.attrib[attribute]
        elif not qname.namespace and attribute.lower().startswith("data-"):
            removed["data-* attribute"] += 1
            del node.attrib[attribute]
        elif attribute == f"{{{XML_NS}}}base":
            removed["xml:base address"] += 1
            del node.attrib[attribute]
        elif attribute in ("href", f"{{{XLINK_NS}}}href") and is_remote(node.get(attribute)):
            removed["link to an outside address"] += 1
            del node.attrib[attribute]
        elif attribute == "style":
            node.set("style", _clean_css_text(node.get("style"))[0])


# --- CSS ---------------------------------------------------------------------------------

_CSS_COMMENT = re.compile(r"""(?P<comment>/\*.*?(?:\*/|\Z))|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'""", re.S)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?(?P<q>["']?)(?P<ref>[^"')\s;]+)(?P=q)[^;]*;?""", re.I)
_CSS_URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<ref>(?:\\.|[^"')\\])*)(?P=q)\s*\)""", re.I)
_CSS_DECLARATION = re.compile(r"""[A-Za-z-]+\s*:[^;{}]*?url\([^;{}]*;?""", re.I)


def _clean_css_text(css: str) -> tuple[str, Counter]:
    """Comments out (strings that look like comments stay), then outside @imports, then
    declarations using an outside url() (an empty url() is an error to validators)."""
    removed: Counter = Counter()

    def comment(match: re.Match) -> str:
        if match.group("comment"):
            removed["CSS comment"] += 1
            return ""
        return match.group()

    def outside_import(match: re.Match) -> str:
        if is_remote(match.group("ref")):
            removed["outside @import in CSS"] += 1
            return ""
        return match.group()

    def declaration(match: re.Match) -> str:
        if any(is_remote(url.group("ref")) for url in _CSS_URL.finditer(match.group())):
            removed["CSS declaration with an outside url()"] += 1
            return ""
        return match.group()

    css = _CSS_COMMENT.sub(comment, css)
    css = _CSS_IMPORT.sub(outside_import, css)
    return _CSS_DECLARATION.sub(declaration, css), removed


def clean_css(data: bytes, where: str) -> tuple[bytes, Counter]:
    """A style sheet without comments or outside references (UTF-8 in and out; a BOM goes)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")   # CSS outside strings and comments is ASCII
    charset = re.match(r'@charset\s+"[^"]*"\s*;', text)
    if charset:
        text = '@charset "utf-8";' + text[charset.end():]
    cleaned, removed = _clean_css_text(text)
    return cleaned.encode("utf-8"), removed
