"""Reviewers' decisions on glossary entries, signed, and the entries a trust policy accepts.

In the review app a reviewer confirms or rejects a flagged word's suggested North Korean
form. The decisions are one small TOML file per reviewer (`OUT/reviews/glossary-KEYID.toml`,
rewritten whole, no timestamp) and a minisign signature by the reviewer's key over its
exact bytes beside it (`.minisig`), so it can be checked with `minisign -Vm` too.

`trusted_confirmations` reads such files for `subs lint --apply` and the build: an entry
counts as confirmed when at least the policy's reviewer threshold (at least one) of
reviewer keys it lists, not revoked, confirmed it in a file whose signature holds, and
none of them rejected it. Files that do not count are named with the reason.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from infopack.errors import InfopackError, UsageError
from infopack.release.keys import SigningKey
from infopack.release.minisign import parse_signature, sign, verify
from infopack.release.outdir import GLOSSARY_REVIEW_PREFIX, GLOSSARY_REVIEW_SUFFIX, OutDir, signature_of
from infopack.release.trust import REVIEWER, TrustPolicy

FORMAT = "infopack-glossary-review/1"
CONFIRM, REJECT = "confirm", "reject"
DECISIONS = (CONFIRM, REJECT)
MAX_FILE_BYTES = 1024 * 1024

Pair = tuple[str, str]          # (South Korean word, suggested North Korean form)


@dataclass(frozen=True)
class GlossaryReview:
    reviewer: str                       # key id, as minisign prints it
    decisions: dict[Pair, str]          # (sk, nk) -> CONFIRM or REJECT


def to_bytes(review: GlossaryReview) -> bytes:
    """One byte form for one set of decisions: sorted, no timestamp."""
    lines = [f"# Glossary decisions of reviewer {review.reviewer}, made in `infopack review`; signed by the",
             "# .minisig beside this file. Used by `subs lint --apply --policy` and `build --glossary-policy`.",
             f"format = {quote(FORMAT)}", f"reviewer = {quote(review.reviewer)}"]
    for (sk, nk), decision in sorted(review.decisions.items()):
        lines += ["", "[[entry]]", f"sk = {quote(sk)}", f"nk = {quote(nk)}", f"decision = {quote(decision)}"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def quote(text: str) -> str:
    """A TOML basic string (JSON's string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)


def from_bytes(data: bytes, where) -> GlossaryReview:
    """Parse a decisions file; one clear error when it is not one."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(where, f"not a glossary review file (not UTF-8 TOML: {exc})") from None
    if raw.get("format") != FORMAT or not isinstance(raw.get("reviewer"), str):
        raise UsageError(where, f"not a glossary review file (expected format = \"{FORMAT}\" and a reviewer)")
    decisions = {}
    for entry in raw.get("entry", []):
        if not (isinstance(entry, dict) and isinstance(entry.get("sk"), str) and isinstance(entry.get("nk"), str)
                and entry.get("decision") in DECISIONS):
            raise UsageError(where, f"every [[entry]] needs sk, nk and decision ({' or '.join(DECISIONS)})")
        decisions[(entry["sk"], entry["nk"])] = entry["decision"]
    return GlossaryReview(raw["reviewer"], decisions)


def load_review(out: Path, reviewer: str) -> GlossaryReview:
    """A reviewer's decisions in OUT (none yet: an empty review)."""
    path = OutDir(out).glossary_review_path(reviewer)
    try:
        return from_bytes(path.read_bytes(), path)
    except FileNotFoundError:
        return GlossaryReview(reviewer, {})
    except OSError as exc:
        raise UsageError(path, f"cannot read: {exc.strerror or exc}") from None


def record(out: Path, reviewer: str, pair: Pair, decision: str | None, key: SigningKey | None) -> GlossaryReview:
    """Set (or, with None, clear) one decision and write the file atomically; sign it when the
    reviewer's key is at hand, else drop a signature that no longer matches (`sign_review` signs later)."""
    if decision is not None and decision not in DECISIONS:
        raise UsageError(None, f"glossary decision {decision!r}: expected {' or '.join(DECISIONS)}")
    review = load_review(out, reviewer)
    decisions = dict(review.decisions)
    if decision is None:
        decisions.pop(pair, None)
    else:
        decisions[pair] = decision
    review = GlossaryReview(reviewer, decisions)
    path = OutDir(out).glossary_review_path(reviewer)
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, to_bytes(review))
    if key is not None:
        sign_review_file(path, key)
    else:
        signature_of(path).unlink(missing_ok=True)
    return review


def sign_review_file(path: Path, key: SigningKey) -> Path:
    """The reviewer's signature over the file's exact bytes, beside it."""
    data = path.read_bytes()
    review = from_bytes(data, path)
    if review.reviewer != key.public.key_id_hex:
        raise UsageError(path, f"holds reviewer {review.reviewer}'s decisions; key {key.public.key_id_hex} "
                               "cannot sign them")
    text = sign(data, key.private, key.key_id,
                trusted_comment=f"infopack {key.role} glossary-review: reviewer={review.reviewer} "
                                f"entries={len(review.decisions)}",
                untrusted_comment=f"glossary decisions of infopack {key.role} key {review.reviewer}")
    target = signature_of(path)
    _replace(target, text.encode("utf-8"))
    return target


def review_files(paths: list[Path]) -> list[Path]:
    """Glossary review files named directly, or found in a build folder's reviews/ or a reviews folder."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            build = OutDir(path)
            found += build.glossary_reviews() if build.reviews_dir.is_dir() else \
                sorted(path.glob(f"{GLOSSARY_REVIEW_PREFIX}*{GLOSSARY_REVIEW_SUFFIX}"))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(path, "no such glossary review file or folder")
    return sorted(set(found))


def trusted_confirmations(policy: TrustPolicy, files: list[Path]) -> tuple[dict[Pair, tuple[str, ...]], list[str]]:
    """((sk, nk) -> key ids that confirmed it, for entries the policy's reviewers confirmed as it
    requires; one line per file that does not count and why)."""
    role = policy.roles.get(REVIEWER)
    needed = max(1, role.threshold) if role else 1
    confirmed: dict[Pair, set[str]] = {}
    rejected: set[Pair] = set()
    problems = []
    for path in files:
        try:
            review = _trusted_review(path, policy)
        except InfopackError as exc:
            problems.append(exc.line())
            continue
        for pair, decision in review.decisions.items():
            if decision == CONFIRM:
                confirmed.setdefault(pair, set()).add(review.reviewer)
            else:
                rejected.add(pair)
    accepted = {pair: tuple(sorted(ids)) for pair, ids in sorted(confirmed.items())
                if len(ids) >= needed and pair not in rejected}
    return accepted, problems


def _trusted_review(path: Path, policy: TrustPolicy) -> GlossaryReview:
    """The file's decisions, if a reviewer key of the policy signed these bytes; else why not."""
    sig_path = signature_of(path)
    try:
        data = path.read_bytes()[:MAX_FILE_BYTES + 1]
        sig_text = sig_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(exc.filename, "not signed: no such file (sign the review: `infopack review sign`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(path, f"cannot read: {exc}") from None
    sig = parse_signature(sig_text, sig_path)
    if sig.key_id in policy.revoked:
        raise UsageError(sig_path, f"signed by key {sig.key_id_hex}, which the policy revokes; not used")
    key = policy.key(sig.key_id)
    if key is None or policy.role_of(sig.key_id) != REVIEWER:
        raise UsageError(sig_path, f"signed by key {sig.key_id_hex}, which is not a reviewer key of the policy; "
                                   "not used")
    verify(data, sig_text, key, sig_path)
    review = from_bytes(data, path)
    if review.reviewer != sig.key_id_hex:
        raise UsageError(path, f"names reviewer {review.reviewer} but is signed by key {sig.key_id_hex}; not used")
    return review


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
