"""Subtitles: read Korean subtitle files correctly, scrub, clean and write them.

The build pipeline uses only the names exported here. One reader module per format
(srt, sami, vtt, ass); shared model, timing, cleaning, scrubbing and writing.
"""

from infopack.subtitles.clean import clean
from infopack.subtitles.encoding import encode_text
from infopack.subtitles.lint import lint
from infopack.subtitles.model import Cue, SubtitleDoc
from infopack.subtitles.readers import BY_EXTENSION, read_subtitles
from infopack.subtitles.scrub import scan_subtitle_file, scrub
from infopack.subtitles.timing import scale_fps, shift
from infopack.subtitles.writers import to_ass, to_sami, to_srt, to_vtt

__all__ = [
    "Cue", "SubtitleDoc", "read_subtitles", "clean", "scrub", "to_srt", "to_vtt", "to_sami", "to_ass",
    "encode_text", "shift", "scale_fps", "lint", "scan_subtitle_file", "BY_EXTENSION",
]
