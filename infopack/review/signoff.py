"""Signing a finished review: the reviewer's approval (infopack.release.approve) of the items
approved in the app, added to what that reviewer signed before; withdrawing is its own act.

A review is identified by the reviewer's key id, read from the key's public half
(`REVIEWER.pub`, or the `.pub` beside `REVIEWER.key`), so opening the app never needs
the passphrase; only signing does. (In minisign's secret-key format the id is inside the
sealed part: the private key alone cannot tell it without the passphrase.)
"""

from __future__ import annotations

from pathlib import Path

from infopack.errors import UsageError
from infopack.notes import Note
from infopack.release.approve import approve
from infopack.release.glossary_review import sign_review_file
from infopack.release.keys import SigningKey, key_paths, load_public_key
from infopack.release.minisign import PublicKey
from infopack.release.outdir import OutDir
from infopack.release.trust import REVIEWER
from infopack.review import decisions as dec
from infopack.review.status import approval_signatures, own_key_policy


def reviewer_id(key_path: Path | None) -> str:
    """The key id a review file is named by; "anonymous" without a key."""
    public = reviewer_public_key(key_path)
    return dec.ANONYMOUS if public is None else public.key_id_hex


def reviewer_public_key(key_path: Path | None) -> PublicKey | None:
    """The reviewer's public key: the .pub given, or the one beside the .key (None without a key)."""
    if key_path is None:
        return None
    key_path = Path(key_path)
    pub = key_path if key_path.suffix == ".pub" else key_paths(key_path)[1]
    if key_path != pub and not pub.is_file():
        raise UsageError(key_path, f"no {pub.name} beside it: a review is named by the public key's "
                         "id; put the .pub made with this key beside it, or give the .pub")
    return load_public_key(pub)


def sign_review(out: Path, key: SigningKey, note: str = "") -> list[str]:
    """Approve (sign) the items this reviewer approved in the app, added to what the key signed
    before, and sign the reviewer's glossary decisions; returns every item the approval now covers."""
    reviewer = key.public.key_id_hex
    items = dec.approved_items(dec.load_decisions(out, reviewer))
    glossary = OutDir(out).glossary_review_path(reviewer)
    if not items and not glossary.is_file():
        raise UsageError(dec.review_path(out, reviewer), Note("review-nothing-approved"))
    covered = sorted(item for done in approve(out, key, items=items, note=note) for item in done.items) if items else []
    if glossary.is_file():
        sign_review_file(glossary, key)
    return covered


def withdraw_approval(out: Path, key: SigningKey, bundle: dict, items: list[str]) -> list[str]:
    """Take `items` out of this reviewer's signed approvals (an explicit act, never a side effect of
    a click), and out of their "approve" decisions, so the next sign-off does not sign them again.
    Returns the items whose signed approval was withdrawn."""
    withdrawn = sorted(i for done in approve(out, key, items=items, withdraw=True) for i in done.withdrawn)
    dec.forget_approvals(out, key.public.key_id_hex, bundle, items)
    return withdrawn


def signed_items(out: Path, public_key: PublicKey, role: str = REVIEWER) -> set[str]:
    """The items this reviewer's valid approval signatures in OUT cover (checked with their own key)."""
    return approval_signatures(out, own_key_policy(public_key, role)).valid.get(public_key.key_id_hex, set())
