"""`infopack review export`: the review app as one HTML file, for a reviewer without Python.

Self-contained: inline CSS and script, thumbnails as data: URIs, subtitles as cues in
the page. The video is referenced by its path relative to the HTML file (embedding a
film would make the file hundreds of MB), so it plays when the page sits in the bundle
folder; a card video no browser plays is referenced through its review copy in
`OUT/reviews/.proxies/` (made here, from the card file). The transcript, thumbnails and
decisions work anywhere. Decisions are kept in the browser and downloaded as JSON for
`infopack review import`.
"""

from __future__ import annotations

from pathlib import Path

from infopack.errors import UsageError
from infopack.release.minisign import PublicKey
from infopack.review import decisions as dec
from infopack.review.model import load_bundle
from infopack.review.proxy import PROXY_DIR, ProxyCache, browser_plays
from infopack.review.render import EXPORT, inline_thumbs, relative_url, render_page, write_page
from infopack.review.signoff import signed_items
from infopack.review.thumbs import ThumbCache


def write_export_html(out: Path, target: Path, *, lang: str = "ko", reviewer: str = dec.ANONYMOUS,
                      public_key: PublicKey | None = None) -> Path:
    """Write the page; with the reviewer's `public_key` it also shows what they have signed."""
    out, target = Path(out), Path(target)
    if not target.parent.is_dir():
        raise UsageError(target.parent, "no such folder for the exported page")
    view = load_bundle(out)
    page_dir = target.resolve().parent
    proxies = ProxyCache(dec.reviews_dir(out) / PROXY_DIR)
    playable = {item.id: item.main.absolute for item in view.items
                if item.main is not None and item.kind_handler.player}
    copies = {item.id: proxies.get(item.main, item.duration) for item in view.items
              if item.id in playable and not browser_plays(item.main)}
    playable.update({item_id: copy for item_id, copy in copies.items() if copy is not None})
    html = render_page(view, mode=EXPORT, lang=lang, reviewer=reviewer,
                       thumb=inline_thumbs(ThumbCache(dec.reviews_dir(out) / ".thumbs")),
                       decisions=dec.load_decisions(out, reviewer),
                       signed=signed_items(out, public_key) if public_key is not None else None,
                       proxied=frozenset(item_id for item_id, copy in copies.items() if copy is not None),
                       media_src=lambda item: relative_url(playable[item.id].resolve(), page_dir)
                       if item.id in playable else None)
    return write_page(target, html)
