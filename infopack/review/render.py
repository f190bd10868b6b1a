"""One HTML page, three uses: the served review app, the offline export and report.html.

Strings come from the message catalogues (infopack/web/review/messages/<lang>.toml);
CSS and JS are inlined from the package, so no page ever asks anything of the network.
Everything is sorted and free of timestamps, so the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import json
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from infopack.errors import UsageError
from infopack.notes import finding_text, localise
from infopack.review import decisions as dec
from infopack.review.model import BundleView, ItemView, scan_item
from infopack.review.reading import reading_context
from infopack.review.status import STATES

WEB_DIR = Path(__file__).resolve().parent.parent / "web" / "review"
LANGUAGES = ("ko", "en")
SERVE, EXPORT, REPORT = "serve", "export", "report"
# Strings the script needs at run time (everything else is rendered into the page).
SCRIPT_MESSAGES = ("saved", "save_failed", "undecided", "approve", "changes", "reject", "summary",
                   "sign_off_confirm", "sign_off_done", "sign_off_failed", "transcript", "withdraw_confirm",
                   "withdraw_done", "withdraw_failed", "glossary_confirmed", "glossary_rejected", "glossary_open",
                   "glossary_saved_signed", "glossary_saved_unsigned", "summary_signed",
                   *(f"state_{state.replace('-', '_')}" for state in STATES))

ThumbSource = Callable[[ItemView, str], "str | None"]     # (item, "poster"|"sheet") -> src or None


@lru_cache(maxsize=None)
def messages(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise UsageError(None, f"unknown interface language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    path = WEB_DIR / "messages" / f"{lang}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


class Catalogue:
    """Messages by attribute for the templates, so `m.items` is the message "items", never dict.items."""

    def __init__(self, strings: dict[str, str]):
        self._strings = strings

    def __getattr__(self, key: str) -> str:
        try:
            return self._strings[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> str:
        return self._strings[key]


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    return Environment(loader=FileSystemLoader(str(WEB_DIR / "templates")), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def asset(name: str) -> str:
    return (WEB_DIR / "templates" / name).read_text(encoding="utf-8")


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def data_uri(png: bytes | None) -> str | None:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii") if png else None


def item_context(item: ItemView, m: dict, *, thumb: ThumbSource, media_src: str | None,
                 track_src: str | None, sheets: bool = True, scans: dict | None = None,
                 proxy: bool = False) -> dict:
    """One item's view in the catalogue's language; `sheets` False (report.html) skips contact sheets,
    12 frame grabs per video; `proxy`: `media_src` is a review copy of the card file."""
    lang = m["lang"]
    mode = item.subtitle_mode
    kind = item.kind_handler
    mode_label = m["mode_burn"] if mode == "burn" else " + ".join(
        m[f"mode_{part}"] for part in mode.split("+") if f"mode_{part}" in m) or m["mode_none"]
    subs = item.subtitles or {}
    fixes = subs.get("fixes", [])
    return {
        "id": item.id, "title": item.title, "kind": item.kind, "kind_label": m.get(f"kind_{item.kind}", item.kind),
        "card_id": item.card_id, "size_text": human_size(item.size), "profile": item.profile,
        "duration_text": clock(item.duration) if item.duration > 0 else "",
        "player": kind.player, "subtitled": kind.subtitled, "proxy": proxy,
        "mode_label": mode_label, "burn": kind.subtitled and mode == "burn" and delivered(subs),
        "subtitle_source": subs.get("subtitle_source") or "",
        "subtitle_choice": localise(subs["subtitle_choice"], lang) if subs.get("subtitle_choice") else "",
        "no_subtitles": localise(subs.get("missing_message") or "", lang) if subs.get("subtitles_missing") else "",
        "files": [{"path": f.path, "size_text": human_size(f.size)} for f in item.files],
        "poster_src": thumb(item, "poster"),
        "sheet_src": thumb(item, "sheet") if "sheet" in kind.thumbnails and sheets else None,
        "media_src": media_src, "track_src": track_src,
        "transcript_source": item.transcript_source,
        "transcript": [{"start": c.start_ms / 1000, "end": c.end_ms / 1000, "time": clock(c.start_ms / 1000),
                        "flags": [localise(flag, lang) for flag in c.flags],
                        "segments": [(text, term and {"title": m["flag_sk"].format(sk=term["sk"], nk=term["nk"]),
                                                      "sk": term["sk"], "nk": term["nk"]})
                                     for text, term in c.segments]}
                       for c in item.transcript],
        "glossary": glossary_terms(item),
        "removed": [{"text": r["text"], "line": localise(r["note"], lang)} for r in item.removed],
        "fixes": [localise(f, lang) for f in fixes],
        "glossary_changes": [localise(f, lang) for f in fixes
                             if isinstance(f, dict) and str(f.get("code", "")).startswith("glossary-applied")],
        "warnings": [localise(w, lang) for w in subs.get("warnings", [])],
        "scan": [{"check": f.get("check", ""), "path": f.get("path", ""), "text": finding_text(f, lang),
                  "level": m.get(f"level_{f.get('level')}", f.get("level", ""))} for f in scan_item(item, scans)],
        "reading": reading_context(item, m, thumb=thumb, only_flagged=not sheets),
    }


def delivered(subs: dict) -> bool:
    """The build's subtitle report says subtitles reached the card (older reports name no source)."""
    return bool(subs) and subs.get("subtitle_source", "") is not None and not subs.get("empty")


def glossary_terms(item: ItemView) -> list[dict]:
    """The glossary entries flagged in an item's transcript, once each, with how often."""
    found: dict[tuple[str, str], dict] = {}
    for cue in item.transcript:
        for term in cue.terms:
            entry = found.setdefault((term["sk"], term["nk"]), {"sk": term["sk"], "nk": term["nk"],
                                                                "note": term["note"], "count": 0})
            entry["count"] += 1
    return list(found.values())


def render_page(view: BundleView, *, mode: str, lang: str, thumb: ThumbSource,
                media_src: Callable[[ItemView], str | None] = lambda item: None,
                track_src: Callable[[ItemView], str | None] = lambda item: None,
                reviewer: str = dec.ANONYMOUS, decisions: dict | None = None, token: str = "",
                can_sign: bool = False, scans: dict | None = None, signed: set[str] | None = None,
                glossary: dict[tuple[str, str], str] | None = None,
                proxied: frozenset[str] = frozenset()) -> str:
    """The page; `signed`: items the reviewer's valid approval signatures cover (None: unknown, not
    shown); `glossary`: the reviewer's glossary decisions; `proxied`: items played from a review copy."""
    m = messages(lang)
    # report.html is written by every build: posters only, so it costs the build ~1% (docs/benchmarks.md)
    items = [item_context(i, m, thumb=thumb, media_src=media_src(i), track_src=track_src(i), sheets=mode != REPORT,
                          scans=scans, proxy=i.id in proxied)
             for i in view.items]
    cards = [{"id": c.id, "count": len(c.items), "fill_percent": c.fill_percent, "bar": min(100.0, max(c.fill_percent, 0.0)),
              "used_text": human_size(c.used_bytes), "usable_text": human_size(c.usable_bytes)} for c in view.cards]
    state = {
        "mode": mode, "token": token, "format": dec.FORMAT, "reviewer": reviewer,
        "bundle": {"id": view.bundle.get("id"), "version": view.bundle.get("version")},
        "decisions": {k: v.to_dict() for k, v in sorted((decisions or {}).items())},
        "items": [i.id for i in view.items],
        "titles": {i.id: i.title for i in view.items},
        "signed": None if signed is None else sorted(signed),
        "glossary": {f"{sk}\t{nk}": decision for (sk, nk), decision in sorted((glossary or {}).items())},
        "messages": {k: m[k] for k in SCRIPT_MESSAGES},
        "storage_key": f"infopack-review:{view.bundle.get('id')}:{view.bundle.get('version')}:{reviewer}",
        "cues": {i.id: [[c.start_ms / 1000, c.end_ms / 1000, c.text] for c in i.transcript]
                 for i in view.items if mode == EXPORT and i.transcript},
    }
    title = {SERVE: m["app_title"], EXPORT: m["export_title"], REPORT: m["report_title"]}[mode]
    return _environment().get_template("page.html.j2").render(
        m=Catalogue(m), lang=lang, mode=mode, page_title=title, bundle=view.bundle, profile=view.profile, cards=cards,
        left_out=view.left_out, items=items, css=asset("review.css"), js=asset("review.js"),
        reviewer_label=m["anonymous"] if reviewer == dec.ANONYMOUS else reviewer, can_sign=can_sign,
        can_decide_glossary=mode == SERVE and reviewer != dec.ANONYMOUS, shows_signatures=signed is not None,
        state_json=script_json(state))


def script_json(value) -> str:
    """JSON safe inside <script>: no '</script>' or '<!--' can end the block early."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def relative_url(target: Path, page_dir: Path) -> str:
    """A URL from the page's folder to a card file (for the export's <video>)."""
    return quote(Path(os.path.relpath(target, page_dir)).as_posix())



def inline_thumbs(cache) -> ThumbSource:
    """Thumbnails as data: URIs, for pages that must stand alone (export, report.html)."""
    def thumb(item: ItemView, what: str) -> str | None:
        main = item.main
        if main is None:
            return None
        return data_uri(cache.get(item.kind_handler, main.absolute, main.sha256, item.duration, what))
    return thumb


def write_page(target: Path, html: str) -> Path:
    """Write beside the target and rename, so a half-written page never replaces a whole one."""
    tmp = target.with_name("." + target.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, target)
    return target
