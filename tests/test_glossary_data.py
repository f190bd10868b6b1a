"""The shipped glossary as data: well formed, and matching only what it should.

Matching is by eojeol prefix, so a careless short entry flags ordinary words; these
tests lint ordinary North-Korean-safe sentences (nothing may be found) and sentences
with one South Korean word each (exactly that word must be found).
"""

import re
import tomllib
import unicodedata

import pytest

from infopack.subtitles import Cue, SubtitleDoc, lint
from infopack.subtitles.lint import SHIPPED_GLOSSARY, load_glossary


def doc_of(*texts):
    """One cue per text, each long enough that reading speed never warns."""
    return SubtitleDoc([Cue(i, i * 60_000, i * 60_000 + 30_000, t) for i, t in enumerate(texts, start=1)],
                       "x.srt", "srt", "utf-8")


def flagged_words(text):
    """The glossary words the lint reports in `text`, in order."""
    return [re.search(r"uses South Korean '([^']+)'", f.message).group(1)
            for f in lint(doc_of(text)) if f.check == "sk-vocabulary"]


@pytest.fixture(scope="module")
def raw_entries():
    return tomllib.loads(SHIPPED_GLOSSARY.read_text(encoding="utf-8"))["entry"]


def test_glossary_parses_and_has_at_least_400_unconfirmed_entries(raw_entries):
    assert len(raw_entries) >= 400
    assert len(load_glossary()) == len(raw_entries)
    assert all(e["confirmed"] is False for e in raw_entries)


def test_every_entry_has_sk_nk_and_note_as_nfc_text(raw_entries):
    for e in raw_entries:
        for key in ("sk", "nk", "note"):
            value = e[key]
            assert isinstance(value, str) and value.strip() == value and value, (e, key)
            assert unicodedata.is_normalized("NFC", value), (e, key)
        assert e["sk"] != e["nk"], e
        assert not re.search(r"\s", e["sk"]), e          # an eojeol prefix never holds a space


def test_no_duplicate_and_no_single_syllable_sk(raw_entries):
    keys = [unicodedata.normalize("NFC", e["sk"]).casefold() for e in raw_entries]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert duplicates == []
    assert [e["sk"] for e in raw_entries if len(e["sk"]) < 2] == []


def test_words_reviewers_found_missing_are_present(raw_entries):
    words = {e["sk"] for e in raw_entries}
    assert {"마트", "셀카", "카톡", "유튜브"} <= words


# Ordinary sentences a North Korean viewer would read without surprise, many with
# words that start like glossary entries (여름/여성, 노래/노래방, 이름/이혼, 양말/양쪽,
# 연필/연인, 요즘/요금, 경치/경찰, 고개/고객, 마을/마트, 난로/난리, 머리속/머릿속...).
NK_SAFE = [
    "우리는 아침에 학교에 갑니다.",
    "래일은 날씨가 맑겠습니다.",
    "어머니가 닭알을 삶아 주셨습니다.",
    "동무들과 함께 강냉이를 먹었습니다.",
    "로동자들이 공장에서 일합니다.",
    "녀자들이 강가에서 빨래를 합니다.",
    "손전화로 할머니께 전화를 걸었습니다.",
    "아버지는 뻐스를 타고 일터로 나가십니다.",
    "오늘 저녁에는 랭면을 먹읍시다.",
    "선생님께서 력사 이야기를 들려주셨습니다.",
    "할아버지는 텔레비죤으로 보도를 보십니다.",
    "일없습니다, 걱정하지 마십시오.",
    "바다 위로 해가 떠오릅니다.",
    "배들이 항구를 떠나 고기잡이를 나갑니다.",
    "여기는 작은 마을의 시장입니다.",
    "살아남은 것들은 다음 세대로 이어집니다.",
    "여름에 누나가 노래를 부르며 연필로 이름을 씁니다.",
    "요즘 양말 값이 조금 올랐습니다.",
    "난로 옆에서 그는 고개를 끄덕였습니다.",
    "머리속에 좋은 생각이 떠올랐습니다.",
    "해빛이 창문으로 들어옵니다.",
    "그 일은 잘 되였습니다.",
    "아이들이 마당에서 뛰여놉니다.",
    "경치가 정말 아름답습니다.",
    "예쁜 꽃이 산마다 피였습니다.",
    "그는 리발소에 가서 머리를 깎았습니다.",
]


@pytest.mark.parametrize("sentence", NK_SAFE)
def test_ordinary_sentences_are_not_flagged(sentence):
    assert lint(doc_of(sentence)) == []


# One South Korean word per sentence; the rest of the sentence is ordinary.
FLAGGED = [
    ("어제 마트에서 과일을 샀습니다.", "마트"),
    ("셀카를 찍어서 보내 주세요.", "셀카"),
    ("카톡으로 알려 줄게.", "카톡"),
    ("유튜브에서 그 노래를 들었어.", "유튜브"),
    ("댓글이 벌써 백 개나 달렸어.", "댓글"),
    ("와, 완전 꿀잼이다!", "꿀잼"),
    ("오빠, 오늘 저녁에 만나요.", "오빠"),
    ("우리 반 인싸는 바로 그 애야.", "인싸"),
    ("아싸로 지내는 게 편해.", "아싸"),
    ("포샵 좀 그만해.", "포샵"),
    ("인스타에 사진을 올렸어.", "인스타"),
    ("로그인이 안 돼요.", "로그인"),
    ("이모티콘 하나 보내 줘.", "이모티콘"),
    ("다운로드가 끝났습니다.", "다운로드"),
    ("그 이름을 검색해 봤어.", "검색"),
    ("새 어플을 깔았어.", "어플"),
    ("이번 주말에 카페에서 보자.", "카페"),
    ("ㅋㅋㅋ 진짜 웃기다", "ㅋㅋ"),
    ("노래방 가서 노래나 부르자.", "노래방"),
    ("머릿속이 하얘졌어.", "머릿속"),
    ("여성 동무들이 모였습니다.", "여성"),
    ("그건 농담이었어.", "농담"),
    ("일이 잘 되었습니다.", "되었"),
    ("간호사가 주사를 놓았습니다.", "간호사"),
    ("어린이집에 아이를 데려다 주었습니다.", "어린이집"),
    ("경찰서에 신고했습니다.", "경찰서"),     # the longer entry wins over '경찰'
]


@pytest.mark.parametrize("sentence, word", FLAGGED)
def test_sentences_with_a_south_korean_word_flag_exactly_that_word(sentence, word):
    assert flagged_words(sentence) == [word]


# Entries that swap meaning between South and North: the suggestion is itself an entry.
SWAPPED = {"오징어", "낙지"}


def test_suggestions_are_not_flagged_themselves(raw_entries):
    """Applying a suggestion must not produce a word the lint flags again."""
    flagged = {e["sk"]: flagged_words(e["nk"]) for e in raw_entries if e["sk"] not in SWAPPED}
    assert {sk: words for sk, words in flagged.items() if words} == {}
