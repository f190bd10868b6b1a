"""The registry of named checks, and the findings that come from them.

Every check a finding can carry is declared once in `data/checks.toml` (as Kiwix's zimcheck
declares its tests): a stable name, the levels it may be reported at, what it means and
what to do. A `Finding` of an undeclared check, or at a level its check does not allow,
raises ValueError, so a misspelt name fails the first test that reaches it. One `Finding`
feeds the table a person reads, the JSON a script reads and the exit code; the docs'
check tables are rendered from the registry (`checks_table`).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from infopack.data import DATA_DIR
from infopack.errors import InfopackError

ERROR = "error"
WARNING = "warning"
INFO = "info"
LEVELS = (ERROR, WARNING, INFO)

CHECKS_FILE = DATA_DIR / "checks.toml"


@dataclass(frozen=True)
class Check:
    name: str
    area: str
    levels: tuple[str, ...]     # the levels it may be reported at, the usual one first
    meaning: str
    action: str
    reserved: str = ""          # why it is declared although no code reports it yet

    @property
    def default_level(self) -> str:
        return self.levels[0]


def load_checks(path: Path = CHECKS_FILE) -> dict[str, Check]:
    """The declared checks by name, in the file's order; one clear line if the file is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InfopackError(path, f"cannot read the check registry: {exc}") from None
    areas = raw.get("areas", [])
    checks = {}
    for name, entry in raw.get("check", {}).items():
        try:
            check = Check(name, entry["area"], tuple(entry["levels"]), entry["meaning"], entry["action"],
                          entry.get("reserved", ""))
        except (KeyError, TypeError) as exc:
            raise InfopackError(path, f"[check.{name}] needs area, levels, meaning and action ({exc})") from None
        if check.area not in areas:
            raise InfopackError(path, f"[check.{name}]: area {check.area!r} is not one of `areas`")
        if not check.levels or not set(check.levels) <= set(LEVELS) or len(set(check.levels)) < len(check.levels):
            raise InfopackError(path, f"[check.{name}]: levels must be some of {', '.join(LEVELS)}, each once")
        checks[name] = check
    return checks


CHECKS: dict[str, Check] = load_checks()


def declaration_problem(check: str, level: str) -> str | None:
    """Why a finding of `check` at `level` cannot be made, or None when the registry allows it."""
    declared = CHECKS.get(check)
    if declared is None:
        return f"check {check!r} is not declared in {CHECKS_FILE.name}"
    if level not in declared.levels:
        return f"check {check!r} is declared at level(s) {' or '.join(declared.levels)}, not {level!r}"
    return None


@dataclass(frozen=True)
class Finding:
    check: str      # a declared check's name, e.g. "hash-mismatch", "meta-gps"
    level: str      # ERROR, WARNING or INFO, one its check allows
    path: str       # the file it is about ("" for the whole card/bundle)
    message: str    # one readable sentence

    def __post_init__(self):
        problem = declaration_problem(self.check, self.level)
        if problem:
            raise ValueError(problem)

    def to_dict(self) -> dict:
        return asdict(self)


def has_errors(findings) -> bool:
    return any(f.level == ERROR for f in findings)


def checks_table(checks: Iterable[Check]) -> str:
    """The checks as a Markdown table (the docs' tables are made with it)."""
    rows = ["| check | level | what it means | what to do |", "|---|---|---|---|"]
    rows += [f"| `{c.name}` | {' or '.join(c.levels)} | {c.meaning} | {c.action} |" for c in checks]
    return "\n".join(rows) + "\n"
