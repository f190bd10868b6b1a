"""What a cleaner removed, counted, in the order first seen: one line per kind of thing."""

from __future__ import annotations

from collections import Counter


class RemovalLog:
    def __init__(self):
        self.counts: Counter[str] = Counter()

    def add(self, what: str, times: int = 1) -> None:
        if times:
            self.counts[what] += times

    def lines(self) -> tuple[str, ...]:
        """'thumbnail removed', 'annotation Text removed (x3)', ..."""
        return tuple(what if n == 1 else f"{what} (x{n})" for what, n in self.counts.items())


def shorten(value: str, limit: int = 60) -> str:
    """A value quoted in a report line: one line, at most `limit` characters."""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit - 1] + "…"
