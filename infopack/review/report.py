"""`report.html`: the build report as an offline, read-only page beside report.json.

The build calls `write_report_html(staging)` just before publishing. The page is
self-contained (inline CSS, thumbnails as data: URIs, no video, no script) and
deterministic: the same build gives the same bytes.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from infopack.release.outdir import OutDir
from infopack.review.model import BundleView, load_bundle
from infopack.review.render import REPORT, ThumbSource, data_uri, render_page, write_page
from infopack.review.thumbs import ThumbCache


def write_report_html(folder: Path, *, lang: str = "ko", thumb_dir: Path | None = None,
                      scans: dict[tuple[str, str], list[dict]] | None = None) -> Path:
    """Write folder/report.html from folder/report.json and the card folders.

    `thumb_dir` keeps thumbnails by file hash between builds (the build passes a folder of
    its encode cache, never one inside OUT: nothing but report.html may appear there).
    `scans` ((card, path) -> findings) are the build's own scan results, so the files are not
    scanned twice; without them each file is scanned here.
    """
    folder = Path(folder)
    view = load_bundle(folder)
    html = render_page(view, mode=REPORT, lang=lang, thumb=posters_side_by_side(view, ThumbCache(thumb_dir)),
                       scans=scans)
    return write_page(OutDir(folder).report_html_path, html)


def posters_side_by_side(view: BundleView, cache: ThumbCache) -> ThumbSource:
    """Every item's poster, grabbed on all cores at once (the report is the build's last step)."""
    items = [item for item in view.items if item.main]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pngs = dict(zip([item.id for item in items], pool.map(
            lambda item: cache.get(item.kind_handler, item.main.absolute, item.main.sha256, item.duration, "poster"),
            items)))
    return lambda item, what: data_uri(pngs.get(item.id)) if what == "poster" else None
