"""A reviewer's approval of the cards in a build folder: one flow for `infopack approve`
and the review app's sign-off.

An approval is a minisign signature by the reviewer's key over a card manifest's exact
bytes, in its own file (`OutDir.approval_path`), with a trusted comment naming the items
approved and the reviewer's note. It is written atomically and carries no timestamp, so
approving the same manifest twice gives the same file. Callers check what they can
before the passphrase is asked: `check_approvable`, then `load_approver_key`.

A reviewer has one approval per manifest, and it only grows by approving: approving more
items later signs the union with what that reviewer's valid approval of these very bytes
already covers. Taking items back is its own action (`withdraw=True`); an approval left
with no item is deleted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from infopack.errors import UsageError
from infopack.errors import InfopackError
from infopack.release.card_manifest import CardManifest, CardManifestError
from infopack.release.comments import APPROVAL_KIND, parse_comment
from infopack.release.keys import Prompt, SigningKey, ensure_not_under, passphrase_asker, read_key_file
from infopack.release.minisign import sign, verify
from infopack.release.outdir import OutDir
from infopack.release.trust import CURATOR


@dataclass(frozen=True)
class CardApproval:
    """What was done for one card: `signature` is None when none of the items is on it, or when
    withdrawing left the approval with no item (its file is gone). `items` is what the approval
    covers now, `before` what this reviewer's approval of the same bytes covered already."""
    manifest: Path
    card_id: str
    signature: Path | None
    items: tuple[str, ...]
    before: tuple[str, ...] = ()

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(i for i in self.items if i not in self.before)

    @property
    def withdrawn(self) -> tuple[str, ...]:
        return tuple(i for i in self.before if i not in self.items)


def check_approvable(out: Path, items: list[str] | None) -> None:
    """OUT holds card manifests, and every item asked for (None: all) is on one of its cards."""
    out_dir = OutDir(out)
    cards = out_dir.require_cards()
    if items is None:
        return
    known = {item for card in cards for item in _item_ids(out_dir.manifest_path(card))}
    unknown = [i for i in items if i not in known]
    if not items or unknown:
        raise UsageError(out, f"unknown item(s) {', '.join(unknown) or '(none given)'}; "
                         f"items here: {', '.join(sorted(known))}")


def load_approver_key(key_path: Path, out: Path, *, prompt: Prompt, role: str | None = None,
                      warn: Callable[[str], None] | None = None) -> SigningKey:
    """The reviewer's signing key; a public key, a curator's key or one kept inside OUT is
    refused before the passphrase is asked. `role` is `--role`, for a key that records none."""
    if Path(key_path).suffix == ".pub":
        raise UsageError(key_path, "this is a public key; signing needs the private key (REVIEWER.key)")
    ensure_not_under(key_path, out)
    key_file = read_key_file(key_path)
    key_role = key_file.role_for(role)
    if key_role == CURATOR:
        raise UsageError(key_path, "a curator key cannot approve; use the reviewer's key")
    return key_file.unlock(passphrase_asker(prompt), key_role, warn=warn)


def approve(out: Path, key: SigningKey, *, items: list[str] | None = None, note: str = "",
            withdraw: bool = False) -> list[CardApproval]:
    """Sign `key`'s approval of every card manifest in OUT for `items` (None: every item), added
    to what the reviewer approved before; `withdraw` takes `items` back out instead."""
    out_dir = OutDir(out)
    return [_approve_card(out_dir, card, key, items, note, withdraw) for card in out_dir.require_cards()]


def _approve_card(out_dir: OutDir, card: str, key: SigningKey, items: list[str] | None,
                  note: str, withdraw: bool) -> CardApproval:
    manifest_path = out_dir.manifest_path(card)
    data = manifest_path.read_bytes()
    try:
        manifest = CardManifest.from_bytes(data)
    except CardManifestError as exc:
        raise UsageError(manifest_path, f"not a card manifest ({exc})") from None
    card_items = manifest.item_ids()
    target = out_dir.approval_path(card, key.public.key_id_hex)
    before, old_note = previous_approval(target, data, manifest, key)
    named = card_items if items is None else [i for i in card_items if i in items]
    if withdraw:
        chosen = [i for i in before if i not in named]
    else:
        chosen = [i for i in card_items if i in before or i in named]
    if tuple(chosen) == before and note in ("", old_note):          # nothing changes: no new signature
        return CardApproval(manifest_path, manifest.card.id, target if before else None, before, before)
    if not chosen:
        target.unlink(missing_ok=True)
        return CardApproval(manifest_path, manifest.card.id, None, (), before)
    text = sign(data, key.private, key.key_id,                 # the bytes as read: never re-serialised
                trusted_comment=manifest.approval_comment(key.role, chosen, note or old_note),
                untrusted_comment=f"approval from infopack {key.role} key {key.public.key_id_hex}")
    tmp = target.with_name("." + target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return CardApproval(manifest_path, manifest.card.id, target, tuple(chosen), before)


def previous_approval(target: Path, data: bytes, manifest: CardManifest,
                      key: SigningKey) -> tuple[tuple[str, ...], str]:
    """(items, note) of this key's approval of these manifest bytes already in `target`.

    Only a signature that verifies with this key over these very bytes, with an approval
    comment about this manifest, counts: one left from an earlier build of the card covers
    other bytes and is replaced, never extended.
    """
    try:
        sig = verify(data, target.read_text(encoding="utf-8"), key.public, target)
    except (OSError, UnicodeDecodeError, InfopackError):
        return (), ""
    comment = parse_comment(sig.trusted_comment)
    card_items = manifest.item_ids()
    if comment is None:                     # `minisign -S`: as `verify --policy` reads it, the whole card
        return tuple(card_items), ""
    if comment.kind != APPROVAL_KIND or manifest.comment_mismatch(comment):
        return (), ""
    covered = card_items if comment.items is None else [i for i in card_items if i in comment.items]
    return tuple(covered), comment.note


def _item_ids(manifest_path: Path) -> list[str]:
    """The items of a manifest; none for one that cannot be read (approve() names its problem)."""
    try:
        return CardManifest.from_bytes(manifest_path.read_bytes()).item_ids()
    except (OSError, CardManifestError):
        return []
