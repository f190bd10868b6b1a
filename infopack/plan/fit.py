"""Size-targeted encoding: a video bitrate budget per item so the whole bundle fits the card.

With `[bundle] fit = true` (or `build --fit`) the build asks here, after probing, for a
video rate per item, and encodes those items in two passes at that rate.

How the budget is made, and why:
- Room: the card's usable bytes (times `max_cards`). Taken off first, at their upper-side
  estimates: every non-video item (its kind's `estimate`, images by pixels), each
  video's soundtrack and container, sidecar subtitles, and the whole layout's cluster
  rounding and folders (`cards.card_cost` of the planned card paths, plus one cluster per
  video file for its rounding). With several cards, each extra card also loses a share for
  what packing leaves unused.
- Split: what is left goes to the videos in proportion to duration x (output pixels per
  frame)^0.75: a larger picture needs more bits, but less than in proportion (there is more
  redundancy between neighbouring pixels). Each item is capped at the profile's own rate
  (maxrate, or its target bitrate): an item that reaches the cap is left to the profile's
  own one-pass rates (it is not worth squeezing), and its share goes to the others.
- Safety: two-pass lands within a few percent of its target on long items; on the 4 s
  samples x264 and x265 landed between -17% and +10% (the overshoot largest on noisy clips
  at the lowest rates). So each item is planned as if it lasted 5% + half a second longer
  than it does. The fitted samples fill a 600 KB card to ~80%: short items pay for the
  half second, long ones only the 5%.
- Floor: below `[video] fit_floor_kbps` (at the profile's max frame size, scaled by the
  same pixels^0.75) the picture is not worth watching: the bundle is refused, saying how
  many bytes (and about how many minutes of video) must go.

MPEG-4 Part 2 (legacy-avi) cannot be fitted: ffmpeg 5.1's mpeg4 two-pass aborts on some
sources (2 of the 3 samples: "bitrate too low", then a heap error) even at generous
rates, and its one-pass bitrate mode overshoots by 25% and more.
"""

from __future__ import annotations

import math

from infopack.errors import CheckFailed, UsageError
from infopack.fat.catalog import CardType
from infopack.fat.cost import card_cost
from infopack.kinds import MediaInfo
from infopack.kinds.codecs import VIDEO_CODECS, bitrate_bits
from infopack.kinds.ffmpeg import CONTAINER_OVERHEAD
from infopack.kinds.specs import Profile
from infopack.kinds.video import frame_size
from infopack.manifest import Bundle
from infopack.plan.estimate import planned_files

PIXEL_EXPONENT = 0.75        # bits needed grow with (pixels per frame)^0.75
MARGIN_SHARE = 0.05          # two-pass overshoot allowance, as a share of the duration...
MARGIN_SECONDS = 0.5         # ...plus half a second of the item's rate (short items overshoot more)
PACKING_LOSS = 0.01          # per extra card: what packing items of whole files leaves unused
NO_FLOOR_KBPS = 10           # a profile without fit_floor_kbps still gets no absurd rate


def fit_budgets(bundle: Bundle, profile: Profile, card: CardType, infos: dict[str, MediaInfo]) -> dict[str, int]:
    """Video bits per second per item id (infos: item id -> MediaInfo).

    Items left out of the result use the profile's own rates (they fit at their cap);
    {} means nothing needs fitting. Raises CheckFailed, stating the shortfall, when the
    videos would have to go below the profile's quality floor.
    """
    videos = [item for item in bundle.items if item.id in infos and infos[item.id].video is not None]
    if not videos or profile.video is None:
        return {}
    spec = profile.video
    unfittable = VIDEO_CODECS[spec.codec].unfittable
    if unfittable:
        raise UsageError(bundle.manifest_path, f"profile {profile.id} cannot be size-fitted: "
                                               f"{unfittable}; remove fit = true")
    cap = bitrate_bits(spec.bitrate or spec.maxrate)
    room = _room(bundle, profile, card, infos)
    weights = {item.id: _pixel_ratio(infos[item.id], profile) for item in videos}
    planned = {item.id: infos[item.id].duration * (1 + MARGIN_SHARE) + MARGIN_SECONDS for item in videos}
    video_room = room / (1 + CONTAINER_OVERHEAD) * 8          # bits for all video streams
    rates = _share(video_room, weights, planned, cap)
    floor = (spec.fit_floor_kbps or NO_FLOOR_KBPS) * 1000
    floors = {i: floor * _pixel_ratio(infos[i], profile) for i in weights}
    if any(rates[i] < min(floors[i], cap) for i in rates):
        _refuse(bundle, profile, card, infos, floors, planned, video_room, cap)
    if all(rate >= cap for rate in rates.values()):
        return {}
    return {i: int(rate) for i, rate in sorted(rates.items()) if rate < cap}


def _room(bundle: Bundle, profile: Profile, card: CardType, infos: dict[str, MediaInfo]) -> float:
    """Bytes left for video streams: the cards minus everything that is not a video stream."""
    cards = bundle.max_cards or 1
    files = planned_files(bundle, profile, infos, video_bits=0)
    fixed = card_cost(files, card)
    video_files = sum(1 for info in infos.values() if info.video is not None)
    fixed += video_files * card.cluster_bytes          # the video bytes' own last-cluster rounding
    usable = card.usable_bytes * cards - card.usable_bytes * PACKING_LOSS * (cards - 1)
    return usable - fixed


def _pixel_ratio(info: MediaInfo, profile: Profile) -> float:
    """(output pixels / profile's max pixels)^0.75: how an item's needs scale with its picture."""
    spec = profile.video
    width, height = frame_size(info, spec)
    return (width * height / (spec.max_width * spec.max_height)) ** PIXEL_EXPONENT


def _share(bits: float, weights: dict[str, float], planned: dict[str, float], cap: int) -> dict[str, float]:
    """Rates proportional to weight (water-filling: capped items give their share to the rest)."""
    rates: dict[str, float] = {}
    left = dict(weights)
    while left:
        spend = bits - sum(rates[i] * planned[i] for i in rates)
        scale = spend / sum(left[i] * planned[i] for i in left) if spend > 0 else 0.0
        capped = {i for i in left if left[i] * scale >= cap}
        if not capped:
            rates.update({i: left[i] * scale for i in left})
            break
        for i in capped:
            rates[i] = float(cap)
            del left[i]
    return rates


def _refuse(bundle: Bundle, profile: Profile, card: CardType, infos: dict[str, MediaInfo],
            floors: dict[str, float], planned: dict[str, float], video_room: float, cap: int) -> None:
    """CheckFailed with the shortfall in bytes and in minutes of video at the floor."""
    at_floor = {i: min(floors[i], cap) for i in floors}
    need = sum(at_floor[i] * planned[i] for i in floors)                   # bits at the floor
    short_bytes = max(1, math.ceil((need - video_room) / 8 * (1 + CONTAINER_OVERHEAD)))
    seconds = sum(infos[i].duration for i in floors)
    audio = bitrate_bits(profile.audio.bitrate)
    per_second = sum((at_floor[i] * (1 + CONTAINER_OVERHEAD) + (audio if infos[i].has_audio else 0)) / 8
                     * infos[i].duration for i in floors) / seconds
    cards = bundle.max_cards or 1
    floor_kbps = profile.video.fit_floor_kbps or NO_FLOOR_KBPS
    where = f"{card.name}" + (f" x {cards} cards" if cards > 1 else "")
    raise CheckFailed(bundle.manifest_path,
                      f"{len(floors)} videos ({seconds / 60:.1f} min) do not fit '{where}' above the quality "
                      f"floor ({floor_kbps:g} kb/s at {profile.video.max_width}x"
                      f"{profile.video.max_height}, profile {profile.id}): cut at least "
                      f"{short_bytes / 1e6:.1f} MB ({short_bytes:,} bytes, about {_duration(short_bytes / per_second)} "
                      f"of video) or use a larger card / more cards")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{max(1, math.ceil(seconds))} s"
