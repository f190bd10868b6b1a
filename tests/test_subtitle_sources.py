"""Subtitles from every real source: tracks inside MKV/MP4, several files, edge timings, pictures.

Every file here is made by real ffmpeg (tests/subtitle_corpus.py); OCR is real tesseract.
"""

from __future__ import annotations

import pytest

from infopack.errors import InfopackError, UsageError
from infopack.notes import localise
from infopack.subtitles import (SourceReader, SubtitleDoc, SubtitleSource, SubtitleSpec, burn_in_filter,
                                burn_in_graph, choose_source, clean, embedded_sources, end_limit_ms, extract_track,
                                find_sidecars, hangul_share, list_tracks, missing_message, ocr_summary, ocr_track,
                                parse_subtitles_spec, prepare_for_media, read_subtitles, require_subtitles, to_srt)
from infopack.subtitles.images import LOW_CONFIDENCE, check_tesseract
from infopack.subtitles.model import Cue
from infopack.subtitles.readers import parse_text
from infopack.subtitles.names import name_language
from infopack.subtitles.sources import language_is_korean
from subtitle_corpus import (aegisub_ass, bright_pixels, ffmpeg, frame, media_with_tracks, pgs_media, probe, srt,
                             tracks_of, vobsub_media, write)

KO = [(500, 1500, "안녕하세요 여러분"), (1600, 2500, "바다를 보러 갑시다")]
EN = [(500, 1500, "Hello everyone"), (1600, 2500, "Let us go to the sea")]
KO_TEXTS = [text for _, _, text in KO]
OCR_CUES = [(300, 1400, "안녕히 가세요"), (1500, 2600, "바다가 보입니다")]


def embedded(media) -> list[SubtitleSource]:
    return embedded_sources(media, probe(media))


def choose(media, work, *, sidecars=(), spec=SubtitleSpec("auto")):
    reader = SourceReader(work)
    choice = choose_source(spec, [SubtitleSource.sidecar(p) for p in sidecars], embedded(media) if media else [],
                           reader.text, item_id="film-01", manifest="bundle.toml")
    return choice, reader


def final(reader: SourceReader, choice, *, duration: float = 3.0) -> SubtitleDoc:
    return prepare_for_media(reader.doc(choice.chosen), duration_s=duration, fps=10)


def texts(doc: SubtitleDoc) -> list[str]:
    return [cue.text for cue in doc.cues]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="module")
def ko_en_mkv(corpus):
    """A release MKV: English track first (default), Korean second, no sidecar."""
    en = write(corpus / "en.srt", srt(EN))
    ko = write(corpus / "ko.srt", srt(KO))
    return media_with_tracks(corpus / "film.mkv", [
        {"file": en, "codec": "srt", "language": "eng", "title": "English", "disposition": "default"},
        {"file": ko, "codec": "srt", "language": "kor", "title": "Korean"}])


# --- text tracks ------------------------------------------------------------------------------

def test_korean_srt_track_is_chosen_over_english_without_any_sidecar(ko_en_mkv, tmp_path):
    choice, reader = choose(ko_en_mkv, tmp_path)
    assert choice.chosen.track.number == 2
    assert choice.chosen.describe() == 'film.mkv track 2 (kor, "Korean", subrip)'
    assert choice.chosen.display == "film.mkv (track 2)"
    [(other, why)] = [(c.source.track.number, c.reason) for c in choice.not_chosen]
    assert (other, why) == (1, "not Korean: language tag eng")
    doc = final(reader, choice)
    assert texts(doc) == KO_TEXTS
    rendered = to_srt(doc)
    assert not any(word in rendered for word in ("Hello", "everyone", "sea"))
    report = choice.to_report()
    assert report["subtitle_source_kind"] == "text track" and not report["subtitles_missing"]
    assert report["not_chosen"] == [{"source": 'film.mkv track 1 (eng, "English", subrip)',
                                     "why": {"code": "track-other-language", "params": {"language": "eng"},
                                             "text": "not Korean: language tag eng"}}]
    assert localise(report["not_chosen"][0]["why"], "ko") == "한국어 아님: 언어 표시 eng"
    assert localise(report["subtitle_choice"], "ko") == "하나뿐인 한국어 자막: 언어 표시 kor"


def test_extraction_is_bit_exact_and_copies_subrip_as_it_is(ko_en_mkv, tmp_path):
    track = tracks_of(ko_en_mkv)[1]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = extract_track(ko_en_mkv, track, tmp_path / "a")
    second = extract_track(ko_en_mkv, track, tmp_path / "b")
    assert first.name == "track-2.srt"
    assert first.read_bytes() == second.read_bytes()
    assert [c.text for c in read_subtitles(first).cues] == KO_TEXTS


def test_korean_ass_track_keeps_its_credits_for_the_scrubber(corpus, tmp_path):
    ass = write(corpus / "credits.ass", aegisub_ass(
        [("0:00:00.50", "0:00:01.50", r"바다가 {\i1}보입니다{\i0}"), ("0:00:01.60", "0:00:02.50", "배를 타러 갑시다")],
        translator="김철수", user="kimcs"))
    media = media_with_tracks(corpus / "aegisub.mkv", [{"file": ass, "codec": "copy", "language": "kor"}])
    extracted = extract_track(media, tracks_of(media)[0], tmp_path)
    assert extracted.suffix == ".ass"
    raw = extracted.read_text(encoding="utf-8")
    assert "Original Translation: 김철수" in raw and "C:/Users/kimcs" in raw   # the reader sees them...
    choice, reader = choose(media, tmp_path / "work")
    doc = final(reader, choice)
    assert texts(doc) == ["바다가 보입니다", "배를 타러 갑시다"]
    removed = "\n".join(doc.removals)
    assert "Original Translation: 김철수" in removed and "C:/Users/kimcs/Videos/bada.mkv" in removed
    rendered = to_srt(doc)                                                    # ...and nothing is left
    assert not any(trace in rendered for trace in ("김철수", "kimcs", "Aegisub", "메모"))


def test_mp4_mov_text_track_is_read(corpus, tmp_path):
    media = media_with_tracks(corpus / "phone.mp4", [
        {"file": write(corpus / "m.srt", srt(KO)), "codec": "mov_text", "language": "kor"}])
    [track] = tracks_of(media)
    assert (track.codec, track.kind) == ("mov_text", "text")
    choice, reader = choose(media, tmp_path)
    assert choice.chosen.track == track
    assert texts(final(reader, choice)) == KO_TEXTS


def test_untagged_track_is_recognised_by_its_hangul(corpus, tmp_path):
    media = media_with_tracks(corpus / "und.mkv", [
        {"file": write(corpus / "u-en.srt", srt(EN)), "codec": "srt", "language": "und"},
        {"file": write(corpus / "u-ko.srt", srt(KO)), "codec": "srt"}])
    choice, reader = choose(media, tmp_path)
    assert choice.chosen.track.number == 2
    assert "100% of its letters are Hangul" in choice.reason
    [left] = choice.not_chosen
    assert left.reason == "not Korean: tag none, 0% of its letters are Hangul"   # MKV stores und as no tag
    assert texts(final(reader, choice)) == KO_TEXTS


@pytest.fixture(scope="module")
def forced_and_full(corpus):
    forced = write(corpus / "forced.srt", srt([(800, 1400, "서울역")]))
    full = write(corpus / "full.srt", srt(KO))
    return forced, full


def test_forced_korean_track_is_not_a_full_subtitle(corpus, forced_and_full, tmp_path):
    forced, full = forced_and_full
    media = media_with_tracks(corpus / "forced.mkv", [
        {"file": forced, "codec": "srt", "language": "kor", "disposition": "forced"},
        {"file": full, "codec": "srt", "language": "kor"}])
    choice, reader = choose(media, tmp_path)
    assert choice.chosen.track.number == 2
    [left] = choice.not_chosen
    assert left.source.track.forced and "forced or signs only" in left.reason
    assert texts(final(reader, choice)) == KO_TEXTS


def test_only_a_forced_track_means_no_subtitles_said_out_loud(corpus, forced_and_full, tmp_path):
    media = media_with_tracks(corpus / "forced-only.mkv", [
        {"file": forced_and_full[0], "codec": "srt", "language": "kor", "title": "Korean (Forced)"}])
    choice, _ = choose(media, tmp_path)
    assert choice.chosen is None and choice.missing
    assert choice.reason == "no Korean subtitles among the sources looked at"
    assert "forced or signs only" in choice.not_chosen[0].reason
    message = missing_message(choice, "film-01")
    assert message.startswith("item film-01: no Korean subtitles (no Korean subtitles among the sources looked at: "
                              'forced-only.mkv track 1 (kor, "Korean (Forced)", subrip): forced or signs only')
    assert message.text("ko").startswith("film-01: 한국어 자막 없음 (살펴본 자막 가운데 한국어 자막이 없음: "
                                         'forced-only.mkv track 1 (kor, "Korean (Forced)", subrip): 일부만 보이는 자막')
    assert localise(message.to_dict(), "ko") == message.text("ko")       # as report.json keeps it
    with pytest.raises(UsageError, match=r"^bundle.toml: item film-01: no Korean subtitles"):
        require_subtitles(choice, item_id="film-01", manifest="bundle.toml")


# --- several files ----------------------------------------------------------------------------

def test_two_korean_sidecars_are_refused_naming_both(corpus, tmp_path):
    folder = tmp_path / "media"
    folder.mkdir()
    video = media_with_tracks(folder / "film.mkv", [])
    write(folder / "film.ko.srt", srt(KO))
    sami = ("<SAMI><BODY>\n<SYNC Start=500><P Class=KRCC>안녕하세요 여러분\n"
            "<SYNC Start=1500><P Class=KRCC>&nbsp;\n</BODY></SAMI>\n")
    write(folder / "film.smi", sami, "cp949")
    write(folder / "film.en.srt", srt(EN))
    sidecars = find_sidecars(video)
    assert [p.name for p in sidecars] == ["film.en.srt", "film.ko.srt", "film.smi"]
    with pytest.raises(UsageError) as refused:
        choose(video, tmp_path / "work", sidecars=sidecars)
    message = str(refused.value)
    assert message.startswith("bundle.toml: item film-01: 2 Korean subtitle sources")
    assert 'subtitles = ["film.ko.srt"]' in message and 'subtitles = ["film.smi"]' in message
    assert "film.en.srt" not in message


def test_english_sidecar_is_not_a_candidate_and_korean_one_is_chosen(corpus, tmp_path):
    folder = tmp_path / "media"
    folder.mkdir()
    video = media_with_tracks(folder / "ep.mkv", [])
    write(folder / "ep.en.srt", srt(EN))
    write(folder / "ep.srt", srt(KO), "cp949")
    choice, reader = choose(video, tmp_path / "work", sidecars=find_sidecars(video))
    assert choice.chosen.display == "ep.srt" and choice.chosen.kind == "file"
    assert [c.reason for c in choice.not_chosen] == ["not Korean: the file name says 'en'"]
    doc = final(reader, choice)
    assert texts(doc) == KO_TEXTS and doc.encoding == "cp949"


def test_manifest_naming_two_files_is_refused():
    with pytest.raises(UsageError, match=r"bundle.toml: items\[0\].subtitles: names 2 subtitle sources "
                                         r"\(a.srt, a.smi\)"):
        parse_subtitles_spec(["a.srt", "a.smi"], manifest="bundle.toml", key="items[0].subtitles")


@pytest.mark.parametrize("value, expected", [
    (None, SubtitleSpec("auto")),
    ([], SubtitleSpec("none")),
    ("none", SubtitleSpec("none")),
    ("NONE", SubtitleSpec("none")),
    (["track:2"], SubtitleSpec("track", track=2)),
    ("track: 1", SubtitleSpec("track", track=1)),
    (["subs/ep01.ko.srt"], SubtitleSpec("file", file="subs/ep01.ko.srt")),
    ("ep01.smi", SubtitleSpec("file", file="ep01.smi")),
])
def test_subtitles_key_syntax(value, expected):
    assert parse_subtitles_spec(value) == expected


@pytest.mark.parametrize("value, problem", [
    (["track:0"], "numbered from 1"),
    (["track:two"], 'write "track:N"'),
    ([3], "must be a list"),
    ({"file": "a.srt"}, "must be a list"),
])
def test_subtitles_key_mistakes_are_explained(value, problem):
    with pytest.raises(UsageError, match=problem):
        parse_subtitles_spec(value, manifest="bundle.toml")


def test_track_named_in_the_manifest_is_used_even_if_tagged_english(ko_en_mkv, tmp_path):
    choice, reader = choose(ko_en_mkv, tmp_path, spec=SubtitleSpec("track", track=1))
    assert choice.explicit and choice.chosen.track.number == 1
    assert choice.warnings == ('film.mkv track 1 (eng, "English", subrip) is tagged \'eng\', not Korean',)
    assert [c.reason for c in choice.not_chosen] == ["not used: the manifest chooses track 1"]


def test_named_file_with_little_hangul_is_used_but_warned(tmp_path):
    english = write(tmp_path / "ep.srt", srt(EN))
    reader = SourceReader(tmp_path / "work")
    choice = choose_source(SubtitleSpec("file", file="subs/ep.srt"), [SubtitleSource.sidecar(english, "subs/ep.srt")],
                           [], reader.text, item_id="ep", manifest="bundle.toml")
    assert choice.explicit and choice.chosen.display == "subs/ep.srt" and choice.reason == "named in the manifest"
    assert choice.warnings == ("subs/ep.srt: only 0% of its letters are Hangul; is it the Korean subtitle?",)
    doc = prepare_for_media(reader.doc(choice.chosen), duration_s=3.0)
    assert "file: only 0% of the letters are Hangul; is this the Korean subtitle?" in doc.warnings


def test_missing_track_named_in_the_manifest_lists_the_tracks(ko_en_mkv, tmp_path):
    with pytest.raises(UsageError) as refused:
        choose(ko_en_mkv, tmp_path, spec=SubtitleSpec("track", track=5))
    assert str(refused.value) == ('bundle.toml: item film-01: subtitles = ["track:5"], but the source has 2 '
                                  'subtitle track(s): track 1 (eng, "English", subrip); '
                                  'track 2 (kor, "Korean", subrip)')


def test_none_in_the_manifest_is_explicit_and_lists_what_was_left(ko_en_mkv, tmp_path):
    choice, _ = choose(ko_en_mkv, tmp_path, spec=SubtitleSpec("none"))
    assert choice.chosen is None and not choice.missing
    assert missing_message(choice, "film-01") is None
    require_subtitles(choice, item_id="film-01", manifest="bundle.toml")     # "none" is not missing
    assert len(choice.not_chosen) == 2


# --- timing at the edges ----------------------------------------------------------------------

def test_short_last_cue_near_the_end_is_kept_inside_the_media(corpus, tmp_path):
    video = media_with_tracks(corpus / "three.mp4", [], rate=25)
    assert float(probe(video)["format"]["duration"]) == pytest.approx(3.0)
    subs = write(tmp_path / "three.srt", srt([(500, 1500, "안녕하세요"), (2600, 2900, "끝")]))
    doc = prepare_for_media(read_subtitles(subs), duration_s=3.0, fps=25)
    assert texts(doc) == ["안녕하세요", "끝"]
    last = doc.cues[-1]
    assert last.start_ms == 2600 and last.end_ms == end_limit_ms(3.0, 25) == 2960
    assert "cue 2: duration 300 ms extended to 360 ms" in doc.fixes
    prepared = write(tmp_path / "prepared.srt", to_srt(doc))
    out = tmp_path / "soft.mp4"
    ffmpeg("-i", str(video), "-i", str(prepared), "-map", "0:v", "-map", "1:s", "-c:v", "copy", "-c:s", "mov_text",
           str(out))
    assert float(probe(out)["format"]["duration"]) <= 3.0


def test_minimum_duration_never_runs_into_the_next_cue_or_past_the_limit():
    doc = SubtitleDoc([Cue(1, 0, 200, "가"), Cue(2, 500, 600, "나"), Cue(3, 2800, 2850, "다")], "x.srt", "srt", "utf-8")
    cleaned = clean(doc, min_duration_ms=700, end_limit_ms=2960)
    assert [(c.start_ms, c.end_ms) for c in cleaned.cues] == [(0, 500), (500, 1200), (2800, 2960)]
    unlimited = clean(doc, min_duration_ms=700)
    assert unlimited.cues[-1].end_ms == 3500


def test_cue_after_the_end_is_removed_and_recorded():
    doc = parse_text(srt([(500, 1000, "안녕"), (2990, 3500, "늦은 자막")]), "late.srt")
    fitted = prepare_for_media(doc, duration_s=3.0, fps=25)
    assert texts(fitted) == ["안녕"]
    assert any("after the end of the media" in r and "늦은 자막" in r for r in fitted.removals)


def test_credit_cue_that_scrubs_to_punctuation_is_dropped_and_reported():
    doc = parse_text(srt([(0, 1000, "www.site.example / me@mail.example"), (1000, 2000, "내일 봐요"),
                          (2000, 2900, "자세한 건 www.site.example 에서")]), "c.srt")
    result = prepare_for_media(doc, duration_s=3.0, fps=25)
    assert texts(result) == ["내일 봐요", "자세한 건 에서"]
    assert "cue 1: only '/' left after scrubbing; cue removed" in result.removals
    assert "♪" in texts(prepare_for_media(parse_text(srt([(0, 900, "♪")]), "m.srt"), duration_s=3.0))[0]


# --- messages name what the curator gave ------------------------------------------------------

def test_unreadable_track_is_named_by_its_source_not_the_work_folder(corpus, tmp_path):
    only_comments = aegisub_ass([], translator="김", user="kim")
    media = media_with_tracks(corpus / "empty-ass.mkv", [
        {"file": write(corpus / "empty.ass", only_comments), "codec": "copy", "language": "kor"}])
    work = tmp_path / "staging-work"
    source = SubtitleSource.embedded(media, tracks_of(media)[0], "media/empty-ass.mkv")
    with pytest.raises(InfopackError) as failed:
        SourceReader(work).doc(source)
    assert str(failed.value).startswith("media/empty-ass.mkv (track 1): ")
    assert str(work) not in str(failed.value) and "staging" not in str(failed.value)


def test_sidecar_messages_use_the_display_name(tmp_path):
    (tmp_path / "work").mkdir()
    bad = write(tmp_path / "work" / "copy.srt", "1\n00:00:01,000 -> 00:00:02,000\n안녕\n")
    with pytest.raises(InfopackError) as failed:
        read_subtitles(bad, display="subs/ep01.ko.srt")
    assert str(failed.value).startswith("subs/ep01.ko.srt: ")
    assert str(tmp_path) not in str(failed.value)


# --- image tracks -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pgs_mkv(corpus):
    return pgs_media(corpus / "bluray.mkv", OCR_CUES)


def test_pgs_track_is_listed_as_an_image_track_with_its_canvas(pgs_mkv, tmp_path):
    [track] = tracks_of(pgs_mkv)
    assert (track.kind, track.canvas, track.codec) == ("image", (1920, 1080), "hdmv_pgs_subtitle")
    choice, _ = choose(pgs_mkv, tmp_path)
    assert choice.chosen.kind == "image track" and "pictures" in choice.reason
    with pytest.raises(InfopackError, match="holds pictures, not text"):
        extract_track(pgs_mkv, track, tmp_path)


def test_pgs_burn_in_shows_the_cue_on_a_downscaled_picture(pgs_mkv, tmp_path):
    [track] = tracks_of(pgs_mkv)
    chain = ["scale=854:480:flags=lanczos", "setsar=1", "format=yuv420p"]
    graph, label = burn_in_graph(chain, track, video_size=(1920, 1080), output_size=(854, 480))
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-threads", "1"]
    ffmpeg("-i", str(pgs_mkv), "-filter_complex", graph, "-map", label, *encode, str(tmp_path / "burned.mp4"))
    ffmpeg("-i", str(pgs_mkv), "-vf", ",".join(chain), "-map", "0:V:0", *encode, str(tmp_path / "plain.mp4"))
    # the canvas laid unscaled on the small picture: its cues fall outside
    ffmpeg("-i", str(pgs_mkv), "-filter_complex", f"[0:V:0]{','.join(chain)}[v];[v][0:s:0]overlay[o]",
           "-map", "[o]", *encode, str(tmp_path / "unscaled.mp4"))
    burned = frame(tmp_path / "burned.mp4", 1.0, tmp_path / "burned.png")
    assert burned.size == (854, 480)
    assert bright_pixels(burned) > 500
    assert bright_pixels(frame(tmp_path / "plain.mp4", 1.0, tmp_path / "plain.png")) == 0
    assert bright_pixels(frame(tmp_path / "unscaled.mp4", 1.0, tmp_path / "unscaled.png")) == 0
    between = frame(tmp_path / "burned.mp4", 2.8, tmp_path / "after.png")    # after the last cue
    assert bright_pixels(between) == 0
    assert probe(tmp_path / "burned.mp4")["format"]["duration"] == probe(tmp_path / "plain.mp4")["format"]["duration"]


def test_burn_in_filter_scales_the_canvas_like_the_video():
    assert burn_in_filter(1, video_size=(720, 480), output_size=(854, 480), canvas=(720, 480)) == (
        "[0:s:1]scale=854:480:flags=bicubic[subs_burned];"
        "[main][subs_burned]overlay=x=(W-w)/2:y=H-h:eof_action=pass[burned]")
    cropped = burn_in_filter(0, video_size=(1920, 800), output_size=(854, 356), canvas=(1920, 1080))
    assert "scale=854:481" in cropped     # taller than the picture: bottom-aligned by y=H-h


def test_ocr_reads_pgs_cues_with_a_confidence(pgs_mkv, tmp_path):
    [track] = tracks_of(pgs_mkv)
    doc = ocr_track(pgs_mkv, track, tmp_path / "ocr", display="bluray.mkv (track 1)")
    assert [(c.start_ms, c.end_ms, c.text) for c in doc.cues] == OCR_CUES
    assert all(LOW_CONFIDENCE <= c.confidence <= 100 for c in doc.cues)
    assert doc.format == "ocr" and doc.source == "bluray.mkv (track 1)"
    assert doc.warnings[0].startswith("file: text read by OCR (tesseract, kor)")
    summary = ocr_summary(prepare_for_media(doc, duration_s=3.0, fps=5))
    assert summary["low_confidence_cues"] == [] and summary["mean_confidence"] >= LOW_CONFIDENCE


def test_ocr_reads_vobsub_cues_through_the_source_reader(corpus, tmp_path):
    sd = pgs_media(corpus / "dvd-pgs.mkv", OCR_CUES, size="720x480", font_size=36)
    vob = vobsub_media(corpus / "dvd.mkv", sd)
    [track] = tracks_of(vob)
    assert (track.codec, track.canvas) == ("dvd_subtitle", (720, 480))
    doc = SourceReader(tmp_path).doc(SubtitleSource.embedded(vob, track))
    assert [c.text for c in doc.cues] == [text for _, _, text in OCR_CUES]
    assert all(c.confidence >= LOW_CONFIDENCE for c in doc.cues)


def test_missing_tesseract_language_says_what_to_install():
    with pytest.raises(InfopackError, match="sudo apt-get install tesseract-ocr-zzz"):
        check_tesseract("zzz")


# --- plain data -------------------------------------------------------------------------------

def test_list_tracks_reads_every_container_kind():
    data = {"streams": [
        {"index": 0, "codec_type": "video", "codec_name": "mpeg4"},
        {"index": 1, "codec_type": "audio", "codec_name": "mp3"},
        {"index": 2, "codec_type": "subtitle", "codec_name": "xsub", "width": 720, "height": 576},
        {"index": 3, "codec_type": "subtitle", "codec_name": "dvb_subtitle", "tags": {"LANGUAGE": "KO-kr"},
         "disposition": {"default": 1, "forced": 0, "hearing_impaired": 1}},
        {"index": 4, "codec_type": "subtitle", "tags": {"title": "한국어"}},
        {"index": 5, "codec_type": "subtitle", "codec_name": "webvtt", "disposition": {"comment": 1}},
    ]}
    xsub, dvb, unknown, vtt = list_tracks(data)
    assert (xsub.number, xsub.index, xsub.kind, xsub.canvas, xsub.position) == (1, 2, "image", (720, 576), 0)
    assert dvb.korean_tag and dvb.default and dvb.hearing_impaired and dvb.canvas is None
    assert dvb.describe() == "track 2 (KO-kr, dvb_subtitle, hearing impaired)"
    assert unknown.kind == "unsupported" and unknown.korean_title
    assert vtt.kind == "text" and vtt.commentary


@pytest.mark.parametrize("tag, korean", [("kor", True), ("KO", True), ("kr", True), ("ko-KR", True),
                                         ("ko_kr", True), ("eng", False), ("und", False), ("", False),
                                         ("kok", False)])
def test_korean_language_tags(tag, korean):
    assert language_is_korean(tag) is korean


@pytest.mark.parametrize("name, word", [("ep01.ko.srt", "ko"), ("Film.2019.ENG.srt", "eng"),
                                        ("ep01.smi", None), ("de.lorean.srt", None), ("쇼.한국어.ass", "한국어"),
                                        ("Show.S01E02.720p-GROUP.kor.srt", "kor")])
def test_language_words_in_sidecar_names(name, word):
    assert name_language(name) == word


def test_hangul_share_counts_letters_only():
    assert hangul_share("안녕, Kim! 123") == pytest.approx(2 / 5)
    assert hangul_share("... !!") == 0.0


def test_image_track_of_unknown_language_is_never_taken_silently():
    data = {"streams": [
        {"index": 1, "codec_type": "subtitle", "codec_name": "hdmv_pgs_subtitle",
         "tags": {"language": "eng", "title": "Korean"}},
        {"index": 2, "codec_type": "subtitle", "codec_name": "dvd_subtitle"},
        {"index": 3, "codec_type": "subtitle", "codec_name": "dvb_teletext", "tags": {"language": "kor"}}]}
    measured = []
    choice = choose_source(SubtitleSpec("auto"), [], embedded_sources("m.mkv", data), measured.append, item_id="x")
    assert choice.chosen is None and choice.missing and measured == []
    assert [c.reason for c in choice.not_chosen] == [
        "language unclear (tag eng, 'Korean') and its text is pictures; "
        'if it is Korean, choose it with subtitles = ["track:1"]',
        'language unknown (tag none) and its text is pictures; if it is Korean, choose it with subtitles = ["track:2"]',
        "codec dvb_teletext cannot be read as subtitles"]
