r"""The data file's byte patterns, joined into a few regex passes with the same matches.

The search is the scanner's cost: every byte of every file. Python's regex engine finds
a pattern's leading literal at about memory speed, but one pattern at a time, so 26
patterns meant 26 passes. Instead, each pattern's fixed-width start ("Lav[fc]\d{2}\." is
7 bytes wide) is pinned on one of its literal bytes (the pivot), patterns sharing a pivot
byte are joined into one regex `<pivot>(?:...|...)`, and a small set of pivots covers all
patterns: about a third as many passes, with the same matches at the same offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infopack.scan.scan_strings import ScanString


@dataclass(frozen=True)
class _Token:
    source: str                  # regex source of one byte-wide element
    literal: int | None          # its byte when it is a literal, else None (a class)
    zero: bool = False           # a lookbehind: no width, checked where it stands


@dataclass(frozen=True)
class _Gate:
    regex: re.Pattern            # pivot byte, then the alternatives of its members
    members: tuple[int, ...]     # spec indexes that this gate can find


class RawSearcher:
    """The data file's patterns for one kind of file, joined into as few passes as possible."""

    def __init__(self, specs: tuple[ScanString, ...]):
        self.specs = specs
        self._starts, self._alone = _fixed_starts(specs)
        self._plans: dict[frozenset, tuple[tuple[_Gate, ...], tuple[int, ...]]] = {}

    def plan(self, pending: frozenset) -> tuple[tuple[_Gate, ...], tuple[int, ...]]:
        """Gates for the patterns still pending (fewer once some are found), cached."""
        plan = self._plans.get(pending)
        if plan is None:
            starts = {i: s for i, s in self._starts.items() if i in pending}
            gates, failed = _build_gates(starts)
            plan = self._plans[pending] = (gates, tuple(sorted({*failed, *(pending & set(self._alone))})))
        return plan

    def search(self, buf, end: int, pending: set[int]) -> list[tuple[int, int, bytes]]:
        """First match of each pending pattern in buf[:end], in data-file order; found ones
        are removed from `pending`."""
        gates, alone = self.plan(frozenset(pending))
        hits: dict[int, re.Match] = {}
        candidates = list(alone)
        for gate in gates:
            if gate.regex.search(buf, 0, end):          # rare: a real trace somewhere in buf
                candidates += gate.members
        for i in candidates:
            match = self.specs[i].pattern.search(buf, 0, end)
            if match:
                hits[i] = match
        pending.difference_update(hits)
        return [(i, hits[i].start(), bytes(hits[i].group(0))) for i in sorted(hits)]


_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11, "0": 0}
_CLASS_ESCAPES = set("dDwWsS")
_MAX_BRANCHES = 8


def fixed_start(source: str) -> tuple[list[list[_Token]], str]:
    """A pattern's fixed-width start (one token list per branch) and the regex after it.

    Understood: literal characters, escapes (\\. \\x00 \\d ...), [classes], exact repeats
    {n}, an optional literal (s?) and a group of literal alternatives (?:home|Users).
    Anything else ends the start; what follows is kept as regex source.
    """
    branches: list[list[_Token]] = [[]]
    i = 0
    while i < len(source):
        if source.startswith(("(?<=", "(?<!"), i):
            end = _group_end(source, i)
            if end is None or source[end:end + 1] in ("?", "*", "+", "{"):
                break
            branches = [b + [_Token(source[i:end], None, zero=True)] for b in branches]
            i = end
            continue
        if source.startswith("(?:", i):
            alternatives, after = _literal_group(source, i)
            if alternatives is None or len(branches) * len(alternatives) > _MAX_BRANCHES:
                break
            branches = [b + a for b in branches for a in alternatives]
            i = after
            continue
        token, after = _one_token(source, i)
        if token is None:
            break
        quantifier = source[after:after + 1]
        if quantifier == "?" and token.literal is not None and source[after + 1:after + 2] not in ("?", "+") \
                and len(branches) * 2 <= _MAX_BRANCHES:
            branches = [b + extra for b in branches for extra in ([], [token])]
            i = after + 1
            continue
        repeat = re.match(r"\{(\d+)\}(?![?+])", source[after:])
        if repeat and int(repeat.group(1)) <= 16:
            branches = [b + [token] * int(repeat.group(1)) for b in branches]
            i = after + repeat.end()
            continue
        at_least = re.match(r"(?:\+|\{(\d+),(\d*)\})(?![?+])", source[after:])
        if at_least and 1 <= int(at_least.group(1) or 1) <= 16:
            # X{m,n} is X*m then X{0,n-m}: the m copies join the start, the rest stays regex
            low, high = int(at_least.group(1) or 1), at_least.group(2)
            more = "*" if not high else f"{{0,{int(high) - low}}}"
            return [b + [token] * low for b in branches], token.source + more + source[after + at_least.end():]
        if quantifier and quantifier in "?*+{":
            break
        branches = [b + [token] for b in branches]
        i = after
    return branches, source[i:]


def _structure(source: str, i: int = 0):
    """(index, character, depth after it) of the regex characters outside escapes and [classes]."""
    depth, in_class = 0, False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            i += 1 + (source[i + 1:i + 2] == "]")           # "[]...]": that ] is a member
            continue
        else:
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth
        i += 1


def _group_end(source: str, i: int) -> int | None:
    """Index just after the group that opens at source[i]."""
    return next((j + 1 for j, ch, depth in _structure(source, i) if ch == ")" and depth == 0), None)


def _one_token(source: str, i: int) -> tuple[_Token | None, int]:
    ch = source[i]
    if ch == "\\":
        if i + 1 >= len(source):
            return None, i
        nxt = source[i + 1]
        if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", source[i + 2:i + 4]):
            return _Token(source[i:i + 4], int(source[i + 2:i + 4], 16)), i + 4
        if nxt in _CLASS_ESCAPES:
            return _Token(source[i:i + 2], None), i + 2
        if nxt in _SIMPLE_ESCAPES:
            return _Token(source[i:i + 2], _SIMPLE_ESCAPES[nxt]), i + 2
        if not nxt.isalnum() and nxt.isascii():
            return _Token(source[i:i + 2], ord(nxt)), i + 2
        return None, i
    if ch == "[":
        j = i + 1 + (source[i + 1:i + 2] == "^")
        j += source[j:j + 1] == "]"
        while j < len(source) and source[j] != "]":
            j += 2 if source[j] == "\\" else 1
        if j >= len(source):
            return None, i
        return _Token(source[i:j + 1], None), j + 1
    if ch in ".^$|()*+?{}" or not ch.isascii() or not ch.isprintable():
        return None, i
    return _Token(ch, ord(ch)), i + 1


def _literal_group(source: str, i: int) -> tuple[list[list[_Token]] | None, int]:
    """(?:abc|de) of plain literals: its alternatives as token lists."""
    close = source.find(")", i)
    if close < 0:
        return None, i
    body = source[i + 3:close]
    alternatives = []
    for alternative in body.split("|"):
        tokens, j = [], 0
        while j < len(alternative):
            token, j2 = _one_token(alternative, j)
            if token is None or token.literal is None or alternative[j2:j2 + 1] in ("?", "*", "+", "{"):
                return None, i
            tokens.append(token)
            j = j2
        if not tokens:
            return None, i
        alternatives.append(tokens)
    if source[close + 1:close + 2] in ("?", "*", "+", "{"):
        return None, i
    return alternatives, close + 1


def _fixed_starts(specs: tuple[ScanString, ...]) -> tuple[dict, tuple[int, ...]]:
    """Each pattern's fixed-width start and the literal bytes every branch of it contains;
    patterns that cannot be joined safely (groups, flags, a top-level |, no literal) are
    searched on their own."""
    starts, alone = {}, []
    for index, spec in enumerate(specs):
        source = spec.pattern.pattern.decode("ascii")
        branches, rest = fixed_start(source)
        common = set.intersection(*({t.literal for t in b if t.literal is not None} for b in branches))
        if spec.pattern.groups or _top_level_bar(source) or not common:
            alone.append(index)
        else:
            starts[index] = (branches, rest, common)
    return starts, tuple(alone)


def _top_level_bar(source: str) -> bool:
    return any(ch == "|" and depth == 0 for _, ch, depth in _structure(source))


def _build_gates(starts: dict) -> tuple[tuple[_Gate, ...], tuple[int, ...]]:
    """Pick pivot bytes (greedy set cover) and join each pivot's patterns into one regex."""
    gates, alone = [], []
    uncovered = set(starts)
    while uncovered:
        counts: dict[int, int] = {}
        for index in uncovered:
            for byte in starts[index][2]:
                counts[byte] = counts.get(byte, 0) + 1
        pivot = min(counts, key=lambda b: (-counts[b], b))
        members = sorted(i for i in uncovered if pivot in starts[i][2])
        alternatives = []
        for index in members:
            branches, rest, _ = starts[index]
            for tokens in branches:
                # the first occurrence that leaves a token after it: the regex engine rejects
                # an alternative at its first literal or class for free, a lookbehind costs
                at = [n for n, t in enumerate(tokens) if t.literal == pivot]
                k = next((n for n in at if n < len(tokens) - 1), at[0])
                # the bytes after the pivot first (rejected for free), then one lookbehind
                # over the whole start (lookbehinds of the pattern stay where they stand in it)
                after = "".join(t.source for t in tokens[k + 1:] if not t.zero)
                whole = "".join(t.source for t in tokens)
                check = k or any(t.zero for t in tokens)
                alternatives.append(after + (f"(?<={whole})" if check else "") + rest)
        prefix = re.escape(bytes([pivot])).decode("ascii")
        try:
            regex = re.compile((prefix + "(?:" + "|".join(alternatives) + ")").encode("ascii"))
        except re.error:
            alone.extend(members)
        else:
            gates.append(_Gate(regex, tuple(members)))
        uncovered -= set(members)
    return tuple(gates), tuple(sorted(alone))
