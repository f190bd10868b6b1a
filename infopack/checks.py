"""Findings with stable names and levels, shared by `scan`, `verify` and the build.

One `Finding` feeds the table a person reads, the JSON a script reads and the exit code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    check: str      # stable name, e.g. "hash-mismatch", "meta-gps"
    level: str      # ERROR, WARNING or INFO
    path: str       # the file it is about ("" for the whole card/bundle)
    message: str    # one readable sentence

    def to_dict(self) -> dict:
        return asdict(self)


def has_errors(findings) -> bool:
    return any(f.level == ERROR for f in findings)
