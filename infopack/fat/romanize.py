"""Hangul in readable ASCII, for players that show Hangul file names as garbage."""

from __future__ import annotations

import unicodedata

# has to be readable, and the same syllable always gives the same letters).
_RR_INITIAL = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"]
_RR_VOWEL = ["a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
             "wi", "yu", "eu", "ui", "i"]
_RR_FINAL = ["", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p",
             "t", "t", "ng", "t", "t", "k", "t", "p", "t"]


def romanize_hangul(syllable: str) -> str:
    """One precomposed Hangul syllable in Revised Romanization ("화" -> "hwa")."""
    index = ord(syllable) - 0xAC00
    return _RR_INITIAL[index // 588] + _RR_VOWEL[(index % 588) // 28] + _RR_FINAL[index % 28]


def to_ascii(text: str) -> str:
    """Readable ASCII: Hangul romanised, accents dropped, other scripts removed."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if 0xAC00 <= ord(ch) <= 0xD7A3:
            out.append(romanize_hangul(ch))
        elif ch.isascii():
            out.append(ch)
        else:
            decomposed = unicodedata.normalize("NFKD", ch)
            out.append("".join(c for c in decomposed if c.isascii()) or " ")
    return "".join(out)
