"""Documents the tests build: a PDF, an EPUB and a TXT carrying planted traces.

Everything is made here from code (pikepdf, zipfile, Pillow), nothing is downloaded;
the traces are the ones real tools leave (see infopack/documents/*.py docstrings).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from PIL import Image, ImageDraw

from samples.generate import PLANTED_NAME, PLANTED_SERIAL

PLANTED_TOOL = "PlantedWriter 9.1"
PLANTED_PRODUCER = "PlantedPDF Library 3.2"
PLANTED_PATH = "C:/Users/kimplanted/Documents/book.indd"
PLANTED_URL = "http://planted.example/kim"
PLANTED_UUID = "urn:uuid:6f1e3c2a-9b7d-4e8f-a1b2-c3d4e5f60718"
PDF_PARAGRAPHS = ["The first paragraph of the book.", "A second paragraph follows it."]
EPUB_PARAGRAPHS = ["바다 위로 해가 떠오릅니다.", "아이들이 아이스크림을 먹습니다.", "두 번째 장이 시작됩니다."]

XMP = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<dc:creator><rdf:Seq><rdf:li>{PLANTED_NAME}</rdf:li></rdf:Seq></dc:creator>
<xmp:CreatorTool>{PLANTED_TOOL}</xmp:CreatorTool><xmp:CreateDate>2024-05-01T10:00:00+09:00</xmp:CreateDate>
<xmp:ModifyDate>2024-05-02T11:00:00+09:00</xmp:ModifyDate><pdf:Producer>{PLANTED_PRODUCER}</pdf:Producer>
<xmpMM:DocumentID>uuid:6f1e3c2a-9b7d-4e8f-a1b2-c3d4e5f60718</xmpMM:DocumentID>
<xmpMM:DerivedFrom>{PLANTED_PATH}</xmpMM:DerivedFrom>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>""".encode("utf-8")


def gps_jpeg(size=(160, 120), colour=(200, 40, 40)) -> bytes:
    """A JPEG with EXIF GPS, artist, serial and a comment."""
    img = Image.new("RGB", size, colour)
    ImageDraw.Draw(img).rectangle([size[0] // 8, size[1] // 8, size[0] * 7 // 8, size[1] // 2], fill=(20, 60, 200))
    exif = Image.Exif()
    exif[0x013B] = PLANTED_NAME                       # Artist
    exif[0x0131] = PLANTED_TOOL                       # Software
    exif[0x0132] = "2024:05:01 10:00:00"              # DateTime
    exif.get_ifd(0x8769)[0xA431] = PLANTED_SERIAL     # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (37.0, 33.0, 59.4)
    gps[3], gps[4] = "E", (126.0, 58.0, 40.8)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, exif=exif, comment=f"shot by {PLANTED_NAME}".encode())
    return out.getvalue()


def _text_stream(lines: list[str], y0: int = 360) -> bytes:
    ops = [f"BT /F1 12 Tf 20 {y0 - 40 * i} Td ({line}) Tj ET" for i, line in enumerate(lines)]
    return "\n".join(ops).encode("latin-1")


def make_pdf(path: Path) -> Path:
    """Two pages of text and a JPEG, with every trace a real PDF can carry, and an
    incremental update whose older revision names someone else."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica,
                                        Encoding=Name.WinAnsiEncoding))
    image = pdf.make_stream(gps_jpeg(), Type=Name.XObject, Subtype=Name.Image, Width=160, Height=120,
                            ColorSpace=Name.DeviceRGB, BitsPerComponent=8, Filter=Name.DCTDecode)
    image.Metadata = pdf.make_stream(XMP, Type=Name.Metadata, Subtype=Name.XML)
    thumb = pdf.make_stream(gps_jpeg((16, 12)), Width=16, Height=12, ColorSpace=Name.DeviceRGB,
                            BitsPerComponent=8, Filter=Name.DCTDecode)
    for number, lines in enumerate([PDF_PARAGRAPHS, ["Page two of the book."]]):
        page = pdf.add_blank_page(page_size=(300, 400))
        page.obj.Resources = Dictionary(Font=Dictionary(F1=font), XObject=Dictionary(Im1=image))
        draw = b"\nq 160 0 0 120 70 60 cm /Im1 Do Q" if number == 0 else b""
        page.obj.Contents = pdf.make_stream(_text_stream(lines) + draw)
    first, second = pdf.pages[0].obj, pdf.pages[1].obj
    first.Thumb = thumb
    first.PieceInfo = Dictionary(PlantedApp=Dictionary(Private=String(PLANTED_PATH),
                                                       LastModified=String("D:20240501100000")))
    first.LastModified = String("D:20240501100000+09'00'")
    popup = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Popup, Rect=[0, 0, 10, 10]))
    note = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Text, Rect=[250, 350, 270, 370],
                                        T=String(PLANTED_NAME), Contents=String("check this, Kim"),
                                        M=String("D:20240501100000"), Popup=popup))
    popup.Parent = note
    uri_link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[20, 350, 200, 370],
                          A=Dictionary(S=Name.URI, URI=String(PLANTED_URL)))
    goto_link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[20, 300, 200, 320],
                           A=Dictionary(S=Name.GoTo, D=Array([second, Name.Fit])),
                           NM=String("uuid-link-1"), M=String("D:20240501100000"))
    launch = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[20, 250, 200, 270],
                        A=Dictionary(S=Name.Launch, F=String(PLANTED_PATH)))
    first.Annots = Array([note, popup, pdf.make_indirect(uri_link), pdf.make_indirect(goto_link),
                          pdf.make_indirect(launch)])
    pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(pdf, f"notes by {PLANTED_NAME}".encode(),
                                                            description=f"from {PLANTED_PATH}")
    javascript = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String(f"app.alert('{PLANTED_NAME}')")))
    pdf.Root.OpenAction = javascript
    pdf.Root.Names.JavaScript = Dictionary(Names=Array([String("hello"), javascript]))
    pdf.Root.Metadata = pdf.make_stream(XMP, Type=Name.Metadata, Subtype=Name.XML)
    pdf.Root.PageLabels = Dictionary(Nums=Array([0, Dictionary(S=Name.D)]))
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Chapter two", 1))
    pdf.docinfo = pdf.make_indirect(Dictionary(
        Author=String(PLANTED_NAME), Creator=String(PLANTED_TOOL), Producer=String(PLANTED_PRODUCER),
        Title=String(f"Draft from {PLANTED_PATH}"),
        CreationDate=String("D:20240501100000+09'00'"), ModDate=String("D:20240502110000+09'00'")))
    pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.disable, static_id=True)
    _append_incremental_update(path)
    return path


def _append_incremental_update(path: Path) -> None:
    """A second revision with a new Info object, as editors append it: the old one stays."""
    data = path.read_bytes()
    with pikepdf.open(path) as pdf:
        size = int(pdf.trailer.Size)
        root = pdf.trailer.Root.objgen
    prev = int(data[data.rindex(b"startxref") + 9:].split()[0])
    number = size
    body = (f"{number} 0 obj\n<< /Author (Second Reviser) /Producer ({PLANTED_PRODUCER}) >>\nendobj\n").encode()
    offset = len(data)
    xref = f"xref\n{number} 1\n{offset:010d} 00000 n \n".encode()
    planted_id = hashlib.md5(PLANTED_PATH.encode()).hexdigest()     # tools hash a path and a time
    trailer = (f"trailer\n<< /Size {size + 1} /Root {root[0]} {root[1]} R /Info {number} 0 R /Prev {prev} "
               f"/ID [<{planted_id}><{planted_id}>] >>\n"
               f"startxref\n{offset + len(body)}\n%%EOF\n").encode()
    path.write_bytes(data + body + xref + trailer)


def xhtml_page(title: str, body: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
            f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="ko">\n'
            f'<head><meta charset="utf-8"/><title>{title}</title>{head}</head>\n<body>{body}</body>\n</html>\n'
            ).encode("utf-8")


EPUB_OPF = f"""<?xml version="1.0" encoding="utf-8"?>
<!-- written by {PLANTED_TOOL} for {PLANTED_NAME} -->
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="calibre_id"
 prefix="calibre: https://calibre-ebook.com">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf"
   xmlns:calibre="https://calibre-ebook.com">
    <dc:identifier id="calibre_id">{PLANTED_UUID}</dc:identifier>
    <dc:identifier>isbn:9788900000000</dc:identifier>
    <dc:title>바다 이야기</dc:title>
    <dc:language>ko</dc:language>
    <dc:creator id="author">한 작가</dc:creator>
    <meta refines="#author" property="role" scheme="marc:relators">aut</meta>
    <dc:creator id="translator">{PLANTED_NAME}</dc:creator>
    <meta refines="#translator" property="role" scheme="marc:relators">trl</meta>
    <dc:contributor>{PLANTED_NAME} (editor)</dc:contributor>
    <dc:publisher>Planted Press Seoul</dc:publisher>
    <dc:date>2024-05-01</dc:date>
    <dc:rights>Copyright {PLANTED_NAME}</dc:rights>
    <dc:source>{PLANTED_PATH}</dc:source>
    <meta property="dcterms:modified">2024-05-02T11:00:00Z</meta>
    <meta name="generator" content="{PLANTED_TOOL}"/>
    <meta name="calibre:timestamp" content="2024-05-01T10:00:00+00:00"/>
    <meta name="calibre:user_metadata:#owner" content="{PLANTED_NAME}"/>
    <meta name="cover" content="cover-image"/>
    <meta property="rendition:layout">reflowable</meta>
    <link rel="record" href="{PLANTED_URL}/record.xml" media-type="application/marc"/>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    <item id="ch1" href="text/chapter%201.xhtml" media-type="application/xhtml+xml" properties="scripted"/>
    <item id="ch2" href="text/chapter2.xhtml" media-type="application/xhtml+xml"/>
    <item id="css" href="style.css" media-type="text/css"/>
    <item id="cover-image" href="images/cover.jpg" media-type="image/jpeg" properties="cover-image"/>
    <item id="js" href="script.js" media-type="application/javascript"/>
    <item id="remote-font" href="{PLANTED_URL}/font.woff" media-type="font/woff"/>
  </manifest>
  <spine toc="ncx">
    <itemref idref="ch1"/>
    <itemref idref="ch2"/>
  </spine>
</package>
"""

EPUB_NCX = f"""<?xml version="1.0" encoding="utf-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="{PLANTED_UUID}"/><meta name="dtb:depth" content="1"/>
  <meta name="dtb:generator" content="{PLANTED_TOOL}"/></head>
  <docTitle><text>바다 이야기</text></docTitle>
  <docAuthor><text>한 작가</text></docAuthor>
  <!-- toc by {PLANTED_NAME} -->
  <navMap><navPoint id="p1" playOrder="1"><navLabel><text>1장</text></navLabel>
  <content src="text/chapter%201.xhtml"/></navPoint>
  <navPoint id="p2" playOrder="2"><navLabel><text>2장</text></navLabel><content src="text/chapter2.xhtml"/>
  </navPoint></navMap>
</ncx>
"""


def make_epub(path: Path, *, extra: dict[str, bytes] | None = None, chapter1: bytes | None = None) -> Path:
    """An EPUB 3 book as converters leave it: contributor, calibre metadata, generator
    meta, comments, a script, outside links, a JPEG with EXIF GPS and stray files."""
    head = (f'<meta name="generator" content="{PLANTED_TOOL}"/><meta name="author" content="{PLANTED_NAME}"/>'
            f'<link rel="stylesheet" type="text/css" href="../style.css"/><script src="../script.js"/>')
    body1 = (f'<!-- edited by {PLANTED_NAME} at {PLANTED_PATH} -->'
             f'<h1>1장</h1><p data-editor="{PLANTED_NAME}">{EPUB_PARAGRAPHS[0]}</p>'
             f'<p onclick="alert(1)">{EPUB_PARAGRAPHS[1]}</p>'
             f'<p><img src="../images/cover.jpg" alt="표지"/> <a href="{PLANTED_URL}">누리집</a></p>'
             f'<span epub:type="pagebreak" id="page2" title="2"/>')
    body2 = (f'<h1>2장</h1><p xmlns:o="urn:schemas-microsoft-com:office:office">{EPUB_PARAGRAPHS[2]}&nbsp;'
             f'<o:p></o:p></p><img src="{PLANTED_URL}/tracker.png" alt=""/>')
    nav = ('<nav epub:type="toc"><ol><li><a href="text/chapter%201.xhtml">1장</a></li>'
           '<li><a href="text/chapter2.xhtml">2장</a></li></ol></nav>')
    files = {
        "META-INF/container.xml": b'<?xml version="1.0"?><container version="1.0" '
                                  b'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                                  b'<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                                  b'</rootfiles></container>',
        "OEBPS/content.opf": EPUB_OPF.encode("utf-8"),
        "OEBPS/nav.xhtml": xhtml_page("차례", nav),
        "OEBPS/toc.ncx": EPUB_NCX.encode("utf-8"),
        "OEBPS/text/chapter 1.xhtml": chapter1 or xhtml_page("1장", body1, head),
        "OEBPS/text/chapter2.xhtml": xhtml_page("2장", body2),
        "OEBPS/style.css": (f"/* theme by {PLANTED_NAME} */\n@import url('{PLANTED_URL}/theme.css');\n"
                            f"@font-face {{ font-family: x; src: url({PLANTED_URL}/font.woff); }}\n"
                            "p { margin: 0 0 1em 0; content: \"/* not a comment */\"; }\n").encode("utf-8"),
        "OEBPS/images/cover.jpg": gps_jpeg((120, 160)),
        "OEBPS/script.js": f"console.log('{PLANTED_NAME}')".encode(),
        "META-INF/calibre_bookmarks.txt": f"bookmarks of {PLANTED_NAME}".encode(),
        "iTunesMetadata.plist": f"<plist><string>{PLANTED_NAME}</string></plist>".encode(),
        "OEBPS/.DS_Store": f"Bud1 {PLANTED_PATH}".encode(),
        "__MACOSX/OEBPS/._cover.jpg": f"com.apple.quarantine {PLANTED_TOOL}".encode(),
        **(extra or {}),
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype", date_time=(2024, 5, 1, 10, 0, 0)), "application/epub+zip",
                         compress_type=zipfile.ZIP_STORED)
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 1, 10, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return path


TXT_LINES = ["바다 이야기", "", "  해가 떠오릅니다. 똠방각하를 읽습니다.", "",
             f"번역: {PLANTED_NAME}", f"자세한 것은 {PLANTED_URL} 에서 보십시오.", "아이들이 웃습니다."]


def make_txt(path: Path) -> Path:
    """A CP949 text book with a translator credit and a URL, CRLF line endings."""
    path.write_bytes("\r\n".join(TXT_LINES).encode("cp949"))
    return path
