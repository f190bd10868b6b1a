"""Size estimates before the build: each item's card paths and bytes.

Two estimates per item:
- the **upper** one, asked of its kind (`Kind.estimate`): rate caps, generous picture
  sizes, a fitted video at its fitted rate. It errs on the large side (about threefold for
  constant-quality video) and costs nothing;
- the **estimate** proper: the upper one, except that the main file of a sampled kind
  (video) is measured from sample encodes (infopack.plan.samples), within about 10%.

`--fast` plans keep the upper estimates. For packing, a sampled size is raised by
`SAMPLE_HEADROOM` (infopack.plan.samples), so sizes within the measured error still fit
the cards the plan promised (infopack.plan.assign).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from infopack.kinds import REGISTRY, MediaInfo
from infopack.kinds.specs import Profile
from infopack.kinds.subtitle import likely_source
from infopack.manifest import Bundle
from infopack.plan.layout import CardLayout, card_layout
from infopack.plan.samples import SAMPLE_HEADROOM, Memo, sampled_sizes


@dataclass
class Estimates:
    upper: dict[str, dict[str, int]]                  # item id -> card path -> upper-side bytes
    sizes: dict[str, dict[str, int]]                  # item id -> card path -> estimated bytes
    sampled: dict[str, str] = field(default_factory=dict)    # item id -> its sampled card path
    shortened: dict[str, list[str]] = field(default_factory=dict)   # item id -> a line per card name cut to fit

    def packing_sizes(self, item_id: str) -> dict[str, int]:
        """What the packer is given: sampled files with their headroom, the rest as estimated."""
        sizes = dict(self.sizes[item_id])
        path = self.sampled.get(item_id)
        if path is not None:
            sizes[path] = int(sizes[path] * (1 + SAMPLE_HEADROOM))
        return sizes


def planned_items(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo],
                  video_bits: dict[str, int] | int | None = None, subtitles: dict[str, tuple] | None = None
                  ) -> dict[str, dict[str, int]]:
    """{item id: {card path: upper-side bytes}} for the items in `infos` (a build may leave some
    out); `video_bits` per item id, or one rate for all; `subtitles`: item id -> its chosen
    subtitle source (0 or 1), else the likely one."""
    layout, sizes = _planned_roles(bundle, profile, infos, video_bits, subtitles)
    return {item_id: {layout.paths[item_id][role]: size for role, size in roles.items()}
            for item_id, roles in sizes.items()}


def _planned_roles(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo],
                   video_bits: dict[str, int] | int | None, subtitles: dict[str, tuple] | None = None
                   ) -> tuple[CardLayout, dict]:
    """(where each item's files go, {item id: {role: upper-side bytes}})."""
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
    return layout, estimates


def planned_files(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo],
                  video_bits: dict[str, int] | int | None = None) -> dict[str, int]:
    """Every planned card path and its upper-side bytes, all items together."""
    return {path: size for sizes in planned_items(bundle, profile, infos, video_bits).values()
            for path, size in sizes.items()}


def estimate_items(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo],
                   fitted: dict[str, int] | None = None, *, subtitles: dict[str, tuple] | None = None,
                   sample: bool = True, memo: Memo | None = None, jobs: int | None = None,
                   progress: Callable[[dict], None] | None = None) -> Estimates:
    """Upper estimates for every item in `infos`; with `sample`, sampled ones for the main file
    of each item of a sampled kind that size fitting left at the profile's own rates."""
    fitted = fitted or {}
    layout, roles = _planned_roles(bundle, profile, infos, fitted, subtitles)
    paths = layout.paths
    upper = {item_id: {paths[item_id][role]: size for role, size in sizes.items()} for item_id, sizes in roles.items()}
    estimates = Estimates(upper, {item_id: dict(sizes) for item_id, sizes in upper.items()},
                          shortened=layout.shortened)
    if not sample:
        return estimates
    chosen = []
    for item in bundle.items:
        info = infos.get(item.id)
        kind = REGISTRY.kind_named(info.kind) if info else None
        if kind is not None and kind.sampled and item.id not in fitted:
            chosen.append((item, info, kind))
    measured = sampled_sizes(chosen, profile, memo=memo, jobs=jobs, progress=progress)
    for item, _, _ in chosen:
        path = paths[item.id]["main"]
        estimates.sizes[item.id][path] = measured[item.id]
        estimates.sampled[item.id] = path
    return estimates
