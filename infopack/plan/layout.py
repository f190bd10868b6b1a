"""Where each output goes on the card: folders by kind or series, names from titles.

A kind's folder is data/layout.toml's name for it (curators tune these), else the kind's
own `card_folder`.

Names come from the manifest titles (NFC, FAT-safe), never from source file names.
Episodes are zero-padded so alphabetical order is playback order, and a video's
sidecar subtitle sits beside it with the same base name.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources

from infopack.fat.names import safe_filename
from infopack.kinds import REGISTRY
from infopack.manifest import Item


PART_ROLE = re.compile(r"^(?:part|sidecar)-(\d+)$")      # a split video's parts (infopack.kinds.split)


def _layout() -> dict:
    return tomllib.loads(resources.files("infopack").joinpath("data/layout.toml").read_text("utf-8"))


def _name(stem: str, role: str, ext: str, part_name: str) -> str:
    """`stem` + ext, or for part roles the layout's part name ("Title - 01"): sorts in playback order."""
    match = PART_ROLE.match(role)
    if match:
        stem = part_name.format(title=stem, part=match.group(1))
    return f"{stem}{ext}"


def card_paths(items: list[tuple[Item, str, dict[str, str]]], ascii_only: bool) -> dict[str, dict[str, str]]:
    """Assign card paths.

    `items`: (item, kind, {role: extension}) in manifest order.
    Returns {item_id: {role: relpath}}; unique case-insensitively within each folder.
    """
    layout = _layout()
    folders = layout["folders_ascii" if ascii_only else "folders"]
    part_name = layout["parts"]["name"]
    widths: dict[str, int] = {}
    for item, _, _ in items:
        if item.group and item.episode is not None:
            widths[item.group] = max(widths.get(item.group, 2), len(str(item.episode)))
    taken: set[str] = set()
    result: dict[str, dict[str, str]] = {}
    for item, kind, roles in items:
        if item.group:
            folder = safe_filename(item.group, "", ascii_only)
        else:
            folder = folders.get(kind) or _own_folder(kind, ascii_only)
        title = item.title
        if item.group and item.episode is not None:
            title = f"{item.episode:0{widths[item.group]}d} {title}"
        stem = safe_filename(title, "", ascii_only)
        candidate, n = stem, 1
        while any(f"{folder}/{_name(candidate, role, ext, part_name)}".casefold() in taken
                  for role, ext in roles.items()):
            n += 1
            candidate = f"{stem} ({n})"
        paths = {role: f"{folder}/{_name(candidate, role, ext, part_name)}" for role, ext in roles.items()}
        taken.update(p.casefold() for p in paths.values())
        result[item.id] = paths
    return result


def _own_folder(kind_name: str, ascii_only: bool) -> str:
    kind = REGISTRY.kind_named(kind_name)
    return kind.card_folder_ascii if ascii_only else kind.card_folder
