"""`report.html`: the build report as an offline, read-only page beside report.json.

The build calls `write_report_html(staging)` just before publishing. The page is
self-contained (inline CSS, thumbnails as data: URIs, no video, no script) and
deterministic: the same build gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from infopack.review.model import load_bundle
from infopack.review.render import REPORT, inline_thumbs, render_page, write_page
from infopack.review.thumbs import ThumbCache

REPORT_HTML = "report.html"


def write_report_html(folder: Path, *, lang: str = "ko", thumb_dir: Path | None = None) -> Path:
    """Write folder/report.html from folder/report.json and the card folders.

    `thumb_dir` keeps thumbnails by file hash between builds (the build passes a folder of
    its encode cache, never one inside OUT: nothing but report.html may appear there).
    """
    folder = Path(folder)
    view = load_bundle(folder)
    html = render_page(view, mode=REPORT, lang=lang, thumb=inline_thumbs(ThumbCache(thumb_dir)))
    return write_page(folder / REPORT_HTML, html)
