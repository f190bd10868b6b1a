"""`infopack plan`: which items land on which card, and how full each is, before any encode.

Sizes are estimated from each source's duration and the profile's rates (the caps are
used, so the estimate errs on the large side); with size fitting on, videos are estimated
at their fitted rates (infopack.plan.fit). After the build, the report gives exact figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infopack.fat.catalog import CardType, load_card
from infopack.plan.layout import card_paths
from infopack.manifest import Bundle
from infopack.plan.packing import PackItem, PackResult, pack
from infopack.kinds.probe import MediaInfo, probe
from infopack.profiles import Profile, estimate_bytes, load_profile

IMAGE_BYTES_PER_PIXEL = 0.35        # a JPEG at quality ~82 of a photo, generous
SIDECAR_FACTOR = 2                  # a sidecar can grow (re-encoding, wrapping): twice its source


def estimate_item_bytes(info: MediaInfo, profile: Profile, video_bits: int | None = None) -> dict[str, int]:
    """{role: estimated bytes} for one item's outputs (`video_bits`: a fitted video rate)."""
    if info.kind == "image":
        side = profile.image.max_long_side
        scale = min(1.0, side / max(info.width, info.height))
        return {"main": int(info.width * scale * info.height * scale * IMAGE_BYTES_PER_PIXEL) + 1}
    return {"main": estimate_bytes(profile, info.duration, info.kind, has_audio=info.has_audio,
                                   video_bits=video_bits)}


def planned_items(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo],
                  video_bits: dict[str, int] | int | None = None) -> dict[str, dict[str, int]]:
    """{item id: {card path: estimated bytes}} for the items in `infos` (a build may leave some out);
    `video_bits` per item id, or one rate for all."""
    items = [item for item in bundle.items if item.id in infos]
    roles, estimates = {}, {}
    for item in items:
        info = infos[item.id]
        bits = video_bits.get(item.id) if isinstance(video_bits, dict) else video_bits
        estimate = estimate_item_bytes(info, profile, bits)
        ext = {"image": profile.image.extension, "audio": profile.audio_only.extension or ".m4a"}.get(
            info.kind, profile.extension)
        roles[item.id] = {"main": ext}
        if item.subtitles and info.kind == "video" and profile.subtitles.sidecar:
            roles[item.id]["sidecar"] = ".srt"
            estimate["sidecar"] = sum(p.stat().st_size for p in item.subtitles[:1]) * SIDECAR_FACTOR
        estimates[item.id] = estimate
    paths = card_paths([(item, infos[item.id].kind, roles[item.id]) for item in items],
                       ascii_only=profile.ascii_names)
    return {item.id: {paths[item.id][role]: size for role, size in estimates[item.id].items()}
            for item in items}


def planned_files(bundle: Bundle, profile: Profile, infos: dict[str, MediaInfo],
                  video_bits: dict[str, int] | int | None = None) -> dict[str, int]:
    """Every planned card path and its estimated bytes, all items together."""
    return {path: size for sizes in planned_items(bundle, profile, infos, video_bits).values()
            for path, size in sizes.items()}


@dataclass
class PlannedItem:
    info: MediaInfo
    sizes: dict[str, int]          # card path -> estimated bytes
    video_bitrate: int | None = None   # fitted video rate (bits/s), when fitting changed it


@dataclass
class Plan:
    bundle: Bundle
    profile: Profile
    card: CardType
    items: dict[str, PlannedItem]
    result: PackResult
    fitted: dict[str, int] = field(default_factory=dict)   # item id -> fitted video bits/s


def make_plan(bundle: Bundle, *, fit: bool = False) -> Plan:
    """Estimate and pack; with `fit` (or the manifest's fit = true) at the fitted video rates."""
    from infopack.plan.fit import fit_budgets  # fit uses planned_files: imported here, not at the top
    profile = load_profile(bundle.profile)
    card = load_card(bundle.card)
    infos = {item.id: probe(item.source) for item in bundle.items}
    fitted = fit_budgets(bundle, profile, card, infos) if (fit or bundle.fit) else {}
    sizes = planned_items(bundle, profile, infos, fitted)
    planned = {item.id: PlannedItem(infos[item.id], sizes[item.id], fitted.get(item.id)) for item in bundle.items}
    result = pack([PackItem(id=item.id, files=planned[item.id].sizes, group=item.group, order=item.order,
                            priority=item.priority) for item in bundle.items], card, max_cards=bundle.max_cards)
    return Plan(bundle, profile, card, planned, result, fitted)
