"""Which items the required reviewers have not approved, for `build --require-approval`.

An item counts as approved when at least the policy's reviewer threshold of valid,
non-revoked reviewer keys signed an approval of the card manifest that carries it,
naming the item (or naming no items: the whole card). Signatures are checked by
`infopack.release.trust.check_signatures`, exactly as `verify --policy` checks them.

An approval is of the bytes the reviewers watched: `review_gate` also gives each approved
item's files and hashes, and the build refuses an item whose new files differ (its
source or subtitles changed since the review).
"""

from __future__ import annotations

from pathlib import Path

from infopack.release.card_manifest import CardManifest, CardManifestError
from infopack.release.outdir import OutDir
from infopack.release.trust import REVIEWER, check_signatures, load_policy


def unapproved_items(out: Path, policy_path: Path, item_ids: list[str]) -> dict[str, str]:
    """item id -> reason, for every item in `item_ids` not approved as the policy requires."""
    return review_gate(out, policy_path, item_ids)[0]


def review_gate(out: Path, policy_path: Path,
                item_ids: list[str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(unapproved item -> reason, approved item -> {card path: sha256})."""
    policy = load_policy(policy_path)
    role = policy.roles.get(REVIEWER)
    needed = role.threshold if role else 0
    if needed == 0:
        return {}, {}
    approvals: dict[str, set[str]] = {}       # item -> key ids that validly approved it
    contents: dict[str, dict[str, str]] = {}  # item -> {path: sha256} in the approved manifest
    on_card: set[str] = set()
    out_dir = OutDir(out)
    for card in out_dir.cards():
        manifest_path = out_dir.manifest_path(card)
        data = manifest_path.read_bytes()
        try:
            manifest = CardManifest.from_bytes(data)
        except CardManifestError:
            continue
        card_items = manifest.item_ids()
        contents.update(manifest.item_files())
        on_card.update(card_items)
        result = check_signatures(manifest_path, data, policy, manifest)
        for signer in result.signers:
            if signer.valid and signer.role == REVIEWER:
                for item in card_items if signer.items is None else signer.items:
                    if item in card_items:
                        approvals.setdefault(item, set()).add(signer.key_id)
    reasons = {}
    for item in item_ids:
        got = len(approvals.get(item, ()))
        if item not in on_card:
            reasons[item] = f"not in any signed card manifest of {out}, so no reviewer has approved it"
        elif got < needed:
            reasons[item] = f"approved by {got} of {needed} required reviewer(s)"
    return reasons, {item: contents[item] for item in item_ids if item not in reasons}
