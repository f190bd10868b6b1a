"""`infopack plan`: which items land on which card, and how full each is, before the build.

Each video's size is estimated from sample encodes of a few windows of it with the
profile's own command (infopack.plan.samples; `fast` keeps the profile's caps, an upper
side), other items from their kind's model (infopack.plan.estimate); with size fitting on,
videos are estimated at their fitted rates (infopack.plan.fit). The cards are packed by
the rule the build keeps (infopack.plan.assign), so the plan's cards are the build's.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infopack.errors import naming_instead
from infopack.fat.catalog import CardType, load_card
from infopack.fat.cost import card_cost
from infopack.kinds import REGISTRY, MediaInfo, probe_source
from infopack.kinds.subtitle import SubtitlePlan, plan_subtitles
from infopack.manifest import Bundle
from infopack.manifest.titles import refuse_identifying_titles
from infopack.plan.assign import pack_items, plan_packing
from infopack.plan.estimate import Estimates, estimate_items
from infopack.plan.fit import fit_budgets
from infopack.plan.packing import GroupSplit, PackResult, group_splits
from infopack.plan.samples import SAMPLE_HEADROOM, Memo
from infopack.profiles import Profile, load_profile


@dataclass
class PlannedItem:
    info: MediaInfo
    sizes: dict[str, int]          # card path -> estimated bytes
    video_bitrate: int | None = None   # fitted video rate (bits/s), when fitting changed it
    subtitles: SubtitlePlan | None = None   # subtitled kinds: the source the build will use, or its refusal
    sampled: bool = False          # its main file's size comes from sample encodes


@dataclass
class Plan:
    bundle: Bundle
    profile: Profile
    card: CardType
    items: dict[str, PlannedItem]
    result: PackResult
    fitted: dict[str, int] = field(default_factory=dict)   # item id -> fitted video bits/s
    splits: list[GroupSplit] = field(default_factory=list)
    fast: bool = False
    warnings: list[str] = field(default_factory=list)      # what the curator should know (names cut to fit)

    @property
    def subtitle_problems(self) -> list[str]:
        """Refusals the build would give for subtitles, one line each."""
        return [p.subtitles.problem for p in self.items.values() if p.subtitles is not None and p.subtitles.problem]

    def estimated_bytes(self, card_id: str) -> int:
        """What a planned card's files take by the estimates (without the packing headroom)."""
        plan = next(c for c in self.result.cards if c.card_id == card_id)
        return card_cost({path: size for item_id in plan.items for path, size in self.items[item_id].sizes.items()},
                         self.card)

    def to_dict(self) -> dict:
        """`plan --json` (schema infopack/plan/1)."""
        items = {item.id: item for item in self.bundle.items}
        return {
            "bundle": {"id": self.bundle.id, "title": self.bundle.title, "version": self.bundle.version},
            "profile": self.profile.id,
            "card_type": {"name": self.card.name, "usable_bytes": self.card.usable_bytes,
                          "cluster_bytes": self.card.cluster_bytes, "filesystem": self.card.filesystem},
            "estimates": "upper" if self.fast else "sampled",
            "headroom": 0.0 if self.fast else SAMPLE_HEADROOM,
            "cards": [{"card": c.card_id, "items": list(c.items), "estimated_bytes": self.estimated_bytes(c.card_id),
                       "planned_bytes": c.used_bytes, "usable_bytes": c.usable_bytes} for c in self.result.cards],
            "items": [{"id": item_id, "title": items[item_id].title, "kind": p.info.kind,
                       "duration": round(p.info.duration, 3), "estimated_bytes": sum(p.sizes.values()),
                       "files": p.sizes, "sampled": p.sampled, "video_bitrate": p.video_bitrate}
                      | ({"subtitles": p.subtitles.line(), "no_korean_subtitles": p.subtitles.flagged}
                         if p.subtitles is not None else {})
                      for item_id, p in self.items.items()],
            "series_split": [s.to_dict() for s in self.splits],
            "left_out": list(self.result.left_out),
            "problems": list(self.result.problems) + self.subtitle_problems,
            "warnings": list(self.warnings),
        }


def make_plan(bundle: Bundle, *, fit: bool = False, fast: bool = False, memo: Memo | None = None,
              jobs: int | None = None, progress: Callable[[dict], None] | None = None) -> Plan:
    """Estimate and pack; with `fit` (or the manifest's fit = true) at the fitted video rates.

    `memo` (the encode cache) keeps sample encodes for the next plan and the build; `fast`
    runs none and plans at the upper estimates.
    """
    refuse_identifying_titles(bundle.manifest_path, bundle.items)
    profile = load_profile(bundle.profile)
    card = load_card(bundle.card)
    infos = {item.id: probe_source(item.source) for item in bundle.items}
    fitted = fit_budgets(bundle, profile, card, infos) if (fit or bundle.fit) else {}
    subtitles = planned_subtitles(bundle, infos)
    chosen = {item_id: (p.choice.chosen,) if p.choice and p.choice.chosen else () for item_id, p in subtitles.items()}
    estimates: Estimates = estimate_items(bundle, profile, infos, fitted, subtitles=chosen, sample=not fast, memo=memo,
                                          jobs=jobs, progress=progress)
    planned = {item.id: PlannedItem(infos[item.id], estimates.sizes[item.id], fitted.get(item.id),
                                    subtitles=subtitles.get(item.id), sampled=item.id in estimates.sampled)
               for item in bundle.items}
    result = plan_packing(bundle, card, estimates)
    splits = group_splits(result.cards, pack_items(bundle, estimates.sizes))
    warnings = [f"item {item_id}: {line}" for item_id, lines in estimates.shortened.items() for line in lines]
    return Plan(bundle, profile, card, planned, result, fitted, splits=splits, fast=fast, warnings=warnings)


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
