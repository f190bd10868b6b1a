"""Rendering a `SubtitleDoc` as SRT, WebVTT, SAMI or ASS text (LF line endings).

`encode_text` turns the result into sidecar bytes (CRLF, chosen encoding). Nothing
written here names a tool, a person or a date: only cues and technical fields.
"""

from __future__ import annotations

import html

from infopack.subtitles.model import SubtitleDoc
from infopack.subtitles.timing import format_ass_time, format_srt_time, format_vtt_time


def _lines(text: str) -> list[str]:
    """Cue lines without blanks: a blank line would end the cue in SRT and WebVTT."""
    return [line for line in text.split("\n") if line.strip()] or [" "]


def to_srt(doc: SubtitleDoc) -> str:
    blocks = [
        f"{number}\n{format_srt_time(c.start_ms)} --> {format_srt_time(c.end_ms)}\n" + "\n".join(_lines(c.text))
        for number, c in enumerate(doc.cues, start=1)
    ]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def to_vtt(doc: SubtitleDoc) -> str:
    blocks = ["WEBVTT"] + [
        f"{format_vtt_time(c.start_ms)} --> {format_vtt_time(c.end_ms)}\n"
        + "\n".join(html.escape(line, quote=False) for line in _lines(c.text))
        for c in doc.cues
    ]
    return "\n\n".join(blocks) + "\n"


SAMI_CLASS = "KRCC"


def to_sami(doc: SubtitleDoc) -> str:
    """SAMI with one Korean class; a `&nbsp;` sync clears each cue unless the next starts then."""
    out = [
        "<SAMI>",
        "<HEAD>",
        "<STYLE TYPE=\"text/css\">",
        "<!--",
        "P { margin-left:8pt; margin-right:8pt; margin-bottom:2pt; margin-top:2pt;",
        "    text-align:center; font-size:20pt; font-family:sans-serif; color:white; }",
        f".{SAMI_CLASS} {{ Name:Korean; lang:ko-KR; SAMIType:CC; }}",
        "-->",
        "</STYLE>",
        "</HEAD>",
        "<BODY>",
    ]
    for position, cue in enumerate(doc.cues):
        text = "<br>".join(html.escape(line, quote=False) for line in _lines(cue.text))
        out.append(f"<SYNC Start={cue.start_ms}><P Class={SAMI_CLASS}>{text}")
        following = doc.cues[position + 1] if position + 1 < len(doc.cues) else None
        if following is None or following.start_ms > cue.end_ms:
            out.append(f"<SYNC Start={cue.end_ms}><P Class={SAMI_CLASS}>&nbsp;")
    out += ["</BODY>", "</SAMI>"]
    return "\n".join(out) + "\n"


def _ass_text(text: str) -> str:
    """Cue text for a Dialogue line: braces and backslashes would be read as tags."""
    safe = text.replace("\\", "\uff3c").replace("{", "(").replace("}", ")")
    return "\\N".join(_lines(safe))


def to_ass(doc: SubtitleDoc, *, font: str = "NanumGothic", font_size: int | None = None,
           play_res: tuple[int, int] = (854, 480)) -> str:
    """ASS for burning in with libass: only technical fields, no title or authors.

    The default font size is about 1/15 of the frame height, large enough to read on
    a small portable screen; outline and shadow keep it legible on any background.
    """
    width, height = play_res
    size = font_size or max(12, round(height / 15))
    margin_v = max(8, round(height / 24))
    outline = max(1, round(size / 12))
    out = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
        "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Default,{font},{size},&H00FFFFFF,&H000000FF,&H00000000,&H80000000,"
        f"0,0,0,0,100,100,0,0,1,{outline},1,2,{margin_v},{margin_v},{margin_v},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    out += [
        f"Dialogue: 0,{format_ass_time(c.start_ms)},{format_ass_time(c.end_ms)},Default,,0,0,0,,{_ass_text(c.text)}"
        for c in doc.cues
    ]
    return "\n".join(out) + "\n"
