"""Card classes (data/cards.toml) and measured card types (~/.config/infopack/cards/).

A measured card type records a real card of a batch, see `measure_card`.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from infopack.data import DATA_DIR
from infopack.errors import InfopackError, UsageError

FILESYSTEMS = ("fat32", "fat16", "exfat")
BYTES_PER_GB = 10**9
FAT32_MIN_CLUSTERS = 65525          # fewer clusters than this is FAT16 by definition
CATALOG_PATH = DATA_DIR / "cards.toml"
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
