"""Where each output goes on the card: folders by kind or series, names from titles.

A kind's folder is data/layout.toml's name for it (curators tune these), else the kind's
own `card_folder`.

Names come from the manifest titles (NFC, FAT-safe), never from source file names.
Episodes are zero-padded so alphabetical order is playback order, and a video's
sidecar subtitle sits beside it with the same base name.

A long title is cut at a character boundary so that each name, with everything the
layout appends to it (a part name, " (2)", the extension), keeps within Linux's 255 bytes
and FAT's 255 UTF-16 units, and each path within `MAX_PATH_UNITS`. Cut names stay
unique: two long series titles that share their beginning get two folders ("... (2)"),
never one. Every cut is reported (`CardLayout.shortened`: a plan warning, a line in
report.json).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources

from infopack.fat.cost import utf16_units
from infopack.fat.names import MAX_NAME_BYTES, MAX_NAME_UNITS, MAX_PATH_UNITS, SAFE_NAME_UNITS, shortened_filename
from infopack.kinds import REGISTRY
from infopack.manifest import Item

PART_ROLE = re.compile(r"^(?:part|sidecar)-(\d+)$")      # a split video's parts (infopack.kinds.split)


@dataclass(frozen=True)
class CardLayout:
    paths: dict[str, dict[str, str]]         # item id -> role -> card path
    shortened: dict[str, list[str]]          # item id -> one line per name cut to fit (only items with cuts)


def _layout() -> dict:
    return tomllib.loads(resources.files("infopack").joinpath("data/layout.toml").read_text("utf-8"))


def _name(stem: str, role: str, ext: str, part_name: str) -> str:
    """`stem` + ext, or for part roles the layout's part name ("Title - 01"): sorts in playback order."""
    match = PART_ROLE.match(role)
    if match:
        stem = part_name.format(title=stem, part=match.group(1))
    return f"{stem}{ext}"


def card_paths(items: list[tuple[Item, str, dict[str, str]]], ascii_only: bool) -> dict[str, dict[str, str]]:
    """{item_id: {role: relpath}} (see `card_layout`)."""
    return card_layout(items, ascii_only).paths


def card_layout(items: list[tuple[Item, str, dict[str, str]]], ascii_only: bool) -> CardLayout:
    """Assign card paths.

    `items`: (item, kind, {role: extension}) in manifest order. Paths are unique
    case-insensitively within each folder; each series (`group`) gets its own folder.
    """
    layout = _layout()
    folders = layout["folders_ascii" if ascii_only else "folders"]
    part_name = layout["parts"]["name"]
    widths: dict[str, int] = {}
    for item, _, _ in items:
        if item.group and item.episode is not None:
            widths[item.group] = max(widths.get(item.group, 2), len(str(item.episode)))
    group_folders = _group_folders([item.group for item, _, _ in items if item.group], ascii_only)
    taken: set[str] = set()
    paths: dict[str, dict[str, str]] = {}
    shortened: dict[str, list[str]] = {}
    for item, kind, roles in items:
        notes = []
        if item.group:
            folder, cut = group_folders[item.group]
            if cut:
                notes.append(f"series folder {item.group!r} shortened to {folder!r}")
        else:
            folder = folders.get(kind) or _own_folder(kind, ascii_only)
        title = item.title
        if item.group and item.episode is not None:
            title = f"{item.episode:0{widths[item.group]}d} {title}"
        n = 1
        while True:
            dup = f" ({n})" if n > 1 else ""
            base, cut = _stem(title, dup, roles, folder, part_name, ascii_only)
            names = [_name(base + dup, role, ext, part_name) for role, ext in roles.items()]
            if not any(f"{folder}/{name}".casefold() in taken for name in names):
                break
            n += 1
        stem = base + dup
        if cut:
            notes.append(f"file name {title!r} shortened to {base!r}")
        item_paths = {role: f"{folder}/{_name(stem, role, ext, part_name)}" for role, ext in roles.items()}
        taken.update(p.casefold() for p in item_paths.values())
        paths[item.id] = item_paths
        if notes:
            shortened[item.id] = [note + " to fit the card's name and path limits" for note in notes]
    return CardLayout(paths, shortened)


def _stem(title: str, dup: str, roles: dict[str, str], folder: str, part_name: str,
          ascii_only: bool) -> tuple[str, bool]:
    """The title as a file name stem with room for `dup` and what each role appends, and
    whether it was cut."""
    appended = [_name(dup, role, ext, part_name) for role, ext in roles.items()] or [dup]
    room_units = max(map(utf16_units, appended))
    units = min(SAFE_NAME_UNITS, MAX_NAME_UNITS - room_units, MAX_PATH_UNITS - utf16_units(folder) - 1 - room_units)
    return shortened_filename(title, "", ascii_only, max_units=units,
                              max_bytes=MAX_NAME_BYTES - max(len(a.encode("utf-8")) for a in appended))


def _group_folders(groups: list[str], ascii_only: bool) -> dict[str, tuple[str, bool]]:
    """Each series' folder name, and whether it was cut. Series whose names differ get
    different folders: one whose (cut) name is taken gets " (2)", " (3)", ..."""
    result: dict[str, tuple[str, bool]] = {}
    owners: dict[str, str] = {}                 # folded folder name -> the folded series it holds
    for group in dict.fromkeys(groups):
        key = unicodedata.normalize("NFC", group).casefold()
        n = 1
        while True:
            dup = f" ({n})" if n > 1 else ""
            base, cut = shortened_filename(group, "", ascii_only, max_units=SAFE_NAME_UNITS - len(dup),
                                           max_bytes=MAX_NAME_BYTES - len(dup))
            if owners.setdefault((base + dup).casefold(), key) == key:
                break
            n += 1
        result[group] = (base + dup, cut)
    return result


def _own_folder(kind_name: str, ascii_only: bool) -> str:
    kind = REGISTRY.kind_named(kind_name)
    return kind.card_folder_ascii if ascii_only else kind.card_folder
