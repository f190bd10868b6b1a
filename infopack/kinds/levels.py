"""Codec levels: the standards' limits, a frame size that keeps to them, and the check of an output.

A hardware decoder reads the level an encoder signals and may refuse or stutter on a
stream that needs more than that level allows (FIELD-NOTES "Levels"). x264 only warns
when a stream breaks the level it was told to signal, and `-loglevel error` hides the
warning, so infopack chooses the size before encoding and measures the output after.

How the video kind uses this module:

    fps = target_fps(...)                                        # the output's frame rate
    w, h = geometry.output_size(geo, spec.max_width, spec.max_height)
    w, h = largest_size_within(geo.display_aspect, w, h, fps, spec.codec, spec.profile, spec.level)
    ... encode with scale=w:h (run it through with_warnings(); keep level_warnings(stderr)) ...
    problems = output_problems(measure_output(out), spec.codec, spec.profile, spec.level)

Limits hold for the level the profile declares, and the output must signal exactly that
level and profile. Bit rates use the VCL factors (H.264 Table A-2 cpbBrVclFactor: 1000
for Baseline/Main, 1250 for High; HEVC CpbVclFactor 1000 for Main) against the sizes of
whole packets: that is stricter than the standards by the few non-VCL bytes in a packet,
and 20% (H.264 NAL factor 1200/1500) or 10% (HEVC 1100) stricter than a NAL HRD check.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple, Sequence

from infopack.errors import CheckFailed, UsageError
from infopack.tools import ffmpeg_info, last_error_line, run, safe_arg

# -- the tables --------------------------------------------------------------------------

# ITU-T H.264 Table A-1, as FFmpeg's libavcodec/h264_levels.c (FFmpeg/FFmpeg) and
# Chromium's media/video/h264_level_limits.cc carry it:
# level: (MaxMBPS MB/s, MaxFS MBs, MaxDpbMbs MBs, MaxBR and MaxCPB in cpbBrVclFactor units).
H264_LEVELS = {
    "1.0": (1485, 99, 396, 64, 175),
    "1b": (1485, 99, 396, 128, 350),
    "1.1": (3000, 396, 900, 192, 500),
    "1.2": (6000, 396, 2376, 384, 1000),
    "1.3": (11880, 396, 2376, 768, 2000),
    "2.0": (11880, 396, 2376, 2000, 2000),
    "2.1": (19800, 792, 4752, 4000, 4000),
    "2.2": (20250, 1620, 8100, 4000, 4000),
    "3.0": (40500, 1620, 8100, 10000, 10000),
    "3.1": (108000, 3600, 18000, 14000, 14000),
    "3.2": (216000, 5120, 20480, 20000, 20000),
    "4.0": (245760, 8192, 32768, 20000, 25000),
    "4.1": (245760, 8192, 32768, 50000, 62500),
    "4.2": (522240, 8704, 34816, 50000, 62500),
    "5.0": (589824, 22080, 110400, 135000, 135000),
    "5.1": (983040, 36864, 184320, 240000, 240000),
    "5.2": (2073600, 36864, 184320, 240000, 240000),
}
# Table A-2: cpbBrVclFactor (bits/s per MaxBR unit, bits per MaxCPB unit); High is x1.25.
H264_VCL_FACTOR = {"baseline": 1000, "main": 1000, "high": 1250}
H264_PROFILE_NAMES = {"baseline": ("Constrained Baseline", "Baseline"), "main": ("Main",), "high": ("High",)}

# ITU-T H.265 Tables A.8 (MaxLumaPs samples, MaxCPB Main tier) and A.9 (MaxLumaSr
# samples/s, MaxBR Main tier), as FFmpeg's libavcodec/h265_profile_level.c carries them;
# MaxCPB/MaxBR in units of CpbVclFactor (1000 for Main) bits and bits/s.
HEVC_LEVELS = {
    "1.0": (36864, 350, 552960, 128),
    "2.0": (122880, 1500, 3686400, 1500),
    "2.1": (245760, 3000, 7372800, 3000),
    "3.0": (552960, 6000, 16588800, 6000),
    "3.1": (983040, 10000, 33177600, 10000),
    "4.0": (2228224, 12000, 66846720, 12000),
    "4.1": (2228224, 20000, 133693440, 20000),
    "5.0": (8912896, 25000, 267386880, 25000),
    "5.1": (8912896, 40000, 534773760, 40000),
    "5.2": (8912896, 60000, 1069547520, 60000),
    "6.0": (35651584, 60000, 1069547520, 60000),
    "6.1": (35651584, 120000, 2139095040, 120000),
    "6.2": (35651584, 240000, 4278190080, 240000),
}
HEVC_MAX_DPB_PIC_BUF = 6          # A.4.2 maxDpbPicBuf for Main
HEVC_PAD = 16                     # x265 codes a picture padded to its min CU: 8, or 16 in the fast presets

# ISO/IEC 14496-2 Annex N: (profile, level): (max MBs a VOP = VCV buffer size, VCV decoder
# rate MB/s, max bit rate kbit/s, VBV buffer in units of 16384 bits, ffprobe's `level`
# = profile_and_level_indication & 0x0F). Simple L0-L3 and Advanced Simple from the
# standard's tables as printed in MAGIX's MPEG-4 encoder manual; Simple L4a/L5
# (14496-2:2004/Amd 2) and L6 (Amd 4) as Xvid's vfw/src/config.c (ShiftMediaProject/xvid).
MPEG4_LEVELS = {
    ("simple", "0"): (99, 1485, 64, 10, 8),
    ("simple", "1"): (99, 1485, 64, 10, 1),
    ("simple", "2"): (396, 5940, 128, 40, 2),
    ("simple", "3"): (396, 11880, 384, 40, 3),
    ("simple", "4a"): (1200, 36000, 4000, 80, 4),
    ("simple", "5"): (1620, 40500, 8000, 112, 5),
    ("simple", "6"): (3600, 108000, 12000, 248, 6),
    ("advanced_simple", "0"): (99, 2970, 128, 10, 0),
    ("advanced_simple", "1"): (99, 2970, 128, 10, 1),
    ("advanced_simple", "2"): (396, 5940, 384, 40, 2),
    ("advanced_simple", "3"): (396, 11880, 768, 40, 3),
    ("advanced_simple", "4"): (792, 23760, 3000, 80, 4),
    ("advanced_simple", "5"): (1620, 48600, 8000, 112, 5),
}
MPEG4_VBV_UNIT = 16384
MPEG4_PROFILE_NAMES = {"simple": ("Simple Profile",), "advanced_simple": ("Advanced Simple Profile",)}

CODECS = {"libx264": "h264", "h264": "h264", "libx265": "hevc", "hevc": "hevc", "mpeg4": "mpeg4"}
CODEC_LABELS = {"h264": "H.264", "hevc": "HEVC", "mpeg4": "MPEG-4 Part 2"}


@dataclass(frozen=True)
class LevelLimits:
    """One profile@level's limits, in the units the standard counts frames in."""
    codec: str                    # ffprobe's codec_name: "h264", "hevc" or "mpeg4"
    profile: str                  # as profiles name it: "main", "high", "simple", ...
    level: str                    # canonical: "3.0", "1b", "4a"
    unit: str                     # "macroblocks" (H.264, MPEG-4) or "luma samples" (HEVC)
    max_frame: int                # MaxFS, MaxLumaPs or the VCV buffer, in `unit`
    max_rate: int                 # MaxMBPS, MaxLumaSr or the VCV decoder rate, in `unit` a second
    max_bitrate: int              # bits/s
    max_buffer: int               # bits: MaxCPB or the VBV buffer
    max_dpb: int | None           # H.264 MaxDpbMbs; HEVC maxDpbPicBuf; MPEG-4 None
    level_numbers: tuple[int, ...]    # what ffprobe's `level` may say for this level
    profile_names: tuple[str, ...]    # what ffprobe's `profile` may say for this profile

    @property
    def name(self) -> str:
        return f"{CODEC_LABELS[self.codec]} {self.profile} Level {self.level}"

    def frame_size(self, width: int, height: int) -> int:
        """A width x height frame in `unit`: coded macroblocks, or padded luma samples."""
        if self.codec == "hevc":
            return _ceil_to(width, HEVC_PAD) * _ceil_to(height, HEVC_PAD)
        return math.ceil(width / 16) * math.ceil(height / 16)

    def dimension_problem(self, width: int, height: int) -> str | None:
        """H.264 A.3.1/A.3.2 and HEVC A.4.1: neither side longer than sqrt(8 x the max frame)."""
        if self.codec == "mpeg4":
            return None
        sides = (math.ceil(width / 16), math.ceil(height / 16)) if self.codec == "h264" else (width, height)
        if max(sides) ** 2 > 8 * self.max_frame:
            what = "macroblocks" if self.codec == "h264" else "samples"
            return (f"{width}x{height} has a side of {max(sides):,} {what}, longer than {self.name} allows "
                    f"({math.isqrt(8 * self.max_frame):,})")
        return None

    def max_dpb_frames(self, frame_size: int) -> int | None:
        """How many frames of `frame_size` the decoded picture buffer holds (None: no limit here).

        H.264 A.3.1 h: Min(MaxDpbMbs / frame MBs, 16). HEVC A.4.2: maxDpbPicBuf, doubled or
        quadrupled (at most 16) for pictures of up to a half or a quarter of MaxLumaPs.
        """
        if self.max_dpb is None or frame_size <= 0:
            return None
        if self.codec == "h264":
            return min(self.max_dpb // frame_size, 16)
        if frame_size <= self.max_frame >> 2:
            return min(4 * self.max_dpb, 16)
        if frame_size <= self.max_frame >> 1:
            return min(2 * self.max_dpb, 16)
        if frame_size <= (3 * self.max_frame) >> 2:
            return min(4 * self.max_dpb // 3, 16)
        return self.max_dpb

    def fits(self, width: int, height: int, fps: Fraction) -> bool:
        size = self.frame_size(width, height)
        return (size <= self.max_frame and size * fps <= self.max_rate
                and self.dimension_problem(width, height) is None)


def limits(codec: str, profile: str, level: str) -> LevelLimits:
    """The limits of `profile`@`level` for a codec named as profiles or ffprobe name it.

    `level` as profiles write it: "3.0" or "3" (H.264, HEVC), "1b", "4a" (MPEG-4 Simple;
    "4" is taken as "4a" there, as the video kind's encoder arguments do).
    """
    family = CODECS.get(str(codec).lower())
    profile = str(profile).strip().lower().replace(" ", "_")
    text = str(level).strip().lower()
    if family == "h264" and profile in H264_VCL_FACTOR:
        key = _dotted(text)
        if key in H264_LEVELS:
            mbps, fs, dpb, br, cpb = H264_LEVELS[key]
            factor = H264_VCL_FACTOR[profile]
            if key == "1b":          # level_idc 11 + constraint_set3_flag, or 9 in High profiles
                numbers = (9,) if profile == "high" else (11, 9)
            else:
                numbers = (round(float(key) * 10),)
            return LevelLimits("h264", profile, key, "macroblocks", fs, mbps, br * factor, cpb * factor, dpb,
                               numbers, H264_PROFILE_NAMES[profile])
    elif family == "hevc" and profile == "main":
        key = _dotted(text)
        if key in HEVC_LEVELS:
            luma_ps, cpb, luma_sr, br = HEVC_LEVELS[key]
            return LevelLimits("hevc", profile, key, "luma samples", luma_ps, luma_sr, br * 1000, cpb * 1000,
                               HEVC_MAX_DPB_PIC_BUF, (round(float(key) * 30),), ("Main",))
    elif family == "mpeg4" and profile in MPEG4_PROFILE_NAMES:
        key = "4a" if (profile, text) == ("simple", "4") else text
        if (profile, key) in MPEG4_LEVELS:
            mbs, rate, kbps, vbv, number = MPEG4_LEVELS[(profile, key)]
            return LevelLimits("mpeg4", profile, key, "macroblocks", mbs, rate, kbps * 1000, vbv * MPEG4_VBV_UNIT,
                               None, (number,), MPEG4_PROFILE_NAMES[profile])
    known = {"h264": f"profiles {', '.join(H264_VCL_FACTOR)}; levels {', '.join(H264_LEVELS)}",
             "hevc": f"profile main; levels {', '.join(HEVC_LEVELS)}",
             "mpeg4": "; ".join(f"{p} levels " + ", ".join(lv for q, lv in MPEG4_LEVELS if q == p)
                                for p in MPEG4_PROFILE_NAMES)}
    raise UsageError(None, f"no level limits for codec {codec!r} profile {profile!r} level {level!r}"
                           + (f" (known: {known[family]})" if family else " (known codecs: libx264, libx265, mpeg4)"))


def _dotted(text: str) -> str:
    """"3" -> "3.0", "3.1" stays, "1b" stays."""
    if text == "1b":
        return text
    try:
        return f"{float(text):.1f}"
    except ValueError:
        return text


def _ceil_to(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


# -- choosing a size before encoding -----------------------------------------------------

def largest_size_within(display_aspect, box_w: int, box_h: int, fps, codec: str, profile: str, level: str,
                        *, tolerance: float = 0.01) -> tuple[int, int]:
    """The largest even width x height inside the box that keeps the display aspect and
    whose frames the level allows at `fps` (frame size, rate, side lengths).

    Keeping the aspect: one side is within a pixel of what the other side and the aspect
    give (as close as even sizes get), and the aspect is within `tolerance` (1%). So at
    29.97 fps Level 3.0 gets 768x432 for 16:9, not 774x432 (0.8% wider and 0.8% more
    pixels). Even (mod 2) is what 4:2:0 needs. Mod 16 does not matter to the levels: they
    count whole macroblocks (a partial one costs a full one, which this search counts),
    and H.264/HEVC crop the padding away in the SPS. HEVC sizes are counted padded to 16
    (x265's fast presets; its default pads to 8), so the exact count the validator reads
    from the output is never larger.
    """
    lim = limits(codec, profile, level)
    aspect = Fraction(display_aspect).limit_denominator(100000)
    rate = Fraction(fps).limit_denominator(1001)
    if aspect <= 0 or box_w < 2 or box_h < 2:
        raise UsageError(None, f"no frame size for display aspect {display_aspect} in {box_w}x{box_h}")
    pairs = {(w, h) for w in range(2, box_w + 1, 2) for h in _even_near(w / aspect)}
    pairs |= {(w, h) for h in range(2, box_h + 1, 2) for w in _even_near(h * aspect)}
    best = None
    for width, height in pairs:
        if not (2 <= width <= box_w and 2 <= height <= box_h):
            continue
        error = abs(float(Fraction(width, height) / aspect) - 1)
        if error <= tolerance and lim.fits(width, height, rate):
            candidate = (width * height, -error, width, height)
            best = candidate if best is None or candidate > best else best
    if best is None:
        raise UsageError(None, f"no frame size of display aspect {float(aspect):.3f} inside {box_w}x{box_h} "
                               f"fits {lim.name} at {float(rate):.3f} fps; lower the frame rate or raise the level")
    return best[2], best[3]


def _even_near(ideal: Fraction) -> set[int]:
    """The even numbers within 1 of `ideal` (one or two of them)."""
    low = math.floor(ideal / 2) * 2
    return {n for n in (low, low + 2) if abs(n - ideal) <= 1}


# -- measuring an output -----------------------------------------------------------------

class Packet(NamedTuple):
    time: float            # decode time stamp (seconds), or the presentation time without one
    size: int              # bytes


@dataclass(frozen=True)
class SequenceHeader:
    """What the first sequence parameter set of an H.264/HEVC stream says (trace_headers)."""
    coded_width: int               # luma samples as coded: whole macroblocks (H.264), padded (HEVC)
    coded_height: int
    ref_frames: int | None         # H.264 max_num_ref_frames
    dpb_frames: int | None         # H.264 max_dec_frame_buffering, HEVC sps_max_dec_pic_buffering_minus1 + 1
    high_tier: bool = False        # HEVC general_tier_flag


@dataclass(frozen=True)
class OutputMeasure:
    """The ffprobe view of an output's first video stream, its packets and its SPS."""
    path: Path
    stream: dict
    packets: tuple[Packet, ...]
    header: SequenceHeader | None  # None for MPEG-4 Part 2 (trace_headers does not read it)


def measure_output(path: Path) -> OutputMeasure:
    """ffprobe the first video stream and its packets; trace its SPS for H.264 and HEVC.

    Two programs: `ffprobe -select_streams v:0 -show_entries stream:packet=dts_time,pts_time,size`
    and `ffmpeg -i OUT -map 0:v:0 -c copy -bsf:v trace_headers -frames:v 1 -f null -`
    (ffprobe's `refs` is not max_num_ref_frames in ffmpeg 5.1: it says 1 where the SPS says 5).
    """
    path = Path(path)
    info = ffmpeg_info()
    proc = run([info.ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                "stream:packet=dts_time,pts_time,size", "-of", "json", safe_arg(path)],
               timeout=600, what="ffprobe (packets)", check=False)
    if proc.returncode != 0:
        raise CheckFailed(path, f"ffprobe cannot read the output ({last_error_line(proc.stderr)})")
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError:
        raise CheckFailed(path, "ffprobe gave unreadable output for the output's packets") from None
    streams = data.get("streams") or []
    if not streams:
        raise CheckFailed(path, "the output has no video stream")
    packets = []
    for p in data.get("packets", []):
        stamp = p.get("dts_time") if p.get("dts_time") not in (None, "N/A") else p.get("pts_time")
        if stamp not in (None, "N/A"):
            packets.append(Packet(float(stamp), int(p.get("size") or 0)))
    if not packets:
        raise CheckFailed(path, "the output's video stream has no packets")
    stream = streams[0]
    header = None
    if stream.get("codec_name") in ("h264", "hevc"):
        header = _trace_sps(path, stream["codec_name"])
        if header is None:
            raise CheckFailed(path, "cannot read the output's sequence parameter set (ffmpeg trace_headers)")
    return OutputMeasure(path, stream, tuple(packets), header)


_TRACE_FIELD = re.compile(r"^\[trace_headers @ [^\]]*\]\s+\d+\s+(\S+)\s+[01]*\s*=\s*(-?\d+)\s*$")
_TRACE_TITLE = re.compile(r"^\[trace_headers @ [^\]]*\]\s+([A-Za-z].*?)\s*$")


def _trace_sps(path: Path, codec: str) -> SequenceHeader | None:
    proc = run([ffmpeg_info().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "info", "-i", safe_arg(path),
                "-map", "0:v:0", "-c", "copy", "-bsf:v", "trace_headers", "-frames:v", "1", "-f", "null", "-"],
               timeout=120, what="ffmpeg trace_headers", check=False)
    fields: dict[str, int] = {}
    inside = False
    for line in proc.stderr.decode("utf-8", "replace").splitlines():
        title = _TRACE_TITLE.match(line)
        if title and not _TRACE_FIELD.match(line):
            if inside:
                break
            inside = title.group(1) == "Sequence Parameter Set"
            continue
        field = _TRACE_FIELD.match(line)
        if inside and field:
            fields[field.group(1)] = int(field.group(2))   # repeated fields: the last (highest sub-layer) wins
    if codec == "h264" and "pic_width_in_mbs_minus1" in fields:
        height_units = fields["pic_height_in_map_units_minus1"] + 1
        return SequenceHeader((fields["pic_width_in_mbs_minus1"] + 1) * 16,
                              height_units * 16 * (2 - fields.get("frame_mbs_only_flag", 1)),
                              fields.get("max_num_ref_frames"), fields.get("max_dec_frame_buffering"))
    if codec == "hevc" and "pic_width_in_luma_samples" in fields:
        buffering = [v for k, v in fields.items() if k.startswith("sps_max_dec_pic_buffering_minus1")]
        return SequenceHeader(fields["pic_width_in_luma_samples"], fields["pic_height_in_luma_samples"], None,
                              buffering[-1] + 1 if buffering else None, bool(fields.get("general_tier_flag")))
    return None


# -- checking an output ------------------------------------------------------------------

def output_problems(measure: OutputMeasure, codec: str, profile: str, level: str) -> list[str]:
    """level_problems() for everything measure_output() found."""
    return level_problems(measure.stream, measure.packets, codec, profile, level, header=measure.header)


def level_problems(stream: dict, packets_or_bitrate: Sequence[Packet] | float | None, codec: str, profile: str,
                   level: str, *, header: SequenceHeader | None = None) -> list[str]:
    """What in an output breaks the declared profile@level, in plain English (empty: nothing).

    `stream` is ffprobe's video stream (codec_name, profile, level, width, height,
    avg_frame_rate / r_frame_rate); `packets_or_bitrate` its packets (for the average and
    busiest-second bit rates and the buffer model) or only an average bit rate in bits/s;
    `header` the SPS facts for the frame size as coded and the reference/DPB checks.
    """
    lim = limits(codec, profile, level)
    problems = []
    if stream.get("codec_name") != lim.codec:
        problems.append(f"codec {stream.get('codec_name')} (expected {lim.codec})")
        return problems
    if stream.get("profile") not in lim.profile_names:
        problems.append(f"signals profile {stream.get('profile')!r}, not the declared {lim.profile_names[0]!r}")
    signalled = int(stream.get("level") or -1)
    if signalled not in lim.level_numbers:
        problems.append(f"signals level {signalled}, not the declared {lim.level} ({lim.level_numbers[0]})")
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    size = lim.frame_size(width, height)
    if header and lim.codec == "hevc":
        size = header.coded_width * header.coded_height
    if size > lim.max_frame:
        problems.append(f"a {width}x{height} frame is {size:,} {lim.unit}, over {lim.name}'s {lim.max_frame:,}")
    side = lim.dimension_problem(width, height)
    if side:
        problems.append(side)
    fps = stream_fps(stream)
    if size * fps > lim.max_rate:
        problems.append(f"{float(size * fps):,.0f} {lim.unit}/s ({size:,} a frame at {float(fps):.3f} fps) is over "
                        f"{lim.name}'s {lim.max_rate:,}/s: use a smaller frame (largest_size_within) or rate")
    problems += _dpb_problems(lim, size, header)
    if isinstance(packets_or_bitrate, (int, float)):
        if packets_or_bitrate > lim.max_bitrate:
            problems.append(_over_bitrate("average bit rate", packets_or_bitrate, lim))
    elif packets_or_bitrate:
        problems += bitrate_problems(packets_or_bitrate, fps, lim)
    return problems


def stream_fps(stream: dict) -> Fraction:
    """The stream's real frame rate: avg_frame_rate, else r_frame_rate (0 when neither is known)."""
    for key in ("avg_frame_rate", "r_frame_rate"):
        try:
            rate = Fraction(stream.get(key) or "0")
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return rate
    return Fraction(0)


def _dpb_problems(lim: LevelLimits, size: int, header: SequenceHeader | None) -> list[str]:
    """Reference frames and the decoded picture buffer against what the level holds at this size."""
    frames = lim.max_dpb_frames(size)
    if header is None or frames is None:
        return []
    problems = []
    if lim.codec == "h264":
        for what, value in (("reference frames (max_num_ref_frames)", header.ref_frames),
                            ("frames of decoder buffering (max_dec_frame_buffering)", header.dpb_frames)):
            if value is not None and value > frames:
                problems.append(f"{value} {what}, but {lim.name}'s buffer holds {frames} frames of {size:,} "
                                f"macroblocks")
    else:
        if header.dpb_frames is not None and header.dpb_frames > frames:
            problems.append(f"a decoded picture buffer of {header.dpb_frames} pictures "
                            f"(sps_max_dec_pic_buffering), but {lim.name} allows {frames} at this size")
        if header.high_tier:
            problems.append("signals the High tier; the limits checked are the Main tier's")
    return problems


def bitrate_problems(packets: Sequence[Packet], fps: Fraction, lim: LevelLimits) -> list[str]:
    """Average and busiest-second bit rates against MaxBR, and the decoder's buffer model.

    The buffer model is the standards' leaky bucket (H.264/HEVC Annex C HRD, MPEG-4 VBV)
    in VBR mode: bits arrive at MaxBR into a buffer of MaxCPB (arrival pauses while it is
    full, so it cannot overflow), starting full; each frame leaves whole at its decode
    time. A frame that has not fully arrived by then is an underflow: the decoder stalls.
    The busiest second (a 1-second window sliding over the packets, as Apple's QuickTime
    spec computes a track's maximum bit rate) is stricter than the HRD, which lets a
    second carry up to MaxBR + MaxCPB; infopack's profiles cap their rates far below MaxBR,
    so only a broken encode comes near it.
    """
    ordered = sorted(packets, key=lambda p: p.time)
    frame_time = float(1 / fps) if fps > 0 else 0.0
    duration = ordered[-1].time - ordered[0].time + frame_time
    total_bits = 8 * sum(p.size for p in ordered)
    problems = []
    if duration > 0 and total_bits / duration > lim.max_bitrate:
        problems.append(_over_bitrate("average bit rate", total_bits / duration, lim))
    peak, peak_at = busiest_second(ordered)
    if peak > lim.max_bitrate:
        problems.append(_over_bitrate(f"the busiest second (from {peak_at:.2f} s)", peak, lim))
    underflows = buffer_underflows(ordered, lim.max_bitrate, lim.max_buffer)
    if underflows:
        at, bits, held = underflows[0]
        problems.append(f"the decoder's buffer ({lim.max_buffer / 1000:,.0f} kbit filled at "
                        f"{lim.max_bitrate / 1000:,.0f} kbit/s, {lim.name}) runs dry {len(underflows)} time(s), "
                        f"first at {at:.2f} s: a frame of {bits / 1000:,.0f} kbit with {held / 1000:,.0f} kbit "
                        f"buffered; cap the encoder's -maxrate/-bufsize within the level")
    return problems


def busiest_second(ordered: Sequence[Packet]) -> tuple[int, float]:
    """The most bits in any [t, t + 1 s) window starting at a packet, and where it starts."""
    best, best_at, total, end = 0, 0.0, 0, 0
    for start, packet in enumerate(ordered):
        while end < len(ordered) and ordered[end].time < packet.time + 1.0:
            total += ordered[end].size * 8
            end += 1
        if total > best:
            best, best_at = total, packet.time
        total -= packet.size * 8
    return best, best_at


def buffer_underflows(ordered: Sequence[Packet], rate: int, buffer: int) -> list[tuple[float, int, float]]:
    """(time, frame bits, bits buffered) for every frame that leaves before it has arrived."""
    fullness, previous, underflows = float(buffer), None, []
    for packet in ordered:
        if previous is not None:
            fullness = min(float(buffer), fullness + rate * (packet.time - previous))
        bits = packet.size * 8
        if bits > fullness + 1e-6:
            underflows.append((packet.time, bits, fullness))
            fullness = 0.0                 # the decoder waits for the rest; the late frame empties it
        else:
            fullness -= bits
        previous = packet.time
    return underflows


def _over_bitrate(what: str, bits_per_s: float, lim: LevelLimits) -> str:
    return f"{what} {bits_per_s / 1000:,.0f} kbit/s is over {lim.name}'s {lim.max_bitrate / 1000:,.0f} kbit/s"


# -- the encoder's own warnings ----------------------------------------------------------

# x264 (encoder/set.c x264_validate_levels): "<what> (<value>) > level limit (<limit>)"; x265
# (encoder/level.cpp): "... out of range for specified level", "... is non-compliant", ...
_LEVEL_WARNING = re.compile(r"> level limit|for specified level|is non-compliant"
                            r"|inconsistent with specifying a decoder level|specified level \d+ does not exist")


def with_warnings(args: list[str]) -> list[str]:
    """The same ffmpeg command at `-loglevel warning` (output bytes do not change), so that
    x264's level warnings reach stderr; x265 logs through its own `log-level` parameter,
    which must be `warning` in -x265-params for its level messages to show."""
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        if arg in ("-loglevel", "-v"):
            out[i + 1] = "warning"
            return out
    return out[:1] + ["-loglevel", "warning"] + out[1:]


def level_warnings(stderr: bytes | str) -> list[str]:
    """The lines of an encode's stderr where x264 or x265 says the stream breaks its level,
    e.g. `[libx264 @ 0x..] MB rate (48600) > level limit (40500)`."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    return [line.strip() for line in text.splitlines() if _LEVEL_WARNING.search(line)]
