"""Signing a finished review: the reviewer's approval (infopack.release.approve) of exactly
the items approved in the app.

A review is identified by the reviewer's key id, read from the key's public half
(`REVIEWER.pub`, or the `.pub` beside `REVIEWER.key`), so opening the app never needs
the passphrase; only signing does. (In minisign's secret-key format the id is inside the
sealed part: the private key alone cannot tell it without the passphrase.)
"""

from __future__ import annotations

from pathlib import Path

from infopack.errors import UsageError
from infopack.release.approve import approve
from infopack.release.keys import SigningKey, key_paths, load_public_key
from infopack.review import decisions as dec


def reviewer_id(key_path: Path | None) -> str:
    """The key id a review file is named by; "anonymous" without a key."""
    if key_path is None:
        return dec.ANONYMOUS
    key_path = Path(key_path)
    pub = key_path if key_path.suffix == ".pub" else key_paths(key_path)[1]
    if key_path != pub and not pub.is_file():
        raise UsageError(key_path, f"no {pub.name} beside it: a review is named by the public key's "
                         "id; put the .pub made with this key beside it, or give the .pub")
    return load_public_key(pub).key_id_hex


def sign_review(out: Path, key: SigningKey, note: str = "") -> list[str]:
    """Approve (sign) every card manifest for the items this reviewer approved; returns them."""
    items = dec.approved_items(dec.load_decisions(out, key.public.key_id_hex))
    if not items:
        raise UsageError(dec.review_path(out, key.public.key_id_hex),
                         "no item is approved in this review; approve items before signing")
    return sorted(item for done in approve(out, key, items=items, note=note) for item in done.items)
