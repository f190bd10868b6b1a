"""`infopack plan`: which items land on which card, and how full each is, before any encode.

Sizes are estimated from each source's duration and the profile's rates (the caps are
used, so the estimate errs on the large side); after the build, the report gives exact
figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from infopack.cards import CardType, load_card
from infopack.layout import card_paths
from infopack.manifest import Bundle
from infopack.packing import PackItem, PackResult, pack
from infopack.probe import MediaInfo, probe
from infopack.profiles import Profile, estimate_bytes, load_profile

IMAGE_BYTES_PER_PIXEL = 0.35        # a JPEG at quality ~82 of a photo, generous


def estimate_item_bytes(info: MediaInfo, profile: Profile) -> dict[str, int]:
    """{role: estimated bytes} for one item's outputs."""
    if info.kind == "image":
        side = profile.image.max_long_side
        scale = min(1.0, side / max(info.width, info.height))
        return {"main": int(info.width * scale * info.height * scale * IMAGE_BYTES_PER_PIXEL) + 1}
    return {"main": estimate_bytes(profile, info.duration, info.kind, has_audio=info.has_audio)}


@dataclass
class PlannedItem:
    info: MediaInfo
    sizes: dict[str, int]          # card path -> estimated bytes


@dataclass
class Plan:
    bundle: Bundle
    profile: Profile
    card: CardType
    items: dict[str, PlannedItem]
    result: PackResult


def make_plan(bundle: Bundle) -> Plan:
    profile = load_profile(bundle.profile)
    card = load_card(bundle.card)
    infos = {item.id: probe(item.source) for item in bundle.items}
    roles = {}
    estimates = {}
    for item in bundle.items:
        info = infos[item.id]
        estimate = estimate_item_bytes(info, profile)
        ext = {"image": profile.image.extension, "audio": profile.audio_only.extension or ".m4a"}.get(
            info.kind, profile.extension)
        roles[item.id] = {"main": ext}
        if item.subtitles and info.kind == "video" and profile.subtitles.sidecar:
            roles[item.id]["sidecar"] = ".srt"
            estimate["sidecar"] = sum(p.stat().st_size for p in item.subtitles[:1]) * 2
        estimates[item.id] = estimate
    paths = card_paths([(item, infos[item.id].kind, roles[item.id]) for item in bundle.items],
                       ascii_only=profile.ascii_names)
    planned = {item.id: PlannedItem(infos[item.id], {paths[item.id][role]: size
                                                     for role, size in estimates[item.id].items()})
               for item in bundle.items}
    result = pack([PackItem(id=item.id, files=planned[item.id].sizes, group=item.group, order=item.order,
                            priority=item.priority) for item in bundle.items], card, max_cards=bundle.max_cards)
    return Plan(bundle, profile, card, planned, result)
