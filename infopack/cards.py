"""Card classes, the space files really take on them, and the FAT naming rules.

A card that overflows by one cluster fails half-way through copying, and a name a cheap
player cannot read shows nothing. So sizes here are modelled exactly the way FAT spends
them (whole clusters for files *and* directories, 32-byte directory entries, long-name
entries) and rounded towards "does not fit" wherever reality varies.

The catalog of card classes lives in `data/cards.toml`; measured card types (a real card
of a batch, see `measure_card`) live as small TOML files in `~/.config/infopack/cards/`.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from infopack.checks import ERROR, Finding
from infopack.errors import InfopackError, UsageError

FILESYSTEMS = ("fat32", "fat16", "exfat")
BYTES_PER_GB = 10**9
DIR_ENTRY = 32                      # every FAT and exFAT directory entry is 32 bytes
LFN_UNITS_PER_ENTRY = 13            # UTF-16 units in one FAT long-name entry
EXFAT_UNITS_PER_ENTRY = 15          # UTF-16 units in one exFAT file-name entry
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

FORBIDDEN_CHARS = set('\\/:*?"<>|')
RESERVED_NAMES = frozenset(["CON", "PRN", "AUX", "NUL"]
                           + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)])
SHORT_NAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'()-@^_`{}~")
CATALOG_PATH = Path(__file__).with_name("data") / "cards.toml"
MEASURED_DIR = Path("~/.config/infopack/cards")
MEASURED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class CardType:
    """What a card can hold: `usable_bytes` of whole clusters free for files and folders."""
    name: str
    usable_bytes: int
    cluster_bytes: int
    filesystem: str          # "fat32" | "fat16" | "exfat"
    nominal_bytes: int       # marketed size (10^9 bytes per GB), or the measured volume size
    measured: bool = False   # True when the numbers come from a real card (`measure_card`)


# --------------------------------------------------------------------------- catalog

def _catalog() -> dict:
    return tomllib.loads(CATALOG_PATH.read_text(encoding="utf-8"))


def _measured_dir(measured_dir: str | os.PathLike | None) -> Path:
    return Path(measured_dir if measured_dir is not None else MEASURED_DIR).expanduser()


def _measured_names(measured_dir: str | os.PathLike | None) -> list[str]:
    folder = _measured_dir(measured_dir)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml") if MEASURED_NAME.match(p.stem))


def card_names(measured_dir: str | os.PathLike | None = None) -> list[str]:
    """Catalog classes smallest first, then measured card types (alphabetical)."""
    return list(_catalog()["classes"]) + _measured_names(measured_dir)


def load_card(name: str, measured_dir: str | os.PathLike | None = None, *,
              filesystem: str | None = None, margin: float | None = None) -> CardType:
    """A catalog class ("8GB", case-insensitive) or a measured card type by name.

    `filesystem` ("fat32", "fat16", "exfat") and `margin` override the catalog's defaults for
    a class; a measured type is what was measured and takes no overrides.
    """
    catalog = _catalog()
    classes = {key.upper(): key for key in catalog["classes"]}
    if name.upper() in classes:
        return _class_card(classes[name.upper()], catalog, filesystem, margin)
    if MEASURED_NAME.match(name):
        path = _measured_dir(measured_dir) / f"{name}.toml"
        if path.is_file():
            if filesystem or margin is not None:
                raise UsageError(path, "a measured card type takes no --filesystem or margin override")
            return _read_measured(path)
    known = ", ".join(card_names(measured_dir))
    raise UsageError(None, f"unknown card type '{name}'; known: {known} "
                           f"(or measure a card with `infopack cards measure`)")


def _class_card(key: str, catalog: dict, filesystem: str | None, margin: float | None) -> CardType:
    defaults = catalog.get("defaults", {})
    entry = catalog["classes"][key]
    fs = (filesystem or entry.get("filesystem") or defaults.get("filesystem", "fat32")).lower()
    if fs not in FILESYSTEMS:
        raise UsageError(None, f"unknown file system '{fs}'; use one of {', '.join(FILESYSTEMS)}")
    cluster = entry.get({"fat32": "cluster_bytes", "fat16": "fat16_cluster_bytes",
                         "exfat": "exfat_cluster_bytes"}[fs])
    if cluster is None:
        raise UsageError(None, f"card class {key} cannot be formatted {fs} "
                               f"(too many clusters); use fat32 or exfat")
    margin = entry.get("usable_margin", defaults.get("usable_margin", 0.96)) if margin is None else margin
    if not 0 < margin <= 1:
        raise UsageError(None, f"usable margin must be above 0 and at most 1, not {margin}")
    nominal = int(entry["nominal_gb"]) * BYTES_PER_GB
    # Fraction(str(...)) so that 0.96 means exactly 96/100, not the nearest binary float.
    raw = int(Fraction(str(margin)) * nominal)
    return CardType(name=key, usable_bytes=raw - raw % cluster, cluster_bytes=int(cluster),
                    filesystem=fs, nominal_bytes=nominal, measured=False)


def _read_measured(path: Path) -> CardType:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        card = CardType(name=path.stem, usable_bytes=int(data["usable_bytes"]),
                        cluster_bytes=int(data["cluster_bytes"]), filesystem=str(data["filesystem"]),
                        nominal_bytes=int(data.get("total_bytes", data["usable_bytes"])), measured=True)
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise InfopackError(path, f"cannot read this measured card type ({exc}); "
                                  f"measure the card again with `infopack cards measure`") from None
    if card.filesystem not in FILESYSTEMS or card.cluster_bytes <= 0 or card.usable_bytes <= 0:
        raise InfopackError(path, "measured card type has impossible values; measure the card again")
    return card


# --------------------------------------------------------------------------- measuring

def measure_card(mountpoint: str | os.PathLike, name: str,
                 out_dir: str | os.PathLike | None = None, *, filesystem: str | None = None) -> Path:
    """Record a mounted (ideally empty, freshly formatted) card's free space as a card type.

    Cards of one batch are alike, so measuring the smallest card of a batch lets packing use
    all of it instead of the catalog's conservative guess. Returns the TOML file written.
    """
    mount = Path(mountpoint)
    if not MEASURED_NAME.match(name):
        raise UsageError(None, f"card type name '{name}' must be letters, digits, '.', '_' or '-'")
    if name.upper() in {key.upper() for key in _catalog()["classes"]}:
        raise UsageError(None, f"'{name}' is a catalog class; give the measured card its own name")
    if not mount.is_dir():
        raise InfopackError(mount, "is not a mounted folder; mount the card and give its mount point")
    st = os.statvfs(mount)
    cluster = st.f_frsize or st.f_bsize
    free = st.f_bavail * cluster
    total = st.f_blocks * cluster
    fs = filesystem or _detect_filesystem(mount, st.f_blocks)
    if fs not in FILESYSTEMS:
        raise InfopackError(mount, f"is a {fs} file system; format the card FAT32 (or exFAT) first")
    folder = _measured_dir(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.toml"
    target.write_text(
        "# Measured with `infopack cards measure`: free bytes of a real card of this batch.\n"
        f'name = "{name}"\nusable_bytes = {free - free % cluster}\ncluster_bytes = {cluster}\n'
        f'filesystem = "{fs}"\ntotal_bytes = {total}\n', encoding="utf-8")
    return target


def _detect_filesystem(mount: Path, clusters: int, mounts_file: str = "/proc/mounts") -> str:
    """The mounted file system's type from /proc/mounts ("fat32"/"fat16"/"exfat", else its name)."""
    try:
        lines = Path(mounts_file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return "fat32"
    real = os.path.realpath(mount)
    fstype = None
    for line in lines:
        fields = line.split()
        if len(fields) >= 3 and fields[1].replace("\\040", " ") == real:
            fstype = fields[2]            # the last mount on a point is the visible one
    if fstype in ("vfat", "msdos"):
        return "fat16" if clusters < FAT32_MIN_CLUSTERS else "fat32"
    if fstype in ("exfat",):
        return "exfat"
    return fstype or "unknown"


# --------------------------------------------------------------------------- sizes

def cluster_rounded_size(size: int, cluster: int) -> int:
    """Bytes a file of `size` occupies: whole clusters (an empty file takes none)."""
    if size < 0 or cluster <= 0:
        raise ValueError("size must be >= 0 and cluster > 0")
    return -(-size // cluster) * cluster


def utf16_units(name: str) -> int:
    """Length as FAT counts it: UTF-16 code units (a character outside the BMP counts 2)."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in name)


def is_short_name(name: str) -> bool:
    """True if `name` is a plain upper-case 8.3 name, stored without a long-name entry."""
    base, dot, ext = name.partition(".")
    return (0 < len(base) <= 8 and len(ext) <= 3 and (not dot or 0 < len(ext))
            and all(ch in SHORT_NAME_CHARS for ch in base + ext))


def dir_entry_bytes(name: str, filesystem: str = "fat32") -> int:
    """Directory bytes one file or folder name takes.

    FAT: one 32-byte short entry, plus ceil(units/13) long-name entries unless the name is a
    plain upper-case 8.3 name (lower case counts as needing a long name: the safe side).
    exFAT: a file entry, a stream entry and ceil(units/15) name entries.
    """
    units = utf16_units(name)
    if filesystem == "exfat":
        return DIR_ENTRY * (2 + math.ceil(units / EXFAT_UNITS_PER_ENTRY))
    if is_short_name(name):
        return DIR_ENTRY
    return DIR_ENTRY * (1 + math.ceil(units / LFN_UNITS_PER_ENTRY))


class CardTally:
    """Running total of the bytes a set of files takes on a card, with cheap add and remove.

    Packing tries many combinations; recomputing `card_cost` from scratch for each would be
    slow, and an estimate that ignored folders could overflow. The tally keeps per-folder
    entry bytes so that every total it gives is the exact `card_cost` of the files in it.
    """

    def __init__(self, card: CardType):
        self.card = card
        self.file_bytes = 0
        self.dir_bytes: dict[str, int] = {"": self._root_base()}   # entry bytes per folder
        self.dir_children: dict[str, int] = {"": 0}
        self._dir_total = self._dir_cost("", self.dir_bytes[""])
        self.file_count = 0

    @property
    def total(self) -> int:
        return self.file_bytes + self._dir_total

    def cost_with(self, files: dict[str, int]) -> int:
        """The total if `files` were added (the tally is left as it was)."""
        self.add(files)
        total = self.total
        self.remove(files)
        return total

    def add(self, files: dict[str, int]) -> None:
        for path, size in files.items():
            self.file_bytes += cluster_rounded_size(size, self.card.cluster_bytes)
            self._link(path)
            self.file_count += 1

    def remove(self, files: dict[str, int]) -> None:
        for path, size in files.items():
            self.file_bytes -= cluster_rounded_size(size, self.card.cluster_bytes)
            self._unlink(path)
            self.file_count -= 1

    # A file or folder named `name` inside `parent` adds its entries to `parent`; a folder
    # appears with its first child and disappears with its last.
    def _link(self, path: str) -> None:
        parent, _, name = path.rpartition("/")
        if parent not in self.dir_children:
            self._link(parent)
            self.dir_children[parent] = 0
            self._set_dir_bytes(parent, self._dir_base())
        self.dir_children[parent] += 1
        self._set_dir_bytes(parent, self.dir_bytes[parent] + dir_entry_bytes(name, self.card.filesystem))

    def _unlink(self, path: str) -> None:
        parent, _, name = path.rpartition("/")
        self.dir_children[parent] -= 1
        self._set_dir_bytes(parent, self.dir_bytes[parent] - dir_entry_bytes(name, self.card.filesystem))
        if parent and self.dir_children[parent] == 0:
            self._set_dir_bytes(parent, 0)
            del self.dir_children[parent], self.dir_bytes[parent]
            self._unlink(parent)

    def _set_dir_bytes(self, folder: str, entry_bytes: int) -> None:
        old = self._dir_cost(folder, self.dir_bytes.get(folder, 0))
        self.dir_bytes[folder] = entry_bytes
        self._dir_total += self._dir_cost(folder, entry_bytes) - old

    def _root_base(self) -> int:
        # FAT: the volume-label entry; exFAT: label, allocation-bitmap and up-case entries.
        return DIR_ENTRY * (3 if self.card.filesystem == "exfat" else 1)

    def _dir_base(self) -> int:
        # FAT folders start with "." and ".."; exFAT folders have no such entries.
        return 0 if self.card.filesystem == "exfat" else 2 * DIR_ENTRY

    def _dir_cost(self, folder: str, entry_bytes: int) -> int:
        cluster = self.card.cluster_bytes
        if entry_bytes <= 0 and folder:
            return 0
        if folder:                                     # a folder takes at least one cluster
            return max(cluster, cluster_rounded_size(entry_bytes, cluster))
        if self.card.filesystem == "fat16":            # FAT16 root: a fixed area, not clusters
            return 0
        # The root's first cluster is allocated by formatting, so free space already excludes it.
        return max(0, cluster_rounded_size(entry_bytes, cluster) - cluster)


def card_cost(files: dict[str, int], card: CardType) -> int:
    """Bytes `files` ({relpath: size}) take on `card`: files and folders in whole clusters."""
    tally = CardTally(card)
    tally.add(files)
    return tally.total


# --------------------------------------------------------------------------- names

def fat_name_problems(name: str, filesystem: str = "fat32") -> list[str]:
    """Why `name` (one file or folder name) cannot be used on a card; empty if it can.

    The rules are those of FAT long names plus Windows' reserved device names (a card is
    often copied on a PC) and NFC (macOS writes decomposed Hangul that players show as jamo).
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
                  max_units: int = SAFE_NAME_UNITS, fallback: str | None = None) -> str:
    """A file name every FAT reader accepts, made from a manifest title.

    "바다 이야기 1화", "mp4" -> "바다 이야기 1화.mp4" (ascii_only: "bada iyagi 1hwa.mp4").
    Forbidden and control characters become spaces, runs of spaces collapse, leading and
    trailing dots and spaces go, reserved device names get a "_", the name is capped at
    `max_units` UTF-16 units. Never empty: an empty result becomes `fallback` or an id
    derived from the title.
    """
    suffix = _clean_ext(ext)
    base = _clean_text(title, ascii_only)
    if not base and fallback is not None:
        base = _clean_text(fallback, ascii_only)
    if not base:
        base = "item-" + hashlib.sha256(title.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    base = _truncate_units(base, max(1, max_units - utf16_units(suffix))).rstrip(". ")
    if _is_reserved(base + suffix):
        first, dot, rest = base.partition(".")
        base = first.rstrip(" ") + "_" + dot + rest
    return base + suffix


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


def _truncate_units(text: str, limit: int) -> str:
    out, used = [], 0
    for ch in text:
        used += utf16_units(ch)
        if used > limit:
            break
        out.append(ch)
    return "".join(out)


# Revised Romanization of Korean, letter by letter (no sound-change rules: a file name only
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
