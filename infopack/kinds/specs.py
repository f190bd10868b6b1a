"""The tables of a device profile, as the kinds read them.

`infopack.profiles` reads them from TOML and checks them; the kinds only read them, so
this module depends on nothing (a kind never imports the profile loader).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

DEFAULT_MAX_FILE_BYTES = 4_000_000_000  # a margin below the FAT32 limit


@dataclass(frozen=True)
class VideoSpec:
    codec: str                     # ffmpeg encoder: a key of infopack.kinds.codecs.VIDEO_CODECS
    profile: str                   # libx264: baseline/main/high; libx265: main; mpeg4: simple/advanced_simple
    level: str                     # "3.0", "3.1"; mpeg4: "3", "4a", "5"
    max_width: int
    max_height: int
    max_fps: float
    pix_fmt: str = "yuv420p"
    preset: str = "medium"         # x264/x265 preset (ignored by mpeg4)
    crf: float | None = None       # x264/x265 constant quality
    qscale: float | None = None    # mpeg4 constant quantiser (2-31)
    maxrate: str | None = None     # a cap (VBV), not a target
    bufsize: str | None = None
    bitrate: str | None = None     # a target bitrate instead of crf/qscale
    gop_seconds: float = 5.0
    bframes: int = 3
    refs: int | None = None        # reference frames (x264/x265)
    threads: int = 1               # fixed: x264/x265 output depends on the thread count
    tune: str = ""
    params: str = ""               # -x264-params / -x265-params (key=value:key=value)
    flags: str = ""                # extra codec flags joined to +bitexact, e.g. "+mv4"
    options: dict = field(default_factory=dict)   # extra encoder options, e.g. {mbd = "rd"}
    tag: str = ""                  # codec tag (fourcc): hvc1 for HEVC in MP4, XVID for MPEG-4 in AVI
    hdr_tonemap: str = "hable"     # tone mapping for HDR (PQ/HLG) sources when zscale is available
    # Size fitting (infopack.plan.fit): the lowest video rate worth watching, in kb/s at the
    # profile's max frame size (smaller frames get (pixels ratio)^0.75 of it). None: no floor.
    fit_floor_kbps: float | None = None


@dataclass(frozen=True)
class AudioSpec:
    codec: str
    channels: int
    sample_rate: int
    bitrate: str
    loudnorm: bool = False
    container: str | None = None
    extension: str | None = None


@dataclass(frozen=True)
class SubtitleSpec:
    mode: str                      # "sidecar", "soft", "sidecar+soft", "burn", "none"
    sidecar_encoding: str = "utf-8-sig"
    max_chars_per_line: int = 24
    max_lines: int = 2
    min_duration_ms: int = 700
    max_cps: float = 20.0

    @property
    def sidecar(self) -> bool:
        return "sidecar" in self.mode

    @property
    def soft(self) -> bool:
        return "soft" in self.mode

    @property
    def burn(self) -> bool:
        return "burn" in self.mode


@dataclass(frozen=True)
class ImageSpec:
    format: str
    extension: str
    max_long_side: int
    quality: int = 82


@dataclass(frozen=True)
class DocumentSpec:
    """What the players' readers open: documents in other formats are turned into TXT."""
    formats: tuple[str, ...]       # of "pdf", "epub", "txt" (infopack.documents.DOCUMENT_KINDS)
    encoding: str = "utf-8-sig"    # of TXT files: "cp949", "utf-8-sig" or "utf-8"
    unencodable: str = "error"     # characters the encoding cannot hold: "error", or "replace" by '?' (reported)


@dataclass(frozen=True)
class Profile:
    id: str
    description: str
    container: str                 # of video items ("" for audio-only profiles)
    extension: str
    video: VideoSpec | None        # None: the players show no video (MP3 players)
    audio: AudioSpec | None
    subtitles: SubtitleSpec | None
    audio_only: AudioSpec
    image: ImageSpec
    ascii_names: bool = False
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    split_parts: bool = False      # a video over max_file_bytes is cut into parts at keyframes
    source: str = ""
    documents: DocumentSpec | None = None   # None: the players open no documents

    def recipe(self) -> dict:
        """Everything that shapes the output bytes (for cache keys and reports)."""
        data = asdict(self)
        data.pop("source")
        data.pop("description")
        if self.documents is None:
            data.pop("documents")          # profiles without documents keep the keys they had
        return data

    def supports(self, kind) -> bool:
        """Whether items of `kind` (an infopack.kinds.Kind) can go on this profile's cards: the kind says."""
        return kind.supported_by(self)
