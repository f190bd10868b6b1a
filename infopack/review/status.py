"""Decisions and signatures, kept apart: what each reviewer clicked, and what is signed.

A click in the app is a decision (`OUT/reviews/<KEYID>.json`); only a valid approval
signature over a card manifest covering the item is a sign-off. Signatures are checked
as `verify --policy` checks them (`infopack.release.trust.check_signatures`); without a
policy or key to check with, an approval file is only "present, not checked".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from infopack.errors import InfopackError
from infopack.release.card_manifest import CardManifest, CardManifestError
from infopack.release.comments import parse_comment
from infopack.release.minisign import PublicKey, parse_signature
from infopack.release.outdir import OutDir
from infopack.release.trust import CURATOR, REVIEWER, RolePolicy, TrustPolicy, check_signatures
from infopack.review import decisions as dec
from infopack.review.model import BundleView

SCHEMA = "infopack/review-status/1"
VALID, INVALID, UNCHECKED, NONE = "valid", "invalid", "unchecked", "none"
# What one reviewer's decision and signature on one item add up to (labels: `state_<name>` in the catalogues).
STATES = ("approved-signed", "approved-unsigned", "approved-unchecked", "changes-but-signed", "reject-but-signed",
          "signed-only", "signed-unchecked", "changes", "reject", "undecided")


@dataclass
class Signatures:
    """Approval signatures in OUT, per key id: items they validly cover, and files that do not count."""
    checked: bool
    valid: dict[str, set[str]] = field(default_factory=dict)
    unchecked: dict[str, set[str]] = field(default_factory=dict)
    invalid: dict[str, list[dict]] = field(default_factory=dict)   # key id -> findings about its files
    roles: dict[str, str] = field(default_factory=dict)            # key id -> its role, for valid signers

    def signature(self, key_id: str, item: str) -> str:
        if item in self.valid.get(key_id, ()):
            return VALID
        if item in self.unchecked.get(key_id, ()):
            return UNCHECKED
        return INVALID if key_id in self.invalid else NONE


def own_key_policy(public_key: PublicKey, role: str = REVIEWER) -> TrustPolicy:
    """A policy trusting one reviewer's key only: how the app checks that reviewer's own sign-off."""
    return TrustPolicy(roles={role: RolePolicy(role, 1, (public_key,))}, source="reviewer key")


def approval_signatures(out: Path, policy: TrustPolicy | None) -> Signatures:
    """Every approval of every card manifest in OUT, checked against `policy` when there is one."""
    out_dir = OutDir(out)
    found = Signatures(checked=policy is not None)
    for card in out_dir.cards():
        manifest_path = out_dir.manifest_path(card)
        try:
            data = manifest_path.read_bytes()
            manifest = CardManifest.from_bytes(data)
        except (OSError, CardManifestError):
            continue
        card_items = set(manifest.item_ids())
        if policy is None:
            for path in out_dir.approval_paths(card):
                items = _named_items(path, card_items)
                found.unchecked.setdefault(out_dir.key_id_in_name(card, path), set()).update(items)
            continue
        result = check_signatures(manifest_path, data, policy, manifest)
        build_signature = out_dir.build_signature_path(card).name
        for signer in result.signers:
            if signer.file == build_signature:
                continue
            if signer.valid and signer.role != CURATOR:
                covered = card_items if signer.items is None else card_items & set(signer.items)
                found.valid.setdefault(signer.key_id, set()).update(covered)
                found.roles[signer.key_id] = signer.role
            elif not signer.valid:
                found.invalid.setdefault(signer.key_id, []).extend(
                    f.to_dict() for f in result.findings if f.path == signer.file)
    return found


def _named_items(path: Path, card_items: set[str]) -> set[str]:
    """The items an approval file names, unchecked (a comment naming none: the whole card)."""
    try:
        comment = parse_comment(parse_signature(path.read_text(encoding="utf-8", errors="replace"), path)
                                .trusted_comment)
    except (OSError, InfopackError):
        return set()
    return card_items if comment is None or comment.items is None else card_items & set(comment.items)


def item_state(decision: str | None, signature: str) -> str:
    """One of STATES for a reviewer's decision (None: none) and signature on one item."""
    signed, unchecked = signature == VALID, signature == UNCHECKED
    if decision == dec.APPROVE:
        return "approved-signed" if signed else "approved-unchecked" if unchecked else "approved-unsigned"
    if decision in (dec.CHANGES, dec.REJECT):
        return f"{decision}-but-signed" if signed or unchecked else decision
    return "signed-only" if signed else "signed-unchecked" if unchecked else "undecided"


def review_status(view: BundleView, policy: TrustPolicy | None, policy_source: str | None = None) -> dict:
    """The `review status --json` document: every item, every reviewer's decision and signature."""
    reviews = dec.load_all(view.out)
    signatures = approval_signatures(view.out, policy)
    signers = set(signatures.valid) | set(signatures.unchecked) | set(signatures.invalid)
    reviewers = sorted(set(reviews) | signers)
    role = policy.roles.get(REVIEWER) if policy else None
    threshold = role.threshold if role else None
    items = []
    for item in view.items:
        per_reviewer = {}
        for reviewer in reviewers:
            decision = reviews.get(reviewer, {}).get(item.id)
            signature = signatures.signature(reviewer, item.id)
            per_reviewer[reviewer] = {"decision": decision.decision if decision else None,
                                      "comment": decision.comment if decision else "",
                                      "signature": signature, "state": item_state(decision and decision.decision,
                                                                                    signature)}
        signed_by = sorted(k for k, covered in signatures.valid.items() if item.id in covered)
        reviewer_keys = [k for k in signed_by if signatures.roles.get(k) == REVIEWER]
        items.append({"id": item.id, "title": item.title, "card": item.card_id, "signed_by": signed_by,
                      "approved": None if threshold is None else len(reviewer_keys) >= threshold,
                      "reviews": per_reviewer})
    return {"schema": SCHEMA, "out": str(view.out),
            "bundle": {k: view.bundle.get(k) for k in ("id", "title", "version")},
            "policy": policy_source, "signatures_checked": signatures.checked, "threshold": threshold,
            "reviewers": reviewers, "items": items,
            "problems": [finding for found in signatures.invalid.values() for finding in found]}
