"""The document kind end to end: PDF, EPUB and TXT items go through a real `infopack build`
and come out clean, readable, reproducible, in the profile's formats, planned to within 2%,
scanned, verified and shown in the review app (Chromium).

The sources are made by `document_samples.py` with planted names, tools, dates, paths and
addresses; the checks use real tools (qpdf, exiftool, pdfinfo, pdftoppm).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from conftest import PASSPHRASE, REPO
from document_samples import (EPUB_PARAGRAPHS, PDF_PARAGRAPHS, PLANTED_PATH, PLANTED_PRODUCER, PLANTED_TOOL,
                              PLANTED_URL, PLANTED_UUID, make_epub, make_pdf, make_txt)
from infopack.documents import EPUB, PDF, TXT, epub_problems
from infopack.errors import UsageError
from infopack.kinds import REGISTRY, probe_source
from infopack.kinds.document import PAGE_GAP, PAGE_WIDTH
from infopack.manifest import load_manifest
from infopack.plan import make_plan
from infopack.profiles import _extra_dirs, load_profile
from infopack.qa.verify import VerifyOptions, verify_out
from infopack.release.keys import load_public_key
from samples.generate import PLANTED_NAME, PLANTED_SERIAL

INFOPACK = str(Path(sys.executable).parent / "infopack")
PLANTED = [PLANTED_NAME, "Kim Planted", "kimplanted", PLANTED_TOOL, "PlantedWriter", PLANTED_PRODUCER, PLANTED_PATH,
           "planted.example", PLANTED_URL, "Planted Press", "Second Reviser", PLANTED_UUID, "6f1e3c2a", "2024",
           PLANTED_SERIAL, "app.alert", "notes.txt", "calibre", "isbn", "Bud1", "quarantine", "schemas-microsoft"]
MANIFEST = """
[bundle]
id = "books"
title = "책 묶음"
profile = "{profile}"
card = "8GB"

[[items]]
id = "manual"
title = "바다 안내서"
source = "src/manual.bin"

[[items]]
id = "novel"
title = "바다 이야기"
source = "src/novel.epub"
{novel_extra}

[[items]]
id = "story"
title = "짧은 이야기"
source = "src/story.txt"
"""


def planted_in(data: bytes) -> list[str]:
    return [p for p in PLANTED if p.encode("utf-8").lower() in data.lower()]


def tool(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, timeout=300, **kwargs)


def write_bundle(folder: Path, profile: str, novel_extra: str = "") -> Path:
    """The three planted documents (the PDF named .bin: its kind is told by content) and a manifest."""
    (folder / "src").mkdir(parents=True)
    make_pdf(folder / "src" / "manual.bin")
    make_epub(folder / "src" / "novel.epub")
    make_txt(folder / "src" / "story.txt")
    manifest = folder / "books.toml"
    manifest.write_text(MANIFEST.format(profile=profile, novel_extra=novel_extra), encoding="utf-8")
    return manifest


def infopack_build(manifest: Path, out: Path, keys_dir: Path, *extra) -> subprocess.CompletedProcess:
    """The real command, in its own process."""
    env = dict(os.environ, INFOPACK_PASSPHRASE=PASSPHRASE)
    proc = tool(INFOPACK, "build", manifest, "--out", out, "--key", keys_dir / "curator.key", *extra,
                env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def phone(tmp_path_factory, keys_dir) -> dict:
    """A build for phones (PDF, EPUB and TXT kept), the EPUB's author dropped by the curator."""
    folder = tmp_path_factory.mktemp("phone-books")
    manifest = write_bundle(folder, "phone-720p", novel_extra="keep_author = false")
    infopack_build(manifest, folder / "out", keys_dir)
    card = folder / "out" / "card-01" / "문서"
    return {"manifest": manifest, "out": folder / "out", "folder": folder,
            PDF: card / "바다 안내서.pdf", EPUB: card / "바다 이야기.epub", TXT: card / "짧은 이야기.txt"}


@pytest.fixture(scope="module")
def notel(tmp_path_factory, keys_dir) -> dict:
    """A build for notels, whose reader opens only TXT in CP949."""
    folder = tmp_path_factory.mktemp("notel-books")
    manifest = write_bundle(folder, "notel-480p")
    infopack_build(manifest, folder / "out", keys_dir)
    return {"manifest": manifest, "out": folder / "out"}


# --- what a document is ------------------------------------------------------------------------

def test_document_sources_are_known_by_content(tmp_path):
    pdf, epub = make_pdf(tmp_path / "scan.bin"), make_epub(tmp_path / "book.zip")
    text = make_txt(tmp_path / "story.txt")
    for path in (pdf, epub, text):
        assert REGISTRY.kind_for_source(path).name == "document", path.name
        assert probe_source(path).kind == "document"
        assert REGISTRY.kind_for_file(path).scanned_as == "document"
    renamed_text = tmp_path / "story.dat"            # text has no signature: its name must say it
    shutil.copy(text, renamed_text)
    assert REGISTRY.kind_for_source(renamed_text).name == "video"
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnot really\n")
    with pytest.raises(UsageError, match="not a readable PDF"):
        probe_source(broken)


def test_profiles_say_which_document_formats_they_take(tmp_path, monkeypatch):
    assert load_profile("phone-720p").documents.formats == ("pdf", "epub", "txt")
    notel = load_profile("notel-480p").documents
    assert (notel.formats, notel.encoding, notel.unencodable) == (("txt",), "cp949", "replace")
    assert load_profile("audio-mp3-music").documents is None
    text = (REPO / "infopack" / "data" / "profiles" / "phone-720p.toml").read_text(encoding="utf-8")
    monkeypatch.setattr("infopack.profiles._extra_dirs", [tmp_path])
    for bad, message in (('formats = ["pdf", "mobi"]', "'mobi' is not one"), ('formats = []', "formats must list"),
                         ('encoding = "euc-kr"', "encoding 'euc-kr' is not one of cp949"),
                         ('formats = "pdf"', "formats must be a list of strings")):
        key = bad.split(" ")[0]
        changed = re.sub(rf"(?m)^{key} = .*$", bad, text) if key in text.split("[documents]")[1] else \
            text.replace("[documents]\n", f"[documents]\n{bad}\n")
        (tmp_path / "phone-720p.toml").write_text(changed, encoding="utf-8")
        with pytest.raises(UsageError, match=re.escape(message)):
            load_profile("phone-720p")
    assert _extra_dirs == []


def test_a_profile_without_documents_refuses_them_clearly(tmp_path, curator_key):
    from infopack.build import build
    manifest = write_bundle(tmp_path, "audio-mp3-music")
    with pytest.raises(UsageError, match="profile audio-mp3-music carries no documents"):
        make_plan(load_manifest(manifest))
    with pytest.raises(UsageError, match="item manual: profile audio-mp3-music cannot carry document items"):
        build(manifest, tmp_path / "out", curator_key, jobs=1)


def test_keep_author_is_a_true_or_false_item_key(tmp_path):
    manifest = write_bundle(tmp_path, "phone-720p", novel_extra='keep_author = "no"')
    with pytest.raises(UsageError, match=r"items\[1\] \(novel\)\.keep_author: must be true or false"):
        load_manifest(manifest)


# --- the build's card ------------------------------------------------------------------------------

def test_no_planted_string_is_left_anywhere_on_the_card(phone, tmp_path):
    card = phone["out"] / "card-01"
    assert sorted(files_of(card)) == ["문서/바다 안내서.pdf", "문서/바다 이야기.epub", "문서/짧은 이야기.txt"]
    for path in card.rglob("*"):
        if path.is_file():
            assert planted_in(path.read_bytes()) == [], path.name
    qdf = tmp_path / "qdf.pdf"                  # every stream decompressed, no object streams (exit 3: warnings)
    assert tool("qpdf", "--qdf", "--object-streams=disable", phone[PDF], qdf).returncode in (0, 3)
    assert planted_in(qdf.read_bytes()) == []
    assert b"The first paragraph of the book." in qdf.read_bytes()      # the text is still there
    with zipfile.ZipFile(phone[EPUB]) as archive:
        for name in archive.namelist():
            assert planted_in(name.encode() + archive.read(name)) == [], name
        assert "한 작가".encode() not in archive.read("OEBPS/content.opf")     # keep_author = false
    text = phone[TXT].read_bytes().decode("utf-8-sig")
    assert "Kim" not in text and "planted" not in text and "아이들이 웃습니다." in text


def test_exiftool_shows_no_author_creator_tool_or_date(phone):
    for path in (phone[PDF], phone[EPUB], phone[TXT]):
        tags = json.loads(tool("exiftool", "-j", "-a", "-G1", path).stdout)[0]
        for key in ("System:FileAccessDate", "System:FileInodeChangeDate"):    # this disk's, not the file's
            tags.pop(key)
        named = [key for key in tags if re.search(r"Author|Creator|Producer|Contributor|Publisher|Software", key)]
        dated = [f"{key}={value}" for key, value in tags.items()
                 if re.search(r"\d{4}:\d\d:\d\d", str(value)) and not str(value).startswith("2000:01:01")]
        assert (named, dated) == ([], []), path.name          # the card time, 2000-01-01, is everyone's


def test_the_cleaned_pdf_opens_and_its_first_page_renders(phone, tmp_path):
    info = tool("pdfinfo", phone[PDF])
    assert info.returncode == 0 and "Pages:           2" in info.stdout.decode()
    assert tool("pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", phone[PDF], tmp_path / "page").returncode == 0
    with Image.open(tmp_path / "page-1.png") as page:
        colours = page.convert("RGB").getcolors(maxcolors=100_000)
    assert len(colours) > 10                     # text and the picture, not a blank page


def test_the_cleaned_epub_passes_a_structural_check(phone):
    assert epub_problems(phone[EPUB]) == []
    with zipfile.ZipFile(phone[EPUB]) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type, archive.read(first)) == \
            ("mimetype", zipfile.ZIP_STORED, b"application/epub+zip")
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        opf_path = container.find(".//{*}rootfile").get("full-path")
        opf = etree.fromstring(archive.read(opf_path))             # valid XML, or this raises
        base = opf_path.rsplit("/", 1)[0]
        hrefs = [item.get("href").replace("%20", " ") for item in opf.iterfind(".//{*}manifest/{*}item")]
        assert hrefs and all(f"{base}/{href}" in archive.namelist() for href in hrefs)
        assert [i.get("idref") for i in opf.iterfind(".//{*}spine/{*}itemref")] == ["ch1", "ch2"]


def test_two_builds_are_byte_identical(phone, keys_dir, tmp_path):
    again = tmp_path / "again"
    infopack_build(phone["manifest"], again, keys_dir, "--no-cache")
    assert files_of(again) == files_of(phone["out"])           # cards, manifests, signatures, reports


def test_the_plan_estimates_documents_within_two_percent(phone, notel):
    for build in (phone, notel):
        plan = make_plan(load_manifest(build["manifest"]))
        card = build["out"] / "card-01"
        planned = {path: size for item in plan.items.values() for path, size in item.sizes.items()}
        assert sorted(planned) == sorted(files_of(card))
        for path, size in planned.items():
            actual = (card / path).stat().st_size
            assert abs(size - actual) <= 0.02 * actual, (path, size, actual)


def test_report_json_says_what_was_removed_and_flags_south_korean_words(phone):
    items = {i["id"]: i for i in json.loads((phone["out"] / "report.json").read_text(encoding="utf-8"))["items"]}
    manual, novel, story = items["manual"]["report"], items["novel"]["report"], items["story"]["report"]
    assert (manual["source_format"], manual["format"], manual["pages"]) == ("pdf", "pdf", 2)
    assert "embedded files removed: notes.txt" in manual["removals"]
    assert "document JavaScript removed" in manual["removals"]
    assert novel["keep_author"] is False
    assert any("generator" in line for line in novel["removals"])
    assert [(f["check"], "'아이스크림'" in f["message"]) for f in novel["lint"]] == [("sk-vocabulary", True)]
    assert story["encoding"] == "utf-8-sig" and len(story["removals"]) == 2
    assert items["manual"]["kind"] == "document" and items["manual"]["files"] == {"main": "문서/바다 안내서.pdf"}


def test_scan_finds_traces_in_the_sources_and_none_on_the_card_and_verify_passes(phone, keys_dir):
    clean = tool(INFOPACK, "scan", phone["out"] / "card-01", cwd=REPO)
    assert clean.returncode == 0, clean.stdout.decode() + clean.stderr.decode()
    dirty = tool(INFOPACK, "scan", "--json", phone["folder"] / "src", cwd=REPO)       # the PDF named .bin too
    assert dirty.returncode == 1
    checks = {f["check"] for f in json.loads(dirty.stdout)["findings"]}
    assert {"doc-info", "doc-xmp", "doc-javascript", "doc-embedded-file", "doc-epub-metadata", "doc-credit"} <= checks
    reports = verify_out(phone["out"], load_public_key(keys_dir / "curator.pub"), VerifyOptions(deep=True))
    assert [r.ok for r in reports] == [True], [f.message for r in reports for f in r.findings]


def test_a_txt_only_profile_turns_the_epub_into_cp949_text_in_reading_order(notel):
    card = notel["out"] / "card-01" / "문서"
    assert sorted(p.name for p in card.iterdir()) == ["바다 안내서.txt", "바다 이야기.txt", "짧은 이야기.txt"]
    data = (card / "바다 이야기.txt").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    text = data.decode("cp949")
    positions = [text.index(paragraph) for paragraph in EPUB_PARAGRAPHS]
    assert positions == sorted(positions)                        # the spine's order
    assert text.index("1장") < positions[0] < text.index("2장") < positions[2]
    pdf_text = (card / "바다 안내서.txt").read_bytes().decode("cp949")
    assert pdf_text.index(PDF_PARAGRAPHS[0]) < pdf_text.index("Page two of the book.")
    for path in card.iterdir():
        assert planted_in(path.read_bytes()) == [], path.name
    report = {i["id"]: i["report"] for i in json.loads((notel["out"] / "report.json").read_text("utf-8"))["items"]}
    assert {(r["source_format"], r["format"], r["encoding"]) for r in report.values()} == \
        {("pdf", "txt", "cp949"), ("epub", "txt", "cp949"), ("txt", "txt", "cp949")}


# --- the review app ----------------------------------------------------------------------------------

def test_the_review_app_shows_a_pdf_page_and_the_epub_text_with_a_flagged_word_in_chromium(phone, tmp_path):
    from playwright.sync_api import expect
    from infopack.release.keys import keygen
    from test_review_e2e import URL_LINE, chromium_page
    out = tmp_path / "out"
    shutil.copytree(phone["out"], out)
    reviewer_key, _ = keygen(str(tmp_path / "reviewer"), "reviewer", PASSPHRASE)
    env = dict(os.environ, INFOPACK_PASSPHRASE=PASSPHRASE)
    server = subprocess.Popen([INFOPACK, "review", "serve", str(out), "--port", "0", "--key", str(reviewer_key)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    requests: list[str] = []
    try:
        match = URL_LINE.match(server.stdout.readline().strip())
        assert match, server.stderr.read() if server.poll() is not None else "no URL printed"
        with chromium_page() as page:
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{match[1]}/?token={match[3]}")
            pages = page.locator('section[data-item="manual"] img.pages')
            size = pages.evaluate("async img => { await img.decode(); "
                                  "return [img.naturalWidth, img.naturalHeight]; }")
            assert size[0] == 2 * PAGE_WIDTH + 3 * PAGE_GAP and size[1] > PAGE_WIDTH, size   # both pages, upright
            manual_text = page.locator('section[data-item="manual"] ol.paragraphs').text_content()
            assert PDF_PARAGRAPHS[0] in manual_text

            novel = page.locator('section[data-item="novel"]')
            assert novel.locator("img.pages").count() == 0          # an EPUB has no pages to picture
            flagged = novel.locator("ol.paragraphs li.flagged mark")
            expect(flagged).to_have_text("아이스크림을")      # the word as written, with its particle
            assert "얼음보숭이" in flagged.get_attribute("title")
            assert EPUB_PARAGRAPHS[2] in novel.locator("ol.paragraphs").text_content()
            assert "generator" in novel.locator("ul.removed").text_content()
            assert "(번역" not in page.locator('section[data-item="story"] ol.paragraphs').text_content()

            novel.locator('button[data-decision="approve"]').click()
            expect(novel.locator(".status")).to_have_text("저장됨")
            page.reload()
            assert page.locator('[data-current="novel"]').text_content() == "승인"
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert any(url.endswith("/thumbs/manual/pages.png") for url in requests)
    assert not any(url.endswith("/thumbs/novel/pages.png") for url in requests)
    assert all(url.startswith((match[1] + "/", "data:", "blob:")) for url in requests)
    saved = json.loads(next((out / "reviews").glob("*.json")).read_text(encoding="utf-8"))
    assert saved["decisions"] == {"novel": {"decision": "approve", "comment": ""}}


def test_deep_verify_opens_every_pdf_and_epub(phone, tmp_path):
    from infopack.qa.verify import deep_findings
    assert [deep_findings(phone[fmt], fmt) for fmt in (PDF, EPUB, TXT)] == [[], [], []]
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(phone[EPUB]) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            if not info.filename.endswith("chapter2.xhtml"):          # a spine item gone missing
                target.writestr(info, source.read(info))
    assert [(f.check, f.level) for f in deep_findings(broken, "broken.epub")] == [("deep-document", "error")]
