"""How the scanner words what it found: values quoted safely, files it could not read."""

from __future__ import annotations

from infopack.checks import ERROR, Finding

MAX_SHOWN_VALUE = 80       # characters of a tag value quoted in a message


def unreadable(where: str, problem: str) -> Finding:
    return Finding("scan-unreadable", ERROR, where,
                   f"{problem}; it could not be checked, so treat it as not clean")


def shown(value, limit: int = MAX_SHOWN_VALUE) -> str:
    """A tag value quoted for a message: printable, one line, bounded length."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = "".join(ch if ch.isprintable() else "." for ch in str(value).strip("\x00 "))
    return repr(text if len(text) <= limit else text[:limit] + "…")
