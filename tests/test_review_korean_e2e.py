"""The review app as a Korean reviewer meets it, in Debian's Chromium (Playwright, `--lang ko`).

A legacy-avi bundle (MPEG-4 Part 2 and MP3 in AVI, subtitles burned in) whose subtitles
need every kind of message: lint flags, scrubbed credits and addresses, timing fixes,
reading-speed warnings, a scan finding, why its subtitles were chosen and a film left
without Korean subtitles. The page, report.html and the exported page
say all of it in Korean (no English template of the catalogues appears: the templates are
read from the catalogue, so the test follows it); the AVI plays from a review copy made
from the card file; the burned-in subtitles' transcript shows the flagged words; a glossary
entry the reviewer confirms in the app is rewritten by `subs lint --apply` only under a
policy that trusts that reviewer.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from conftest import PASSPHRASE
from test_review_e2e import chromium_page, play, serving

MESSY_SRT = """1
00:00:00,100 --> 00:00:00,400
<i>아이스크림을</i> 먹고 주스를 마셨다 오늘은 정말 맛있는 하루였습니다 모두들 고맙습니다

2
00:00:00,300 --> 00:00:01,500
번역: 김민준 (minjun.kim@example.org)

3
00:00:01,600 --> 00:00:02,600
바다가 보입니다 www.example-subs.kr

4
00:00:02,700 --> 00:00:03,000
셀카를 찍어서 카톡으로 보냈어요
"""

AVI_MANIFEST = """
[bundle]
id = "avi-bundle"
title = "옛 재생기 묶음"
profile = "legacy-avi"
card = "8GB"
version = 1

[[items]]
id = "sea"
title = "바다"
source = "media/clip01.mp4"
subtitles = ["subs/messy.srt"]

[[items]]
id = "song"
title = "아침 노래"
source = "media/song01.mp3"

[[items]]
id = "foreign"
title = "외국 영화"
source = "media/clip02.mkv"
"""

# Every message the page shows, read from the live page: its text without script and style,
# and the words in title, alt and placeholder attributes.
PAGE_TEXT = """() => {
    const copy = document.documentElement.cloneNode(true);
    copy.querySelectorAll('script, style').forEach(e => e.remove());
    const attributes = [...copy.querySelectorAll('[title], [alt], [placeholder]')]
        .map(e => [e.getAttribute('title'), e.getAttribute('alt'), e.getAttribute('placeholder')].join(' '));
    return copy.textContent + '\\n' + attributes.join('\\n');
}"""


@pytest.fixture(scope="module")
def avi_build(samples_dir, curator_key, tmp_path_factory) -> Path:
    """One legacy-avi build of a video with messy subtitles and a song (read-only)."""
    from infopack.build import build
    from infopack.review.report import write_report_html
    (samples_dir / "subs" / "messy.srt").write_text(MESSY_SRT, encoding="utf-8")
    manifest = samples_dir / "avi-bundle.toml"
    manifest.write_text(AVI_MANIFEST, encoding="utf-8")
    out = tmp_path_factory.mktemp("avi") / "out"
    build(manifest, out, curator_key, jobs=2, report_writers=[write_report_html])
    return out


@pytest.fixture(scope="module")
def reviewer_key(tmp_path_factory) -> Path:
    from infopack.release.keys import keygen
    key, _ = keygen(str(tmp_path_factory.mktemp("korean-keys") / "reviewer"), "reviewer", PASSPHRASE)
    return key


@pytest.fixture
def avi_copy(avi_build, tmp_path) -> Path:
    import shutil
    shutil.copytree(avi_build, tmp_path / "out")
    return tmp_path / "out"


@pytest.fixture
def served(avi_copy, reviewer_key):
    """`infopack review serve OUT --key REVIEWER.key` (Korean by default); yields (base URL, the process)."""
    with serving(avi_copy, reviewer_key) as (match, proc):
        yield f"{match[1]}/?token={match[3]}", proc


def english_templates() -> list[str]:
    """What English text of the catalogues would look like on a page: each template's literal
    parts (between placeholders) that hold a word, the check registry's meanings and actions,
    and the English interface strings that differ from the Korean ones."""
    from infopack.checks import CHECKS
    from infopack.notes import templates
    from infopack.review.render import messages
    korean = templates("ko")
    found = set()
    for code, template in templates("en").items():
        for literal, *_ in string.Formatter().parse(template):
            part = literal.strip(" :;,.()'[]{}→").strip()
            if re.search(r"[A-Za-z]{4}", part) and part not in korean.get(code, ""):
                found.add(part)
    found |= {text for check in CHECKS.values() for text in (check.meaning, check.action)}
    ko_ui, en_ui = messages("ko"), messages("en")
    found |= {text for key, text in en_ui.items() if text != ko_ui[key] and re.search(r"[A-Za-z]{4}", text)}
    return sorted(found)


def assert_korean(text: str, where: str) -> None:
    leaks = [t for t in english_templates() if t in text]
    assert not leaks, f"English in {where}: {leaks[:5]}"


def korean_notes(out: Path) -> list[str]:
    """Every note the build recorded about the subtitles and the card files, in Korean."""
    from infopack.notes import localise
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    subs = next(i for i in report["items"] if i["id"] == "sea")["subtitles"]
    notes = [localise(n, "ko") for kind in ("fixes", "removals", "warnings") for n in subs[kind]]
    return notes + [localise(f["note"], "ko") for f in subs["lint"]]


def test_every_message_is_korean_in_the_app_report_and_export(served, avi_copy, run_cli):
    from infopack.notes import Note, check_texts
    from infopack.review.model import load_bundle
    from infopack.review.render import REPORT, render_page
    url, proc = served
    # a trace the build would never leave (it zeroes LAME's name and writes no encoder string),
    # added to the card copy so the app and the exported page have a scan finding to say in Korean
    [avi] = [path for path in avi_copy.glob("card-01/**/*.avi") if path.stem == "bada"]     # "바다", romanised for the player
    with avi.open("ab") as handle:
        handle.write(b"\0Lavf58.76.100\0")
    export = avi_copy / "review.html"
    assert run_cli("review", "export", avi_copy, "--html", export).exit_code == 0
    notes = korean_notes(avi_copy)
    codes = {n["code"] for kind in ("fixes", "removals", "warnings")
             for n in next(i for i in json.loads((avi_copy / "report.json").read_text(encoding="utf-8"))["items"]
                           if i["id"] == "sea")["subtitles"][kind]}
    # the bundle really needs every kind of message: scrub, timing fix, cleaning, reading speed
    assert {"cue-credit-removed", "cue-url-removed", "cue-overlap-trimmed", "cue-extended",
            "cue-reading-speed", "cue-tags-removed"} <= codes
    with chromium_page() as page:
        pages = {}
        for name, address in (("the app", url), ("report.html", (avi_copy / "report.html").as_uri()),
                              ("the exported page", export.as_uri())):
            page.goto(address)
            assert page.locator("html").get_attribute("lang") == "ko"
            pages[name] = page.evaluate(PAGE_TEXT)
    meaning = check_texts("meta-encoder-string", "ko")[0]
    english = render_page(load_bundle(avi_copy), mode=REPORT, lang="en", thumb=lambda item, what: None)
    assert len([t for t in english_templates() if t in english]) > 20       # the same check sees English
    for name, text in pages.items():
        assert_korean(text, name)
        missing = [n for n in notes if n not in text]
        assert not missing, f"{name} lacks {missing[:3]}"
        assert "남한 말 '아이스크림'" in text, name                      # a lint flag, in Korean
        assert (meaning in text) == (name != "report.html"), name     # the scan finding (report.html: the build's scan)
        assert "목록 파일에 적힌 자막 파일" in text, name               # why the subtitles came from messy.srt
        assert "foreign: 한국어 자막 없음 (영상 옆에 자막 파일이 없고 영상 안에도 자막 트랙이 없음)" in text, name
    proc.terminate()
    assert Note("review-serving").text("ko") in proc.communicate(timeout=10)[1]


def test_a_legacy_avi_item_plays_from_a_review_copy_and_shows_its_burned_in_transcript(served, avi_copy):
    url, _ = served
    with chromium_page() as page:
        page.goto(url)
        sea = page.locator('section[data-item="sea"]')
        assert sea.locator("video").get_attribute("src") == "proxy/sea.mp4"
        assert sea.locator("[data-proxy]").is_visible()
        played = play(page, "sea", past_s=0.5, within_ms=20000)
        marks = sea.locator("ol.cues mark").all_text_contents()
        hint = sea.locator(".transcript p.hint").first.text_content()
    assert played["error"] is None and played["ready"] >= 2 and played["time"] > 0.5 and played["width"] > 0, played
    assert marks == ["아이스크림을", "주스를", "셀카를", "카톡으로"]
    assert "화면에 새긴 자막" in hint
    # the copy lives with the reviews, never on the card or in its manifest
    copies = list((avi_copy / "reviews" / ".proxies").glob("*.mp4"))
    assert len(copies) == 2                                     # one per AVI video: sea and foreign
    manifest = (avi_copy / "card-01.manifest.json").read_text(encoding="utf-8")
    assert ".mp4" not in manifest and not list((avi_copy / "card-01").rglob("*.mp4"))


def test_a_glossary_entry_confirmed_in_the_app_is_applied_only_under_a_policy_trusting_that_reviewer(
        served, avi_copy, reviewer_key, keys_dir, run_cli, tmp_path):
    from playwright.sync_api import expect
    from infopack.release.keys import keygen, load_public_key
    url, _ = served
    with chromium_page() as page:
        page.goto(url)
        entry = page.locator('section[data-item="sea"] ul.glossary li[data-sk="아이스크림"]')
        entry.locator('button[data-glossary="confirm"]').click()
        expect(entry.locator(".glossary-state")).to_have_text("맞다고 확인함 · 저장하고 서명함")
        page.reload()
        expect(entry.locator(".glossary-state")).to_have_text("맞다고 확인함")
    reviewer = load_public_key(reviewer_key.with_suffix(".pub")).key_id_hex
    decisions = avi_copy / "reviews" / f"glossary-{reviewer}.toml"
    assert 'sk = "아이스크림"' in decisions.read_text(encoding="utf-8")
    assert decisions.with_name(decisions.name + ".minisig").is_file()

    source = tmp_path / "new.srt"
    source.write_text("1\n00:00:01,000 --> 00:00:04,000\n아이스크림을 나눠 먹었다\n", encoding="utf-8")
    stranger, _ = keygen(str(tmp_path / "stranger"), "reviewer", PASSPHRASE)
    outputs = {}
    for name, trusted in (("trusting", reviewer_key), ("not-trusting", stranger)):
        policy = tmp_path / f"{name}.toml"
        policy.write_text(f'[roles.curator]\nkeys = ["{keys_dir / "curator.pub"}"]\n'
                          f'[roles.reviewer]\nthreshold = 1\nkeys = ["{trusted.with_suffix(".pub")}"]\n',
                          encoding="utf-8")
        result = run_cli("subs", "lint", source, "--apply", "--out", tmp_path / f"{name}.srt",
                         "--policy", policy, "--reviews", avi_copy)
        assert result.exit_code == 0, result.output
        outputs[name] = (result.stdout, (tmp_path / f"{name}.srt").read_text(encoding="utf-8"))
    assert "얼음보숭이를 나눠 먹었다" in outputs["trusting"][1]
    assert f"'아이스크림을' replaced by '얼음보숭이를' (glossary, confirmed by reviewer {reviewer})" \
        in outputs["trusting"][0]
    assert "아이스크림을 나눠 먹었다" in outputs["not-trusting"][1] and "0 word(s) rewritten" in outputs["not-trusting"][0]
