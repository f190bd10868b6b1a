"""The scanner's QA-editable data file (`data/scan-strings.toml`): byte patterns and OS residue names."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from infopack.checks import CHECKS, ERROR, LEVELS, declaration_problem
from infopack.data import DATA_DIR
from infopack.errors import InfopackError
from infopack.scan.file_kinds import KINDS

SCAN_STRINGS_FILE = DATA_DIR / "scan-strings.toml"


@dataclass(frozen=True)
class ScanString:
    pattern: re.Pattern
    check: str
    level: str
    description: str
    kinds: frozenset


@dataclass(frozen=True)
class ScanData:
    strings: tuple[ScanString, ...]
    file_names: tuple[tuple[str, str], ...]       # (glob, description)


@lru_cache(maxsize=None)
def scan_data(path: Path = SCAN_STRINGS_FILE) -> ScanData:
    """Load and check the QA-editable data file; one clear line if it is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InfopackError(path, f"cannot read the scan patterns: {exc}") from None
    strings = tuple(_scan_string(entry, n, path) for n, entry in enumerate(raw.get("string", []), 1))
    names = tuple((e["glob"], e.get("description", "left behind by an operating system"))
                  for e in raw.get("file_name", []))
    return ScanData(strings, names)


def _scan_string(entry: dict, number: int, path: Path) -> ScanString:
    """One [[string]] entry; its check must be declared (infopack.checks), at a level it allows."""
    where = f"[[string]] entry {number}"
    try:
        check = entry["check"]
        kinds = frozenset(entry.get("kinds", KINDS))
        if entry.get("level", ERROR) not in LEVELS or not kinds <= set(KINDS):
            raise ValueError(f"level must be error/warning/info and kinds among {KINDS}")
        level = entry.get("level", CHECKS[check].default_level if check in CHECKS else ERROR)
        problem = declaration_problem(check, level)
        if problem:
            raise ValueError(problem)
        return ScanString(re.compile(entry["pattern"].encode("ascii")), check, level,
                          entry.get("description", check), kinds)
    except KeyError as exc:
        raise InfopackError(path, f"{where} has no {exc.args[0]!r}") from None
    except (ValueError, re.error, UnicodeEncodeError) as exc:
        raise InfopackError(path, f"{where}: {exc}") from None
