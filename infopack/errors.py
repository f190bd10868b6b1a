"""Errors meant for people: one line naming the file, the problem and what to do."""

from __future__ import annotations

import os


class InfopackError(Exception):
    """A problem with the user's input or environment, shown as one line (no traceback).

    `path` is the file the problem is about (or None), `problem` says what is wrong and,
    where useful, what to do.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(self.line())

    def line(self) -> str:
        return f"{self.path}: {self.problem}" if self.path else self.problem


class UsageError(InfopackError):
    """Bad arguments or bad input files: the command exits with 2."""


class CheckFailed(InfopackError):
    """A verification or validation check failed: the command exits with 1."""
