"""FAT naming rules (what a card may hold) and safe file names made from titles."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from infopack.checks import ERROR, Finding
from infopack.fat.catalog import CardType
from infopack.fat.cost import DIR_ENTRY, card_cost, dir_entry_bytes, utf16_units
from infopack.fat.romanize import to_ascii

MAX_NAME_UNITS = 255                # longest FAT/exFAT name, in UTF-16 units
FAT_MAX_FILE = 2**32 - 1            # 4 GiB - 1: the largest file FAT can hold at all
FAT16_ROOT_ENTRIES = 512            # fixed root directory of a FAT16 volume
FAT32_MIN_CLUSTERS = 65525          # fewer clusters than this is FAT16 by definition
# Limits we impose so that cards stay readable when copied onto a PC or a cheap player:
# Windows' classic MAX_PATH is 260 characters including "X:\" and a NUL, and copying a card's
# folder into e.g. "C:\Users\name\Desktop\" eats more; players' file browsers often give up
# on deep trees. 240 units and 8 levels (folders + the file) leave room for both.
MAX_PATH_UNITS = 240
MAX_PATH_DEPTH = 8
SAFE_NAME_UNITS = 120               # what safe_filename aims for, so a few folders still fit in 240
MAX_NAME_BYTES = 255                # longest file name Linux (ext4, vfat, exfat drivers) accepts, in UTF-8
# What safe_filename aims for in bytes (78 Hangul syllables and ".mp4"), leaving 15 bytes
# for what the layout appends to a name (" - 01" for a part, " (2)" for a duplicate).
SAFE_NAME_BYTES = 240

FORBIDDEN_CHARS = set('\\/:*?"<>|')
RESERVED_NAMES = frozenset(["CON", "PRN", "AUX", "NUL"]
                           + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)])


def fat_name_problems(name: str, filesystem: str = "fat32") -> list[str]:
    """Why `name` (one file or folder name) cannot be used on a card; empty if it can.

    The rules are those of FAT long names plus Windows' reserved device names (a card is
    often copied on a PC), Linux's 255 bytes a name (a card is read and written there too)
    and NFC (macOS writes decomposed Hangul that players show as jamo).
    The same rules are applied to exFAT, which forbids the same characters.
    """
    if name in ("", ".", ".."):
        return [f"'{name}' is not a usable name" if name else "empty name"]
    problems = []
    try:
        name.encode("utf-16-le")
    except UnicodeEncodeError:
        return ["contains characters that are not valid Unicode"]
    if utf16_units(name) > MAX_NAME_UNITS:
        problems.append(f"name is {utf16_units(name)} UTF-16 units long; FAT allows at most {MAX_NAME_UNITS}")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        problems.append(f"name is {len(name.encode('utf-8'))} bytes in UTF-8; Linux allows at most {MAX_NAME_BYTES} "
                        f"(a Hangul syllable takes 3)")
    bad = sorted({ch for ch in name if ch in FORBIDDEN_CHARS})
    if bad:
        problems.append(f"contains {' '.join(bad)}, not allowed in FAT names")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        problems.append("contains control characters")
    if name[-1] in ". ":
        problems.append("ends with a dot or a space, which FAT drops (the file would be renamed)")
    if _is_reserved(name):
        problems.append(f"'{name.split('.')[0].strip()}' is a reserved device name on Windows")
    if unicodedata.normalize("NFC", name) != name:
        problems.append("is not in NFC form (decomposed characters, as macOS writes them); players show jamo")
    return problems


def _is_reserved(name: str) -> bool:
    return name.split(".")[0].rstrip(" ").upper() in RESERVED_NAMES


def check_card_paths(paths: dict[str, int], card: CardType) -> list[Finding]:
    """Every FAT rule over a card's files ({relpath: size}), as findings with stable names.

    Checks: fat-name, fat-duplicate (names equal once case-folded, in one folder),
    fat-path-too-long (more than MAX_PATH_UNITS units or MAX_PATH_DEPTH levels),
    fat-too-large (a file of 4 GiB - 1 or more on FAT), fat-root-full (FAT16 root over
    512 entries) and card-overflow.
    """
    findings: list[Finding] = []
    children: dict[str, dict[str, str]] = {}      # folder -> folded name -> first spelling
    folders: set[str] = set()
    for path in sorted(paths):
        findings += _path_findings(path, paths[path], card)
        parts = path.split("/")
        for depth in range(len(parts)):
            parent = "/".join(parts[:depth])
            name = parts[depth]
            is_folder = depth < len(parts) - 1
            here = "/".join(parts[:depth + 1])
            if is_folder and here in folders:
                continue
            if is_folder:
                folders.add(here)
            seen = children.setdefault(parent, {})
            folded = unicodedata.normalize("NFC", name).casefold()
            if folded in seen:
                findings.append(Finding("fat-duplicate", ERROR, here,
                                        f"'{name}' and '{seen[folded]}' are the same name on FAT "
                                        f"(case does not count); rename one"))
            else:
                seen[folded] = name
    findings += _root_findings(children.get("", {}), card)
    used = card_cost(paths, card)
    if used > card.usable_bytes:
        findings.append(Finding("card-overflow", ERROR, "",
                                f"files take {used:,} bytes but a {card.name} card holds {card.usable_bytes:,}; "
                                f"{used - card.usable_bytes:,} bytes too many"))
    return findings


def _path_findings(path: str, size: int, card: CardType) -> list[Finding]:
    findings = []
    for name in path.split("/"):
        for problem in fat_name_problems(name, card.filesystem):
            findings.append(Finding("fat-name", ERROR, path, f"'{name}': {problem}"))
    depth = path.count("/") + 1
    if utf16_units(path) > MAX_PATH_UNITS or depth > MAX_PATH_DEPTH:
        findings.append(Finding("fat-path-too-long", ERROR, path,
                                f"path is {utf16_units(path)} units and {depth} levels deep; keep it within "
                                f"{MAX_PATH_UNITS} units and {MAX_PATH_DEPTH} levels so PCs and players can open it"))
    if card.filesystem != "exfat" and size >= FAT_MAX_FILE:
        findings.append(Finding("fat-too-large", ERROR, path,
                                f"{size:,} bytes; {card.filesystem.upper()} files must be smaller than 4 GiB "
                                f"({FAT_MAX_FILE:,} bytes); split or re-encode it"))
    return findings


def _root_findings(root_names: dict[str, str], card: CardType) -> list[Finding]:
    if card.filesystem != "fat16":
        return []
    entries = 1 + sum(dir_entry_bytes(name) // DIR_ENTRY for name in root_names.values())
    if entries <= FAT16_ROOT_ENTRIES:
        return []
    return [Finding("fat-root-full", ERROR, "",
                    f"the top folder needs {entries} directory entries (long names take several); "
                    f"a FAT16 root holds {FAT16_ROOT_ENTRIES}; move files into folders")]


# --------------------------------------------------------------------------- safe names

def safe_filename(title: str, ext: str, ascii_only: bool = False, *,
                  max_units: int = SAFE_NAME_UNITS, max_bytes: int = SAFE_NAME_BYTES,
                  fallback: str | None = None) -> str:
    """A file name every FAT reader accepts, made from a manifest title.

    "바다 이야기 1화", "mp4" -> "바다 이야기 1화.mp4" (ascii_only: "bada iyagi 1hwa.mp4").
    Forbidden and control characters become spaces, runs of spaces collapse, leading and
    trailing dots and spaces go, reserved device names get a "_", the name with its
    extension is capped at `max_units` UTF-16 units (FAT) and `max_bytes` UTF-8 bytes
    (Linux), never above 255 of either. Never empty: an empty result becomes `fallback`
    or an id derived from the title.
    """
    return shortened_filename(title, ext, ascii_only, max_units=max_units, max_bytes=max_bytes,
                              fallback=fallback)[0]


def shortened_filename(title: str, ext: str, ascii_only: bool = False, *,
                       max_units: int = SAFE_NAME_UNITS, max_bytes: int = SAFE_NAME_BYTES,
                       fallback: str | None = None) -> tuple[str, bool]:
    """`safe_filename`, and whether the title had to be cut to fit (so two long titles may
    now share a name: the caller reports the cut and makes the name unique)."""
    suffix = _clean_ext(ext)
    base = _clean_text(title, ascii_only)
    if not base and fallback is not None:
        base = _clean_text(fallback, ascii_only)
    if not base:
        base = "item-" + hashlib.sha256(title.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if _is_reserved(base + suffix):
        first, dot, rest = base.partition(".")
        base = first.rstrip(" ") + "_" + dot + rest
    units = max(1, min(max_units, MAX_NAME_UNITS) - utf16_units(suffix))
    size = max(4, min(max_bytes, MAX_NAME_BYTES) - len(suffix.encode("utf-8")))
    short = _truncate(base, units, size)
    if short == base:
        return base + suffix, False
    short = short.rstrip(". ")
    if not short or _is_reserved(short + suffix):
        short = ("item-" + hashlib.sha256(base.encode("utf-8")).hexdigest()[:8])[:units]
    return short + suffix, True


def _clean_ext(ext: str) -> str:
    ext = "".join(ch for ch in ext.lower() if ch.isascii() and ch.isalnum())[:8]
    return "." + ext if ext else ""


def _clean_text(text: str, ascii_only: bool) -> str:
    text = unicodedata.normalize("NFC", text.encode("utf-8", "replace").decode("utf-8"))
    if ascii_only:
        text = to_ascii(text)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in FORBIDDEN_CHARS or ch.isspace() or cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            kept.append(" ")
        else:
            kept.append(ch)
    return re.sub(r" +", " ", "".join(kept)).strip(". ")


def _truncate(text: str, max_units: int, max_bytes: int) -> str:
    """The longest start of `text` within both limits, cut between whole characters: never
    inside a surrogate pair (one code point here), nor before a combining mark or a
    conjoining jamo, which belong to the character before them."""
    units = size = end = 0
    for index, ch in enumerate(text):
        units += utf16_units(ch)
        size += len(ch.encode("utf-8"))
        if units > max_units or size > max_bytes:
            break
        end = index + 1
    else:
        return text
    while 0 < end and _continues(text[end]):
        end -= 1
    return text[:end]


def _continues(ch: str) -> bool:
    """True for a character that is drawn with the one before it."""
    return (unicodedata.category(ch) in ("Mn", "Mc", "Me")
            or 0x1160 <= ord(ch) <= 0x11FF or 0xD7B0 <= ord(ch) <= 0xD7FF)


# Revised Romanization of Korean, letter by letter (no sound-change rules: a file name only
