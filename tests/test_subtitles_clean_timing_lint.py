"""Cleaning for small screens, retiming, and the South Korean vocabulary lint."""

import unicodedata

import pytest

from infopack.checks import WARNING
from infopack.errors import InfopackError
from infopack.subtitles import Cue, SubtitleDoc, clean, lint, scale_fps, shift
from infopack.subtitles.lint import adjust_particle, apply_glossary, load_glossary


def doc_of(*cues):
    return SubtitleDoc([Cue(i, s, e, t) for i, (s, e, t) in enumerate(cues, start=1)], "x.srt", "srt", "utf-8")


def test_clean_normalises_nfd_and_strips_styling():
    doc = clean(doc_of((0, 2000, unicodedata.normalize("NFD", "<i>한글</i> {\\an8}텍스트"))))
    assert doc.cues[0].text == "한글 텍스트"
    assert unicodedata.is_normalized("NFC", doc.cues[0].text)


def test_clean_wraps_long_lines_at_word_boundaries_balanced():
    text = "오늘은 날씨가 정말 좋아서 우리 모두 공원에 가서 산책을 하기로 했어요"
    doc = clean(doc_of((0, 5000, text)), max_chars_per_line=20)
    lines = doc.cues[0].text.split("\n")
    assert all(len(line) <= 20 for line in lines)
    assert " ".join(lines) == text
    assert abs(len(lines[0]) - len(lines[-1])) <= 8
    assert any("rewrapped" in f for f in doc.fixes)


def test_clean_keeps_dialogue_lines_apart_and_warns_on_too_many_lines():
    doc = clean(doc_of((0, 9000, "- 첫째 사람 말\n- 둘째 사람 말\n- 셋째 사람 말")), max_lines=2)
    assert doc.cues[0].text.count("\n") == 2
    assert any("3 lines" in w for w in doc.warnings)


def test_clean_extends_short_cues_without_overlapping_the_next():
    doc = clean(doc_of((0, 200, "짧다"), (500, 600, "또"), (5000, 5100, "끝")), min_duration_ms=700)
    assert [(c.start_ms, c.end_ms) for c in doc.cues] == [(0, 500), (500, 1200), (5000, 5700)]


def test_clean_warns_about_reading_speed():
    doc = clean(doc_of((0, 1000, "이것은 일초 안에 읽기에는 너무 긴 문장입니다 정말로")), max_cps=20)
    assert any("reading speed" in w and "cue 1" in w for w in doc.warnings)


def test_clean_drops_cues_empty_after_cleaning():
    doc = clean(doc_of((0, 1000, "<i></i>"), (2000, 3000, "남음")))
    assert [(c.index, c.text) for c in doc.cues] == [(1, "남음")]


def test_clean_does_not_change_its_input():
    original = doc_of((0, 100, "<b>굵게</b>"))
    clean(original)
    assert original.cues[0].text == "<b>굵게</b>" and original.fixes == []


def test_shift_moves_cues_and_drops_those_before_zero():
    doc = shift(doc_of((500, 1000, "a"), (2000, 3000, "b")), -1200)
    assert [(c.index, c.start_ms, c.end_ms, c.text) for c in doc.cues] == [(1, 800, 1800, "b")]
    assert any("dropped" in f for f in doc.fixes)
    assert shift(doc_of((500, 1000, "a")), 1500).cues[0].start_ms == 2000


def test_scale_fps_23976_to_25_and_back():
    doc = doc_of((25000, 50000, "a"))
    faster = scale_fps(doc, 23.976, 25)
    assert faster.cues[0].start_ms == round(25000 * 23.976 / 25)
    back = scale_fps(faster, 25, 23.976)
    assert abs(back.cues[0].start_ms - 25000) <= 1


def test_scale_fps_refuses_zero():
    with pytest.raises(InfopackError):
        scale_fps(doc_of((0, 1, "a")), 0, 25)


def test_glossary_has_enough_unconfirmed_entries_with_notes():
    entries = load_glossary()
    assert len(entries) >= 150
    assert all(e.sk and e.nk and e.note and e.confirmed is False for e in entries)
    forms = {e.sk: e.nk for e in entries}
    for sk, nk in [("아이스크림", "얼음보숭이"), ("주스", "과일단물"), ("볼펜", "원주필"), ("노크", "손기척"),
                   ("헬리콥터", "직승기"), ("도넛", "가락지빵"), ("핸드폰", "손전화"), ("컴퓨터", "콤퓨터"),
                   ("골키퍼", "문지기"), ("화장실", "위생실"), ("코너킥", "모서리뽈"), ("주차장", "차마당"),
                   ("라면", "꼬부랑국수")]:
        assert forms[sk] == nk
    assert "와이파이" in forms


def test_lint_finds_words_with_particles_and_names_the_suggestion():
    doc = doc_of((0, 3000, "아이스크림을 먹고\n핸드폰으로 한국어도"), (4000, 9000, "그냥 말"))
    findings = lint(doc)
    vocab = [f for f in findings if f.check == "sk-vocabulary"]
    assert all(f.level == WARNING and f.path == "x.srt" for f in vocab)
    messages = "\n".join(f.message for f in vocab)
    assert "cue 1: '아이스크림을' uses South Korean '아이스크림'; suggested North Korean form '얼음보숭이'" in messages
    assert "'손전화'" in messages
    assert "'조선말'" in messages and "'남조선'" not in messages   # longest entry wins
    assert "cue 2" not in messages


def test_lint_does_not_match_inside_words():
    assert [f for f in lint(doc_of((0, 3000, "딸기아이스크림"))) if f.check == "sk-vocabulary"] == []


def test_lint_reports_reading_speed():
    findings = lint(doc_of((0, 500, "아주 빨리 지나가는 긴 자막 한 줄")))
    assert any(f.check == "reading-speed" and "cue 1" in f.message for f in findings)


def test_apply_rewrites_only_confirmed_entries_and_fixes_particles(tmp_path):
    glossary = tmp_path / "g.toml"
    glossary.write_text('[[entry]]\nsk = "아이스크림"\nnk = "얼음보숭이"\nnote = "n"\nconfirmed = true\n\n'
                        '[[entry]]\nsk = "핸드폰"\nnk = "손전화"\nnote = "n"\nconfirmed = false\n', encoding="utf-8")
    doc = apply_glossary(doc_of((0, 3000, "아이스크림을 핸드폰으로")), str(glossary))
    assert doc.cues[0].text == "얼음보숭이를 핸드폰으로"
    assert any("'아이스크림을' replaced by '얼음보숭이를'" in f for f in doc.fixes)


@pytest.mark.parametrize("word, rest, expected", [("얼음보숭이", "을", "를"), ("손전화", "으로", "로"),
                                                   ("원주필", "로", "로"), ("차마당", "는", "은"), ("콤퓨터", "이", "가")])
def test_particles_agree_with_the_new_word(word, rest, expected):
    assert adjust_particle(word, rest) == expected
