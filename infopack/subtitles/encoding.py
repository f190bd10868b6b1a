"""Decoding subtitle bytes whose encoding nobody wrote down, and encoding sidecars.

Order matters: a BOM is proof; strict UTF-8 rarely decodes text that is not UTF-8;
CP949 is what most older Korean files use (Python's `euc-kr` codec cannot encode
characters outside KS X 1001 such as '똠', so it is never used); charset-normalizer
is the last resort. The label of the step that worked is reported to the curator.
"""

from __future__ import annotations

import unicodedata

from infopack.errors import InfopackError, UsageError
from infopack.notes import Note

_BOMS = (  # (byte-order mark, codec for the rest, label reported)
    (b"\xff\xfe\x00\x00", "utf-32-le", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be", "utf-16-be"),
)

# Control characters that never belong in subtitle text: their presence means the
# bytes were decoded with the wrong codec (or are not text at all).
_ALLOWED_CONTROLS = {"\n", "\r", "\t", "\f"}

SIDECAR_ENCODINGS = ("utf-8", "utf-8-sig", "cp949", "utf-16")


def _looks_like_text(text: str) -> bool:
    return not any(
        unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in text
    )


def _mostly_hangul(text: str) -> bool:
    """True when CP949-decoded text reads like Korean rather than mojibake.

    Latin-1 or Big5 bytes often decode as CP949 without error; the result is then a
    jumble of rare hanja and odd symbols instead of Hangul syllables.
    """
    non_ascii = [ch for ch in text if ord(ch) > 0x7F]
    if not non_ascii:
        return True
    hangul = sum(1 for ch in non_ascii if "\uac00" <= ch <= "\ud7a3" or ch in "·…“”‘’")
    return hangul >= 0.6 * len(non_ascii)


def decode_subtitle_bytes(data: bytes, path: str = "", *, korean: bool = False) -> tuple[str, str]:
    """Return (text, label of the detection used); raise InfopackError when hopeless.

    `korean`: the file's name says it is Korean (`ep01.ko.srt`); short CP949 text that is
    valid UTF-8 by chance is then read as the Korean it is."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise InfopackError(path, f"starts with a {label} byte-order mark but byte "
                                          f"{exc.start + len(bom)} is not valid {codec}; "
                                          f"re-save the file as UTF-8") from None
            return text, label
    for codec in ("utf-8", "cp949"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text) and (codec != "cp949" or _mostly_hangul(text)):
            if codec == "utf-8" and korean and _cp949_in_disguise(data, text):
                return data.decode("cp949"), "cp949"
            return text, codec
    return _decode_with_charset_normalizer(data, path)


def _cp949_in_disguise(data: bytes, text: str) -> bool:
    """Short CP949 text can be valid UTF-8 by chance ("첫 회" is the bytes of "ù ȸ"): in a file
    named Korean, text whose letters beyond ASCII hold no Hangul and reach past Latin-1 (CP949's
    lead bytes C4-C8 read as UTF-8 are Latin Extended letters: "ȸ"), while CP949 reads the
    same bytes as Korean, is CP949."""
    foreign = [ch for ch in text if ord(ch) > 0x7F]
    if not foreign or any(_is_hangul(ch) for ch in foreign) or all(ord(ch) <= 0xFF for ch in foreign):
        return False            # Hangul read as UTF-8, or Latin-1 letters (é, ü): UTF-8 text indeed
    try:
        korean = data.decode("cp949")
    except UnicodeDecodeError:
        return False
    return _looks_like_text(korean) and _mostly_hangul(korean) and any(_is_hangul(ch) for ch in korean)


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f"


def _decode_with_charset_normalizer(data: bytes, path: str) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    try:
        best = from_bytes(data).best()
    except Exception:  # the library is a heuristic; any failure means "unknown"
        best = None
    if best is not None:
        text = str(best)
        if _looks_like_text(text):
            return text, f"charset-normalizer:{best.encoding}"
    raise InfopackError(path, "cannot tell the text encoding (not UTF-8, UTF-16 or CP949); "
                              "re-save the file as UTF-8")


def normalise_newlines(text: str) -> tuple[str, str | None]:
    """Convert CRLF and bare CR to LF; say so when the file used bare CR or a mix."""
    crlf = text.count("\r\n")
    bare_cr = text.count("\r") - crlf
    bare_lf = text.count("\n") - crlf
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if bare_cr and (crlf or bare_lf):
        return text, Note("file-newlines-mixed")
    if bare_cr:
        return text, Note("file-newlines-cr")
    if crlf and bare_lf:
        return text, Note("file-newlines-crlf-lf")
    return text, None


def encode_text(text: str, encoding: str) -> bytes:
    """Encode a rendered subtitle for a sidecar file, with CRLF line endings.

    Cheap players and Windows tools expect CRLF. "utf-16" always gets a little-endian
    BOM (Python's codec would pick the host byte order). CP949 uses the `cp949` codec.
    """
    name = encoding.lower().replace("_", "-")
    if name not in SIDECAR_ENCODINGS:
        raise UsageError(None, f"unknown subtitle encoding {encoding!r}; use one of "
                               f"{', '.join(SIDECAR_ENCODINGS)}")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    if name == "utf-16":
        return b"\xff\xfe" + text.encode("utf-16-le")
    try:
        return text.encode(name)
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise InfopackError(None, f"character {bad!r} (U+{ord(bad):04X}) cannot be written in {encoding}; "
                                  f"use utf-8 for this subtitle") from None
