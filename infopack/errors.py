"""Errors meant for people: one line naming the file, the problem and what to do."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator


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


@contextmanager
def naming_instead(folder: str | os.PathLike, subject: str | os.PathLike) -> Iterator[None]:
    """Errors raised inside name `subject` (what the curator gave) instead of any file in `folder`.

    A build works in a staging folder that is deleted when it stops: a message naming a
    file there points at nothing and tells the curator nothing. Paths into the folder
    left in the text are shortened to the part inside it.
    """
    try:
        yield
    except InfopackError as exc:
        prefix = os.fspath(folder).rstrip(os.sep) + os.sep
        inside = exc.path is not None and (exc.path + os.sep).startswith(prefix)
        if not inside and prefix not in exc.problem:
            raise
        raise type(exc)(subject if inside else exc.path, exc.problem.replace(prefix, "")) from None
