"""One packing for `plan` and `build`: the cards the plan prints are the cards the build makes.

- `plan_packing` is the rule both use. When every item's upper-side estimate fits on one
  card, the plan is that one card (no sample encode is needed to know it). Otherwise the
  estimates are packed, each sampled size raised by its headroom (infopack.plan.estimate).
- The build makes the same plan before it encodes (`build_plan`: the samples come from the
  cache's memo when `plan` ran first), then `settle`s it with the sizes it measured: when
  every planned card still fits, the plan is kept item for item, even where a fuller packing
  would now be possible (the curator bought the cards the plan said). Only when a card would
  overflow (an estimate was off by more than its headroom) or the plan could not place an
  item does the build pack the measured sizes again, and it says which card and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from infopack.fat.catalog import CardType
from infopack.fat.cost import card_cost
from infopack.kinds import MediaInfo
from infopack.kinds.specs import Profile
from infopack.manifest import Bundle
from infopack.plan.estimate import Estimates, estimate_items
from infopack.plan.packing import CardPlan, GroupSplit, PackItem, PackResult, group_splits, pack
from infopack.plan.samples import Memo


def pack_items(bundle: Bundle, sizes: dict[str, dict[str, int]]) -> list[PackItem]:
    """The packer's items for the bundle items that have `sizes` (item id -> card path -> bytes)."""
    return [PackItem(id=item.id, files=sizes[item.id], group=item.group, order=item.order, priority=item.priority)
            for item in bundle.items if item.id in sizes]


def fits_one_card(sizes: dict[str, dict[str, int]], card: CardType) -> bool:
    return card_cost({path: size for files in sizes.values() for path, size in files.items()}, card) \
        <= card.usable_bytes


def plan_packing(bundle: Bundle, card: CardType, estimates: Estimates) -> PackResult:
    """The plan's cards (see the module docstring)."""
    strict = bundle.groups == "strict"
    if fits_one_card(estimates.upper, card):
        return pack(pack_items(bundle, estimates.upper), card, bundle.max_cards, strict_groups=strict)
    sizes = {item_id: _with_headroom(estimates, item_id, card) for item_id in estimates.sizes}
    return pack(pack_items(bundle, sizes), card, bundle.max_cards, strict_groups=strict)


def _with_headroom(estimates: Estimates, item_id: str, card: CardType) -> dict[str, int]:
    """The item's packing sizes; an item that fits a card alone only without its full headroom
    gets what the card leaves (it is not "larger than a card" by an estimate's margin)."""
    sizes = estimates.packing_sizes(item_id)
    estimated = card_cost(estimates.sizes[item_id], card)
    if card_cost(sizes, card) > card.usable_bytes >= estimated:
        path = estimates.sampled[item_id]
        room = card.usable_bytes - estimated
        sizes[path] = estimates.sizes[item_id][path] + room - room % card.cluster_bytes
    return sizes


def build_plan(bundle: Bundle, profile: Profile, card: CardType, infos: dict[str, MediaInfo],
               fitted: dict[str, int], *, memo: Memo | None = None, jobs: int | None = None,
               progress: Callable[[dict], None] | None = None) -> PackResult:
    """What `plan` prints for these items, sampling only when one card cannot hold them all."""
    estimates = estimate_items(bundle, profile, infos, fitted, sample=False)
    if not fits_one_card(estimates.upper, card):
        estimates = estimate_items(bundle, profile, infos, fitted, memo=memo, jobs=jobs, progress=progress)
    return plan_packing(bundle, card, estimates)


@dataclass
class Settled:
    result: PackResult               # the cards the build makes, with measured used bytes
    planned_cards: int
    reason: str | None = None        # why they are not the planned cards (None: they are)
    splits: list[GroupSplit] = field(default_factory=list)    # series on more than one card


def packing_notes(settled: Settled) -> dict:
    """What report.json says about packing, only when there is something to say: the series
    split over cards (`series_split`) and why the cards differ from the plan (`packing`)."""
    notes: dict = {}
    if settled.splits:
        notes["series_split"] = [split.to_dict() for split in settled.splits]
    if settled.reason:
        notes["packing"] = {"planned_cards": settled.planned_cards, "cards": len(settled.result.cards),
                            "reason": settled.reason}
    return notes


def settle(planned: PackResult, measured: list[PackItem], card: CardType, bundle: Bundle) -> Settled:
    """The planned cards if the measured sizes fit them, else a packing of the measured sizes."""
    kept, reason = _kept(planned, measured, card)
    if kept is not None:
        return Settled(kept, len(planned.cards), None, group_splits(kept.cards, measured))
    result = pack(measured, card, bundle.max_cards, strict_groups=bundle.groups == "strict")
    splits = group_splits(result.cards, measured)
    if [(c.card_id, c.items) for c in result.cards] == [(c.card_id, c.items) for c in planned.cards] \
            and result.left_out == planned.left_out:
        return Settled(result, len(planned.cards), None, splits)
    return Settled(result, len(planned.cards), f"{reason}; packed again from the built sizes: "
                                               f"{len(result.cards)} card(s), {len(planned.cards)} planned", splits)


def _kept(planned: PackResult, measured: list[PackItem], card: CardType) -> tuple[PackResult | None, str]:
    """(the planned cards with their measured bytes, "") if every one still fits, else (None, why not)."""
    by_id = {item.id: item for item in measured}
    if planned.problems:
        return None, f"the plan could not place every item ({planned.problems[0]})"
    if {i for plan in planned.cards for i in plan.items} | set(planned.left_out) != set(by_id):
        return None, "the plan was made for other items"
    cards = []
    for plan in planned.cards:
        used = card_cost({path: size for item_id in plan.items for path, size in by_id[item_id].files.items()}, card)
        if used > card.usable_bytes:
            return None, (f"{plan.card_id} would hold {used:,} bytes as built, over its {card.usable_bytes:,} usable "
                          f"bytes ({100 * (used / plan.used_bytes - 1):+.0f}% against the plan: an estimate was off "
                          f"by more than its headroom)")
        cards.append(CardPlan(plan.card_id, list(plan.items), used, card.usable_bytes))
    return PackResult(cards, list(planned.left_out), []), ""
