"""Signing a finished review: the trust issue's approval, over the items the reviewer approved.

A review is identified by the reviewer's key id, read from the key's public half
(`REVIEWER.pub`, or the `.pub` beside `REVIEWER.key`), so opening the app never needs
the passphrase; only signing does.
"""

from __future__ import annotations

from pathlib import Path

from infopack.errors import UsageError
from infopack.release.keys import (
    ensure_not_under,
    is_encrypted,
    key_paths,
    load_public_key,
    load_signing_key,
    passphrase_from_env_or_prompt,
)
from infopack.release.trust import approve_manifest
from infopack.review import decisions as dec


def reviewer_id(key_path: Path | None) -> str:
    """The key id a review file is named by; "anonymous" without a key."""
    if key_path is None:
        return dec.ANONYMOUS
    key_path = Path(key_path)
    pub = key_path if key_path.suffix == ".pub" else key_paths(key_path)[1]
    if pub.is_file():
        return load_public_key(pub).key_id_hex
    return load_signing_key(key_path, _passphrase(key_path)).public.key_id_hex


def load_reviewer_key(key_path: Path, out: Path, warn=None):
    """The reviewer's signing key; a curator's key or one kept inside OUT is refused."""
    if Path(key_path).suffix == ".pub":
        raise UsageError(key_path, "this is a public key; signing needs the private key (REVIEWER.key)")
    ensure_not_under(key_path, out)
    key = load_signing_key(key_path, _passphrase(key_path), warn=warn)
    if key.role == "curator":
        raise UsageError(key_path, "a curator key cannot approve; use the reviewer's key")
    return key


def _passphrase(key_path: Path) -> str | None:
    return passphrase_from_env_or_prompt(confirm=False) if is_encrypted(key_path) else None


def sign_review(out: Path, key, note: str = "") -> list[str]:
    """Approve (sign) every card manifest for the items this reviewer approved; returns them."""
    items = dec.approved_items(dec.load_decisions(out, key.public.key_id_hex))
    if not items:
        raise UsageError(dec.review_path(out, key.public.key_id_hex),
                         "no item is approved in this review; approve items before signing")
    manifests = sorted(Path(out).glob("card-*.manifest.json"))
    if not manifests:
        raise UsageError(out, "no card manifests here (expected card-NN.manifest.json)")
    signed = []
    for manifest in manifests:
        done = approve_manifest(manifest, key, items=items, note=note)
        if done is not None:
            signed += done.items
    return sorted(signed)
