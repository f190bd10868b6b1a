"""Screenshots of the review app, in Korean (desktop and phone widths) and in English (docs/screenshots/).

Builds the legacy-avi bundle of the Korean browser tests (an AVI with burned-in, messy
subtitles, and a song) into a temporary folder, serves it with `infopack review serve
--key` (a reviewer key without a passphrase), approves and signs the video, confirms a
glossary entry, and photographs the page with Debian's Chromium through Playwright:

    .venv/bin/python docs/screenshots/make.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from infopack.review.render import messages  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def build_demo(work: Path) -> tuple[Path, Path]:
    """The bundle built into work/out, and a reviewer key (no passphrase) to review it with."""
    from test_review_korean_e2e import AVI_MANIFEST, MESSY_SRT
    from samples.generate import generate
    from infopack.build import build
    from infopack.release.keys import keygen, load_signing_key
    from infopack.review.report import write_report_html
    samples = work / "samples"
    samples.mkdir()
    generate(samples, seconds=4.0)
    (samples / "subs" / "messy.srt").write_text(MESSY_SRT, encoding="utf-8")
    (samples / "bundle.toml").write_text(AVI_MANIFEST, encoding="utf-8")
    keygen(str(work / "curator"), "curator", None)
    reviewer, _ = keygen(str(work / "reviewer"), "reviewer", None)
    out = work / "out"
    build(samples / "bundle.toml", out, load_signing_key(work / "curator.key", None), jobs=2,
          report_writers=[write_report_html])
    return out, reviewer


def shoot(out: Path, key: Path, lang: str, shots: dict[Path, tuple[dict, bool]]) -> None:
    """One served page, one picture per viewport: {path: ({"width": W, "height": H}, whole page?)};
    a picture of the viewport shows the video item from its top."""
    from playwright.sync_api import sync_playwright
    proc = subprocess.Popen([str(Path(sys.executable).parent / "infopack"), "review", "serve", str(out),
                             "--port", "0", "--lang", lang, "--key", str(key)], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        if not re.match(r"^http://127\.0\.0\.1:\d+/\?token=", url):
            raise SystemExit(f"the server printed no URL: {url!r}")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for target, (viewport, whole) in shots.items():
                page = browser.new_page(viewport=viewport)
                page.on("dialog", lambda dialog: dialog.accept())
                page.goto(url)
                section = page.locator('section[data-item="sea"]')
                if section.locator('[data-signstate]').text_content() != messages(lang)["state_approved_signed"]:
                    section.locator('button[data-decision="approve"]').click()
                    section.locator(".status").filter(has_text=re.compile(".+")).wait_for()
                    page.locator("#signoff").click()
                    page.locator("#signoff-result").filter(has_text=re.compile(".+")).wait_for()
                    entry = section.locator('ul.glossary li[data-sk="아이스크림"]')
                    entry.locator('button[data-glossary="confirm"]').click()
                    entry.locator(".glossary-state").filter(has_text=re.compile("·")).wait_for()
                    page.reload()
                page.evaluate("""async () => {
                    const v = document.querySelector('section[data-item="sea"] video');
                    v.muted = true;
                    for (let i = 0; i < 200 && v.readyState < 2; i++) { await new Promise(r => setTimeout(r, 100)); }
                    v.currentTime = 0.5;
                    await new Promise(r => setTimeout(r, 500));
                }""")
                if not whole:
                    section.evaluate("element => element.scrollIntoView()")
                page.wait_for_timeout(300)
                page.screenshot(path=str(target), full_page=whole)
                page.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out, key = build_demo(Path(tmp))
        shots = {"ko": {HERE / "review-ko.png": ({"width": 1280, "height": 900}, True),
                        HERE / "review-ko-phone.png": ({"width": 390, "height": 1600}, False)},
                 "en": {HERE / "review-en.png": ({"width": 1280, "height": 900}, True)}}
        for lang, pictures in shots.items():
            shoot(out, key, lang, pictures)
            for target in pictures:
                print(f"wrote {target}")


if __name__ == "__main__":
    os.chdir(REPO)
    main()
