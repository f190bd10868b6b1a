"""Subtitles from every real source, through real builds: delivered to the card, or refused out loud.

The corpus (tests/subtitle_corpus.py) is made by real ffmpeg; every case goes through
`infopack build` (and `plan`, `init`), and the card's sidecar and soft track are read back.
Nothing any of these commands says or writes may name the build's staging folder.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
from pathlib import Path

import pytest

from infopack.build import build
from infopack.errors import InfopackError, UsageError
from infopack.manifest import load_manifest
from infopack.review.model import load_bundle
from infopack.review.render import SERVE, messages, render_page
from infopack.review.report import write_report_html
from infopack.subtitles import read_subtitles
from infopack.subtitles.readers import parse_text
from subtitle_corpus import FFMPEG, aegisub_ass, ffmpeg, media_with_tracks, pgs_media, probe, srt, write

KO = [(500, 1500, "안녕하세요 여러분"), (1600, 2500, "바다를 보러 갑시다")]
EN = [(500, 1500, "Hello everyone"), (1600, 2500, "Let us go to the sea")]
KO_TEXTS = [text for _, _, text in KO]
ENGLISH_WORDS = ("Hello", "everyone", "sea")
OCR_CUES = [(300, 1400, "안녕히 가세요"), (1500, 2600, "바다가 보입니다")]
STAGING_TRACES = (".partial-", "infopack-plan-", "infopack-init-", "/work/")


# --- helpers ----------------------------------------------------------------------------------

def manifest(folder: Path, items: list[dict], *, profile: str = "notel-480p", require: bool | None = None,
             name: str = "bundle.toml") -> Path:
    lines = ["[bundle]", 'id = "subs-test"', 'title = "자막 시험"', f'profile = "{profile}"', 'card = "8GB"',
             "version = 1"]
    if require is not None:
        lines.append(f"require_subtitles = {str(require).lower()}")
    for item in items:
        lines += ["", "[[items]]"] + [f"{key} = {json.dumps(value, ensure_ascii=False)}"
                                      for key, value in item.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def said(entries: list) -> list[str]:
    """The English text of a report's notes (each a dict with code, params and text, or plain text)."""
    return [entry["text"] if isinstance(entry, dict) else entry for entry in entries]


def run_build(path: Path, out: Path, key) -> tuple:
    events: list[dict] = []
    result = build(path, out, key, jobs=2, progress=events.append, report_writers=[write_report_html])
    return result, events


def card_file(out: Path, result, item_id: str, role: str) -> Path | None:
    item = next(r for r in result.items if r.item.id == item_id)
    return out / "card-01" / item.paths[role] if role in item.paths else None


def texts(path: Path) -> list[str]:
    return [cue.text for cue in read_subtitles(path).cues]


def soft_track(video: Path) -> str:
    """The video's subtitle track as SRT text ("" when it has none)."""
    if not [s for s in probe(video)["streams"] if s["codec_type"] == "subtitle"]:
        return ""
    return subprocess.run([FFMPEG, "-nostdin", "-loglevel", "error", "-i", str(video), "-map", "0:s:0",
                           "-c:s", "srt", "-f", "srt", "-"], check=True, capture_output=True,
                          timeout=120).stdout.decode("utf-8")


def soft_texts(video: Path) -> list[str]:
    return [cue.text for cue in parse_text(soft_track(video), "soft.srt").cues]


def report_of(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def item_report(out: Path, item_id: str) -> dict:
    return next(i for i in report_of(out)["items"] if i["id"] == item_id)["subtitles"]


def assert_no_staging(*texts: str) -> None:
    for text in texts:
        for trace in STAGING_TRACES:
            assert trace not in text, f"{trace!r} in {text[:300]!r}"


def assert_output_says_nothing_of_staging(out: Path, events: list[dict] = ()) -> None:
    assert_no_staging((out / "report.json").read_text(encoding="utf-8"),
                      (out / "report.html").read_text(encoding="utf-8"), json.dumps(events, ensure_ascii=False))


def ocr_bottom(video: Path, at: float, work: Path) -> str:
    """tesseract's reading of the bottom third of one frame, enlarged (as tests/test_burnin.py reads)."""
    frame = work / f"frame-{video.stem}-{at}.png"
    ffmpeg("-ss", str(at), "-i", str(video), "-frames:v", "1",
           "-vf", "crop=iw:ih/3:0:ih*2/3,scale=iw*2:ih*2:flags=lanczos", str(frame))
    proc = subprocess.run(["tesseract", str(frame), "stdout", "-l", "kor", "--psm", "7"],
                          capture_output=True, timeout=120, check=True)
    return "".join(proc.stdout.decode("utf-8", "replace").split())


def reads_as(seen: str, expected: str) -> bool:
    return difflib.SequenceMatcher(None, seen, expected.replace(" ", "")).ratio() >= 0.8


# --- the corpus, in one bundle ----------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory, curator_key):
    """Every case of the corpus as an item of one bundle (notel-480p: sidecar and soft track), built once."""
    folder = tmp_path_factory.mktemp("corpus")
    en, ko = write(folder / "en.txt", srt(EN)), write(folder / "ko.txt", srt(KO))
    media_with_tracks(folder / "release.mkv", [
        {"file": en, "codec": "srt", "language": "eng", "title": "English", "disposition": "default"},
        {"file": ko, "codec": "srt", "language": "kor", "title": "Korean"}], audio="eng")
    lines = [("0:00:00.50", "0:00:01.50", r"바다가 {\i1}보입니다{\i0}"),
             ("0:00:01.60", "0:00:02.50", "배를 타러 갑시다")]
    ass = write(folder / "credits.txt", aegisub_ass(lines, translator="김철수", user="kimcs"))
    media_with_tracks(folder / "aegisub.mkv", [{"file": ass, "codec": "copy", "language": "kor"}])
    media_with_tracks(folder / "phone.mp4", [{"file": ko, "codec": "mov_text", "language": "kor"}])
    media_with_tracks(folder / "und.mkv", [{"file": en, "codec": "srt", "language": "und"},
                                           {"file": ko, "codec": "srt"}])
    forced = write(folder / "forced.txt", srt([(800, 1400, "서울역")]))
    media_with_tracks(folder / "forced.mkv", [
        {"file": forced, "codec": "srt", "language": "kor", "disposition": "forced"},
        {"file": ko, "codec": "srt", "language": "kor"}])
    media_with_tracks(folder / "forced-only.mkv", [
        {"file": forced, "codec": "srt", "language": "kor", "title": "Korean (Forced)"}], audio="eng")
    media_with_tracks(folder / "edge.mp4", [], rate=25, audio="eng")
    write(folder / "edge.srt", srt([(500, 1500, "안녕하세요"), (2600, 2900, "끝")]))
    media_with_tracks(folder / "credit.mp4", [])
    credit = [(0, 1000, "www.site.example / me@mail.example"), (1000, 2000, "내일 봐요")]
    write(folder / "credit.ko.srt", srt(credit))
    items = [
        {"id": "release", "title": "항구", "source": "release.mkv"},
        {"id": "aegisub", "title": "바다 이야기", "source": "aegisub.mkv"},
        {"id": "phone", "title": "전화", "source": "phone.mp4"},
        {"id": "und", "title": "이름 없는 자막", "source": "und.mkv"},
        {"id": "forced", "title": "서울역", "source": "forced.mkv"},
        {"id": "forced-only", "title": "부분 자막", "source": "forced-only.mkv"},
        {"id": "edge", "title": "끝 장면", "source": "edge.mp4", "subtitles": ["edge.srt"]},
        {"id": "credit", "title": "내일", "source": "credit.mp4"},
    ]
    path = manifest(folder, items)
    out = folder / "out"
    result, events = run_build(path, out, curator_key)
    return {"folder": folder, "manifest": path, "out": out, "result": result, "events": events}


def delivered(corpus, item_id: str) -> tuple[list[str], list[str], str]:
    """(sidecar cues, soft-track cues, both as raw text) of one item on the card."""
    out, result = corpus["out"], corpus["result"]
    sidecar, video = card_file(out, result, item_id, "sidecar"), card_file(out, result, item_id, "main")
    raw = sidecar.read_bytes().decode("utf-8-sig") + soft_track(video)
    return texts(sidecar), soft_texts(video), raw


def test_release_mkv_korean_track_reaches_card_without_the_english_one(corpus):
    sidecar, soft, raw = delivered(corpus, "release")
    assert sidecar == soft == KO_TEXTS
    assert not any(word in raw for word in ENGLISH_WORDS)
    report = item_report(corpus["out"], "release")
    assert report["subtitle_source"] == 'release.mkv track 2 (kor, "Korean", subrip)'
    assert report["subtitle_source_kind"] == "text track" and report["subtitles_missing"] is False
    assert [(left["source"], said([left["why"]])) for left in report["not_chosen"]] == [
        ('release.mkv track 1 (eng, "English", subrip)', ["not Korean: language tag eng"])]


def test_aegisub_ass_track_arrives_without_its_credits(corpus):
    sidecar, soft, raw = delivered(corpus, "aegisub")
    assert sidecar == soft == ["바다가 보입니다", "배를 타러 갑시다"]
    assert not any(trace in raw for trace in ("김철수", "kimcs", "Aegisub", "메모"))
    removals = "\n".join(said(item_report(corpus["out"], "aegisub")["removals"]))
    assert "Original Translation: 김철수" in removals and "C:/Users/kimcs" in removals


def test_mp4_mov_text_track_is_delivered(corpus):
    sidecar, soft, _ = delivered(corpus, "phone")
    assert sidecar == soft == KO_TEXTS
    assert item_report(corpus["out"], "phone")["subtitle_source"] == "phone.mp4 track 1 (kor, mov_text)"


def test_untagged_track_is_taken_for_its_hangul_and_the_english_one_left(corpus):
    sidecar, soft, raw = delivered(corpus, "und")
    assert sidecar == soft == KO_TEXTS and not any(word in raw for word in ENGLISH_WORDS)
    report = item_report(corpus["out"], "und")
    assert said([report["subtitle_choice"]]) == ["the only Korean source: tag none, but 100% of its letters are Hangul"]


def test_forced_track_is_passed_over_for_the_full_one(corpus):
    sidecar, soft, raw = delivered(corpus, "forced")
    assert sidecar == soft == KO_TEXTS and "서울역" not in raw
    [left] = item_report(corpus["out"], "forced")["not_chosen"]
    assert "forced or signs only" in said([left["why"]])[0]


def test_forced_only_track_means_no_subtitles_and_the_report_says_so(corpus):
    out, result = corpus["out"], corpus["result"]
    assert card_file(out, result, "forced-only", "sidecar") is None
    assert soft_track(card_file(out, result, "forced-only", "main")) == ""
    report = item_report(out, "forced-only")
    assert report["subtitles_missing"] is True and report["subtitle_source"] is None
    [message] = said([report["missing_message"]])
    assert message.startswith("item forced-only: no Korean subtitles (no Korean subtitles "
                              "among the sources looked at: forced-only.mkv track 1")
    assert report_of(out)["no_korean_subtitles"] == ["forced-only"]
    assert {"event": "no-subtitles", "item": "forced-only", "message": message} in corpus["events"]


def test_short_last_cue_near_the_end_builds_and_is_on_the_card(corpus):
    out, result = corpus["out"], corpus["result"]
    sidecar = read_subtitles(card_file(out, result, "edge", "sidecar"))
    assert [c.text for c in sidecar.cues] == ["안녕하세요", "끝"]
    last = sidecar.cues[-1]
    assert last.start_ms == 2600 and 2900 <= last.end_ms <= 2960          # one 25 fps frame before the end
    video = card_file(out, result, "edge", "main")
    assert soft_texts(video) == ["안녕하세요", "끝"]
    lasts = {s["codec_type"]: float(s["duration"]) for s in probe(video)["streams"]}
    assert lasts["subtitle"] <= lasts["video"] == 3.0                 # the soft track makes the video no longer
    assert item_report(out, "edge")["subtitle_source"] == "edge.srt"


def test_credit_cue_that_scrubs_to_punctuation_is_dropped_and_reported(corpus):
    sidecar, soft, raw = delivered(corpus, "credit")
    assert sidecar == soft == ["내일 봐요"] and "/" not in raw.replace("-->", "")
    report = item_report(corpus["out"], "credit")
    assert report["subtitle_source"] == "credit.ko.srt"
    assert "cue 1: only '/' left after scrubbing; cue removed" in said(report["removals"])
    html = (corpus["out"] / "report.html").read_text(encoding="utf-8")
    assert "1번 자막: 지우고 나니 &#39;/&#39;만 남아 자막을 뺌" in html          # report.html speaks Korean


def test_corpus_build_names_no_staging_path(corpus):
    assert_output_says_nothing_of_staging(corpus["out"], corpus["events"])


def test_plan_shows_each_source_and_flags_the_video_without_subtitles(corpus, run_cli):
    result = run_cli("plan", corpus["manifest"])
    assert result.exit_code == 0, result.output
    lines = result.output.replace("\n   ", " ")
    assert 'release: release.mkv track 2 (kor, "Korean", subrip)' in lines
    assert "edge: edge.srt" in lines and "credit: credit.ko.srt" in lines
    assert "forced-only: NO KOREAN SUBTITLES (no Korean subtitles among the sources looked at)" in lines
    assert_no_staging(result.output)


# --- several subtitle files --------------------------------------------------------------------

@pytest.fixture
def two_korean_files(tmp_path):
    folder = tmp_path / "media"
    folder.mkdir()
    media_with_tracks(folder / "film.mkv", [], audio="eng")
    write(folder / "film.ko.srt", srt(KO))
    write(folder / "film.smi", "<SAMI><BODY>\n<SYNC Start=500><P Class=KRCC>바다가 보입니다\n"
                               "<SYNC Start=1500><P Class=KRCC>&nbsp;\n</BODY></SAMI>\n", "cp949")
    write(folder / "film.en.srt", srt(EN))
    return folder


def test_two_korean_files_are_refused_naming_the_item_and_both(two_korean_files, curator_key, tmp_path, run_cli):
    path = manifest(two_korean_files, [{"id": "film-01", "title": "영화", "source": "film.mkv"}])
    with pytest.raises(UsageError) as refused:
        build(path, tmp_path / "out", curator_key, jobs=1)
    message = refused.value.line()
    assert message.startswith(f"{path}: item film-01: 2 Korean subtitle sources")
    assert 'subtitles = ["film.ko.srt"]' in message and 'subtitles = ["film.smi"]' in message
    assert "film.en.srt" not in message
    assert_no_staging(message)
    assert not list((tmp_path / "out").glob("card-*"))
    planned = run_cli("plan", path)
    assert planned.exit_code == 1 and "film-01: refused" in planned.output
    assert "problem: item film-01: 2 Korean subtitle sources" in planned.output.replace("\n", " ")


def test_the_manifest_chooses_one_of_two_korean_files(two_korean_files, curator_key, tmp_path):
    path = manifest(two_korean_files, [{"id": "film-01", "title": "영화", "source": "film.mkv",
                                        "subtitles": ["film.smi"]}])
    out = tmp_path / "out"
    result, events = run_build(path, out, curator_key)
    assert texts(card_file(out, result, "film-01", "sidecar")) == ["바다가 보입니다"]
    assert soft_texts(card_file(out, result, "film-01", "main")) == ["바다가 보입니다"]
    report = item_report(out, "film-01")
    assert report["subtitle_source"] == "film.smi" and report["encoding"] == "cp949"
    assert said([report["subtitle_choice"]]) == ["named in the manifest"]
    assert_output_says_nothing_of_staging(out, events)


def test_a_manifest_naming_two_files_is_refused(two_korean_files):
    path = manifest(two_korean_files, [{"id": "film-01", "title": "영화", "source": "film.mkv",
                                        "subtitles": ["film.ko.srt", "film.smi"]}])
    with pytest.raises(UsageError, match=r"items\[0\] \(film-01\)\.subtitles: names 2 subtitle sources"):
        load_manifest(path)


def test_init_writes_one_choice_per_video_and_lists_the_others(two_korean_files, run_cli):
    media_with_tracks(two_korean_files / "release.mkv", [
        {"file": write(two_korean_files / "en.txt", srt(EN)), "codec": "srt", "language": "eng"},
        {"file": write(two_korean_files / "ko.txt", srt(KO)), "codec": "srt", "language": "kor"}])
    result = run_cli("init", two_korean_files)
    assert result.exit_code == 0, result.output
    text = (two_korean_files / "infopack.toml").read_text(encoding="utf-8")
    film, release = text.split("[[items]]")[1:]
    assert 'subtitles = ["film.ko.srt"]' in film
    assert ("# also found: film.smi (Korean too: 100% of its letters are Hangul); to use it instead, write "
            'subtitles = ["film.smi"]') in film
    assert "# also found: film.en.srt (not Korean: the file name says 'en')" in film
    assert 'subtitles = ["track:2"]' in release
    assert "# also found: release.mkv track 1 (eng, subrip) (not Korean: language tag eng)" in release
    assert 'subtitles: film.ko.srt (and 1 more Korean: check the comments)' in result.output
    assert 'subtitles: release.mkv track 2 (kor, subrip)' in result.output
    bundle = load_manifest(two_korean_files / "infopack.toml")
    assert [(i.subtitle_spec.mode, [p.name for p in i.subtitles]) for i in bundle.items] == [
        ("file", ["film.ko.srt"]), ("track", [])]
    assert_no_staging(result.output, text)


# --- no subtitles, loud -------------------------------------------------------------------------

@pytest.fixture
def unsubtitled(tmp_path):
    """A foreign film with no Korean subtitles, and a Korean one that needs none."""
    folder = tmp_path / "media"
    folder.mkdir()
    media_with_tracks(folder / "foreign.mp4", [], audio="eng")
    media_with_tracks(folder / "korean.mp4", [], audio="kor")
    return folder


def bundle_of(folder: Path, *, require: bool | None) -> Path:
    return manifest(folder, [{"id": "foreign", "title": "외국 영화", "source": "foreign.mp4"},
                             {"id": "korean", "title": "우리 영화", "source": "korean.mp4"}], require=require)


def test_require_subtitles_refuses_the_video_without_korean_subtitles(unsubtitled, keys_dir, tmp_path, run_cli):
    path = bundle_of(unsubtitled, require=True)
    out = tmp_path / "out"
    result = run_cli("build", path, "--out", out, "--key", keys_dir / "curator.key")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"infopack: {path}: item foreign: no Korean subtitles (no subtitle files "
                                    "beside the source and no subtitle tracks in it)")
    assert "[bundle] require_subtitles = true" in result.stderr and "item korean" not in result.stderr
    assert not list(out.glob("card-*")) and not list(out.glob(".partial-*"))
    assert_no_staging(result.output, result.stderr)
    planned = run_cli("plan", path)
    assert planned.exit_code == 1 and "problem: item foreign: no Korean subtitles" in planned.output


def test_without_require_the_same_bundle_builds_and_every_report_flags_it(unsubtitled, keys_dir, tmp_path,
                                                                          run_cli):
    path = bundle_of(unsubtitled, require=None)
    out = tmp_path / "out"
    result = run_cli("build", path, "--out", out, "--key", keys_dir / "curator.key")
    assert result.exit_code == 0, result.output + result.stderr
    assert "warning: item foreign: no Korean subtitles" in result.output
    assert "item korean" not in result.output + result.stderr
    report = report_of(out)
    assert report["no_korean_subtitles"] == ["foreign"]
    foreign, korean = (item_report(out, i) for i in ("foreign", "korean"))
    assert foreign["subtitles_missing"] is True and korean["subtitles_missing"] is False
    assert said([korean["subtitle_choice"]])[0].endswith("; the soundtrack is tagged Korean")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count(messages("ko")["no_korean_subtitles"]) == 2      # the item, its table-of-contents mark
    assert 'class="bad no-subtitles"' in html and "foreign: 한국어 자막 없음 (영상 옆에 자막 파일이 없고" in html
    assert "; 소리가 한국어로 표시되어 있음" in html                          # why the Korean film needs none
    assert "no Korean subtitles" not in html and "soundtrack" not in html
    served = render_page(load_bundle(out), mode=SERVE, lang="en", thumb=lambda item, what: None)
    assert served.count(messages("en")["no_korean_subtitles"]) == 2       # the review app, in English too
    assert "item foreign: no Korean subtitles (no subtitle files beside the source" in served
    planned = run_cli("plan", path)
    assert planned.exit_code == 0 and "foreign: NO KOREAN SUBTITLES" in planned.output
    assert "korean: none (no subtitle files beside the source and no subtitle tracks in it; " not in planned.output
    assert_no_staging(result.output, result.stderr, planned.output, json.dumps(report))
    assert_output_says_nothing_of_staging(out)


def test_subtitles_none_is_a_choice_and_not_flagged(unsubtitled, curator_key, tmp_path):
    path = manifest(unsubtitled, [{"id": "foreign", "title": "외국 영화", "source": "foreign.mp4",
                                   "subtitles": "none"}], require=True)
    result, _ = run_build(path, tmp_path / "out", curator_key)
    assert result.items[0].subtitles["subtitles_missing"] is False
    assert report_of(tmp_path / "out")["no_korean_subtitles"] == []


def test_subtitles_scrubbed_to_nothing_are_flagged_like_none(unsubtitled, curator_key, tmp_path):
    write(unsubtitled / "credits.srt", srt([(500, 1500, "www.site.example"), (1600, 2500, "me@mail.example")]))
    items = [{"id": "foreign", "title": "외국 영화", "source": "foreign.mp4", "subtitles": ["credits.srt"]}]
    result, _ = run_build(manifest(unsubtitled, items), tmp_path / "out", curator_key)
    report = result.items[0].subtitles
    assert report["empty"] and report["subtitles_missing"]
    assert "cue 2: nothing left after scrubbing; cue removed" in said(report["removals"])
    assert said([report["missing_message"]]) == ["item foreign: no Korean subtitles (credits.srt has no cue left "
                                                 "once scrubbed and cleaned: see its removals)"]
    assert report_of(tmp_path / "out")["no_korean_subtitles"] == ["foreign"]
    with pytest.raises(UsageError, match=r"item foreign: no Korean subtitles \(credits.srt has no cue left"):
        build(manifest(unsubtitled, items, require=True), tmp_path / "out2", curator_key, jobs=1)


def test_require_subtitles_must_be_a_boolean(unsubtitled):
    path = bundle_of(unsubtitled, require=None)
    path.write_text(path.read_text(encoding="utf-8").replace('version = 1', 'version = 1\nrequire_subtitles = "yes"'),
                    encoding="utf-8")
    with pytest.raises(UsageError, match="bundle.require_subtitles: must be true or false"):
        load_manifest(path)


# --- embedded Korean subtitles in every profile -------------------------------------------------

LATE = (3500, 5000, "늦은 자막")


@pytest.fixture(scope="module")
def embedded_only(tmp_path_factory):
    """A release MKV whose only Korean subtitles are its second track (the first is English); its
    last Korean cue comes after the 3 s picture, so the file lasts 5 s (as Matroska counts)."""
    folder = tmp_path_factory.mktemp("embedded")
    clip = media_with_tracks(folder / "clip.mp4", [], size="640x360", rate=25, audio="eng")
    ffmpeg("-i", str(clip), "-i", str(write(folder / "en.txt", srt(EN))), "-i", str(write(folder / "ko.txt",
                                                                                         srt(KO + [LATE]))),
           "-map", "0", "-map", "1", "-map", "2", "-c", "copy", "-metadata:s:s:0", "language=eng",
           "-metadata:s:s:1", "language=kor", "-disposition:s:0", "default", str(folder / "film.mkv"))
    assert float(probe(folder / "film.mkv")["format"]["duration"]) > 5
    return folder


@pytest.mark.parametrize("profile", ["notel-480p", "phone-720p"])
def test_embedded_korean_track_is_sidecar_and_soft_track(embedded_only, profile, curator_key, tmp_path):
    path = manifest(embedded_only, [{"id": "film", "title": "영화", "source": "film.mkv"}], profile=profile,
                    name=f"{profile}.toml")
    out = tmp_path / "out"
    result, events = run_build(path, out, curator_key)
    sidecar, video = card_file(out, result, "film", "sidecar"), card_file(out, result, "film", "main")
    assert texts(sidecar) == soft_texts(video) == KO_TEXTS
    assert not any(word in sidecar.read_text(encoding="utf-8-sig") + soft_track(video) for word in ENGLISH_WORDS)
    assert float(probe(video)["format"]["duration"]) < 3.1            # the picture's length, not the track's
    assert any("after the end of the media" in line and LATE[2] in line
               for line in said(item_report(out, "film")["removals"]))
    assert_output_says_nothing_of_staging(out, events)


def test_embedded_korean_track_is_burned_in_for_legacy_avi(embedded_only, curator_key, tmp_path):
    path = manifest(embedded_only, [{"id": "film", "title": "영화", "source": "film.mkv"}], profile="legacy-avi",
                    name="legacy.toml")
    out = tmp_path / "out"
    result, events = run_build(path, out, curator_key)
    video = card_file(out, result, "film", "main")
    assert [p.suffix for p in (out / "card-01").rglob("*") if p.is_file()] == [".avi"]
    assert [s["codec_type"] for s in probe(video)["streams"]] == ["video", "audio"]
    for at, (_, _, line) in zip((1.0, 2.0), KO):
        seen = ocr_bottom(video, at, tmp_path)
        assert reads_as(seen, line), f"OCR read {seen!r} at {at} s, expected {line!r}"
    assert not reads_as(ocr_bottom(video, 0.2, tmp_path), KO_TEXTS[0])
    assert float(probe(video)["format"]["duration"]) < 3.1            # the picture's length, not the track's
    assert_output_says_nothing_of_staging(out, events)


# --- image tracks -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bluray(tmp_path_factory):
    """An MKV whose only subtitles are a Korean PGS track (pictures)."""
    folder = tmp_path_factory.mktemp("bluray")
    pgs_media(folder / "disc.mkv", OCR_CUES, size="1280x720", font_size=54)
    return folder


def test_pgs_track_is_burned_in_as_pictures_for_legacy_avi(bluray, curator_key, tmp_path):
    path = manifest(bluray, [{"id": "disc", "title": "원반", "source": "disc.mkv"}], profile="legacy-avi")
    out = tmp_path / "out"
    result, events = run_build(path, out, curator_key)
    video = card_file(out, result, "disc", "main")
    for at, (_, _, line) in zip((1.0, 2.0), OCR_CUES):
        seen = ocr_bottom(video, at, tmp_path)
        assert reads_as(seen, line), f"OCR read {seen!r} at {at} s, expected {line!r}"
    report = item_report(out, "disc")
    assert report["subtitle_source_kind"] == "image track"
    assert "is pictures: burned into the video as they are" in said(report["warnings"])[0]
    assert_output_says_nothing_of_staging(out, events)


def test_pgs_track_is_read_by_ocr_for_a_sidecar_profile(bluray, curator_key, tmp_path):
    path = manifest(bluray, [{"id": "disc", "title": "원반", "source": "disc.mkv"}], name="notel.toml")
    out = tmp_path / "out"
    result, events = run_build(path, out, curator_key)
    expected = [text for _, _, text in OCR_CUES]
    assert texts(card_file(out, result, "disc", "sidecar")) == soft_texts(card_file(out, result, "disc", "main")) \
        == expected
    report = item_report(out, "disc")
    assert report["source_format"] == "ocr" and report["ocr"]["mean_confidence"] >= 80
    assert said(report["warnings"])[0].startswith("file: text read by OCR (tesseract, kor)")
    assert_output_says_nothing_of_staging(out, events)


def test_cache_key_follows_the_chosen_track_and_runs_no_program(bluray, tmp_path, monkeypatch):
    import dataclasses

    import infopack.tools
    from infopack.build.cache_keys import encode_key
    from infopack.kinds import REGISTRY, probe_source
    from infopack.kinds.base import EncodeJob, PreparedSubtitles
    from infopack.manifest import Item
    from infopack.profiles import load_profile
    info = probe_source(bluray / "disc.mkv")
    [first] = info.subtitle_tracks
    second = dataclasses.replace(first, number=2, index=first.index + 1)

    def no_program(*args, **kwargs):
        raise AssertionError(f"a program ran: {args}")
    monkeypatch.setattr(infopack.tools, "_start", no_program)
    video = REGISTRY.kind_named("video")

    def key(track):
        subs = PreparedSubtitles(None, None, None, burn_track=track, source_key={"track": track.index})
        job = EncodeJob(item=Item(id="disc", title="원반", source=bluray / "disc.mkv"), info=info,
                        profile=load_profile("legacy-avi"), work_dir=tmp_path, subtitles=subs)
        return encode_key(job, video, "ffmpeg-x", lambda path: "hash"), video.recipe(job)
    (key1, recipe1), (key2, recipe2) = key(first), key(second)
    assert key1 != key2
    assert any("[0:s:0]" in arg for arg in recipe1) and any("[0:s:1]" in arg for arg in recipe2)


# --- timing and messages ---------------------------------------------------------------------

def test_staging_paths_in_errors_become_what_the_curator_gave(tmp_path):
    from infopack.errors import CheckFailed, naming_instead
    work = tmp_path / "out" / ".partial-x1" / "work"
    with pytest.raises(CheckFailed) as failed:
        with naming_instead(work, "media/film.mkv"):
            raise CheckFailed(work / "film" / "film.mp4", f"output lasts 3.4 s; see {work}/film/film.mp4")
    assert failed.value.line() == "media/film.mkv: output lasts 3.4 s; see film/film.mp4"
    with pytest.raises(InfopackError) as untouched:
        with naming_instead(work, "media/film.mkv"):
            raise InfopackError("subs/film.srt", "cue 3: unreadable timestamp")
    assert untouched.value.line() == "subs/film.srt: cue 3: unreadable timestamp"


def test_unreadable_embedded_track_names_the_source_not_the_work_folder(tmp_path, curator_key):
    folder = tmp_path / "media"
    folder.mkdir()
    empty = write(folder / "empty.txt", aegisub_ass([], translator="김", user="kim"))
    media_with_tracks(folder / "empty.mkv", [{"file": empty, "codec": "copy", "language": "kor"}])
    path = manifest(folder, [{"id": "empty", "title": "빈 자막", "source": "empty.mkv",
                              "subtitles": ["track:1"]}])
    with pytest.raises(InfopackError) as failed:
        build(path, tmp_path / "out", curator_key, jobs=1)
    assert re.match(r"^empty\.mkv \(track 1\): ", failed.value.line()), failed.value.line()
    assert_no_staging(failed.value.line())
