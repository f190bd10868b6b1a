"""PDF: rewritten whole, keeping what a reader needs to show the pages.

What goes, and why (every removal is reported to the curator):
- the Info dictionary and every XMP stream (document, pages, images, fonts): author,
  tool and version, dates, sometimes the original path;
- the document /ID: qpdf would keep its first half (often a hash of a path and a time);
  the new one is qpdf's deterministic ID, an MD5 of the written file, so it depends on
  the content only;
- scripts and actions: /OpenAction, /AA, JavaScript, and every action but an internal
  jump (GoTo, or a Named page move): Launch, SubmitForm, ImportData, GoToR, URI ...;
- links to outside addresses: a URI names a place and, followed, calls it. The link goes;
  an address printed in the page's text stays (it is the book's text);
- every annotation but internal links: notes, highlights and stamps carry their
  author (/T), dates and comments; file attachments, sounds, widgets go with them;
- forms and signatures (/AcroForm, /Perms): a signature's certificate names the signer
  and is void after any change anyway;
- embedded files (/EmbeddedFiles, /AF, /EF), thumbnails (/Thumb), application data
  (/PieceInfo, /LastModified), OPI paths, article threads, web-capture data;
- the structure tree (tags): it holds alternate texts and references to the
  annotations removed above; phones and notels do not use it;
- metadata inside images: JPEG APPn/COM segments and JPEG 2000 XML/UUID boxes
  (`infopack.documents.images`); inline images in content streams are left as they are;
- incremental-update history: the file is rewritten from the current objects only.

Text, fonts, images, colour spaces (ICC profiles included: they define the colours and
are the same for everyone using one), page labels, bookmarks and named destinations stay.
The output is reproducible: same input and same qpdf give the same bytes.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream, String

from infopack.documents.images import strip_jpeg_metadata, strip_jpx_metadata
from infopack.documents.removals import RemovalLog
from infopack.errors import UsageError

CATALOG_KEYS = frozenset({"/Type", "/Version", "/Pages", "/PageLabels", "/Names", "/Dests", "/ViewerPreferences",
                          "/PageLayout", "/PageMode", "/Outlines", "/Lang", "/OCProperties"})
PAGE_KEYS = frozenset({"/Type", "/Parent", "/Resources", "/MediaBox", "/CropBox", "/BleedBox", "/TrimBox",
                       "/ArtBox", "/Contents", "/Rotate", "/Group", "/Annots", "/UserUnit", "/Tabs"})
PAGE_TREE_KEYS = frozenset({"/Type", "/Parent", "/Kids", "/Count", "/Resources", "/MediaBox", "/CropBox", "/Rotate"})
LINK_KEYS = frozenset({"/Type", "/Subtype", "/Rect", "/Border", "/BS", "/C", "/H", "/QuadPoints", "/Dest", "/A", "/F"})
OUTLINE_KEYS = frozenset({"/Title", "/Parent", "/Prev", "/Next", "/First", "/Last", "/Count", "/Dest", "/A", "/C", "/F"})
NAMED_PAGE_MOVES = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
# Keys removed from every dictionary and stream, wherever they are.
EVERYWHERE = {
    "/Metadata": "XMP metadata", "/PieceInfo": "application private data (/PieceInfo)",
    "/LastModified": "modification date", "/AA": "automatic action", "/OpenAction": "opening action",
    "/Thumb": "thumbnail", "/OPI": "OPI link to an outside image file", "/AF": "associated file",
    "/EF": "embedded file", "/JS": "JavaScript",
}
CATALOG_WHAT = {
    "/Metadata": "XMP metadata", "/OpenAction": "action run on opening", "/AA": "automatic actions",
    "/AcroForm": "form fields and signatures", "/PieceInfo": "application private data (/PieceInfo)",
    "/Perms": "signature permissions", "/StructTreeRoot": "structure tags", "/MarkInfo": "tagging flag",
    "/SpiderInfo": "web-capture data (addresses)", "/URI": "base address for links", "/AF": "associated files",
    "/Threads": "article threads", "/Legal": "signature attestations", "/Collection": "portfolio layout",
    "/Extensions": "developer extension levels", "/DSS": "signature validation data",
}
SAVE_OPTIONS = dict(preserve_pdfa=False, fix_metadata_version=False, compress_streams=True,
                    object_stream_mode=pikepdf.ObjectStreamMode.generate, normalize_content=False,
                    linearize=False, qdf=False, encryption=False, recompress_flate=False,
                    deterministic_id=True, static_id=False)


@dataclass(frozen=True)
class PdfCleanReport:
    pages: int
    removals: tuple[str, ...]     # one line per kind of thing removed, with counts


def open_pdf(path: str | os.PathLike) -> pikepdf.Pdf:
    """Open a PDF for reading or cleaning; UsageError for what a person can fix."""
    try:
        return pikepdf.open(path, inherit_page_attributes=True)
    except pikepdf.PasswordError:
        raise UsageError(path, "is protected by a password; save an unprotected copy and use that") from None
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise UsageError(path, f"is not a readable PDF ({str(exc).strip() or exc.__class__.__name__})") from None


def clean_pdf(src: str | os.PathLike, dest: str | os.PathLike, *, title: str | None = None) -> PdfCleanReport:
    """Write a cleaned copy of `src` to `dest` (see the module docstring for what goes).

    `title`: when given, the only Info entry written (the curator's title, from the
    manifest), so readers show it instead of the file name; by default there is no Info.
    """
    if Path(src).resolve() == Path(dest).resolve():
        raise UsageError(dest, "the cleaned PDF must go to another file than its source")
    log = RemovalLog()
    pruned = io.BytesIO()          # pass 1 drops whole parts; saving keeps only what is still reachable
    with open_pdf(src) as pdf:
        if pdf.is_encrypted:
            log.add("encryption removed (it only restricted printing or copying: no password was needed)")
        _clean_trailer(pdf, log)
        _clean_catalog(pdf, log)
        _clean_page_tree(pdf, log)
        _clean_outlines(pdf, log)
        pdf.remove_unreferenced_resources()
        _save(pdf, pruned, src)
    with open_pdf(pruned) as pdf:  # pass 2 scrubs every object left, so the report counts only those
        for obj in pdf.objects:
            _scrub(obj, log)
        _clean_images(pdf, log)
        if title:
            pdf.trailer.Info = pdf.make_indirect(Dictionary(Title=String(title)))
        pages = len(pdf.pages)
        _save(pdf, dest, src)
    return PdfCleanReport(pages, log.lines())


def _save(pdf: pikepdf.Pdf, dest, src) -> None:
    """Write with qpdf's deterministic /ID: without an /ID to start from, both halves are
    an MD5 of the written content (an existing first half would be kept)."""
    if "/ID" in pdf.trailer:
        del pdf.trailer["/ID"]
    try:
        pdf.save(dest, **SAVE_OPTIONS)
    except (pikepdf.PdfError, OSError) as exc:
        raise UsageError(src, f"could not be rewritten ({exc}); the PDF may be damaged") from None


def _clean_trailer(pdf: pikepdf.Pdf, log: RemovalLog) -> None:
    info = pdf.trailer.get("/Info")
    if isinstance(info, Dictionary) and len(info.keys()):
        log.add("Info dictionary removed (" + ", ".join(k.lstrip("/") for k in sorted(info.keys())) + ")")
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]


def _clean_catalog(pdf: pikepdf.Pdf, log: RemovalLog) -> None:
    root = pdf.Root
    form = root.get("/AcroForm")
    if isinstance(form, Dictionary) and _has_signature(form):
        log.add("digital signature removed (its certificate names the signer; it is void after cleaning)")
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        for key in sorted(names.keys()):
            if key != "/Dests":
                what = {"/JavaScript": "document JavaScript", "/EmbeddedFiles": "embedded files"}.get(key, key)
                detail = f": {', '.join(sorted(pdf.attachments))}" if key == "/EmbeddedFiles" else ""
                log.add(f"{what} removed{detail}")
                del names[key]
        if not len(names.keys()):
            del root["/Names"]
    for key in sorted(root.keys()):
        if key not in CATALOG_KEYS:
            log.add(f"{CATALOG_WHAT.get(key, 'catalog entry ' + key)} removed")
            del root[key]


def _has_signature(form: Dictionary) -> bool:
    if int(form.get("/SigFlags", 0)) & 1:
        return True
    stack, seen = list(form.get("/Fields", Array())), set()
    while stack:
        field = stack.pop()
        if not isinstance(field, Dictionary) or (field.is_indirect and field.objgen in seen):
            continue
        if field.is_indirect:
            seen.add(field.objgen)
        if field.get("/FT") == Name.Sig:
            return True
        stack += list(field.get("/Kids", Array()))
    return False


def _clean_page_tree(pdf: pikepdf.Pdf, log: RemovalLog) -> None:
    stack, seen = [pdf.Root.Pages], set()
    while stack:
        node = stack.pop()
        if not isinstance(node, Dictionary) or node.objgen in seen:
            continue
        seen.add(node.objgen)
        is_leaf = node.get("/Type") != Name.Pages and "/Kids" not in node
        allowed = PAGE_KEYS if is_leaf else PAGE_TREE_KEYS
        for key in sorted(node.keys()):
            if key not in allowed:
                log.add(f"page {EVERYWHERE.get(key, 'entry ' + key)} removed")
                del node[key]
        if is_leaf:
            _clean_annotations(node, log)
        else:
            stack += list(node.get("/Kids", Array()))


def internal_action(action) -> bool:
    """A jump inside the document: GoTo, or a Named move to another page."""
    if not isinstance(action, Dictionary):
        return False
    kind = action.get("/S")
    return kind == Name.GoTo or (kind == Name.Named and str(action.get("/N", "")) in NAMED_PAGE_MOVES)


def _clean_annotations(page: Dictionary, log: RemovalLog) -> None:
    annots = page.get("/Annots")
    if annots is None:
        return
    kept = Array()
    for annot in annots if isinstance(annots, Array) else []:
        if not isinstance(annot, Dictionary):
            continue
        subtype = str(annot.get("/Subtype", "/Unknown"))
        action = annot.get("/A")
        if subtype == "/Link" and (internal_action(action) or (action is None and "/Dest" in annot)):
            for key in sorted(annot.keys()):
                if key not in LINK_KEYS:
                    del annot[key]
            kept.append(annot)
        elif subtype == "/Link" and isinstance(action, Dictionary) and action.get("/S") == Name.URI:
            log.add("link to an outside address removed")
        elif subtype == "/Link":
            kind = str(action.get("/S", "?")).lstrip("/") if isinstance(action, Dictionary) else "?"
            log.add(f"link with a {kind} action removed")
        else:
            log.add(f"annotation {subtype.lstrip('/')} removed")
    if len(kept):
        page.Annots = kept
    else:
        del page["/Annots"]


def _clean_outlines(pdf: pikepdf.Pdf, log: RemovalLog) -> None:
    outlines = pdf.Root.get("/Outlines")
    stack, seen = [outlines.get("/First")] if isinstance(outlines, Dictionary) else [], set()
    while stack:
        item = stack.pop()
        if not isinstance(item, Dictionary) or (item.is_indirect and item.objgen in seen):
            continue
        if item.is_indirect:
            seen.add(item.objgen)
        if "/A" in item and not internal_action(item.A):
            log.add("bookmark action removed")
            del item["/A"]
        for key in sorted(item.keys()):
            if key not in OUTLINE_KEYS:
                del item[key]
        stack += [item.get("/Next"), item.get("/First")]


def _scrub(obj, log: RemovalLog) -> None:
    """Remove EVERYWHERE keys and outside actions from obj and its direct sub-objects.

    Direct objects cannot form cycles (only references can), so the recursion ends;
    indirect ones are each visited once by the caller's loop over `pdf.objects`.
    """
    if isinstance(obj, Array):
        for child in obj:
            if isinstance(child, (Dictionary, Array, Stream)) and not child.is_indirect:
                _scrub(child, log)
        return
    if not isinstance(obj, (Dictionary, Stream)):
        return
    for key in sorted(obj.keys()):
        if key in EVERYWHERE:
            log.add(f"{EVERYWHERE[key]} removed")
            del obj[key]
        elif key == "/A" and not internal_action(obj[key]):
            log.add("action removed")
            del obj[key]
        elif key == "/Next" and "/S" in obj:
            del obj[key]                        # chained actions: only the first, internal one stays
    for key in sorted(obj.keys()):
        child = obj[key]
        if isinstance(child, (Dictionary, Array)) and not child.is_indirect:
            _scrub(child, log)


def _clean_images(pdf: pikepdf.Pdf, log: RemovalLog) -> None:
    for obj in pdf.objects:
        if not isinstance(obj, Stream) or obj.get("/Subtype") != Name.Image:
            continue
        filters = obj.get("/Filter")
        filters = list(filters) if isinstance(filters, Array) else [filters] if filters is not None else []
        if not filters or filters[-1] not in (Name.DCTDecode, Name.JPXDecode):
            continue
        parms = obj.get("/DecodeParms")
        parms = list(parms) if isinstance(parms, Array) else [parms] * len(filters)
        data = obj.read_raw_bytes() if len(filters) == 1 else obj.read_bytes(pikepdf.StreamDecodeLevel.generalized)
        strip = strip_jpeg_metadata if filters[-1] == Name.DCTDecode else strip_jpx_metadata
        clean, removed = strip(data)
        if not removed:
            continue
        last_parms = parms[-1] if parms and isinstance(parms[-1], Dictionary) else None
        obj.write(clean, filter=filters[-1], decode_parms=last_parms)
        for what in removed:
            log.add(f"image {what} removed")
