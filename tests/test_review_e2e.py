"""The review app end to end: the real CLI serving a real build, driven in Debian's Chromium.

The reviewer opens the printed URL, plays a video, approves one item, rejects another
with a comment, reloads and finds the decisions kept, signs off; the page never asks
anything of a host other than 127.0.0.1; requests without the token get 403 and
path-traversal requests get 404.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import PASSPHRASE, REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
URL_LINE = re.compile(r"^(http://127\.0\.0\.1:(\d+))/\?token=(\S+)$")


@pytest.fixture
def reviewer_key(tmp_path) -> Path:
    from infopack.release.keys import keygen
    key, _ = keygen(str(tmp_path / "keys-reviewer"), "reviewer", PASSPHRASE)
    return key


@pytest.fixture
def server(built_copy, reviewer_key):
    """`infopack review serve OUT --port 0 --key ...` in a subprocess; yields (base, token, port)."""
    with serving(built_copy, reviewer_key) as (match, _):
        yield match[1], match[3], int(match[2])


@contextmanager
def chromium_page(**options):
    """A page of Debian's Chromium (Playwright), closed when the block ends; `options` go to new_page."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(**options)
        finally:
            browser.close()


PLAY = """async ([item, pastS, withinMs]) => {
    const v = document.querySelector(`section[data-item="${item}"] video`);
    v.muted = true;
    await v.play();
    const until = Date.now() + withinMs;
    while (v.currentTime <= pastS && Date.now() < until) { await new Promise(r => setTimeout(r, 100)); }
    v.pause();
    return {time: v.currentTime, ready: v.readyState, error: v.error && v.error.code,
            width: v.videoWidth, cues: v.textTracks.length && v.textTracks[0].cues
                   ? v.textTracks[0].cues.length : -1};
}"""


def play(page, item: str, *, past_s: float, within_ms: int) -> dict:
    """Play an item's video, muted, until it is past `past_s` or `within_ms` have gone; what the
    element then says of itself (time, readyState, error code, width, cues of its first track)."""
    return page.evaluate(PLAY, [item, past_s, within_ms])


@contextmanager
def serving(out: Path, key: Path):
    """`infopack review serve OUT --port 0 --key KEY` in a subprocess, until the block ends;
    gives (the match of its URL line, the process)."""
    env = dict(os.environ, INFOPACK_PASSPHRASE=PASSPHRASE)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "infopack"), "review", "serve", str(out),
                             "--port", "0", "--key", str(key)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        line = proc.stdout.readline().strip()
        match = URL_LINE.match(line)
        assert match, f"no URL printed: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        yield match, proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def raw_get(port: int, path: str, headers: dict | None = None) -> int:
    """A request exactly as written (no client-side normalisation of '..')."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    status = conn.getresponse().status
    conn.close()
    return status


def test_requests_without_the_token_are_refused(server):
    base, token, port = server
    assert raw_get(port, "/") == 403
    assert raw_get(port, "/?token=wrong") == 403
    assert raw_get(port, "/files/card-01/%EC%98%81%EC%83%81/%EC%8B%9C%EC%9E%A5%20%ED%92%8D%EA%B2%BD.mp4") == 403
    assert raw_get(port, "/", {"Cookie": "infopack_review=nope"}) == 403
    assert raw_get(port, f"/?token={token}") == 200


@pytest.mark.parametrize("path", [
    "/files/../../etc/passwd",
    "/files/%2e%2e/%2e%2e/etc/passwd",
    "/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/files/..%2f..%2fetc%2fpasswd",
    "/files/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/files/card-01/../card-01.manifest.json",
    "/files/card-01/%2e%2e/report.json",
    "/files//etc/passwd",
    "/files/card-01/..%5c..%5creport.json",
    "/../report.json",
])
def test_path_traversal_gets_404(server, path):
    _, token, port = server
    assert raw_get(port, path, {"Cookie": f"infopack_review={token}"}) == 404


def test_card_files_are_served_with_byte_ranges(server, built_copy):
    _, token, port = server
    card_file = built_copy / "card-01" / "영상" / "시장 풍경.mp4"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/files/card-01/%EC%98%81%EC%83%81/%EC%8B%9C%EC%9E%A5%20%ED%92%8D%EA%B2%BD.mp4",
                 headers={"Cookie": f"infopack_review={token}", "Range": "bytes=100-199"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 206
    assert response.getheader("Content-Range") == f"bytes 100-199/{card_file.stat().st_size}"
    assert body == card_file.read_bytes()[100:200]


def test_reviewer_plays_decides_reloads_and_signs_off_in_chromium(server, built_copy, reviewer_key, keys_dir,
                                                                  tmp_path):
    from playwright.sync_api import expect
    from infopack.release.gate import unapproved_items
    base, token, port = server
    requests: list[str] = []
    with chromium_page() as page:
        page.on("request", lambda request: requests.append(request.url))
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{base}/?token={token}")
        assert page.locator("html").get_attribute("lang") == "ko"
        assert "검토" in page.title()

        played = play(page, "clip-01", past_s=0.3, within_ms=5000)
        assert played["error"] is None and played["time"] > 0.3 and played["ready"] >= 2, played
        assert played["width"] > 0
        assert played["cues"] == 2         # the WebVTT track converted from the card's subtitles

        clip1 = page.locator('section[data-item="clip-01"]')
        clip1.locator('button[data-decision="approve"]').click()
        expect(clip1.locator(".status")).to_have_text("저장됨")
        clip2 = page.locator('section[data-item="clip-02"]')
        clip2.locator("textarea").fill("남한식 말투가 남아 있음")
        clip2.locator('button[data-decision="reject"]').click()
        expect(clip2.locator(".status")).to_have_text("저장됨")

        page.reload()
        assert page.locator('[data-current="clip-01"]').text_content() == "승인"
        assert page.locator('[data-current="clip-02"]').text_content() == "거부"
        assert page.locator('section[data-item="clip-02"] textarea').input_value() == "남한식 말투가 남아 있음"
        assert page.locator('[data-current="clip-03"]').text_content() == "아직 판정 안 함"

        # a click is a decision, not a signature; the sign-off result names titles, not ids
        assert page.locator('[data-signstate="clip-01"]').text_content() == "승인함, 아직 서명 안 함"
        page.locator("#signoff").click()
        expect(page.locator("#signoff-result")).to_have_text("서명했습니다. 지금 서명된 승인: 바다 이야기 1화")
        expect(page.locator('[data-signstate="clip-01"]')).to_have_text("승인함, 서명됨")
        assert page.locator('[data-signstate="clip-02"]').text_content() == "거부, 서명 없음"
        # a later "reject" does not unsign: the page says so, and withdrawing is its own button
        clip3 = page.locator('section[data-item="clip-03"]')
        clip3.locator('button[data-decision="approve"]').click()
        page.locator("#signoff").click()
        expect(page.locator("#signoff-result")).to_have_text("서명했습니다. 지금 서명된 승인: 바다 이야기 1화, 세포의 삶")
        clip3.locator('button[data-decision="reject"]').click()
        expect(clip3.locator("[data-signstate]")).to_contain_text("거부했지만 서명된 승인이 남아 있음")
        clip3.locator("button[data-withdraw]").click()
        expect(clip3.locator("[data-signstate]")).to_have_text("거부, 서명 없음")
        expect(clip3.locator(".status")).to_have_text("승인을 거두었습니다: 세포의 삶")
        assert clip3.locator("button[data-withdraw]").is_hidden()

    from infopack.release.keys import load_public_key
    key_id = load_public_key(reviewer_key.with_suffix(".pub")).key_id_hex
    saved = json.loads((built_copy / "reviews" / f"{key_id}.json").read_text(encoding="utf-8"))
    assert saved["decisions"] == {"clip-01": {"decision": "approve", "comment": ""},
                                  "clip-02": {"decision": "reject", "comment": "남한식 말투가 남아 있음"},
                                  "clip-03": {"decision": "reject", "comment": ""}}
    signed = (built_copy / f"card-01.manifest.json.{key_id}.minisig").read_text(encoding="utf-8")
    assert re.search(r"items=clip-01$", signed, re.M)          # clip-03 was signed, then withdrawn

    outside = [u for u in requests if not (u.startswith(f"{base}/") or u.startswith(("data:", "blob:")))]
    assert requests and not outside
    assert any("/files/" in u for u in requests) and any("/subs/clip-01.vtt" in u for u in requests)

    policy = tmp_path / "policy.toml"
    curator_pub, reviewer_pub = keys_dir / "curator.pub", reviewer_key.with_suffix(".pub")
    policy.write_text(f'[roles.curator]\nkeys = ["{curator_pub}"]\n'
                      f'[roles.reviewer]\nthreshold = 1\nkeys = ["{reviewer_pub}"]\n', encoding="utf-8")
    left = unapproved_items(built_copy, policy, ["clip-01", "clip-02", "clip-03", "song-01", "photo-01"])
    assert sorted(left) == ["clip-02", "clip-03", "photo-01", "song-01"]


def test_the_page_fits_a_phone_screen(server):
    base, token, _ = server
    with chromium_page(viewport={"width": 375, "height": 740}) as page:
        page.goto(f"{base}/?token={token}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        video_width = page.evaluate("document.querySelector('video').getBoundingClientRect().width")
    assert overflow <= 0
    assert 300 <= video_width <= 375


def test_exported_page_works_from_a_file_and_its_download_imports(run_cli, built_copy, reviewer_key, tmp_path):
    from playwright.sync_api import expect
    page_path = built_copy / "review.html"
    assert run_cli("review", "export", built_copy, "--html", page_path,
                   "--key", reviewer_key.with_suffix(".pub")).exit_code == 0
    requests: list[str] = []
    with chromium_page(accept_downloads=True) as page:
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.as_uri())
        ready = page.evaluate("""async () => {
            const v = document.querySelector('section[data-item="clip-01"] video');
            for (let i = 0; i < 50 && v.readyState < 1; i++) { await new Promise(r => setTimeout(r, 100)); }
            return {ready: v.readyState, cues: v.textTracks[0].cues.length};
        }""")
        assert ready["ready"] >= 1 and ready["cues"] == 2
        page.locator('section[data-item="photo-01"] button[data-decision="approve"]').click()
        song = page.locator('section[data-item="song-01"]')
        song.locator("textarea").fill("노래가 너무 큼")
        song.locator('button[data-decision="changes"]').click()
        page.reload()
        expect(page.locator('[data-current="song-01"]')).to_have_text("수정 필요")
        with page.expect_download() as info:
            page.locator("#download").click()
        downloaded = tmp_path / info.value.suggested_filename
        info.value.save_as(downloaded)
    assert all(u.startswith(("file://", "data:", "blob:")) for u in requests), requests
    result = run_cli("review", "import", built_copy, downloaded)
    assert result.exit_code == 0, result.output
    from infopack.release.keys import load_public_key
    saved = json.loads((built_copy / "reviews" / f"{load_public_key(reviewer_key.with_suffix('.pub')).key_id_hex}.json")
                       .read_text(encoding="utf-8"))
    assert saved["decisions"] == {"photo-01": {"decision": "approve", "comment": ""},
                                  "song-01": {"decision": "changes", "comment": "노래가 너무 큼"}}
