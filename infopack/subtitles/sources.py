"""Where an item's subtitles come from: a file the curator gave, or a track inside the media.

Release files often carry their Korean subtitles only as a track of the MKV, tagged `kor`
or `und` (FIELD-NOTES "Korean subtitles"). `list_tracks` reads the subtitle streams out of
ffprobe's JSON; `extract_track` copies a text track into a file the ordinary readers read,
so a track is read, scrubbed and cleaned exactly like a sidecar file. Image tracks (PGS,
VobSub, DVB) hold pictures, not text: `images.py` burns them in or reads them by OCR.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from infopack.errors import InfopackError
from infopack.subtitles.readers import BY_EXTENSION
from infopack.tools import ffmpeg_info, run, safe_arg

# ffprobe codec names. Text codecs ffmpeg decodes to text; image codecs are bitmaps.
TEXT_CODECS = frozenset({
    "subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text", "subviewer", "subviewer1", "microdvd",
    "mpl2", "jacosub", "pjs", "realtext", "sami", "stl", "vplayer", "eia_608",
})
IMAGE_CODECS = frozenset({"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub"})
# Text codecs copied as they are (their own reader reads them); the rest become SRT.
COPIED_CODECS = {"subrip": ("srt", ".srt"), "srt": ("srt", ".srt"), "ass": ("ass", ".ass"),
                 "ssa": ("ass", ".ass"), "webvtt": ("webvtt", ".vtt")}

KOREAN_TAGS = frozenset({"kor", "ko", "kr"})             # ISO 639-2, 639-1, and the common mistake
UNKNOWN_TAGS = frozenset({"", "und", "unk", "mis", "mul", "zxx", "none", "unknown"})
KOREAN_TITLE = re.compile(r"한국어|한글|한국|korean", re.IGNORECASE)
PARTIAL_TITLE = re.compile(r"\bforced\b|\bsigns?\b|\bsongs?\b|강제|부분", re.IGNORECASE)
KOREAN_SHARE = 0.30      # of the letters: Korean dialogue stays far above it even with English names


@dataclass(frozen=True)
class TrackInfo:
    """One subtitle stream of a media file, as ffprobe describes it."""
    number: int               # 1-based among the file's subtitle streams: `track:N`, as players number them
    index: int                # the stream's index in the file (`-map 0:INDEX`)
    codec: str                # ffprobe's codec_name ("" when ffprobe does not know it)
    language: str             # the language tag as written ("kor", "und", "" when absent)
    title: str
    default: bool
    forced: bool
    hearing_impaired: bool
    commentary: bool
    kind: str                 # "text", "image" or "unsupported"
    canvas: tuple[int, int] | None = None   # image tracks: the picture size their bitmaps are drawn for

    @property
    def position(self) -> int:
        """0-based among the subtitle streams: ffmpeg's `0:s:POSITION`."""
        return self.number - 1

    @property
    def korean_tag(self) -> bool:
        return language_is_korean(self.language)

    @property
    def known_other_language(self) -> bool:
        """Tagged with a language that is not Korean (`eng`, `jpn`...), not `und` or nothing."""
        return self.language.strip().lower() not in UNKNOWN_TAGS and not self.korean_tag

    @property
    def korean_title(self) -> bool:
        return bool(KOREAN_TITLE.search(self.title))

    @property
    def partial(self) -> bool:
        """Forced or signs-only: shows some lines (signs, foreign speech), not all the dialogue."""
        return self.forced or bool(PARTIAL_TITLE.search(self.title))

    def describe(self) -> str:
        """`track 2 (kor, "Korean", subrip)`, with forced/SDH/commentary flags when set."""
        parts = [self.language or "no language tag"]
        if self.title:
            parts.append(f'"{self.title}"')
        parts.append(self.codec or "unknown codec")
        parts += [flag for flag, on in (("forced", self.forced), ("hearing impaired", self.hearing_impaired),
                                        ("commentary", self.commentary)) if on]
        return f"track {self.number} ({', '.join(parts)})"


@dataclass(frozen=True)
class SubtitleSource:
    """A sidecar file, or a track of the item's media (`track` set, `path` is the media)."""
    path: Path
    display: str              # what messages call it: `subs/ep01.ko.srt`, `ep01.mkv (track 2)`
    track: TrackInfo | None = None

    @classmethod
    def sidecar(cls, path: str | os.PathLike, display: str | None = None) -> "SubtitleSource":
        return cls(Path(path), display or Path(path).name)

    @classmethod
    def embedded(cls, media: str | os.PathLike, track: TrackInfo, media_display: str | None = None
                 ) -> "SubtitleSource":
        return cls(Path(media), f"{media_display or Path(media).name} (track {track.number})", track)

    @property
    def kind(self) -> str:
        """"file", "text track", "image track" or "unsupported track"."""
        if self.track is None:
            return "file"
        return f"{self.track.kind} track"

    def describe(self) -> str:
        """For reports: the file as given, or `ep01.mkv track 2 (kor, "Korean", subrip)`."""
        if self.track is None:
            return self.display
        media = self.display.rsplit(" (track ", 1)[0]
        return f"{media} {self.track.describe()}"


def list_tracks(ffprobe_json: dict) -> list[TrackInfo]:
    """The subtitle streams of one probed file, numbered 1.. in stream order."""
    streams = [s for s in ffprobe_json.get("streams", []) if s.get("codec_type") == "subtitle"]
    return [_track(number, stream) for number, stream in enumerate(streams, start=1)]


def embedded_sources(media: str | os.PathLike, ffprobe_json: dict, media_display: str | None = None
                     ) -> list[SubtitleSource]:
    """Every subtitle track of a probed media file as a source to choose from."""
    return [SubtitleSource.embedded(media, track, media_display) for track in list_tracks(ffprobe_json)]


def _track(number: int, stream: dict) -> TrackInfo:
    codec = str(stream.get("codec_name") or "")
    tags = {str(k).lower(): str(v) for k, v in (stream.get("tags") or {}).items()}
    flags = stream.get("disposition") or {}
    kind = "text" if codec in TEXT_CODECS else "image" if codec in IMAGE_CODECS else "unsupported"
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    return TrackInfo(
        number=number, index=int(stream.get("index", 0)), codec=codec,
        language=tags.get("language", "").strip(), title=tags.get("title", "").strip(),
        default=bool(flags.get("default")), forced=bool(flags.get("forced")),
        hearing_impaired=bool(flags.get("hearing_impaired")), commentary=bool(flags.get("comment")),
        kind=kind, canvas=(width, height) if kind == "image" and width > 0 and height > 0 else None)


def language_is_korean(tag: str) -> bool:
    """`kor`, `ko`, `kr`, `ko-KR`, `KO_kr`...: the primary subtag, any case."""
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    return primary in KOREAN_TAGS


def hangul_share(text: str) -> float:
    """The share of letters that are Hangul (syllables or jamo); 0 for text without letters."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    hangul = sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff"
                 or "\u3130" <= ch <= "\u318f")
    return hangul / len(letters)


def find_sidecars(media: str | os.PathLike) -> list[Path]:
    """Subtitle files beside `media` sharing its name: `ep01.srt`, `ep01.ko.srt`, `ep01.smi`...

    Links are left out: a sidecar is a file the curator put there, never a pointer elsewhere.
    """
    media = Path(media)
    stem = media.stem.casefold()
    found = []
    for entry in sorted(media.parent.iterdir()):
        name = entry.stem.casefold()
        if (entry.suffix.lower() in BY_EXTENSION and (name == stem or name.startswith(stem + "."))
                and entry.is_file() and not entry.is_symlink()):
            found.append(entry)
    return found


def extract_track(media: str | os.PathLike, track: TrackInfo, dest_dir: str | os.PathLike, *,
                  display: str | None = None) -> Path:
    """Copy a text track out of `media` into `dest_dir/track-N.EXT`; return the file.

    SubRip, ASS/SSA and WebVTT are copied byte for byte (an ASS track keeps its
    `[Script Info]` and Aegisub sections, so the reader sees and scrubs the credits);
    other text codecs (mov_text...) are converted to SRT. Bit-exact: the same track gives
    the same bytes.
    """
    name = display or f"{Path(media).name} (track {track.number})"
    if track.kind != "text":
        raise InfopackError(name, f"{track.describe()} holds {'pictures' if track.kind == 'image' else 'data'}, "
                                  f"not text; it cannot be extracted as a subtitle file")
    muxer, ext = COPIED_CODECS.get(track.codec, ("srt", ".srt"))
    codec = "copy" if track.codec in COPIED_CODECS else "srt"
    out = Path(dest_dir) / f"track-{track.number}{ext}"
    run([ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-i", safe_arg(media), "-map", f"0:{track.index}", "-map_metadata", "-1", "-map_chapters", "-1",
         "-fflags", "+bitexact", "-flags:s", "+bitexact", "-c:s", codec, "-f", muxer, safe_arg(out)],
        timeout=reading_timeout(media), what=f"extracting subtitle track {track.number}", subject=name)
    return out


def reading_timeout(media: str | os.PathLike) -> float:
    """Reading a track means reading the whole file: 2 minutes plus 10 s a GB (a slow USB disk)."""
    try:
        size = os.path.getsize(media)
    except OSError:
        size = 0
    return 120 + size / 100_000_000
