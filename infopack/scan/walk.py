"""Which files a scan looks at, and the files and folders operating systems leave behind."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from infopack.checks import ERROR, Finding
from infopack.scan.messages import unreadable
from infopack.scan.scan_strings import scan_data


@dataclass(frozen=True)
class ScanTarget:
    path: str
    problem: Finding | None = None     # set when the path itself is the finding


def iter_scan_targets(paths: list[str]) -> Iterator[ScanTarget]:
    """Files to scan, in the order given; each folder's files sorted by path.

    Symlinked folders are not followed (no loops). Folders that only an operating
    system leaves behind (`.Spotlight-V100`, ...) are reported, not entered.
    """
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path)
        elif os.path.lexists(path):
            yield ScanTarget(path)
        else:
            yield ScanTarget(path, unreadable(path, "no such file or folder"))


def _walk(root: str) -> list[ScanTarget]:
    """Every file under `root`, sorted by path components ("a/z" before "b", "b" before "c/a")."""
    found: list[tuple[tuple[str, ...], ScanTarget]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in list(dirnames):
            residue = residue_description(name)
            if residue:
                dirnames.remove(name)
                full = os.path.join(dirpath, name)
                found.append((_parts(full, root), ScanTarget(full, Finding(
                    "os-residue", ERROR, full, f"{residue}; remove the whole folder"))))
        found += [(_parts(os.path.join(dirpath, n), root), ScanTarget(os.path.join(dirpath, n)))
                  for n in filenames]
    return [target for _, target in sorted(found, key=lambda item: item[0])]


def _parts(path: str, root: str) -> tuple[str, ...]:
    return Path(os.path.relpath(path, root)).parts


def residue_findings(name: str, where: str) -> list[Finding]:
    """An `os-residue` finding when a file's name is one an operating system leaves behind."""
    residue = residue_description(name)
    return [Finding("os-residue", ERROR, where, f"{residue}; delete it")] if residue else []


def residue_description(name: str) -> str | None:
    for glob, description in scan_data().file_names:
        if fnmatch.fnmatchcase(name, glob):
            return description
    return None
