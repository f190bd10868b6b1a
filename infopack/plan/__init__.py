"""`infopack plan`: which items land on which card, and how full each is, before any encode.

Sizes are estimated from each source's duration and the profile's rates (the caps are
used, so the estimate errs on the large side: infopack.plan.estimate); with size fitting
on, videos are estimated at their fitted rates (infopack.plan.fit). After the build, the
report gives exact figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infopack.fat.catalog import CardType, load_card
from infopack.kinds import MediaInfo, probe_source
from infopack.manifest import Bundle
from infopack.manifest.titles import refuse_identifying_titles
from infopack.plan.estimate import planned_items, shortened_names
from infopack.plan.fit import fit_budgets
from infopack.plan.packing import PackItem, PackResult, pack
from infopack.profiles import Profile, load_profile


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
    warnings: list[str] = field(default_factory=list)      # what the curator should know (names cut to fit)


def make_plan(bundle: Bundle, *, fit: bool = False) -> Plan:
    """Estimate and pack; with `fit` (or the manifest's fit = true) at the fitted video rates."""
    refuse_identifying_titles(bundle.manifest_path, bundle.items)
    profile = load_profile(bundle.profile)
    card = load_card(bundle.card)
    infos = {item.id: probe_source(item.source) for item in bundle.items}
    fitted = fit_budgets(bundle, profile, card, infos) if (fit or bundle.fit) else {}
    sizes = planned_items(bundle, profile, infos, fitted)
    planned = {item.id: PlannedItem(infos[item.id], sizes[item.id], fitted.get(item.id)) for item in bundle.items}
    result = pack([PackItem(id=item.id, files=planned[item.id].sizes, group=item.group, order=item.order,
                            priority=item.priority) for item in bundle.items], card, max_cards=bundle.max_cards)
    warnings = [f"item {item_id}: {line}" for item_id, lines in shortened_names(bundle, profile, infos).items()
                for line in lines]
    return Plan(bundle, profile, card, planned, result, fitted, warnings)
