"""Which item goes on which card.

The cost of a set of files is `card_cost` (whole clusters for files and folders), computed
exactly with `CardTally`, so a plan never promises more than a card takes.

How it packs, and why:
- A group (a series, a course) that fits on one card is one unit and is never split; a
  group larger than a card is cut in manifest order into runs that each fill a card, so
  episodes 1-12 end up together and 13-24 together (`group_splits` says where each run
  went). The runs keep manifest order on rising card numbers: a plan that would put
  episodes 1 and 3 on one card and 2 on another is not used (`_series_order`; filling
  card after card in manifest order always keeps it). With `strict_groups`
  (`[bundle] groups = "strict"`) such a group is a problem instead, and none of its items
  is placed.
- Cards are filled one after another: each takes the largest units that still fit
  (first-fit decreasing into a single card), then a swap pass trades a unit on the card for
  a larger one left over when that closes the gap. Only the remainder is left for the last
  card, so every card before it is nearly full. Best-fit decreasing and first-fit in
  manifest order are tried too (they win now and then when clusters are coarse), and the
  plan with the fewest, then fullest, cards is kept.
- With `max_cards`, units are ranked by importance (priority, then manifest order); the
  least important are dropped until the rest fits, then dropped units that still fit in a
  gap are put back, most important first.
- Everything is sorted on full keys (never on dict or set order), so the same items give
  the same plan.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from infopack.fat.cost import CardTally, card_cost, cluster_rounded_size
from infopack.fat.catalog import CardType
from infopack.errors import UsageError

SWAP_ROUNDS = 200          # a swap pass ends long before this; the cap only bounds run time
SWAP_CANDIDATES = 4        # exact checks per unit on the card in one swap round


@dataclass(frozen=True)
class PackItem:
    id: str
    files: dict[str, int]            # relpath on card -> size in bytes
    group: str | None = None
    order: int = 0                   # manifest order
    priority: int = 0                # higher = more important


@dataclass
class CardPlan:
    card_id: str                     # "card-01"
    items: list[str]                 # item ids in manifest order
    used_bytes: int
    usable_bytes: int

    @property
    def fill_percent(self) -> float:
        return 100.0 * self.used_bytes / self.usable_bytes if self.usable_bytes else 0.0


@dataclass
class PackResult:
    cards: list[CardPlan] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GroupSplit:
    """A group on more than one card: (card id, its items of the group in manifest order), card by card."""
    group: str
    runs: tuple[tuple[str, tuple[str, ...]], ...]

    def to_dict(self) -> dict:
        return {"group": self.group, "cards": [{"card": card, "items": list(items)} for card, items in self.runs]}

    def line(self) -> str:
        where = "; ".join(f"{', '.join(items)} on {card}" for card, items in self.runs)
        return f"series '{self.group}' does not fit on one card and is split: {where}"


@dataclass
class _Unit:
    """Items that must share a card: one item, a whole group, or a run of a split group."""
    items: list[PackItem]
    files: dict[str, int]
    file_bytes: int                  # cluster-rounded file sizes: a lower bound of what it adds
    cost: int                        # what it takes alone on an empty card
    priority: int
    order: int
    key: tuple                       # total order for determinism

    @property
    def importance(self) -> tuple:
        return (-self.priority, self.order, self.key)


def _item_key(item: PackItem) -> tuple:
    return (item.order, item.id, tuple(sorted(item.files.items())), item.group or "", item.priority)


def _make_unit(items: list[PackItem], card: CardType) -> _Unit:
    files: dict[str, int] = {}
    for item in items:
        files.update(item.files)
    file_bytes = sum(cluster_rounded_size(size, card.cluster_bytes) for item in items
                     for size in item.files.values())
    return _Unit(items=items, files=files, file_bytes=file_bytes, cost=card_cost(files, card),
                 priority=max(i.priority for i in items), order=min(i.order for i in items),
                 key=tuple(_item_key(i) for i in items))


# --------------------------------------------------------------------------- public API

def pack(items: list[PackItem], card: CardType, max_cards: int | None = None, *,
         strict_groups: bool = False) -> PackResult:
    """Assign items to as few, as full cards as possible; see the module docstring."""
    if max_cards is not None and max_cards < 1:
        raise UsageError(None, f"the number of cards must be at least 1, not {max_cards}")
    ordered = sorted(items, key=_item_key)
    result = PackResult(problems=_input_problems(ordered))
    fitting, too_big = [], []
    for item in ordered:
        alone = card_cost(item.files, card)
        if alone > card.usable_bytes:
            result.problems.append(f"item '{item.id}' takes {alone:,} bytes, more than a whole {card.name} "
                                   f"card ({card.usable_bytes:,}); split or compress it")
            too_big.append(item)
        else:
            fitting.append(item)
    if strict_groups:
        refused = _oversized_groups(fitting, card, result.problems)
        too_big += [item for item in fitting if item.group in refused]
        fitting = [item for item in fitting if item.group not in refused]
    units = _units(fitting, card)
    if not units:
        return _result(result, [], [], too_big, card)
    everything = _make_unit([i for u in units for i in u.items], card)
    if everything.cost <= card.usable_bytes:           # a set that fits on one card stays whole
        return _result(result, [[everything]], [], too_big, card)
    if max_cards is None:
        return _result(result, _fill_cards(units, card), [], too_big, card)
    cards, dropped = _pack_limited(units, card, max_cards)
    return _result(result, cards, dropped, too_big, card)


def group_splits(cards: list[CardPlan], items: list[PackItem]) -> list[GroupSplit]:
    """Every group whose items are on more than one card, by group name; cards in card order."""
    group_of = {item.id: item.group for item in items if item.group is not None}
    order = {item.id: _item_key(item) for item in items}
    runs: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for plan in cards:
        members: dict[str, list[str]] = {}
        for item_id in plan.items:
            if item_id in group_of:
                members.setdefault(group_of[item_id], []).append(item_id)
        for group, ids in members.items():
            runs.setdefault(group, []).append((plan.card_id, tuple(sorted(ids, key=order.__getitem__))))
    return [GroupSplit(group, tuple(found)) for group, found in sorted(runs.items()) if len(found) > 1]


def first_fit(items: list[PackItem], card: CardType) -> PackResult:
    """The baseline: each item in manifest order onto the first card it fits (no groups)."""
    result = PackResult()
    tallies: list[CardTally] = []
    contents: list[list[PackItem]] = []
    for item in sorted(items, key=_item_key):
        if card_cost(item.files, card) > card.usable_bytes:
            result.problems.append(f"item '{item.id}' is larger than a whole {card.name} card")
            result.left_out.append(item.id)
            continue
        for tally, content in zip(tallies, contents):
            if tally.cost_with(item.files) <= card.usable_bytes:
                tally.add(item.files)
                content.append(item)
                break
        else:
            tally = CardTally(card)
            tally.add(item.files)
            tallies.append(tally)
            contents.append([item])
    for number, (tally, content) in enumerate(zip(tallies, contents), start=1):
        result.cards.append(CardPlan(f"card-{number:02d}", [i.id for i in content], tally.total, card.usable_bytes))
    return result


# --------------------------------------------------------------------------- units

def _input_problems(items: list[PackItem]) -> list[str]:
    problems = []
    ids: set[str] = set()
    owner: dict[str, str] = {}
    for item in items:
        if item.id in ids:
            problems.append(f"item id '{item.id}' is used twice; ids must be unique")
        ids.add(item.id)
        for path in sorted(item.files):
            if path in owner and owner[path] != item.id:
                problems.append(f"items '{owner[path]}' and '{item.id}' both write '{path}'; "
                                f"one would overwrite the other if they share a card")
            owner.setdefault(path, item.id)
    return problems


def _oversized_groups(items: list[PackItem], card: CardType, problems: list[str]) -> set[str]:
    """Groups larger than one card (each named in `problems`), for `strict_groups`."""
    members: dict[str, list[PackItem]] = {}
    for item in items:
        if item.group is not None:
            members.setdefault(item.group, []).append(item)
    refused = set()
    for name in sorted(members):
        cost = card_cost(_merged(members[name]), card)
        if cost > card.usable_bytes:
            refused.add(name)
            problems.append(f"series '{name}' ({len(members[name])} items, {cost:,} bytes) does not fit on one "
                            f"{card.name} card ({card.usable_bytes:,} usable bytes), and [bundle] groups = "
                            f"\"strict\" keeps a series on one card: use a larger card, fewer or smaller "
                            f"episodes, or groups = \"split\"")
    return refused


def _units(items: list[PackItem], card: CardType) -> list[_Unit]:
    """One unit per ungrouped item and per group (or per card-sized run of a large group)."""
    groups: dict[str, list[PackItem]] = {}
    units = []
    for item in items:                                  # items are in manifest order
        if item.group is None:
            units.append(_make_unit([item], card))
        else:
            groups.setdefault(item.group, []).append(item)
    for name in sorted(groups):
        units += _group_units(groups[name], card)
    return sorted(units, key=lambda u: u.key)


def _group_units(members: list[PackItem], card: CardType) -> list[_Unit]:
    whole = _make_unit(members, card)
    if whole.cost <= card.usable_bytes:
        return [whole]
    runs: list[list[PackItem]] = [[]]
    tally = CardTally(card)
    for item in members:
        if runs[-1] and tally.cost_with(item.files) > card.usable_bytes:
            runs.append([])
            tally = CardTally(card)
        tally.add(item.files)
        runs[-1].append(item)
    return [_make_unit(run, card) for run in runs]


# --------------------------------------------------------------------------- filling

def _fill_cards(units: list[_Unit], card: CardType) -> list[list[_Unit]]:
    """The best of three heuristics: fewest cards, then the fullest cards before the last.

    Filling card after card is usually best; when clusters are coarse next to the items,
    best-fit decreasing or plain first-fit in manifest order can save a card or a cluster,
    and they cost little to try.
    """
    candidates = [_sequential_fill(units, card), _best_fit_decreasing(units, card),
                  _first_fit_in_order(units, card)]
    keeping_order = [cards for cards in candidates if _series_order(_card_items(cards)) is not None]
    return min(keeping_order or [_next_fit_in_order(units, card)], key=lambda cards: _plan_score(cards, card))


def _plan_score(cards: list[list[_Unit]], card: CardType) -> tuple:
    used = sorted((card_cost(_unit_files(content), card) for content in cards), reverse=True)
    return (len(cards), -min(used[:-1], default=card.usable_bytes), [-u for u in used])


def _unit_files(content: list[_Unit]) -> dict[str, int]:
    files: dict[str, int] = {}
    for unit in content:
        files.update(unit.files)
    return files


def _best_fit_decreasing(units: list[_Unit], card: CardType) -> list[list[_Unit]]:
    tallies: list[CardTally] = []
    cards: list[list[_Unit]] = []
    for unit in sorted(units, key=lambda u: (-u.cost, u.key)):
        _place(tallies, cards, unit, _best_fit(tallies, unit, card), card)
    return cards


def _first_fit_in_order(units: list[_Unit], card: CardType) -> list[list[_Unit]]:
    tallies: list[CardTally] = []
    cards: list[list[_Unit]] = []
    for unit in sorted(units, key=lambda u: u.key):
        target = next((n for n, tally in enumerate(tallies) if _fits(tally, unit, card)), None)
        _place(tallies, cards, unit, target, card)
    return cards


def _next_fit_in_order(units: list[_Unit], card: CardType) -> list[list[_Unit]]:
    """Each unit in manifest order onto the last card, or a new one: never the fullest cards, but
    every split group's runs rise card by card (what the others are kept to, see _series_order)."""
    tallies: list[CardTally] = []
    cards: list[list[_Unit]] = []
    for unit in sorted(units, key=lambda u: u.key):
        last = len(cards) - 1 if tallies and _fits(tallies[-1], unit, card) else None
        _place(tallies, cards, unit, last, card)
    return cards


def _place(tallies: list[CardTally], cards: list[list[_Unit]], unit: _Unit, target: int | None,
           card: CardType) -> None:
    """Put `unit` on card `target`, or on a new card when `target` is None."""
    if target is None:
        tallies.append(CardTally(card))
        cards.append([])
        target = len(cards) - 1
    tallies[target].add(unit.files)
    cards[target].append(unit)


def _sequential_fill(units: list[_Unit], card: CardType) -> list[list[_Unit]]:
    """Fill one card after another; only the last one holds a remainder."""
    remaining = sorted(units, key=lambda u: (-u.cost, u.key))
    cards = []
    while remaining:
        tally = CardTally(card)
        chosen, rest = [], []
        for unit in remaining:
            if _fits(tally, unit, card):
                tally.add(unit.files)
                chosen.append(unit)
            else:
                rest.append(unit)
        if not chosen:                                   # cannot happen: every unit fits alone
            raise AssertionError("a unit larger than a card reached the packer")
        if rest:
            chosen, rest = _swap_pass(tally, chosen, rest, card)
        cards.append(chosen)
        remaining = rest
    return cards


def _fits(tally: CardTally, unit: _Unit, card: CardType) -> bool:
    if tally.total + unit.file_bytes > card.usable_bytes:    # cheap early "no"
        return False
    return tally.cost_with(unit.files) <= card.usable_bytes


def _swap_pass(tally: CardTally, chosen: list[_Unit], rest: list[_Unit],
               card: CardType) -> tuple[list[_Unit], list[_Unit]]:
    """Trade a unit on the card for a larger leftover one while that makes the card fuller.

    First-fit decreasing leaves a gap smaller than every leftover unit; with large units that
    gap can be a few percent. One-for-one swaps close most of it without search blow-up.
    """
    chosen = sorted(chosen, key=lambda u: u.key)
    rest = sorted(rest, key=lambda u: (u.file_bytes, u.key))
    for _ in range(SWAP_ROUNDS):
        best = _best_swap(tally, chosen, rest, card)
        if best is None:
            break
        out_unit, in_unit = best
        tally.remove(out_unit.files)
        tally.add(in_unit.files)
        chosen.remove(out_unit)
        rest.remove(in_unit)
        bisect.insort(rest, out_unit, key=lambda u: (u.file_bytes, u.key))
        chosen.append(in_unit)
        chosen.sort(key=lambda u: u.key)
    return chosen, sorted(rest, key=lambda u: (-u.cost, u.key))


def _best_swap(tally: CardTally, chosen: list[_Unit], rest: list[_Unit], card: CardType):
    gap = card.usable_bytes - tally.total
    if gap <= 0:
        return None
    sizes = [u.file_bytes for u in rest]
    best, best_total = None, tally.total
    for out_unit in chosen:
        # Leftover units that add more than out_unit but at most the gap more.
        high = bisect.bisect_right(sizes, out_unit.file_bytes + gap)
        low = bisect.bisect_right(sizes, out_unit.file_bytes)
        checked = 0
        for index in range(high - 1, low - 1, -1):
            if checked == SWAP_CANDIDATES:
                break
            checked += 1
            in_unit = rest[index]
            tally.remove(out_unit.files)
            total = tally.cost_with(in_unit.files)
            tally.add(out_unit.files)
            if best_total < total <= card.usable_bytes:
                best, best_total = (out_unit, in_unit), total
                break
    return best


def _pack_limited(units: list[_Unit], card: CardType, max_cards: int) -> tuple[list[list[_Unit]], list[_Unit]]:
    """Keep the most important units that fit on `max_cards` cards, then fill gaps."""
    ranked = sorted(units, key=lambda u: u.importance)
    low, high = 0, len(ranked)          # find the most units (in rank order) that fit
    if len(_fill_cards(ranked, card)) > max_cards:
        while low < high:
            middle = (low + high + 1) // 2
            if len(_fill_cards(ranked[:middle], card)) <= max_cards:
                low = middle
            else:
                high = middle - 1
    else:
        low = len(ranked)
    cards = _fill_cards(ranked[:low], card)
    tallies = []
    for content in cards:
        tally = CardTally(card)
        tally.add(_unit_files(content))
        tallies.append(tally)
    dropped = []
    for unit in ranked[low:]:           # most important first: put back what fits in a gap
        target = _best_fit(tallies, unit, card, keeping_order=cards)
        if target is None and (len(cards) >= max_cards or not _order_kept(cards + [[]], unit, len(cards))):
            dropped.append(unit)
        else:
            _place(tallies, cards, unit, target, card)
    return cards, dropped


def _best_fit(tallies: list[CardTally], unit: _Unit, card: CardType,
              keeping_order: list[list[_Unit]] | None = None) -> int | None:
    """The card this unit fills best (least room left), or None; with `keeping_order` (the cards'
    units) only a card where a unit of a split group keeps its runs rising (_series_order)."""
    best, best_total = None, -1
    for index, tally in enumerate(tallies):
        if keeping_order is not None and not _order_kept(keeping_order, unit, index):
            continue
        if _fits(tally, unit, card):
            total = tally.cost_with(unit.files)
            if total > best_total:
                best, best_total = index, total
    return best


# --------------------------------------------------------------------------- result

def _result(result: PackResult, cards: list[list[_Unit]], dropped: list[_Unit], too_big: list[PackItem],
            card: CardType) -> PackResult:
    """Number the cards: by their first item in manifest order, the emptiest card last, but
    the runs of a split group always on rising card numbers (episodes 1-12 before 13-24)."""
    plans = []
    for content in cards:
        items = sorted((i for u in content for i in u.items), key=_item_key)
        plans.append((items, card_cost(_merged(items), card)))
    if plans:
        emptiest = min(range(len(plans)), key=lambda n: (plans[n][1], -n))
        last = plans.pop(emptiest)
        plans.sort(key=lambda p: _item_key(p[0][0]))
        plans.append(last)
        order = _series_order([items for items, _ in plans])
        if order is None:                                  # cannot happen: _fill_cards keeps to it
            raise AssertionError("the packer split a series out of its order")
        plans = [plans[n] for n in order]
    for number, (items, used) in enumerate(plans, start=1):
        result.cards.append(CardPlan(f"card-{number:02d}", [i.id for i in items], used, card.usable_bytes))
    left = too_big + [i for u in dropped for i in u.items]
    result.left_out = [i.id for i in sorted(left, key=_item_key)]
    return result


def _order_kept(cards: list[list[_Unit]], unit: _Unit, on: int) -> bool:
    """Whether `unit` on card `on` keeps every split group's runs rising (_series_order)."""
    return all(i.group is None for i in unit.items) or _series_order(_card_items(cards, unit, on)) is not None


def _card_items(cards: list[list[_Unit]], extra: _Unit | None = None, on: int = -1) -> list[list[PackItem]]:
    """Each card's items (with `extra` added to card `on`)."""
    return [[i for u in content + ([extra] if n == on else []) for i in u.items] for n, content in enumerate(cards)]


def _series_order(cards: list[list[PackItem]]) -> list[int] | None:
    """The cards' order, changed as little as needed, in which every group's items run in
    manifest order (a topological order, ties broken by the order given); None where no order
    does: a group's items on a card are not one run of it (episodes 1 and 3 on one card,
    2 on another), or two groups' runs contradict."""
    after: dict[int, set[int]] = {n: set() for n in range(len(cards))}
    members: dict[str, list[tuple[tuple, int]]] = {}
    for n, items in enumerate(cards):
        for item in items:
            if item.group is not None:
                members.setdefault(item.group, []).append((_item_key(item), n))
    for found in members.values():
        runs = [n for _, n in sorted(found)]
        blocks = [n for k, n in enumerate(runs) if k == 0 or runs[k - 1] != n]
        if len(blocks) != len(set(blocks)):
            return None
        for earlier, later in zip(blocks, blocks[1:]):
            after[later].add(earlier)
    placed: list[int] = []
    while len(placed) < len(cards):
        ready = [n for n in range(len(cards)) if n not in placed and after[n] <= set(placed)]
        if not ready:
            return None
        placed.append(ready[0])
    return placed


def _merged(items: list[PackItem]) -> dict[str, int]:
    files: dict[str, int] = {}
    for item in items:
        files.update(item.files)
    return files
