"""Each format and each kind of damage: repaired and recorded, or a cue-level error."""

import pytest

from infopack.errors import InfopackError
from infopack.subtitles import read_subtitles


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def cues(doc):
    return [(c.index, c.start_ms, c.end_ms, c.text) for c in doc.cues]


def has_fix(doc, *words):
    return any(all(w in fix for w in words) for fix in doc.fixes)


# --- SRT --------------------------------------------------------------------------------

def test_clean_srt_reads_without_fixes(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.srt",
                               "1\n00:00:01,000 --> 00:00:02,500\n안녕\n하세요\n\n2\n00:00:03,000 --> 00:00:04,000\n잘 가\n"))
    assert doc.format == "srt"
    assert cues(doc) == [(1, 1000, 2500, "안녕\n하세요"), (2, 3000, 4000, "잘 가")]
    assert doc.fixes == []


def test_timestamps_with_dot_missing_ms_or_one_digit_fields_are_normalised(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.srt",
                               "1\n00:01:02.5 --> 0:1:4\n하나\n\n2\n00:01:05,25 --> 00:01:06.700\n둘\n"))
    assert cues(doc) == [(1, 62500, 64000, "하나"), (2, 65250, 66700, "둘")]
    assert has_fix(doc, "cue 1", "'00:01:02.5'", "normalised")
    assert has_fix(doc, "cue 1", "'0:1:4'")
    assert has_fix(doc, "cue 2", "'00:01:06.700'")


def test_missing_and_wrong_cue_numbers_are_renumbered(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.srt",
                               "00:00:01,000 --> 00:00:02,000\n하나\n\n7\n00:00:03,000 --> 00:00:04,000\n둘\n"))
    assert [c.index for c in doc.cues] == [1, 2]
    assert has_fix(doc, "cue 1", "missing cue number")
    assert has_fix(doc, "cue 2", "'7'", "replaced")


def test_extra_blank_lines_and_blank_lines_inside_text_are_removed(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.srt",
                               "\n\n1\n00:00:01,000 --> 00:00:02,000\n\n하나\n\n계속\n\n\n\n"
                               "2\n00:00:03,000 --> 00:00:04,000\n둘\n\n\n"))
    assert cues(doc) == [(1, 1000, 2000, "하나\n계속"), (2, 3000, 4000, "둘")]
    assert has_fix(doc, "cue 1", "blank line inside")
    assert has_fix(doc, "cue 1", "extra blank lines")


@pytest.mark.parametrize("newline, reported", [("\r\n", False), ("\r", True)])
def test_crlf_and_cr_line_endings(tmp_path, newline, reported):
    text = "1\n00:00:01,000 --> 00:00:02,000\n하나\n\n2\n00:00:03,000 --> 00:00:04,000\n둘\n".replace("\n", newline)
    doc = read_subtitles(write(tmp_path, "a.srt", text))
    assert cues(doc) == [(1, 1000, 2000, "하나"), (2, 3000, 4000, "둘")]
    assert has_fix(doc, "line endings") is reported


def test_mixed_line_endings_are_reported(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.srt", "1\r\n00:00:01,000 --> 00:00:02,000\n하나\r\n"))
    assert cues(doc) == [(1, 1000, 2000, "하나")]
    assert has_fix(doc, "mixed")


def test_html_entities_font_and_bold_tags_and_ass_overrides_are_stripped(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.srt",
                               '1\n00:00:01,000 --> 00:00:02,000\n{\\an8}<font color="#ffff00"><b>톰 &amp; 제리</b></font>'
                               "\n&lt;속보&gt;&nbsp;뉴스\n"))
    assert doc.cues[0].text == "톰 & 제리\n<속보> 뉴스"
    assert has_fix(doc, "cue 1", "<font>") and has_fix(doc, "cue 1", "<b>")
    assert has_fix(doc, "cue 1", "entities")
    assert has_fix(doc, "cue 1", "{\\\\an8}") or has_fix(doc, "cue 1", "ASS override")


def test_overlapping_cue_trims_the_previous_end(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.srt",
                               "1\n00:00:01,000 --> 00:00:05,000\n하나\n\n2\n00:00:03,000 --> 00:00:04,000\n둘\n"))
    assert cues(doc) == [(1, 1000, 3000, "하나"), (2, 3000, 4000, "둘")]
    assert has_fix(doc, "cue 1", "overlapped")


def test_cues_starting_together_are_merged(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.srt",
                               "1\n00:00:01,000 --> 00:00:02,000\n- 누구야?\n\n2\n00:00:01,000 --> 00:00:03,000\n- 나야\n"))
    assert cues(doc) == [(1, 1000, 3000, "- 누구야?\n- 나야")]


@pytest.mark.parametrize("end, kind", [("00:00:05,000", "zero"), ("00:00:04,000", "negative")])
def test_zero_and_negative_durations_get_a_default_end(tmp_path, end, kind):
    doc = read_subtitles(write(tmp_path, "a.srt",
                               f"1\n00:00:05,000 --> {end}\n하나\n\n2\n00:00:06,000 --> 00:00:07,000\n둘\n"))
    assert cues(doc)[0] == (1, 5000, 6000, "하나")      # capped at the next cue
    assert has_fix(doc, "cue 1", kind, "duration")


def test_cues_out_of_order_are_sorted(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.srt",
                               "1\n00:00:05,000 --> 00:00:06,000\n둘\n\n2\n00:00:01,000 --> 00:00:02,000\n하나\n"))
    assert [c.text for c in doc.cues] == ["하나", "둘"]
    assert has_fix(doc, "time order")


def test_garbage_timing_line_is_an_error_naming_cue_and_line(tmp_path):
    path = write(tmp_path, "a.srt",
                 "1\n00:00:01,000 --> 00:00:02,000\n하나\n\n2\nabc --> def\n둘\n")
    with pytest.raises(InfopackError) as info:
        read_subtitles(path)
    assert str(path) in str(info.value)
    assert "cue 2 (line 6)" in str(info.value)


def test_timing_line_without_arrow_is_an_error_naming_cue_and_line(tmp_path):
    path = write(tmp_path, "a.srt",
                 "1\n00:00:01,000 --> 00:00:02,000\n하나\n\n2\n00:00:03,000 00:00:04,000\n둘\n\n"
                 "3\n00:00:05,000 --> 00:00:06,000\n셋\n")
    with pytest.raises(InfopackError, match=r"cue 2 \(line 6\): unreadable timing line"):
        read_subtitles(path)


def test_first_cue_without_timing_is_an_error(tmp_path):
    with pytest.raises(InfopackError, match=r"cue 1 \(line 2\)"):
        read_subtitles(write(tmp_path, "a.srt", "1\nnot a time\n하나\n\n2\n00:00:03,000 --> 00:00:04,000\n둘\n"))


def test_minutes_over_59_are_an_error(tmp_path):
    with pytest.raises(InfopackError, match=r"cue 1 \(line 2\)"):
        read_subtitles(write(tmp_path, "a.srt", "1\n00:75:01,000 --> 00:75:02,000\n하나\n"))


def test_a_file_with_no_cues_is_an_error(tmp_path):
    with pytest.raises(InfopackError, match="no cue timing lines"):
        read_subtitles(write(tmp_path, "a.srt", "just some text\n"))


def test_missing_file_is_an_infopack_error(tmp_path):
    with pytest.raises(InfopackError, match="cannot read"):
        read_subtitles(tmp_path / "missing.srt")


# --- SAMI -------------------------------------------------------------------------------

SAMI = """<SAMI>
<HEAD>
<TITLE>영화</TITLE>
<STYLE TYPE="text/css">
<!--
P { font-family: sans-serif; }
.ENCC { Name: English; lang: en-US; }
.KRCC { Name: Korean; lang: ko-KR; }
-->
</STYLE>
</HEAD>
<BODY>
<SYNC Start=1000><P Class=ENCC>Hello<P Class=KRCC>안녕<br>하세요
<sync start=2500><p class=krcc>&nbsp;
<SYNC Start=3000><P Class=KRCC><font color="yellow">둘째</font> &amp; 셋째</P>
<SYNC Start=3000><P Class=ENCC>Second
<SYNC Start=4500><P Class=ENCC>&nbsp;
<SYNC Start=5000><P Class=KRCC>마지막
<SYNC Start=6000><P Class=KRCC>&nbsp;
</BODY>
</SAMI>
"""


def test_sami_reads_korean_class_by_default_with_nbsp_clears(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.smi", SAMI, "cp949"))
    assert doc.format == "sami" and doc.encoding == "cp949"
    assert cues(doc) == [(1, 1000, 2500, "안녕\n하세요"), (2, 3000, 5000, "둘째 & 셋째"), (3, 5000, 6000, "마지막")]
    assert any("KRCC" in w and "ENCC" in w for w in doc.warnings)


def test_sami_other_class_can_be_chosen(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.smi", SAMI), language_class="encc")
    assert cues(doc) == [(1, 1000, 3000, "Hello"), (2, 3000, 4500, "Second")]


def test_sami_unknown_class_is_an_error_listing_the_classes(tmp_path):
    with pytest.raises(InfopackError, match="ENCC, KRCC"):
        read_subtitles(write(tmp_path, "a.smi", SAMI), language_class="JPCC")


def test_sami_without_classes_and_with_unclosed_lowercase_tags(tmp_path):
    text = "<sami><body>\n<sync start=500><p>하나<br/>둘\n<sync start=1500><p>&nbsp;\n<sync start=2000>셋\n"
    doc = read_subtitles(write(tmp_path, "a.smi", text))
    assert cues(doc) == [(1, 500, 1500, "하나\n둘"), (2, 2000, 4000, "셋")]
    assert has_fix(doc, "no end time")


def test_sami_first_class_when_no_korean_class(tmp_path):
    text = "<SAMI><BODY><SYNC Start=0><P Class=ENUSCC>Hi<P Class=FRCC>Salut\n<SYNC Start=900><P Class=ENUSCC>&nbsp;</BODY></SAMI>"
    doc = read_subtitles(write(tmp_path, "a.smi", text))
    assert cues(doc) == [(1, 0, 900, "Hi")]


def test_sami_bad_start_is_an_error_naming_cue_and_line(tmp_path):
    text = "<SAMI><BODY>\n<SYNC Start=1000><P Class=KRCC>하나\n<SYNC Start=abc><P Class=KRCC>둘\n</BODY></SAMI>"
    with pytest.raises(InfopackError, match=r"cue 2 \(line 3\): SYNC Start 'abc'"):
        read_subtitles(write(tmp_path, "a.smi", text))


def test_sami_content_in_a_srt_file_is_read_as_sami(tmp_path):
    doc = read_subtitles(write(tmp_path, "mislabelled.srt", SAMI))
    assert doc.format == "sami"


# --- WebVTT -----------------------------------------------------------------------------

VTT = """WEBVTT

NOTE made by someone

STYLE
::cue { color: yellow }

intro
00:01.000 --> 00:02.500 align:start position:10%
<v 철수>안녕 &amp; <i>반가워</i>

00:00:03.000 --> 00:00:04.000
둘째
"""


def test_vtt_cues_are_read_and_note_style_blocks_dropped(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.vtt", VTT))
    assert doc.format == "vtt"
    assert cues(doc) == [(1, 1000, 2500, "안녕 & 반가워"), (2, 3000, 4000, "둘째")]
    assert any("NOTE" in r for r in doc.removals) and any("STYLE" in r for r in doc.removals)


def test_vtt_bad_timing_is_an_error_naming_cue_and_line(tmp_path):
    with pytest.raises(InfopackError, match=r"cue 1 \(line 3\)"):
        read_subtitles(write(tmp_path, "a.vtt", "WEBVTT\n\n00:01.000 --> soon\n하나\n"))


# --- ASS / SSA --------------------------------------------------------------------------

ASS = r"""[Script Info]
; Script generated by Aegisub 3.2.2
Title: 우리 팀 자막
Original Script: 김철수
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,60,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,번역: 김철수
Dialogue: 0,0:00:01.00,0:00:02.50,Default,철수,0,0,0,,{\an8}안녕, 친구{번역자 메모}\N둘째 줄
Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\p1}m 0 0 l 100 0 100 100{\p0}셋째\hcue
"""


def test_ass_dialogue_is_read_and_authoring_data_recorded(tmp_path):
    doc = read_subtitles(write(tmp_path, "a.ass", ASS))
    assert doc.format == "ass"
    assert cues(doc) == [(1, 1000, 2500, "안녕, 친구\n둘째 줄"), (2, 3000, 4000, "셋째 cue")]
    removed = "\n".join(doc.removals)
    for trace in ("Original Script: 김철수", "Title: 우리 팀 자막", "Aegisub", "Comment", "철수", "번역자 메모"):
        assert trace in removed


def test_ssa_with_marked_field_is_read(tmp_path):
    text = ("[Script Info]\nScriptType: v4.00\n\n[Events]\n"
            "Format: Marked, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
            "Dialogue: Marked=0,0:00:01.00,0:00:02.00,Default,,0000,0000,0000,,하나, 둘\n")
    doc = read_subtitles(write(tmp_path, "a.ssa", text))
    assert cues(doc) == [(1, 1000, 2000, "하나, 둘")]


def test_ass_bad_time_is_an_error_naming_cue_and_line(tmp_path):
    text = "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n" \
           "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,하나\nDialogue: 0,xx,0:00:04.00,Default,,0,0,0,,둘\n"
    with pytest.raises(InfopackError, match=r"cue 2 \(line 4\)"):
        read_subtitles(write(tmp_path, "a.ass", text))


def test_unknown_extension_and_content_is_an_error(tmp_path):
    with pytest.raises(InfopackError, match="not a subtitle file"):
        read_subtitles(write(tmp_path, "a.txt", "hello"))


def test_sami_header_comments_and_title_are_recorded_as_removed(tmp_path):
    text = ("<SAMI><HEAD><TITLE>김철수 자막</TITLE><!-- 자막 제작: 김철수 -->\n"
            "<STYLE><!-- .KRCC { lang: ko-KR; } --></STYLE></HEAD>\n"
            "<BODY><SYNC Start=0><P Class=KRCC>하나</BODY></SAMI>")
    doc = read_subtitles(write(tmp_path, "a.smi", text))
    removed = "\n".join(doc.removals)
    assert "자막 제작: 김철수" in removed and "<TITLE> removed: '김철수 자막'" in removed
    assert "lang" not in removed
    assert [c.text for c in doc.cues] == ["하나"]
