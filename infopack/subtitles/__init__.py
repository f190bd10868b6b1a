"""Subtitles: read Korean subtitle files correctly, scrub, clean and write them.

The build pipeline uses only the names exported here. One reader module per format
(srt, sami, vtt, ass); shared model, timing, cleaning, scrubbing and writing. Where an
item's subtitles come from (a file, a text or image track of its media) and which one
is chosen: `sources`, `choose`, `images` (burn-in and OCR), `load`.
"""

from infopack.subtitles.choose import (Choice, Considered, SubtitleSpec, choose_source, missing_message,
                                       parse_subtitles_spec, require_subtitles)
from infopack.subtitles.clean import clean
from infopack.subtitles.encoding import encode_text
from infopack.subtitles.images import burn_in_filter, burn_in_graph, ocr_track
from infopack.subtitles.lint import lint
from infopack.subtitles.load import SourceReader, ocr_summary, prepare_for_media
from infopack.subtitles.model import Cue, SubtitleDoc
from infopack.subtitles.readers import BY_EXTENSION, read_subtitles
from infopack.subtitles.scrub import scan_subtitle_file, scrub
from infopack.subtitles.sources import (SubtitleSource, TrackInfo, embedded_sources, extract_track, find_sidecars,
                                        hangul_share, list_tracks)
from infopack.subtitles.timing import end_limit_ms, fit_to_end, scale_fps, shift
from infopack.subtitles.writers import to_ass, to_sami, to_srt, to_vtt

__all__ = [
    "Cue", "SubtitleDoc", "read_subtitles", "clean", "scrub", "to_srt", "to_vtt", "to_sami", "to_ass",
    "encode_text", "shift", "scale_fps", "lint", "scan_subtitle_file", "BY_EXTENSION",
    "end_limit_ms", "fit_to_end",
    "SubtitleSource", "TrackInfo", "list_tracks", "embedded_sources", "extract_track", "find_sidecars",
    "hangul_share", "SubtitleSpec", "parse_subtitles_spec", "Choice", "Considered", "choose_source",
    "missing_message", "require_subtitles",
    "burn_in_filter", "burn_in_graph", "ocr_track", "SourceReader", "prepare_for_media", "ocr_summary",
]
