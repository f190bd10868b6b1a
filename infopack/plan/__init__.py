"""`infopack plan`: which items land on which card, and how full each is, before any encode.

Sizes are estimated from each source's duration and the profile's rates (the caps are
used, so the estimate errs on the large side: infopack.plan.estimate); with size fitting
on, videos are estimated at their fitted rates (infopack.plan.fit). After the build, the
report gives exact figures.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from infopack.errors import naming_instead
from infopack.fat.catalog import CardType, load_card
from infopack.kinds import REGISTRY, MediaInfo, probe_source
from infopack.kinds.subtitle import SubtitlePlan, plan_subtitles
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
    subtitles: SubtitlePlan | None = None   # subtitled kinds: the source the build will use, or its refusal


@dataclass
class Plan:
    bundle: Bundle
    profile: Profile
    card: CardType
    items: dict[str, PlannedItem]
    result: PackResult
    fitted: dict[str, int] = field(default_factory=dict)   # item id -> fitted video bits/s
    warnings: list[str] = field(default_factory=list)      # what the curator should know (names cut to fit)

    @property
    def subtitle_problems(self) -> list[str]:
        """Refusals the build would give for subtitles, one line each."""
        return [p.subtitles.problem for p in self.items.values() if p.subtitles is not None and p.subtitles.problem]


def make_plan(bundle: Bundle, *, fit: bool = False) -> Plan:
    """Estimate and pack; with `fit` (or the manifest's fit = true) at the fitted video rates."""
    refuse_identifying_titles(bundle.manifest_path, bundle.items)
    profile = load_profile(bundle.profile)
    card = load_card(bundle.card)
    infos = {item.id: probe_source(item.source) for item in bundle.items}
    fitted = fit_budgets(bundle, profile, card, infos) if (fit or bundle.fit) else {}
    subtitles = planned_subtitles(bundle, infos)
    chosen = {item_id: (p.choice.chosen,) if p.choice and p.choice.chosen else () for item_id, p in subtitles.items()}
    sizes = planned_items(bundle, profile, infos, fitted, chosen)
    planned = {item.id: PlannedItem(infos[item.id], sizes[item.id], fitted.get(item.id), subtitles.get(item.id))
               for item in bundle.items}
    result = pack([PackItem(id=item.id, files=planned[item.id].sizes, group=item.group, order=item.order,
                            priority=item.priority) for item in bundle.items], card, max_cards=bundle.max_cards)
    warnings = [f"item {item_id}: {line}" for item_id, lines in shortened_names(bundle, profile, infos).items()
                for line in lines]
    return Plan(bundle, profile, card, planned, result, fitted, warnings)


def planned_subtitles(bundle: Bundle, infos: dict[str, MediaInfo]) -> dict[str, SubtitlePlan]:
    """Each subtitled item's subtitle source, chosen as the build will (tracks of unknown language
    are read in a folder that is gone when the plan is made)."""
    plans = {}
    with tempfile.TemporaryDirectory(prefix="infopack-plan-") as work:
        for item in bundle.items:
            if REGISTRY.kind_named(infos[item.id].kind).subtitled:
                with naming_instead(work, item.source):
                    plans[item.id] = plan_subtitles(item, infos[item.id], Path(work) / item.id,
                                                    manifest=bundle.manifest_path,
                                                    language_class=bundle.subtitle_class,
                                                    require=bundle.require_subtitles)
    return plans
