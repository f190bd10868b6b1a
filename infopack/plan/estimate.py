"""Size estimates before any encode: each item's card paths and bytes, asked of its kind.

Estimates err on the large side (rate caps, generous picture sizes); with size fitting,
videos are estimated at their fitted rates (infopack.plan.fit). After the build, the
report gives exact figures.
"""

from __future__ import annotations

from infopack.kinds import REGISTRY, MediaInfo
from infopack.kinds.specs import Profile
from infopack.kinds.subtitle import likely_source
from infopack.manifest import Bundle
from infopack.plan.layout import CardLayout, card_layout


def planned_items(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo],
                  video_bits: dict[str, int] | int | None = None, subtitles: dict[str, tuple] | None = None
                  ) -> dict[str, dict[str, int]]:
    """{item id: {card path: estimated bytes}} for the items in `infos` (a build may leave some out);
    `video_bits` per item id, or one rate for all; `subtitles`: item id -> its chosen subtitle
    source (0 or 1), else the likely one."""
    estimates, layout = _planned(bundle, profile, infos, video_bits, subtitles)
    return {item_id: {layout.paths[item_id][role]: size for role, size in sizes.items()}
            for item_id, sizes in estimates.items()}


def shortened_names(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo]) -> dict[str, list[str]]:
    """{item id: a line per card name cut to fit} for the items whose titles are too long."""
    return _planned(bundle, profile, infos, None)[1].shortened


def _planned(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo],
             video_bits: dict[str, int] | int | None, subtitles: dict[str, tuple] | None = None
             ) -> tuple[dict[str, dict[str, int]], CardLayout]:
    """Each item's {role: estimated bytes}, and where its files go."""
    items = [item for item in bundle.items if item.id in infos]
    roles, estimates = {}, {}
    for item in items:
        info = infos[item.id]
        kind = REGISTRY.kind_named(info.kind)
        bits = video_bits.get(item.id) if isinstance(video_bits, dict) else video_bits
        subs = () if not kind.subtitled else subtitles[item.id] if subtitles and item.id in subtitles \
            else likely_source(item, info)
        estimates[item.id] = kind.estimate(info, profile, subtitles=subs, video_bits=bits)
        roles[item.id] = kind.output_roles(info, profile, subtitles=subs)
    layout = card_layout([(item, infos[item.id].kind, roles[item.id]) for item in items],
                         ascii_only=profile.ascii_names)
    return estimates, layout


def planned_files(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo],
                  video_bits: dict[str, int] | int | None = None) -> dict[str, int]:
    """Every planned card path and its estimated bytes, all items together."""
    return {path: size for sizes in planned_items(bundle, profile, infos, video_bits).values()
            for path, size in sizes.items()}
