"""Notes: every message the subtitle code makes has a code and parameters, its English text is
what it always was, and the catalogues say each one (and each named check) in Korean."""

from __future__ import annotations

import copy
import json
import pickle
import string

import pytest

from infopack.checks import CHECKS, Finding
from infopack.notes import Note, catalogue, check_texts, finding_dict, finding_text, localise, note_dict, templates


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_catalogues_hold_the_same_notes_with_the_same_placeholders():
    english, korean = templates("en"), templates("ko")
    assert set(english) == set(korean)
    assert {code: placeholders(t) for code, t in english.items()} == \
        {code: placeholders(t) for code, t in korean.items()}


def test_every_declared_check_is_explained_in_korean():
    korean = catalogue("ko")["check"]
    assert set(korean) == set(CHECKS)
    for name in CHECKS:
        meaning, action = check_texts(name, "ko")
        assert meaning and action and any("가" <= ch <= "힣" for ch in meaning + action), name


def test_a_note_is_its_english_text_and_keeps_its_code_through_copies():
    note = Note("cue-credit-removed", cue=3, text="번역: 김민준")
    assert note == "cue 3: credit cue removed: '번역: 김민준'" and "credit cue" in note
    assert note.text("ko") == "3번 자막: 만든 사람을 밝히는 자막을 지움: '번역: 김민준'"
    for twin in (copy.deepcopy(note), pickle.loads(pickle.dumps(note))):
        assert isinstance(twin, Note) and twin.code == note.code and twin.params == note.params
    assert json.dumps([note], ensure_ascii=False) == json.dumps([str(note)], ensure_ascii=False)
    kept = note_dict(note)
    assert kept == {"code": "cue-credit-removed", "params": {"cue": 3, "text": "번역: 김민준"}, "text": str(note)}
    assert localise(kept, "ko") == note.text("ko") and localise("plain text", "ko") == "plain text"
    assert localise({"code": "from-a-newer-infopack", "params": {}, "text": "kept as is"}, "ko") == "kept as is"
    with pytest.raises(ValueError, match="not in messages/en.toml"):
        Note("no-such-note")


def test_findings_keep_their_note_and_are_explained_by_their_check_without_one():
    lint_finding = Finding("reading-speed", "warning", "x.srt", Note("reading-speed", cue=2, speed=31.25, max=20.0))
    data = finding_dict(lint_finding)
    assert data["message"] == "cue 2: 31.2 characters/s, over 20" and data["note"]["code"] == "reading-speed"
    assert finding_text(data, "ko") == "2번 자막: 초당 31.2자로 20자보다 빠름"
    scan = Finding("meta-gps", "error", "a.jpg", "GPS 37.5N 127.0E in EXIF").to_dict()
    assert finding_text(scan, "en") == "GPS 37.5N 127.0E in EXIF"
    assert finding_text(scan, "ko") == "위성 위치 정보 (GPS): 다시 만들고 곧바로 제작자에게 알리십시오"


MESSY = {
    "messy.srt": "1\n00:00:01.5 --> 00:00:02,000 X:100\n<b>아이스크림</b> &amp; 주스\n\n\n"
                 "7\n00:00:01,800 --> 00:00:01,800\n번역: 김민준\n\n"
                 "3\n00:00:03,000 --> 00:00:09,000\nwww.example.kr 바다\n",
    "messy.vtt": "WEBVTT made by someone\n\nNOTE 자막 제작 철수\n\n00:01.000 --> 00:02.000\n안녕\n\n이어지는 줄\n",
    "messy.smi": "<SAMI><HEAD><TITLE>자막 by 철수</TITLE></HEAD><BODY><!-- 만든이 철수 -->"
                 "<SYNC Start=1000><P Class=KRCC>안녕하세요<SYNC Start=1000><P Class=ENCC>Hello"
                 "<SYNC Start=2000><P Class=KRCC>&nbsp;</BODY></SAMI>",
    "messy.ass": "[Script Info]\nTitle: 내 자막\n; 만든이\n\n[Events]\nFormat: Layer, Start, End, Style, Name, "
                 "MarginL, MarginR, MarginV, Effect, Text\nComment: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,주석\n"
                 "Dialogue: 0,0:00:01.00,0:00:02.00,Default,철수,0,0,0,,{메모}안녕\n\n[Fonts]\nfontname: a.ttf\n",
}


@pytest.mark.parametrize("name", sorted(MESSY))
def test_every_message_of_reading_scrubbing_and_cleaning_is_a_note(tmp_path, name):
    from infopack.subtitles import clean, lint, read_subtitles, scrub
    from infopack.subtitles.timing import fit_to_end, shift
    path = tmp_path / name
    path.write_text(MESSY[name], encoding="utf-8")
    doc = clean(fit_to_end(shift(scrub(read_subtitles(path)), -1200), 1500), max_chars_per_line=4, max_lines=1,
                max_cps=2)
    messages = doc.fixes + doc.removals + doc.warnings
    assert len(messages) >= 4
    assert all(isinstance(m, Note) for m in messages), [m for m in messages if not isinstance(m, Note)]
    assert all(isinstance(f.message, Note) for f in lint(doc))
    korean = [m.text("ko") for m in messages]
    assert all(any("가" <= ch <= "힣" for ch in text) for text in korean)


def test_every_note_the_code_names_is_in_the_catalogue():
    import re
    from pathlib import Path
    from infopack.subtitles.scrub import PART_KINDS
    package = Path(__file__).resolve().parent.parent / "infopack"
    named = {code for path in package.rglob("*.py")
             for code in re.findall(r'Note\(\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8"))}
    named |= {f"cue-{kind.replace('_', '-')}-removed" for kind in PART_KINDS}
    assert len(named) > 50 and named <= set(templates("en")), sorted(named - set(templates("en")))
