"""Image subtitle tracks (PGS, VobSub, DVB): burned into the picture, or read by OCR.

Their cues are pictures, so they cannot become text without OCR. ffmpeg turns such a
track into a video stream of transparent frames ("sub2video": one frame per change,
drawn on the track's canvas, e.g. 1920x1080 for Blu-ray PGS) that `overlay` can lay on
the picture. For text (a soft track, a sidecar), each cue's picture is handed to
tesseract, and every cue keeps tesseract's confidence so the review can check it.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageOps

from infopack.errors import InfopackError
from infopack.notes import Note
from infopack.subtitles.clean import to_nfc
from infopack.subtitles.model import Cue, SubtitleDoc
from infopack.subtitles.sources import TrackInfo, reading_timeout
from infopack.subtitles.timing import DEFAULT_DURATION_MS, format_srt_time
from infopack.tools import INSTALL_HINT, binary, ffmpeg_info, run, safe_arg

LOW_CONFIDENCE = 80.0        # tesseract's word confidence (0-100) below which a cue is flagged
SD_CANVAS_HEIGHT = 576       # DVD canvases (480/576 lines): letters ~20 px high, enlarged for tesseract
_FOREVER_MS = 24 * 3_600_000  # PGS leaves end_display_time at UINT32_MAX: "until the next one"


def burn_in_filter(track_position: int, *, video_size: tuple[int, int], output_size: tuple[int, int],
                   canvas: tuple[int, int] | None = None, main: str = "main", out: str = "burned",
                   input_index: int = 0) -> str:
    """The filter graph piece laying subtitle track `0:s:POSITION` over the labelled `[main]` video.

    Order matters: `[main]` is the finished picture (deinterlaced, tone-mapped, scaled to
    `output_size`), and the subtitle canvas is scaled by the same factors as the video
    before the overlay. Overlaying a 1920x1080 PGS canvas onto an 854x480 picture without
    scaling it puts the cues (near the canvas bottom) outside the picture: they vanish.
    Scaling after the overlay would blend the subtitles into 10-bit/HDR pixels before tone
    mapping and cost an overlay at the source size.

    The canvas is centred horizontally and bottom-aligned: when it is taller than the
    video (a cropped 1920x800 film with 1920x1080 PGS, cues in the letterbox), the
    dialogue at its bottom lands at the bottom of the picture instead of below it.
    `eof_action=pass`: after the last cue the picture goes on alone.
    """
    video_w, video_h = video_size
    out_w, out_h = output_size
    canvas_w, canvas_h = canvas if canvas and canvas[0] > 0 and canvas[1] > 0 else video_size
    sub_w = max(2, round(canvas_w * out_w / video_w))
    sub_h = max(2, round(canvas_h * out_h / video_h))
    return (f"[{input_index}:s:{track_position}]scale={sub_w}:{sub_h}:flags=bicubic[subs_{out}];"
            f"[{main}][subs_{out}]overlay=x=(W-w)/2:y=H-h:eof_action=pass[{out}]")


def burn_in_graph(video_chain: list[str], track: TrackInfo, *, video_size: tuple[int, int],
                  output_size: tuple[int, int], pix_fmt: str = "yuv420p") -> tuple[str, str]:
    """A whole `-filter_complex` for an encode that burns in an image track, and its output label.

    `video_chain` is the encode's own `-vf` chain (deinterlace, tone map, scale to
    `output_size`, fps, format); the subtitles go on last, then the pixel format is set
    again (overlay may hand on another). Use: `-filter_complex GRAPH -map [LABEL]` in
    place of `-vf CHAIN -map 0:V:0`.
    """
    chain = ",".join(video_chain) if video_chain else "null"
    graph = (f"[0:V:0]{chain}[main];"
             + burn_in_filter(track.position, video_size=video_size, output_size=output_size, canvas=track.canvas)
             + f";[burned]format={pix_fmt}[video]")
    return graph, "[video]"


# --- OCR --------------------------------------------------------------------------------

def ocr_track(media: str | os.PathLike, track: TrackInfo, dest: str | os.PathLike, *, lang: str = "kor",
              display: str | None = None, duration_s: float | None = None) -> SubtitleDoc:
    """Read an image track's cues with tesseract; each cue carries its confidence (0-100).

    `dest` is a work folder for the pictures. Cues where tesseract found nothing are
    left out and listed in `warnings`, as are cues below LOW_CONFIDENCE: OCR text must be
    reviewed before it reaches viewers.
    """
    name = display or f"{Path(media).name} (track {track.number})"
    if track.kind != "image":
        raise InfopackError(name, f"{track.describe()} is not an image track; read it as text")
    tesseract = check_tesseract(lang)
    events = image_events(media, track, name, duration_s=duration_s)
    dest = Path(dest)
    frames = render_frames(media, track, dest / "frames", name)
    doc = SubtitleDoc(cues=[], source=name, format="ocr", encoding=f"ocr:{lang}")
    pictures, timed = [], []
    for start_ms, end_ms in events:
        frame = next((f for pts, f in frames if start_ms - 2 <= pts < end_ms), None)
        if frame is None:
            doc.warnings.append(Note("ocr-nothing-drawn", time=format_srt_time(start_ms)))
            continue
        picture = dest / f"cue-{len(pictures) + 1:05d}.png"
        prepare_for_ocr(frame, picture, enlarge=(track.canvas or (0, 0))[1] <= SD_CANVAS_HEIGHT)
        pictures.append(picture)
        timed.append((start_ms, end_ms))
    readings = read_pictures(tesseract, pictures, dest, lang, name)
    for (start_ms, end_ms), (text, confidence) in zip(timed, readings):
        if not text:
            doc.warnings.append(Note("ocr-no-text", time=format_srt_time(start_ms)))
            continue
        cue = Cue(len(doc.cues) + 1, start_ms, end_ms, text, confidence)
        if confidence < LOW_CONFIDENCE:
            doc.warnings.append(Note("ocr-low-confidence", cue=cue.index, time=format_srt_time(start_ms),
                                     confidence=confidence, text=text))
        doc.cues.append(cue)
    mean = sum(c.confidence for c in doc.cues) / len(doc.cues) if doc.cues else 0.0
    doc.warnings.insert(0, Note("ocr-summary", lang=lang, track=track.describe(), mean=mean))
    return doc


@lru_cache(maxsize=4)
def check_tesseract(lang: str) -> str:
    """tesseract's path, once it is known to have the language's data; else one clear error."""
    return _tesseract_with(lang)[0]


def tesseract_data(lang: str = "kor") -> Path | None:
    """The language's data file tesseract reads (None where tesseract does not say its folder);
    one clear error where there is no tesseract or no such language."""
    folder = _tesseract_with(lang)[1]
    return folder / f"{lang}.traineddata" if folder else None


def _tesseract_with(lang: str) -> tuple[str, Path | None]:
    """(tesseract's path, its data folder) once it is known to have the language's data."""
    exe = binary("tesseract")
    listed = run([exe, "--list-langs"], timeout=60, what="tesseract --list-langs").stdout.decode("utf-8", "replace")
    if lang not in listed.split():
        package = f"tesseract-ocr-{lang.replace('_', '-').lower()}"
        raise InfopackError(None, f"tesseract has no {lang!r} language data, needed to read image subtitles; "
                                  f"install it: sudo apt-get install {package} "
                                  f"(tesseract itself: {INSTALL_HINT['tesseract']})")
    folder = re.search(r'"([^"]+)"', listed)          # List of available languages in "/usr/share/…/tessdata/"
    return exe, Path(folder[1]) if folder else None


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    """`tesseract 5.3.0`: its first line, for cache keys of OCR text."""
    proc = run([binary("tesseract"), "--version"], timeout=60, what="tesseract --version")
    return (proc.stdout or proc.stderr).decode("utf-8", "replace").strip().splitlines()[0]


def image_events(media: str | os.PathLike, track: TrackInfo, name: str, *,
                 duration_s: float | None = None) -> list[tuple[int, int]]:
    """(start, end) in ms of every picture the track shows, from the decoded subtitles.

    A PGS picture lasts until the next display set (often an empty one that clears it);
    VobSub and DVB say when each picture ends.
    """
    proc = run([ffmpeg_info().ffprobe, "-v", "error", "-select_streams", str(track.index),
                "-show_entries", "subtitle=pts_time,start_display_time,end_display_time,num_rects",
                "-of", "json", safe_arg(media)],
               timeout=reading_timeout(media), what="reading the subtitle pictures' times", subject=name)
    try:
        frames = json.loads(proc.stdout.decode("utf-8", "replace")).get("frames", [])
    except json.JSONDecodeError:
        raise InfopackError(name, "ffprobe gave unreadable output for the subtitle track") from None
    shown = []
    for frame in frames:
        pts_ms = round(float(frame.get("pts_time") or 0) * 1000)
        start = pts_ms + int(frame.get("start_display_time") or 0)
        end_display = int(frame.get("end_display_time") or 0)
        end = pts_ms + end_display if 0 < end_display < _FOREVER_MS else None
        shown.append((start, end, int(frame.get("num_rects") or 0)))
    events = []
    for position, (start, end, rects) in enumerate(shown):
        if not rects:
            continue
        following = [s for s, _, _ in shown[position + 1:] if s > start]
        limits = [t for t in (end, following[0] if following else None) if t is not None]
        if not limits:
            limits = [start + DEFAULT_DURATION_MS]
            if duration_s:
                limits.append(max(start + 1, round(duration_s * 1000)))
        events.append((start, min(limits)))
    return events


def render_frames(media: str | os.PathLike, track: TrackInfo, folder: Path, name: str) -> list[tuple[int, Path]]:
    """Every non-empty picture of the track as a PNG on its canvas, with its time in ms.

    sub2video turns the track into frames; `bbox` + `metadata=select` keep only frames
    with something drawn, so each file name (`-frame_pts`, in ms) is the moment a
    picture appears (or, for PGS, a repeat of it).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    run([ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", safe_arg(media),
         "-filter_complex", f"[0:{track.index}]bbox=min_val=16,metadata=mode=select:key=lavfi.bbox.w[pictures]",
         "-map", "[pictures]", "-fps_mode", "passthrough", "-enc_time_base", "1/1000", "-frame_pts", "1",
         "-c:v", "png", "-f", "image2", str(folder / "%d.png")],
        timeout=reading_timeout(media) * 2, what="drawing the subtitle pictures", subject=name)
    return sorted((int(p.stem), p) for p in folder.glob("*.png") if p.stem.isdigit())


def prepare_for_ocr(frame: Path, out: Path, *, enlarge: bool) -> None:
    """Crop to what is drawn and make it dark text on white, the way tesseract reads best."""
    with Image.open(frame) as image:
        rgba = image.convert("RGBA")
    box = rgba.getchannel("A").getbbox() or (0, 0, rgba.width, rgba.height)
    cue = rgba.crop(box)
    flat = Image.new("RGBA", cue.size, (0, 0, 0, 255))
    flat.alpha_composite(cue)
    gray = ImageOps.invert(flat.convert("L"))
    if enlarge:
        gray = gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.LANCZOS)
    ImageOps.expand(gray, border=16, fill=255).save(out, "PNG")


def read_pictures(tesseract: str, pictures: list[Path], folder: Path, lang: str, name: str
                  ) -> list[tuple[str, float]]:
    """(text, confidence) for each picture, from one tesseract run over a list of files.

    The text comes from tesseract's plain output (pages split by form feeds): its TSV
    cuts Korean into syllable-sized "words" (`바 다 가 보입니다`), but knows each one's
    confidence.
    """
    if not pictures:
        return []
    listing = folder / "pictures.txt"
    listing.write_text("".join(f"{p}\n" for p in pictures), encoding="utf-8")
    run([tesseract, safe_arg(listing), safe_arg(folder / "ocr"), "-l", lang, "--psm", "6", "txt", "tsv"],
        timeout=60 + 5 * len(pictures), what="tesseract (OCR of subtitle pictures)", subject=name)
    pages = (folder / "ocr.txt").read_text(encoding="utf-8").split("\f")
    confidences = page_confidences((folder / "ocr.tsv").read_text(encoding="utf-8"))
    readings = []
    for number in range(1, len(pictures) + 1):
        text = pages[number - 1] if number <= len(pages) else ""
        lines = (re.sub(r"\s+", " ", line).strip() for line in text.split("\n"))
        readings.append((to_nfc("\n".join(line for line in lines if line)), confidences.get(number, 0.0)))
    return readings


def page_confidences(tsv: str) -> dict[int, float]:
    """tesseract's TSV -> {page: confidence}. A cue's confidence is its weakest word's:
    one misread word is enough for a person to look, and an average would hide it."""
    weakest: dict[int, float] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        page, confidence = int(cells[1]), float(cells[10])
        weakest[page] = min(confidence, weakest.get(page, 100.0))
    return weakest
