"""Read -> write -> read gives the same cues; writers emit what players expect."""

import pytest

from infopack.subtitles import Cue, SubtitleDoc, encode_text, read_subtitles, to_ass, to_sami, to_srt, to_vtt

SRT = ("1\n00:00:01,000 --> 00:00:02,500\n안녕 & <반가워>\n둘째 줄\n\n"
       "2\n00:00:02,500 --> 00:00:04,000\n- 이어서\n- 바로\n\n"
       "3\n01:02:03,004 --> 01:02:05,000\n똠방각하\n")


def triples(doc, resolution_ms=1):
    """Cue times rounded to the format's resolution (ASS counts centiseconds)."""
    return [(round(c.start_ms / resolution_ms), round(c.end_ms / resolution_ms), c.text) for c in doc.cues]


@pytest.mark.parametrize("writer, suffix", [(to_srt, ".srt"), (to_sami, ".smi"), (to_vtt, ".vtt"), (to_ass, ".ass")])
@pytest.mark.parametrize("encoding", ["utf-8", "cp949", "utf-16", "utf-8-sig"])
def test_round_trip_keeps_cues(tmp_path, writer, suffix, encoding):
    source = tmp_path / "in.srt"
    source.write_bytes(SRT.encode("utf-8"))
    first = read_subtitles(source)
    out = tmp_path / f"out{suffix}"
    out.write_bytes(encode_text(writer(first), encoding))
    second = read_subtitles(out)
    resolution = 10 if writer is to_ass else 1
    assert triples(second, resolution) == triples(first, resolution)
    assert second.fixes == []


def test_sami_round_trip_of_a_sami_file(tmp_path):
    source = tmp_path / "in.smi"
    source.write_bytes(("<SAMI><BODY>\n<SYNC Start=100><P Class=KRCC>하나<br>둘\n"
                        "<SYNC Start=900><P Class=KRCC>&nbsp;\n<SYNC Start=1000><P Class=KRCC>셋\n"
                        "<SYNC Start=2000><P Class=KRCC>넷\n<SYNC Start=3000><P Class=KRCC>&nbsp;\n"
                        "</BODY></SAMI>").encode("cp949"))
    first = read_subtitles(source)
    again = tmp_path / "again.smi"
    again.write_bytes(encode_text(to_sami(first), "cp949"))
    assert triples(read_subtitles(again)) == triples(first) == [
        (100, 900, "하나\n둘"), (1000, 2000, "셋"), (2000, 3000, "넷")]


def test_to_srt_format():
    doc = SubtitleDoc([Cue(1, 0, 1500, "가\n나")], "", "srt", "utf-8")
    assert to_srt(doc) == "1\n00:00:00,000 --> 00:00:01,500\n가\n나\n"


def test_to_ass_has_only_technical_script_info():
    doc = SubtitleDoc([Cue(1, 1000, 2000, "가 {x}\\n\n나")], "/home/kim/movie.srt", "srt", "utf-8")
    ass = to_ass(doc, play_res=(640, 360), font_size=24)
    info = ass.split("[V4+ Styles]")[0]
    assert "Title" not in info and "Original" not in info and "Aegisub" not in info and ";" not in info
    assert "PlayResX: 640" in info and "PlayResY: 360" in info
    assert "Style: Default,NanumGothic,24," in ass
    assert "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,가 (x)＼n\\N나" in ass
    assert "kim" not in ass


def test_to_vtt_escapes_markup_characters():
    doc = SubtitleDoc([Cue(1, 0, 1000, "a < b & c")], "", "srt", "utf-8")
    assert "a &lt; b &amp; c" in to_vtt(doc)
