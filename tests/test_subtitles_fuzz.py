"""Whatever the bytes, reading either works or raises InfopackError, nothing else."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infopack.errors import InfopackError
from infopack.subtitles import clean, read_subtitles, scan_subtitle_file, scrub, to_ass, to_sami, to_srt, to_vtt

SEED_SRT = "1\n00:00:01,000 --> 00:00:02,000\n안녕 <b>하세요</b>\n\n2\n00:00:03,000 --> 00:00:04,500\n둘째 &amp; 줄\n"
SEED_SAMI = "<SAMI><BODY><SYNC Start=1000><P Class=KRCC>하나<br>둘\n<SYNC Start=2000><P Class=KRCC>&nbsp;</BODY></SAMI>"
SEED_ASS = ("[Script Info]\nTitle: x\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, "
            "Effect, Text\nDialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,하나{x}\\N둘\n")
SEED_VTT = "WEBVTT\n\nNOTE x\n\n00:01.000 --> 00:02.000\n하나\n"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _exercise(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    try:
        doc = read_subtitles(path)
    except InfopackError:
        pass
    else:
        doc = clean(scrub(doc))
        for writer in (to_srt, to_vtt, to_sami, to_ass):
            writer(doc)
        assert all(c.end_ms > c.start_ms >= 0 for c in doc.cues)
    assert isinstance(scan_subtitle_file(path), list)


@SETTINGS
@given(data=st.binary(max_size=400), name=st.sampled_from(["a.srt", "a.smi", "a.vtt", "a.ass", "a.bin"]))
def test_random_bytes_only_raise_infopack_error(tmp_path, data, name):
    _exercise(tmp_path, name, data)


@st.composite
def mutated(draw):
    seed, name = draw(st.sampled_from([(SEED_SRT, "a.srt"), (SEED_SAMI, "a.smi"), (SEED_ASS, "a.ass"),
                                       (SEED_VTT, "a.vtt")]))
    text = list(seed)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = draw(st.sampled_from(["\n", "\r", ":", ",", ".", "-->", "0", "9", " ", "<", ">", "&", "{", "}",
                                      "\\N", "[", "]", "가", "\ufeff", "<SYNC Start=", "Dialogue:", "NOTE"]))
        if action == "delete" and position < len(text):
            del text[position]
        elif action == "insert":
            text.insert(position, piece)
        elif position < len(text):
            text[position] = piece
    encoding = draw(st.sampled_from(["utf-8", "cp949", "utf-16"]))
    return name, "".join(text).encode(encoding, errors="replace")


@SETTINGS
@given(case=mutated())
def test_mutated_files_only_raise_infopack_error(tmp_path, case):
    name, data = case
    _exercise(tmp_path, name, data)
