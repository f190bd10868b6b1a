"""The codecs infopack encodes to: one entry per codec, everything codec-specific in it.

An entry says how to ask ffmpeg's encoder for the profile's settings (profile, level,
preset, no identifying SEI or user data, the pass of a two-pass encode), what ffprobe
reports for the result (codec name, profile name, level number), which constant-quality
setting it takes, and whether size fitting can use it. The profile loader checks a
profile's codecs against these tables; the video and audio kinds encode and validate
with them. Adding a codec is adding one entry (and its argument function).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from infopack.kinds.specs import VideoSpec
from infopack.tools import safe_arg

TwoPass = tuple[int, Path]       # (pass number 1 or 2, the stats file in the work folder)


def bitrate_bits(text: str | None) -> int:
    """'900k' -> 900000; '1.5M' -> 1500000; None -> 0."""
    if not text:
        return 0
    text = str(text).strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


@dataclass(frozen=True)
class VideoCodec:
    encoder: str                                   # ffmpeg's encoder: the profile's [video] codec
    ffprobe_name: str                              # the codec_name ffprobe reports for the output
    profile_names: dict[str, str]                  # [video] profile -> the profile ffprobe reports
    encoder_args: Callable[[VideoSpec, TwoPass | None], list[str]]
    max_level: Callable[[str], int]                # [video] level -> the largest level ffprobe may report
    quality_key: str                               # "crf" or "qscale": its constant-quality setting
    takes_refs: bool = True                        # -refs applies
    unfittable: str = ""                           # why size fitting (two-pass) cannot use it; "": it can
    check: Callable[[VideoSpec], str | None] = lambda spec: None   # codec-specific profile problems

    def profile_problem(self, spec: VideoSpec) -> str | None:
        """What in the profile's [video] table this codec cannot do (None: nothing)."""
        other = "qscale" if self.quality_key == "crf" else "crf"
        if getattr(spec, other) is not None:
            if other == "crf":
                return f"[video] crf does not exist for {self.encoder}: use qscale or bitrate"
            users = " and ".join(c.encoder for c in VIDEO_CODECS.values() if c.quality_key == "qscale")
            return f"[video] qscale is for {users}; {self.encoder} uses crf"
        if spec.profile not in self.profile_names:
            names = list(self.profile_names)
            listed = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
            return f"[video] profile for {self.encoder} must be {listed}"
        return self.check(spec)


@dataclass(frozen=True)
class AudioCodec:
    encoder: str                  # ffmpeg's encoder: the profile's [audio] / [audio_only] codec
    ffprobe_name: str             # the codec_name ffprobe reports
    ffprobe_profile: str = ""     # the profile ffprobe must report ("" : not checked)


def _pass_args(two_pass: TwoPass | None) -> list[str]:
    return ["-pass", str(two_pass[0]), "-passlogfile", safe_arg(two_pass[1])] if two_pass else []


def _x264_args(spec: VideoSpec, two_pass: TwoPass | None) -> list[str]:
    args = ["-profile:v", spec.profile, "-level:v", spec.level, "-preset", spec.preset,
            "-a53cc", "0", "-bsf:v", "filter_units=remove_types=6"]
    if spec.tune:
        args += ["-tune", spec.tune]
    if spec.params:
        args += ["-x264-params", spec.params]
    return args + _pass_args(two_pass)


def _x265_param_path(path: Path) -> str:
    """A path inside -x265-params, whose values end at ':' (escaped as '\\:')."""
    return str(path).replace("\\", "\\\\").replace(":", "\\:")


def _x265_args(spec: VideoSpec, two_pass: TwoPass | None) -> list[str]:
    # info=0: no SEI naming x265's version and options; pools/frame-threads: the thread
    # count (output depends on it, so it is pinned for reproducible builds). x265 takes
    # its pass and stats file in its own parameters, not ffmpeg's -pass. log-level=warning: its
    # level warnings reach stderr, where the build reads them (infopack.kinds.ffmpeg.run_ffmpeg).
    pinned = f"info=0:pools={spec.threads}:frame-threads={spec.threads}:level-idc={spec.level}:log-level=warning"
    if two_pass:
        pinned += f":pass={two_pass[0]}:stats={_x265_param_path(two_pass[1])}"
    args = ["-profile:v", spec.profile, "-preset", spec.preset,
            "-x265-params", pinned + (":" + spec.params if spec.params else ""),
            "-bsf:v", "filter_units=remove_types=39|40"]
    if spec.tune:
        args += ["-tune", spec.tune]
    return args


MPEG4_PROFILES = {"simple": 0, "advanced_simple": 15}
MPEG4_LEVELS = {"0": 8, "1": 1, "2": 2, "3": 3, "4a": 4, "4": 4, "5": 5}   # profile_and_level_indication


def _mpeg4_args(spec: VideoSpec, two_pass: TwoPass | None) -> list[str]:
    # The VOS header carries profile_and_level_indication; Simple = 0, Advanced Simple = 15.
    return ["-profile:v", str(MPEG4_PROFILES[spec.profile]),
            "-level:v", str(MPEG4_LEVELS[str(spec.level).lower()])] + _pass_args(two_pass)


def _mpeg4_check(spec: VideoSpec) -> str | None:
    if spec.profile == "simple" and spec.bframes:
        return "[video] MPEG-4 Simple profile has no B-frames: set bframes = 0"
    return None


VIDEO_CODECS: dict[str, VideoCodec] = {codec.encoder: codec for codec in (
    VideoCodec("libx264", "h264", {"baseline": "Constrained Baseline", "main": "Main", "high": "High"},
               _x264_args, lambda level: round(float(level) * 10), quality_key="crf"),
    VideoCodec("libx265", "hevc", {"main": "Main"},
               _x265_args, lambda level: round(float(level) * 30), quality_key="crf"),
    VideoCodec("mpeg4", "mpeg4", {"simple": "Simple Profile", "advanced_simple": "Advanced Simple Profile"},
               _mpeg4_args, lambda level: MPEG4_LEVELS[level.strip().lower()], quality_key="qscale",
               takes_refs=False, check=_mpeg4_check,
               unfittable="MPEG-4 Part 2 two-pass aborts on some sources in ffmpeg 5.1 and its one-pass "
                          "bitrate mode overshoots by 25%+"),
)}

AUDIO_CODECS: dict[str, AudioCodec] = {codec.encoder: codec for codec in (
    AudioCodec("aac", "aac", ffprobe_profile="LC"),
    AudioCodec("libmp3lame", "mp3"),
)}
