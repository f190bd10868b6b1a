"""The `subs` commands, through click's CliRunner."""

from click.testing import CliRunner

from infopack.errors import InfopackError
from infopack.subtitles import read_subtitles
from infopack.cli.subs import parse_fps, parse_shift, subs

SRT = ("1\n00:00:01.5 --> 00:00:03,000\n번역: 김철수\n\n"
       "2\n00:00:04,000 --> 00:00:06,000\n아이스크림을 먹자 www.evil.com\n\n"
       "3\n00:00:07,000 --> 00:00:09,000\n똠방각하\n")


def write(tmp_path, name, text, encoding="cp949"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_check_reports_encoding_fixes_removals_and_lint(tmp_path):
    result = CliRunner().invoke(subs, ["check", write(tmp_path, "a.srt", SRT)])
    assert result.exit_code == 0, result.output
    assert "srt, cp949, 2 cues" in result.output
    assert "fixed: cue 1: timestamp '00:00:01.5'" in result.output
    assert "removed: cue 1: credit cue removed" in result.output
    assert "sk-vocabulary" in result.output and "얼음보숭이" in result.output


def test_check_exits_1_when_a_file_fails(tmp_path):
    good = write(tmp_path, "a.srt", SRT)
    bad = write(tmp_path, "b.srt", "1\n00:00:01,000 --> 00:00:02,000\n하나\n\n2\nxx --> yy\n둘\n")
    result = CliRunner().invoke(subs, ["check", good, bad])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "cue 2 (line 6)" in result.output


def test_convert_scrubs_cleans_shifts_and_encodes(tmp_path):
    source = write(tmp_path, "a.srt", SRT)
    out = tmp_path / "out.smi"
    result = CliRunner().invoke(subs, ["convert", source, "--out", str(out), "--encoding", "cp949",
                                       "--shift", "-500ms"])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert b"\r\n" in data and "똠방각하".encode("cp949") in data
    doc = read_subtitles(out)
    assert doc.format == "sami" and doc.encoding == "cp949"
    assert [(c.start_ms, c.text) for c in doc.cues] == [(3500, "아이스크림을 먹자"), (6500, "똠방각하")]


def test_convert_fps_and_class_options(tmp_path):
    sami = ("<SAMI><BODY><SYNC Start=25000><P Class=KRCC>하나<P Class=ENCC>one\n"
            "<SYNC Start=27000><P Class=KRCC>&nbsp;<P Class=ENCC>&nbsp;</BODY></SAMI>")
    out = tmp_path / "out.srt"
    result = CliRunner().invoke(subs, ["convert", write(tmp_path, "a.smi", sami), "--out", str(out),
                                       "--fps", "23.976:25", "--class", "ENCC", "--encoding", "utf-16"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xff\xfe")
    doc = read_subtitles(out)
    assert [(c.start_ms, c.text) for c in doc.cues] == [(round(25000 * 23.976 / 25), "one")]


def test_convert_bad_output_extension_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(subs, ["convert", write(tmp_path, "a.srt", SRT), "--out", str(tmp_path / "x.txt")])
    assert isinstance(result.exception, InfopackError)


def test_lint_lists_findings_and_apply_rewrites_confirmed_only(tmp_path):
    source = write(tmp_path, "a.srt", SRT)
    result = CliRunner().invoke(subs, ["lint", source])
    assert result.exit_code == 0 and "얼음보숭이" in result.output
    glossary = tmp_path / "g.toml"
    glossary.write_text('[[entry]]\nsk = "아이스크림"\nnk = "얼음보숭이"\nnote = ""\nconfirmed = true\n',
                        encoding="utf-8")
    out = tmp_path / "fixed.srt"
    result = CliRunner().invoke(subs, ["lint", source, "--glossary", str(glossary), "--apply", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "얼음보숭이를 먹자" in out.read_text(encoding="utf-8")


def test_lint_apply_without_out_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(subs, ["lint", write(tmp_path, "a.srt", SRT), "--apply"])
    assert isinstance(result.exception, InfopackError)


def test_shift_and_fps_option_parsing():
    assert parse_shift("1.5s") == 1500 and parse_shift("-200ms") == -200 and parse_shift("+2s") == 2000
    assert parse_fps("23.976:25") == (23.976, 25.0)
    for bad in ("1.5", "abc", "5 min"):
        try:
            parse_shift(bad)
        except InfopackError:
            continue
        raise AssertionError(bad)
