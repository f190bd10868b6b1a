"""Review app without a browser: the approval gate, decisions files, import/export,
status, report.html, transcript views and bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import PASSPHRASE

ALL_ITEMS = ["clip-01", "clip-02", "clip-03", "song-01", "photo-01"]


@pytest.fixture(scope="module")
def reviewers(tmp_path_factory) -> Path:
    from infopack.release.keys import keygen
    dest = tmp_path_factory.mktemp("review-keys")
    for name in ("ana", "bora", "gone"):
        keygen(str(dest / name), "reviewer", PASSPHRASE)
    return dest


def key_id(pub: Path) -> str:
    from infopack.release.keys import load_public_key
    return load_public_key(pub).key_id_hex


def policy(tmp_path: Path, keys_dir: Path, reviewers: Path, threshold: int, revoked: str = "") -> Path:
    path = tmp_path / f"policy-{threshold}.toml"
    keys = ", ".join(f'"{reviewers / n}.pub"' for n in ("ana", "bora", "gone"))
    path.write_text(f'revoked = [{revoked}]\n[roles.curator]\nkeys = ["{keys_dir / "curator.pub"}"]\n'
                    f"[roles.reviewer]\nthreshold = {threshold}\nkeys = [{keys}]\n", encoding="utf-8")
    return path


def decide(out: Path, reviewer: str, **choices: str) -> None:
    from infopack.review import decisions as dec
    bundle = json.loads((out / "report.json").read_text(encoding="utf-8"))["bundle"]
    for item, choice in choices.items():
        decision, _, comment = choice.partition(":")
        dec.record(out, reviewer, bundle, item.replace("_", "-"), dec.Decision(decision, comment))


# --------------------------------------------------------------------------- the gate

def test_gate_lists_exactly_the_items_the_required_reviewers_did_not_approve(run_cli, built_copy, keys_dir,
                                                                             reviewers, tmp_path):
    from infopack.release.gate import unapproved_items
    one = policy(tmp_path, keys_dir, reviewers, 1)
    assert set(unapproved_items(built_copy, one, ALL_ITEMS)) == set(ALL_ITEMS)

    ana = key_id(reviewers / "ana.pub")
    decide(built_copy, ana, clip_01="approve", clip_03="approve", clip_02="reject:남한 말투")
    assert run_cli("review", "sign", built_copy, "--key", reviewers / "ana.key").exit_code == 0
    left = unapproved_items(built_copy, one, ALL_ITEMS)
    assert sorted(left) == ["clip-02", "photo-01", "song-01"]
    assert left["clip-02"] == "approved by 0 of 1 required reviewer(s)"

    two = policy(tmp_path, keys_dir, reviewers, 2)
    assert sorted(unapproved_items(built_copy, two, ALL_ITEMS)) == sorted(ALL_ITEMS) and \
        unapproved_items(built_copy, two, ["clip-01"])["clip-01"] == "approved by 1 of 2 required reviewer(s)"
    assert run_cli("approve", built_copy, "--key", reviewers / "gone.key", "--items", "clip-01").exit_code == 0
    assert sorted(unapproved_items(built_copy, two, ALL_ITEMS)) == ["clip-02", "clip-03", "photo-01", "song-01"]

    revoked = policy(tmp_path / "..", keys_dir, reviewers, 2, revoked=f'"{key_id(reviewers / "gone.pub")}"')
    assert "clip-01" in unapproved_items(built_copy, revoked, ["clip-01"])
    assert "not in any signed card manifest" in unapproved_items(built_copy, one, ["clip-99"])["clip-99"]


def test_gate_with_a_policy_needing_no_reviewer_holds_nothing_back(built_copy, keys_dir, reviewers, tmp_path):
    from infopack.release.gate import unapproved_items
    assert unapproved_items(built_copy, policy(tmp_path, keys_dir, reviewers, 0), ALL_ITEMS) == {}


def test_signing_a_review_without_approved_items_is_one_clear_error(run_cli, built_copy, reviewers):
    decide(built_copy, key_id(reviewers / "bora.pub"), clip_01="reject")
    result = run_cli("review", "sign", built_copy, "--key", reviewers / "bora.key")
    assert result.exit_code == 2
    assert "no item is approved in this review" in result.stderr and "Traceback" not in result.output
    assert not list(built_copy.glob("card-01.manifest.json.*.minisig"))


# --------------------------------------------------------------------------- decisions files

def test_decisions_are_saved_whole_and_atomically_with_no_temp_files_left(built_copy):
    from infopack.review import decisions as dec
    decide(built_copy, "anonymous", clip_01="approve", clip_02="changes:자막이 빠름")
    decide(built_copy, "anonymous", clip_01="reject:소리가 없음")
    folder = built_copy / "reviews"
    assert sorted(p.name for p in folder.iterdir()) == ["anonymous.json"]
    assert dec.load_decisions(built_copy, "anonymous") == {
        "clip-01": dec.Decision("reject", "소리가 없음"), "clip-02": dec.Decision("changes", "자막이 빠름")}


def status_rows(output: str) -> dict[str, str]:
    return {line.split("│")[1].strip(): line for line in output.splitlines() if "│" in line
            and line.split("│")[1].strip().startswith(("clip", "song", "photo"))}


def test_status_summarises_every_reviewers_decisions(run_cli, built_copy, reviewers):
    ana, bora = key_id(reviewers / "ana.pub"), key_id(reviewers / "bora.pub")
    decide(built_copy, ana, clip_01="approve", clip_02="reject:남한 말투")
    decide(built_copy, bora, clip_01="approve", song_01="changes")
    result = run_cli("review", "status", built_copy, "--lang", "en")
    assert result.exit_code == 0
    rows = status_rows(result.stdout)
    assert ana in result.stdout and bora in result.stdout
    assert rows["clip-01"].count("approved, not signed yet") == 2 and rows["clip-01"].rstrip(" │").endswith("0")
    assert "rejected, not signed: 남한 말투" in rows["clip-02"]
    assert "changes needed, not signed" in rows["song-01"] and "not decided yet" in rows["photo-01"]
    korean = run_cli("review", "status", built_copy)
    assert "승인함, 아직 서명 안 함" in status_rows(korean.stdout)["clip-01"]


def test_status_tells_a_clicked_approval_from_a_signed_one(run_cli, built_copy, keys_dir, reviewers, tmp_path):
    ana = key_id(reviewers / "ana.pub")
    decide(built_copy, ana, clip_01="approve", clip_02="approve", clip_03="reject:소리가 큼")
    assert run_cli("approve", built_copy, "--key", reviewers / "ana.key", "--items", "clip-01,clip-03").exit_code == 0
    one = policy(tmp_path, keys_dir, reviewers, 1)
    result = run_cli("review", "status", built_copy, "--policy", one, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "infopack/review-status/1" and data["threshold"] == 1 and data["signatures_checked"]
    items = {i["id"]: i for i in data["items"]}
    assert items["clip-01"]["reviews"][ana] == {"decision": "approve", "comment": "", "signature": "valid",
                                                "state": "approved-signed"}
    assert items["clip-01"]["approved"] is True and items["clip-01"]["signed_by"] == [ana]
    assert items["clip-02"]["reviews"][ana]["state"] == "approved-unsigned" and items["clip-02"]["approved"] is False
    assert items["clip-03"]["reviews"][ana]["state"] == "reject-but-signed"
    rows = status_rows(run_cli("review", "status", built_copy, "--policy", one, "--lang", "en").stdout)
    assert "approved, signed" in rows["clip-01"] and rows["clip-01"].rstrip(" │").endswith("1/1")
    assert "approved, not signed yet" in rows["clip-02"] and rows["clip-02"].rstrip(" │").endswith("0/1")
    assert "rejected, but a signed approval remains" in rows["clip-03"]
    # without a policy the file is there but nobody checked it
    unchecked = json.loads(run_cli("review", "status", built_copy, "--json").stdout)
    assert {i["id"]: i["reviews"][ana]["state"] for i in unchecked["items"]}["clip-01"] == "approved-unchecked"
    # the reviewer takes back what they rejected: only that item leaves the signature
    withdrawn = run_cli("review", "withdraw", built_copy, "--key", reviewers / "ana.key", "--items", "clip-03",
                        "--lang", "en")
    assert withdrawn.exit_code == 0 and "withdrew the approval of 세포의 삶" in withdrawn.output
    after = {i["id"]: i for i in json.loads(run_cli("review", "status", built_copy, "--policy", one, "--json")
                                            .stdout)["items"]}
    assert after["clip-03"]["reviews"][ana]["state"] == "reject" and after["clip-01"]["approved"] is True
    # a signature changed after signing does not count, and says why
    signature = built_copy / f"card-01.manifest.json.{ana}.minisig"
    lines = signature.read_text(encoding="utf-8").splitlines()
    signature.write_text("\n".join(lines[:2] + [lines[2] + ",clip-02"] + lines[3:]) + "\n", encoding="utf-8")
    tampered = json.loads(run_cli("review", "status", built_copy, "--policy", one, "--json").stdout)
    assert {i["id"]: i["reviews"][ana]["signature"] for i in tampered["items"]}["clip-01"] == "invalid"
    assert [(p["check"], p["path"]) for p in tampered["problems"]] == [("signature", signature.name)]
    assert "trusted comment was altered" in tampered["problems"][0]["message"]
    korean = run_cli("review", "status", built_copy, "--policy", one)
    assert f"{signature.name}: 서명이 없거나, 망가졌거나" in korean.stdout


def test_status_without_reviews_says_so(run_cli, built):
    result = run_cli("review", "status", built, "--lang", "en")
    assert result.exit_code == 0 and "no reviews yet" in result.stdout
    assert "아직 검토가 없습니다" in run_cli("review", "status", built).stdout


# --------------------------------------------------------------------------- export / import

def without_data_uris(html: str) -> str:
    """The page without its inline images, whose base64 may contain anything."""
    return re.sub(r'"data:image/png;base64,[A-Za-z0-9+/=]*"', '""', html)


def exported_state(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="state">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def test_export_is_self_contained_and_its_decisions_import_back(run_cli, built_copy, reviewers, tmp_path):
    ana = key_id(reviewers / "ana.pub")
    decide(built_copy, ana, clip_03="changes:소리가 작음")
    page = built_copy / "review.html"
    result = run_cli("review", "export", built_copy, "--html", page, "--key", reviewers / "ana.pub", "--lang", "en")
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"(?i)https?:|//[a-z0-9]", without_data_uris(html))
    assert 'src="card-01/' in html and "data:image/png;base64," in html
    state = exported_state(html)
    assert state["reviewer"] == ana and state["decisions"] == {"clip-03": {"comment": "소리가 작음",
                                                                          "decision": "changes"}}
    assert state["cues"]["clip-01"][0][2] == "바다 위로 해가 떠오릅니다."
    # What the page's "download" button produces: its state with the reviewer's new decisions.
    download = {"format": state["format"], "reviewer": ana, "bundle": state["bundle"],
                "decisions": {"clip-01": {"decision": "approve", "comment": ""},
                              "clip-02": {"decision": "reject", "comment": "거부함"}}}
    downloaded = tmp_path / "review-download.json"
    downloaded.write_text(json.dumps(download, ensure_ascii=False), encoding="utf-8")
    result = run_cli("review", "import", built_copy, downloaded)
    assert result.exit_code == 0, result.output
    saved = json.loads((built_copy / "reviews" / f"{ana}.json").read_text(encoding="utf-8"))
    assert saved["decisions"] == {"clip-01": {"comment": "", "decision": "approve"},
                                  "clip-02": {"comment": "거부함", "decision": "reject"},
                                  "clip-03": {"comment": "소리가 작음", "decision": "changes"}}


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not valid JSON"),
    ('{"format": "something-else"}', "not an infopack review file"),
    ('{"format": "infopack-review/1", "reviewer": "../../etc/x", "decisions": {}}', "is not a key id"),
    ('{"format": "infopack-review/1", "reviewer": "anonymous", "decisions": {"clip-99": '
     '{"decision": "approve"}}}', "item 'clip-99' is not in this build"),
    ('{"format": "infopack-review/1", "reviewer": "anonymous", "decisions": {"clip-01": '
     '{"decision": "maybe"}}}', "\"decision\" must be one of approve, changes, reject"),
    ('{"format": "infopack-review/1", "reviewer": "anonymous", "bundle": {"id": "other"}, "decisions": {}}',
     "decisions for bundle 'other'"),
])
def test_import_of_bad_input_is_one_line_naming_the_file(run_cli, built_copy, tmp_path, content, problem):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    result = run_cli("review", "import", built_copy, bad)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr and problem in result.stderr
    assert not (built_copy / "reviews").exists()


def test_serve_on_a_folder_that_is_not_a_build_is_one_clear_error(run_cli, tmp_path):
    result = run_cli("review", "serve", tmp_path)
    assert result.exit_code == 2 and "no build report here" in result.stderr


# --------------------------------------------------------------------------- report.html

def test_report_html_is_deterministic_offline_and_shows_scrubbed_cues(built, tmp_path):
    from infopack.review.report import write_report_html
    first, second = tmp_path / "a", tmp_path / "b"
    for copy in (first, second):
        shutil.copytree(built, copy)
    one = write_report_html(first).read_bytes()
    assert write_report_html(first).read_bytes() == one
    assert write_report_html(second).read_bytes() == one
    html = one.decode("utf-8")
    assert not re.search(r"(?i)https?:|<script|//[a-z0-9]", without_data_uris(html))
    assert "<s>번역: 김민준 (minjun.kim@example.org)</s>" in html and "<s>[KSUB] 자막 제작: 한결</s>" in html
    assert html.count("data:image/png;base64,") == 3 + 1        # 3 posters and 1 photo (sheets are in the app)
    assert "card-01" in html and "0.02%" in html
    assert not re.search(r"object at 0x|built-in method", html)     # a message key shadowed by a dict method
    assert {p.name for p in first.iterdir()} == {p.name for p in built.iterdir()}
    assert (built / "report.html").read_bytes() == one                # the build writes the same page


def test_thumbnails_are_pngs_without_metadata(built):
    from PIL import Image
    import io
    from infopack.kinds.thumbnails import contact_sheet, poster
    video = built / "card-01" / "영상" / "세포의 삶.mp4"
    sheet = contact_sheet(video, 4.0)
    with Image.open(io.BytesIO(sheet)) as image:
        assert image.format == "PNG" and image.width > 600 and not image.info
    assert poster(video, 4.0) == poster(video, 4.0)
    assert b"tEXt" not in sheet and b"tIME" not in sheet and b"iTXt" not in sheet


# --------------------------------------------------------------------------- views and catalogues

def test_catalogues_have_the_same_strings_and_every_view_renders_in_both(built):
    from infopack.review.model import load_bundle
    from infopack.review.render import EXPORT, REPORT, SERVE, messages, render_page
    assert set(messages("ko")) == set(messages("en"))
    view = load_bundle(built)
    for lang in ("ko", "en"):
        for mode in (SERVE, EXPORT, REPORT):
            html = render_page(view, mode=mode, lang=lang, thumb=lambda item, what: None)
            assert f'<html lang="{lang}">' in html and messages(lang)["scrubbed"] in html


def test_transcript_highlights_south_korean_words_and_burn_in_says_there_is_no_track(built_copy):
    from infopack.review.model import load_bundle
    from infopack.review.render import REPORT, render_page
    sidecar = built_copy / "card-01" / "영상" / "시장 풍경.srt"
    sidecar.write_text("1\n00:00:00,500 --> 00:00:01,000\n아이스크림을 먹으며 주스를 마십니다 오늘은 정말 좋은 날\n",
                       encoding="utf-8")
    view = load_bundle(built_copy)
    cue = view.item("clip-02").transcript[0]
    assert [t["sk"] for t in cue.terms] == ["아이스크림", "주스"]
    assert [f.code for f in cue.flags] == ["sk-vocabulary", "sk-vocabulary", "reading-speed"]
    burn = view.item("clip-03")
    burn.subtitle_mode, burn.transcript, burn.transcript_source = "burn", [], ""
    html = render_page(view, mode=REPORT, lang="ko", thumb=lambda item, what: None)
    assert "<mark title=\"남한식 말 &#39;아이스크림&#39; → 권하는 말 &#39;" in html
    assert "<mark title=\"남한식 말 &#39;주스&#39;" in html and "1번 자막: 초당 " in html
    assert "characters/s" not in html and "uses South Korean" not in html
    assert "자막을 화면에 새깁니다" in html


def test_a_review_is_named_from_the_pub_beside_the_key_without_unlocking_it(reviewers, tmp_path):
    from infopack.errors import UsageError
    from infopack.review.signoff import reviewer_id
    assert reviewer_id(reviewers / "ana.key") == reviewer_id(reviewers / "ana.pub") == key_id(reviewers / "ana.pub")
    shutil.copy(reviewers / "ana.key", tmp_path / "lonely.key")
    with pytest.raises(UsageError, match="no lonely.pub beside it"):
        reviewer_id(tmp_path / "lonely.key")
