"""What a reviewer sees of a build folder: items, their card files, transcript and scan.

Read from OUT/report.json (what the build recorded) and the signed card manifests (the
only list of files that may ever be served). Nothing here writes to OUT.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from infopack.errors import InfopackError, UsageError
from infopack.release.card_manifest import CardManifest, CardManifestError
from infopack.release.outdir import OutDir
from infopack.kinds import REGISTRY, Kind
from infopack.notes import Note
from infopack.profiles import load_profile
from infopack.scan import scan_file
from infopack.subtitles import read_subtitles, to_vtt
from infopack.subtitles.lint import find_terms, lint, load_glossary
from infopack.subtitles.model import Cue, SubtitleDoc
from infopack.subtitles.readers import parse_text
from infopack.tools import ffmpeg_info, run, safe_arg

SIDECAR, SOFT, BURNED = "sidecar", "soft", "burned"      # where an item's transcript was read


@dataclass(frozen=True)
class CardFile:
    card_id: str
    path: str              # relative to the card folder, as in the manifest
    size: int
    sha256: str
    absolute: Path

    @property
    def url_path(self) -> str:
        return f"{self.card_id}/{self.path}"


@dataclass
class TranscriptCue:
    index: int
    start_ms: int
    end_ms: int
    text: str
    terms: list[dict] = field(default_factory=list)     # {"word", "sk", "nk", "note", "start"}
    flags: list[Note] = field(default_factory=list)     # lint messages about this cue

    @property
    def segments(self) -> list[tuple[str, dict | None]]:
        return marked_segments(self.text, self.terms)


@dataclass
class Paragraph:
    """A paragraph of a document's text, with the glossary's words located."""
    number: int
    text: str
    terms: list[dict] = field(default_factory=list)     # as TranscriptCue's

    @property
    def segments(self) -> list[tuple[str, dict | None]]:
        return marked_segments(self.text, self.terms)


def marked_segments(text: str, terms: list[dict]) -> list[tuple[str, dict | None]]:
    """The text cut into plain pieces and flagged words, for highlighting."""
    pieces, pos = [], 0
    for term in sorted(terms, key=lambda t: t["start"]):
        if term["start"] < pos:
            continue
        pieces.append((text[pos:term["start"]], None))
        end = term["start"] + len(term["word"])
        pieces.append((text[term["start"]:end], term))
        pos = end
    pieces.append((text[pos:], None))
    return [(piece, term) for piece, term in pieces if piece]


@dataclass
class ItemView:
    id: str
    title: str
    kind: str
    card_id: str
    duration: float
    profile: str
    files: list[CardFile]
    roles: dict[str, str]                  # role -> card path
    subtitle_mode: str = "none"
    subtitles: dict | None = None          # the build's subtitle report
    transcript: list[TranscriptCue] = field(default_factory=list)
    transcript_source: str = ""            # SIDECAR, SOFT, BURNED (the build's record of what it drew), "" (none)
    removed: list[dict] = field(default_factory=list)    # {"note": the build's note, "text": what was removed}
    report: dict | None = None             # the kind's own report (documents: removals, lint)
    reading: list[Paragraph] = field(default_factory=list)   # the text a reviewer reads (documents)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def file(self, role: str) -> CardFile | None:
        path = self.roles.get(role)
        return next((f for f in self.files if f.path == path), None)

    @property
    def main(self) -> CardFile | None:
        return self.file("main")

    @property
    def kind_handler(self) -> Kind:
        """How its kind is presented; a kind this infopack does not know shows as plain files."""
        return REGISTRY.get(self.kind) or Kind()


@dataclass
class CardView:
    id: str
    used_bytes: int
    usable_bytes: int
    fill_percent: float
    items: list[str]


@dataclass
class BundleView:
    out: Path
    bundle: dict
    profile: str
    cards: list[CardView]
    items: list[ItemView]
    left_out: list[str]

    def item(self, item_id: str) -> ItemView | None:
        return next((i for i in self.items if i.id == item_id), None)

    def served_files(self) -> dict[str, CardFile]:
        """URL path ("card-01/영상/x.mp4") -> file, from the manifests only."""
        return {f.url_path: f for item in self.items for f in item.files}


def load_bundle(out: Path, *, transcripts: bool = True) -> BundleView:
    """The build folder as the review app shows it; one clear error if it is not one."""
    out = Path(out)
    out_dir = OutDir(out)
    report_path = out_dir.report_path
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        report_items = {i["id"]: i for i in report["items"]}
        bundle, cards_data = report["bundle"], report["cards"]
    except FileNotFoundError:
        raise UsageError(report_path, "no build report here; is this a folder made by `infopack build`?") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(report_path, f"not a readable build report ({exc})") from None
    cards, items = [], []
    for card in cards_data:
        manifest = _read_manifest(out_dir, card["id"])
        cards.append(CardView(card["id"], card["used_bytes"], card["usable_bytes"], card["fill_percent"],
                              list(card["items"])))
        entries = {e.path: e for e in manifest.files}
        card_dir = out_dir.card_dir(card["id"])
        for entry in manifest.items:
            data = report_items.get(entry.id, {})
            files = [CardFile(card["id"], p, entries[p].size, entries[p].sha256, card_dir / p)
                     for p in sorted(entry.files)]
            items.append(ItemView(
                id=entry.id, title=entry.title or entry.id, kind=entry.kind,
                card_id=card["id"], duration=float(data.get("duration") or 0.0), profile=manifest.profile,
                files=files, roles={r: p for r, p in (data.get("files") or {}).items() if p in entries},
                subtitles=data.get("subtitles"), report=data.get("report")))
    view = BundleView(out, bundle, report.get("profile", ""), cards, items, list(report.get("left_out", [])))
    modes: dict[str, str] = {}          # profile id -> subtitle mode, read once per profile
    for item in view.items:
        if item.profile not in modes:
            modes[item.profile] = _subtitle_mode(item.profile)
        item.subtitle_mode = modes[item.profile]
        item.removed = removed_texts(item.subtitles)
        if transcripts:
            load_transcript(item)
            load_reading(item)
    return view


def _read_manifest(out_dir: OutDir, card_id: str) -> CardManifest:
    path = out_dir.manifest_path(card_id)
    try:
        return CardManifest.from_bytes(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(path, "the card manifest is missing; the build folder is incomplete") from None
    except (OSError, CardManifestError) as exc:
        raise UsageError(path, f"not a readable card manifest ({exc})") from None


def _subtitle_mode(profile_id: str) -> str:
    try:
        subtitles = load_profile(profile_id).subtitles
    except InfopackError:
        return "none"
    return subtitles.mode if subtitles else "none"       # audio-only profiles carry no subtitles


def removed_texts(subtitles: dict | None) -> list[dict]:
    """Every scrub note of the build (as report.json keeps it) with the text it removed, if it names one."""
    return [{"note": note, "text": str(note.get("params", {}).get("text", "")) if isinstance(note, dict) else ""}
            for note in (subtitles or {}).get("removals", [])]


def load_transcript(item: ItemView) -> None:
    """Cues from the card's sidecar, else from the soft track, else (burned in: pixels on the card)
    the cues the build recorded when it drew them."""
    doc = None
    kind = item.kind_handler
    sidecar = next((f for f in map(item.file, kind.transcript_roles) if f is not None), None)
    burned = (item.subtitles or {}).get("burned_cues")
    if sidecar is not None:
        doc, item.transcript_source = read_subtitles(sidecar.absolute), SIDECAR
    elif kind.subtitled and item.main is not None and "soft" in item.subtitle_mode:
        text = soft_track_srt(item.main.absolute)
        if text:
            doc, item.transcript_source = parse_text(text, "soft.srt", encoding="utf-8"), SOFT
    elif kind.subtitled and isinstance(burned, list):
        doc, item.transcript_source = burned_doc(burned), BURNED
    if doc is not None:
        item.transcript = transcript_cues(doc)


def load_reading(item: ItemView) -> None:
    """The main card file's text, when its kind has text to read (documents), with the same
    vocabulary lint the build ran."""
    main = item.main
    if main is None:
        return
    entries = load_glossary()
    for number, text in enumerate(item.kind_handler.reading_text(main.absolute), start=1):
        present = set(text)
        candidates = [e for e in entries if e.sk[0] in present]    # a book is long: fewer tries
        terms = [{"word": m.word, "sk": m.entry.sk, "nk": m.entry.nk, "note": m.entry.note, "start": m.start}
                 for m in find_terms(text, candidates)]
        item.reading.append(Paragraph(number, text, terms))


def burned_doc(records: list) -> SubtitleDoc:
    """The cues report.json records for burned-in subtitles (malformed records are skipped)."""
    cues = [Cue(int(r["cue"]), int(r["start_ms"]), int(r["end_ms"]), str(r["text"]))
            for r in records if isinstance(r, dict) and {"cue", "start_ms", "end_ms", "text"} <= r.keys()]
    return SubtitleDoc(cues=cues, source="", format="srt", encoding="utf-8")


def soft_track_srt(path: Path) -> str:
    """The first subtitle track of a media file as SRT text ("" when it has none)."""
    proc = run([ffmpeg_info().ffmpeg, "-v", "error", "-i", safe_arg(path), "-map", "0:s:0?", "-f", "srt", "-"],
               timeout=60, what="ffmpeg (subtitle track)", check=False, subject=str(path))
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""


def transcript_cues(doc) -> list[TranscriptCue]:
    """Cues with the same lint the build ran: vocabulary terms located, flags per cue."""
    entries = load_glossary()
    flags: dict[int, list[Note]] = {}
    for finding in lint(doc):
        flags.setdefault(finding.message.params["cue"], []).append(finding.message)
    cues = []
    for cue in doc.cues:
        terms = [{"word": m.word, "sk": m.entry.sk, "nk": m.entry.nk, "note": m.entry.note, "start": m.start}
                 for m in find_terms(cue.text, entries)]
        cues.append(TranscriptCue(cue.index, cue.start_ms, cue.end_ms, cue.text, terms, flags.get(cue.index, [])))
    return cues


def vtt_for(item: ItemView) -> str | None:
    """WebVTT of the item's transcript, for the browser's <track> (none over burned-in subtitles)."""
    if item.transcript_source in ("", BURNED):
        return None
    cues = [Cue(c.index, c.start_ms, c.end_ms, c.text) for c in item.transcript]
    return to_vtt(SubtitleDoc(cues=cues, source="", format="srt", encoding="utf-8"))


def scan_item(item: ItemView, known: dict[tuple[str, str], list[dict]] | None = None) -> list[dict]:
    """The metadata scan QA runs (`infopack scan`), for every file of the item.

    `known` ((card, path) -> findings) are results the build already has for these bytes.
    """
    return [f for card_file in item.files
            for f in (known[(card_file.card_id, card_file.path)] if known is not None
                      and (card_file.card_id, card_file.path) in known
                      else _scan(str(card_file.absolute), card_file.path, card_file.sha256))]


@lru_cache(maxsize=4096)
def _scan(path: str, display_path: str, sha256: str) -> tuple[dict, ...]:
    """Once per file content: a reload of the page must not re-read a whole film."""
    return tuple(f.to_dict() for f in scan_file(path, display_path=display_path))
