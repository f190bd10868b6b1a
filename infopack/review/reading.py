"""The review's reading block: a document's first pages as a picture, its text with the
South Korean words marked, and what the build removed from it.

report.html shows only the flagged paragraphs (a book is long, and the page is written
by every build); the review app and its export show the whole text.
"""

from __future__ import annotations

from typing import Callable

from infopack.review.model import ItemView


def reading_context(item: ItemView, m: dict, *, thumb: Callable[[ItemView, str], "str | None"],
                    only_flagged: bool) -> dict | None:
    """What the template's reading block shows of `item`; None for items with nothing to read."""
    if not item.reading and not item.report:
        return None
    main = item.main
    report = item.report or {}
    shown = [p for p in item.reading if p.terms] if only_flagged else item.reading
    return {
        "pages_src": thumb(item, "pages") if main and "pages" in item.kind_handler.thumbnails_for(main.absolute)
        else None,
        "count": len(item.reading),
        "flagged": sum(1 for p in item.reading if p.terms),
        "only_flagged": only_flagged,
        "paragraphs": [{"number": p.number, "flagged": bool(p.terms),
                        "segments": [(text, term and {"title": m["flag_sk"].format(sk=term["sk"], nk=term["nk"])})
                                     for text, term in p.segments]}
                       for p in shown],
        "removals": report.get("removals", []),
        "replaced": report.get("replaced", []),
    }
