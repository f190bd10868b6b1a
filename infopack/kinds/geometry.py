"""Display geometry of a source: rotation, pixel aspect, and the upright output size.

Phones store rotation as a display matrix beside the pixels; DVDs store non-square
pixels (720x480 with SAR 32:27 for 16:9). Both must be applied before scaling, or the
card gets a stretched or sideways picture (FIELD-NOTES "Levels").

Rotation is applied exactly once, by ffmpeg's autorotate, which is on unless an input
says `-noautorotate`. ffmpeg 5.1 then puts transpose/hflip/vflip (the filters
`filters_for` returns) in front of the `-vf` chain, so the chain sees upright frames, and
writes no rotation into the output. infopack must not pass `-noautorotate` for encodes:
ffmpeg 5.1 then copies the source's display matrix into an MP4 output even with
`-map_metadata -1` (and `-metadata:s:v rotate=0` does not reset it when encoding), so
players would turn the picture a second time. A deinterlacer must see the stored
fields, not turned ones: `deinterlace_first` wraps it in the undoing and redoing turns.
Mirroring display matrices (rare) are treated as their rotation, as ffmpeg 5.1 does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from infopack.errors import UsageError

_UPRIGHT_FILTERS = {0: [], 90: ["transpose=clock"], 180: ["hflip", "vflip"], 270: ["transpose=cclock"]}


@dataclass(frozen=True)
class SourceGeometry:
    """A source's stored picture and how it is meant to be shown."""
    width: int             # stored pixels
    height: int
    sar: Fraction          # sample (pixel) aspect ratio; 1 for square pixels
    rotation: int          # degrees clockwise that make the stored picture upright: 0, 90, 180, 270

    @property
    def display_aspect(self) -> Fraction:
        return display_aspect(self.width, self.height, self.sar, self.rotation)

    @property
    def upright_size(self) -> tuple[Fraction, Fraction]:
        """The shown picture in square pixels, turned upright (width x height)."""
        width, height = self.width * self.sar, Fraction(self.height)
        return (height, width) if self.rotation in (90, 270) else (width, height)


def source_geometry(stream: dict) -> SourceGeometry:
    """The geometry of one ffprobe video stream (`-show_streams` JSON)."""
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise UsageError(None, "video stream has no picture size (damaged file?)")
    return SourceGeometry(width, height, sample_aspect(stream.get("sample_aspect_ratio")), rotation(stream))


def sample_aspect(text: str | None) -> Fraction:
    """ffprobe's "32:27"; "0:1", "N/A" or nothing mean unknown, taken as square."""
    try:
        num, den = (int(x) for x in (text or "1:1").split(":"))
    except ValueError:
        return Fraction(1)
    return Fraction(num, den) if num > 0 and den > 0 else Fraction(1)


def rotation(stream: dict) -> int:
    """Degrees clockwise (0, 90, 180, 270) a player turns this stream to show it.

    From the display matrix side data (ffprobe's `side_data_list`, matrix text first, its
    `rotation` field second, which is counterclockwise: a phone's portrait video says
    -90), else from the legacy `rotate` tag (clockwise), which ffmpeg 5 no longer writes
    when reading MP4 but older probes and other demuxers may.
    """
    for side in stream.get("side_data_list") or []:
        if side.get("side_data_type") != "Display Matrix":
            continue
        degrees = _matrix_rotation(side.get("displaymatrix") or "")
        if degrees is None and side.get("rotation") is not None:
            degrees = -float(side["rotation"])
        if degrees is not None:
            return _quarter_turns(degrees)
    tag = (stream.get("tags") or {}).get("rotate")
    if tag not in (None, ""):
        try:
            return _quarter_turns(float(tag))
        except ValueError:
            pass
    return 0


def _matrix_rotation(text: str) -> float | None:
    """Clockwise degrees of ffprobe's displaymatrix dump (libavutil/display.c's angle, negated)."""
    numbers = []
    for line in text.strip().splitlines():
        numbers += [int(x) for x in line.partition(":")[2].split()]
    if len(numbers) != 9 or (numbers[0] == 0 and numbers[1] == 0):
        return None
    return math.degrees(math.atan2(numbers[1], numbers[0]))


def _quarter_turns(degrees: float) -> int:
    turned = degrees % 360
    nearest = round(turned / 90) * 90 % 360
    if abs((turned - nearest + 180) % 360 - 180) > 1:
        raise UsageError(None, f"the video is turned by {turned:.0f} degrees, not a multiple of 90; "
                               f"turn it upright in an editor first")
    return nearest


def display_aspect(width: int, height: int, sar, rotation: int) -> Fraction:
    """Width / height of the picture as shown: pixel aspect applied, then turned."""
    aspect = Fraction(width) * Fraction(sar) / height
    return 1 / aspect if rotation in (90, 270) else aspect


def output_size(geometry: SourceGeometry, box_w: int, box_h: int) -> tuple[int, int]:
    """The upright, square-pixel size that fits the profile's box, never larger than the
    shown picture, even on both sides. The box is the screen's: a portrait video in an
    854x480 box becomes 270x480, shown with bars on the sides, not stretched or turned."""
    shown_w, shown_h = geometry.upright_size
    scale = min(Fraction(box_w) / shown_w, Fraction(box_h) / shown_h, Fraction(1))
    width = min(_even(shown_w * scale), box_w - box_w % 2)
    height = min(_even(shown_h * scale), box_h - box_h % 2)
    return max(width, 2), max(height, 2)


def _even(value: Fraction) -> int:
    return int(round(value / 2)) * 2


def filters_for(rotation: int) -> list[str]:
    """The filters that turn a stored picture upright: those ffmpeg's autorotate inserts.

    Encodes leave autorotate on and need none of these; they are for `deinterlace_first`
    and for a decode that runs with `-noautorotate` into an output that cannot carry a
    display matrix (a still image, an AVI).
    """
    if rotation not in _UPRIGHT_FILTERS:
        raise ValueError(f"rotation must be 0, 90, 180 or 270, not {rotation!r}")
    return list(_UPRIGHT_FILTERS[rotation])


def deinterlace_first(rotation: int, deinterlacer: str) -> list[str]:
    """The start of a `-vf` chain that deinterlaces the stored fields of a turned source.

    Autorotate turns frames before `-vf`; turned by 90 the fields become columns, and by
    180 (a vertical flip) their order swaps, so the deinterlacer would weave the wrong
    lines. Turning back, deinterlacing and turning again is lossless and keeps ffmpeg in
    charge of the display matrix.
    """
    return filters_for((360 - rotation) % 360) + [deinterlacer] + filters_for(rotation)
