"""`infopack review export`: the review app as one HTML file, for a reviewer without Python.

Self-contained: inline CSS and script, thumbnails as data: URIs, subtitles as cues in
the page. The video is referenced by its path relative to the HTML file (embedding a
film would make the file hundreds of MB), so it plays when the page sits in the bundle
folder; the transcript, thumbnails and decisions work anywhere. Decisions are kept in
the browser and downloaded as JSON for `infopack review import`.
"""

from __future__ import annotations

from pathlib import Path

from infopack.errors import UsageError
from infopack.review import decisions as dec
from infopack.review.model import load_bundle
from infopack.review.render import EXPORT, inline_thumbs, relative_url, render_page, write_page
from infopack.review.thumbs import ThumbCache


def write_export_html(out: Path, target: Path, *, lang: str = "ko", reviewer: str = dec.ANONYMOUS) -> Path:
    out, target = Path(out), Path(target)
    if not target.parent.is_dir():
        raise UsageError(target.parent, "no such folder for the exported page")
    view = load_bundle(out)
    page_dir = target.resolve().parent
    html = render_page(view, mode=EXPORT, lang=lang, reviewer=reviewer,
                       thumb=inline_thumbs(ThumbCache(dec.reviews_dir(out) / ".thumbs")),
                       decisions=dec.load_decisions(out, reviewer),
                       media_src=lambda item: relative_url(item.main.absolute.resolve(), page_dir)
                       if item.main is not None and item.kind_handler.player else None)
    return write_page(target, html)
