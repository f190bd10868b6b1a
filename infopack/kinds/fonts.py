"""The Korean font for burned-in subtitles, found through fontconfig.

libass draws a missing glyph as an empty box (tofu) and does not fail, so a build on a
machine without a Korean font would silently burn boxes into every frame. We therefore
ask fontconfig for fonts that cover Korean and fail with an install hint when there is
none. Preference: NanumGothic (Debian's fonts-nanum, the look Korean viewers know), then
Noto Sans CJK KR, then any font fontconfig says covers Korean; the choice is stable
(sorted), so the same machine always burns with the same font and builds stay
byte-identical.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from infopack.errors import InfopackError
from infopack.tools import run

FC_LIST = "fc-list"
PREFERRED_FAMILIES = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR")
NO_FONT = "no Korean font installed for burned-in subtitles; install one: sudo apt-get install fonts-nanum"
NO_FONTCONFIG = ("fontconfig (fc-list) is not installed, so no Korean font can be found for burned-in "
                 "subtitles; install it: sudo apt-get install fontconfig fonts-nanum")


@dataclass(frozen=True)
class KoreanFont:
    family: str       # the name to put in the ASS style, e.g. "NanumGothic"
    file: Path        # the font file fontconfig reports for it
    fonts_dir: Path   # the folder holding it, for ffmpeg's `subtitles=...:fontsdir=`


@dataclass(frozen=True)
class _FontEntry:
    file: str
    families: tuple[str, ...]
    styles: tuple[str, ...]


def find_korean_font() -> KoreanFont:
    """The installed font to burn Korean subtitles with, or one clear InfopackError."""
    entries = _fontconfig_korean_fonts()
    if not entries:
        raise InfopackError(None, NO_FONT)
    family, entry = _choose(entries)
    path = Path(entry.file)
    return KoreanFont(family=family, file=path, fonts_dir=path.parent)


def _choose(entries: list[_FontEntry]) -> tuple[str, _FontEntry]:
    """Preferred family first; within a family a regular face; ties broken by path."""
    def regular_first(entry: _FontEntry):
        regular = any(s.lower() in ("regular", "book", "normal") for s in entry.styles)
        return (not regular, entry.file)

    for wanted in PREFERRED_FAMILIES:
        matching = [e for e in entries if wanted in e.families]
        if matching:
            return wanted, min(matching, key=regular_first)
    entry = min(entries, key=lambda e: (e.families[0].lower(),) + regular_first(e))
    return entry.families[0], entry


def _fontconfig_korean_fonts() -> list[_FontEntry]:
    """Every font file fontconfig says covers Korean (`fc-list :lang=ko`)."""
    if shutil.which(FC_LIST) is None:
        raise InfopackError(None, NO_FONTCONFIG)
    proc = run([FC_LIST, "--format", "%{file}\t%{family}\t%{style}\n", ":lang=ko"],
               timeout=60, what="looking for a Korean font (fc-list)")
    entries = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            continue
        families = tuple(f.strip() for f in parts[1].split(",") if f.strip())
        styles = tuple(s.strip() for s in parts[2].split(",") if s.strip())
        if families:
            entries.append(_FontEntry(parts[0], families, styles))
    return entries
