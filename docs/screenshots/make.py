"""Screenshots of the review app's main view, in Korean and in English (docs/screenshots/).

Builds the demo bundle of the tests into a temporary folder, serves it with
`infopack review serve`, and photographs it with Debian's Chromium through Playwright:

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

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def build_demo(work: Path) -> Path:
    from conftest import DEMO_MANIFEST
    from samples.generate import generate
    from infopack.build import build
    from infopack.release.keys import keygen, load_signing_key
    samples = work / "samples"
    samples.mkdir()
    generate(samples, seconds=4.0)
    (samples / "bundle.toml").write_text(DEMO_MANIFEST, encoding="utf-8")
    keygen(str(work / "curator"), "curator", None)
    out = work / "out"
    build(samples / "bundle.toml", out, load_signing_key(work / "curator.key", None), jobs=2)
    return out


def shoot(out: Path, lang: str, target: Path) -> None:
    from playwright.sync_api import sync_playwright
    proc = subprocess.Popen([str(Path(sys.executable).parent / "infopack"), "review", "serve", str(out),
                             "--port", "0", "--lang", lang], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        if not re.match(r"^http://127\.0\.0\.1:\d+/\?token=", url):
            raise SystemExit(f"the server printed no URL: {url!r}")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url)
            section = page.locator('section[data-item="clip-01"]')
            section.locator('button[data-decision="approve"]').click()
            page.locator('section[data-item="clip-01"] .status').filter(has_text=re.compile(".+")).wait_for()
            page.evaluate("""() => { document.querySelector('section[data-item="clip-01"] details').open = true; }""")
            section.evaluate("element => element.scrollIntoView()")
            page.evaluate("""async () => {
                const v = document.querySelector('section[data-item="clip-01"] video');
                for (let i = 0; i < 100 && v.readyState < 2; i++) { await new Promise(r => setTimeout(r, 100)); }
            }""")
            page.wait_for_timeout(300)
            page.screenshot(path=str(target))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = build_demo(Path(tmp))
        for lang in ("ko", "en"):
            shoot(out, lang, HERE / f"review-{lang}.png")
            print(f"wrote {HERE / f'review-{lang}.png'}")


if __name__ == "__main__":
    os.chdir(REPO)
    main()
