"""Who may sign a card's manifest, and reviewer approvals.

A card manifest carries one build signature by the curator
(`card-NN.manifest.json.minisig`) and, once a defector reviewer has checked the content,
one approval signature per reviewer over the same manifest bytes
(`card-NN.manifest.json.<KEYID>.minisig`). All are plain minisign signatures, so
`minisign -Vm card-NN.manifest.json -x FILE -p KEY.pub` checks each one without infopack,
and a reviewer may sign with `minisign -S` instead of `infopack approve`.

The trust policy (TOML) says which public keys hold which role, how many signatures each
role needs and which key ids are revoked:

    revoked = ["A1B2C3D4E5F60718"]            # key ids as minisign prints them

    [roles.curator]
    threshold = 1
    keys = ["keys/curator.pub"]               # a path relative to this file ...

    [roles.reviewer]
    threshold = 1
    keys = ["RWQ...base64..."]                # ... or the one-line form `minisign -P` takes

A key holds one role only: one person must not be able to both build and approve.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from infopack.checks import ERROR, WARNING, Finding
from infopack.errors import InfopackError, UsageError
from infopack.release.card_manifest import CardManifest
from infopack.release.comments import APPROVAL_KIND, Comment, parse_comment
from infopack.release.minisign import PublicKey, SignatureError, parse_public_key, parse_signature
from infopack.release.minisign import verify as minisign_verify
from infopack.release.outdir import ManifestFiles

CURATOR = "curator"
REVIEWER = "reviewer"
PUBKEY_SOURCE = "--pubkey"
_KEY_ID = re.compile(r"^[0-9A-F]{1,16}$")


# --------------------------------------------------------------------------- policy

@dataclass(frozen=True)
class RolePolicy:
    name: str
    threshold: int
    keys: tuple[PublicKey, ...]


@dataclass(frozen=True)
class TrustPolicy:
    roles: dict[str, RolePolicy]
    revoked: frozenset[bytes] = frozenset()      # raw 8-byte key ids
    source: str = ""

    def role_of(self, key_id: bytes) -> str | None:
        for role in self.roles.values():
            if any(k.key_id == key_id for k in role.keys):
                return role.name
        return None

    def key(self, key_id: bytes) -> PublicKey | None:
        for role in self.roles.values():
            for k in role.keys:
                if k.key_id == key_id:
                    return k
        return None

    @classmethod
    def curator_only(cls, public_key: PublicKey) -> "TrustPolicy":
        """What `--pubkey` means: one curator key, one build signature, no approvals."""
        return cls(roles={CURATOR: RolePolicy(CURATOR, 1, (public_key,))}, source=PUBKEY_SOURCE)


def key_id_from_hex(text: str) -> bytes:
    """minisign prints the little-endian id as an unpadded uppercase hex number."""
    return int(text, 16).to_bytes(8, "little")


def load_policy(path: str | os.PathLike) -> TrustPolicy:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(path, "no such policy file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(path, f"cannot read the policy: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(path, f"not valid TOML: {exc}") from None
    return policy_from_dict(data, path)


def policy_from_dict(data: dict, path: Path) -> TrustPolicy:
    unknown = set(data) - {"roles", "revoked"}
    if unknown:
        raise UsageError(path, f"unknown policy setting(s) {', '.join(sorted(unknown))}; "
                         "expected [roles.NAME] tables and revoked = [...]")
    roles_data = data.get("roles")
    if not isinstance(roles_data, dict) or CURATOR not in roles_data:
        raise UsageError(path, "the policy needs a [roles.curator] table with keys and a threshold")
    revoked = frozenset(_revoked_id(entry, path) for entry in _list(data.get("revoked", []), "revoked", path))
    roles: dict[str, RolePolicy] = {}
    owner: dict[bytes, str] = {}
    for name, table in roles_data.items():
        if not isinstance(table, dict):
            raise UsageError(path, f"roles.{name} must be a table")
        extra = set(table) - {"threshold", "keys"}
        if extra:
            raise UsageError(path, f"roles.{name}: unknown setting(s) {', '.join(sorted(extra))}")
        threshold = table.get("threshold", 1)
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
            raise UsageError(path, f"roles.{name}.threshold must be a whole number >= 0")
        if name == CURATOR and threshold != 1:
            raise UsageError(path, "roles.curator.threshold must be 1: a card has one build signature "
                             "(card-NN.manifest.json.minisig)")
        keys = tuple(_policy_key(entry, path, name) for entry in _list(table.get("keys", []), f"roles.{name}.keys", path))
        for key in keys:
            if key.key_id in owner:
                raise UsageError(path, f"key {key.key_id_hex} is listed for both {owner[key.key_id]} and {name}; "
                                 "a key holds one role (one person must not build and approve)")
            owner[key.key_id] = name
        usable = [k for k in keys if k.key_id not in revoked]
        if threshold > len(usable):
            raise UsageError(path, f"roles.{name} needs {threshold} signature(s) but lists only "
                             f"{len(usable)} key(s) that are not revoked")
        roles[name] = RolePolicy(name, threshold, keys)
    return TrustPolicy(roles=roles, revoked=revoked, source=str(path))


def _list(value, what: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(path, f"{what} must be a list of strings")
    return value


def _revoked_id(entry: str, path: Path) -> bytes:
    text = entry.strip().upper()
    if _KEY_ID.match(text):
        return key_id_from_hex(text)
    return _policy_key(entry, path, "revoked").key_id


def _policy_key(entry: str, path: Path, where: str) -> PublicKey:
    """A base64 key line (as `minisign -P` takes), or a .pub file relative to the policy."""
    text = entry.strip()
    if text.startswith("RW") and len(text) == 56:          # base64 may hold "/": a path is tried next
        try:
            return parse_public_key(text, path)
        except InfopackError:
            pass
    key_path = (path.parent / text) if not os.path.isabs(text) else Path(text)
    try:
        return parse_public_key(key_path.read_text(encoding="utf-8"), key_path)
    except FileNotFoundError:
        raise UsageError(path, f"{where}: '{entry}' is neither a minisign public key line nor a "
                         f"readable .pub file (looked for {key_path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(key_path, f"cannot read the public key: {exc}") from None


# --------------------------------------------------------------------------- checking

@dataclass
class SignerResult:
    file: str
    key_id: str
    role: str | None
    valid: bool
    items: tuple[str, ...] | None = None      # what an approval covers (None: the whole card)
    note: str = ""

    def to_dict(self) -> dict:
        return {"file": self.file, "key_id": self.key_id, "role": self.role, "valid": self.valid,
                "items": list(self.items) if self.items is not None else None, "note": self.note}


@dataclass
class SignatureCheck:
    findings: list[Finding] = field(default_factory=list)
    signers: list[SignerResult] = field(default_factory=list)


def check_signatures(manifest_path: Path, data: bytes, policy: TrustPolicy,
                     manifest: CardManifest | None) -> SignatureCheck:
    """Every signature file of a manifest against the policy, as named findings.

    Checks: signature (missing, malformed, does not match), signature-unknown-key,
    signature-revoked, signature-wrong-role, signature-comment (a trusted comment naming
    another bundle, version or card) and signature-threshold (too few valid signatures for
    a role, per item for approvals).
    """
    result = SignatureCheck()
    files = ManifestFiles(manifest_path)
    build_path = files.build_signature
    if build_path.is_file():
        _check_one(build_path, data, policy, manifest, result, slot=CURATOR)
    else:
        result.findings.append(Finding("signature", ERROR, build_path.name,
                                       "the curator's build signature file is missing"))
    if len(policy.roles) > 1 or policy.source != PUBKEY_SOURCE:
        for path in files.approvals():
            _check_one(path, data, policy, manifest, result, slot=None, named=files.key_id_in_name(path))
    build_failed = any(f.level == ERROR for f in result.findings)
    result.findings += _thresholds(policy, result.signers, manifest, manifest_path.name,
                                   skip_curator=build_failed)
    return result


def _check_one(path: Path, data: bytes, policy: TrustPolicy, manifest: CardManifest | None,
               result: SignatureCheck, *, slot: str | None, named: str | None = None) -> None:
    name = path.name
    try:
        sig = parse_signature(path.read_text(encoding="utf-8", errors="replace"), name)
    except SignatureError as exc:
        result.findings.append(Finding("signature", ERROR, name, exc.problem))
        return
    except OSError as exc:
        result.findings.append(Finding("signature", ERROR, name, f"cannot read: {exc.strerror}"))
        return
    comment = parse_comment(sig.trusted_comment)
    signer = SignerResult(file=name, key_id=sig.key_id_hex, role=_signer_role(policy, sig.key_id, comment),
                          valid=False)
    result.signers.append(signer)
    if named is not None and named.upper() != sig.key_id_hex:
        result.findings.append(Finding("signature", ERROR, name, f"the file is named for key {named} but holds "
                                                                 f"a signature by key {sig.key_id_hex}"))
        return
    if sig.key_id in policy.revoked:
        result.findings.append(Finding("signature-revoked", ERROR, name,
                                       f"signed by key {sig.key_id_hex}, which the policy revokes"))
        return
    key = policy.key(sig.key_id)
    if key is None:
        if policy.source == PUBKEY_SOURCE:
            expected = next(iter(policy.roles[CURATOR].keys)).key_id_hex
            message = f"signed by another key (key id {sig.key_id_hex}, expected {expected})"
        else:
            message = f"signed by key {sig.key_id_hex}, which the policy does not list for any role"
        result.findings.append(Finding("signature-unknown-key" if policy.source != PUBKEY_SOURCE else "signature",
                                       ERROR, name, message))
        return
    try:
        minisign_verify(data, path.read_text(encoding="utf-8", errors="replace"), key, name)
    except InfopackError as exc:
        result.findings.append(Finding("signature", ERROR, name, exc.problem))
        return
    if slot == CURATOR and signer.role != CURATOR:
        result.findings.append(Finding("signature-wrong-role", ERROR, name,
                                       f"the build signature is by key {sig.key_id_hex}, a {signer.role} key; "
                                       "it must be a curator's"))
        return
    if slot == CURATOR and comment is not None and comment.role != CURATOR:
        result.findings.append(Finding("signature-wrong-role", ERROR, name,
                                       f"the build signature by key {sig.key_id_hex} says it was made as "
                                       f"{comment.role}; a build must be signed with a curator's key"))
        return
    if slot is None and signer.role == CURATOR:
        result.findings.append(Finding("signature-wrong-role", ERROR, name,
                                       f"an approval by key {sig.key_id_hex}, a curator key; the curator "
                                       "cannot approve their own build"))
        return
    if comment is not None and manifest is not None:
        problem = manifest.comment_mismatch(comment)
        if problem:
            result.findings.append(Finding("signature-comment", ERROR, name, problem))
            return
    signer.valid = True
    if comment is not None and comment.kind == APPROVAL_KIND:
        signer.items, signer.note = comment.items, comment.note


def _signer_role(policy: TrustPolicy, key_id: bytes, comment: Comment | None) -> str | None:
    """What a signature is labelled: the role the policy gives its key. `--pubkey` names a key,
    not a role: there a signature is labelled by the role its own signed comment names (the
    signing key's role, when infopack signed), and only one whose comment names none
    (`minisign -S`) by what --pubkey stands for, the curator."""
    if policy.source == PUBKEY_SOURCE and comment is not None:
        return comment.role
    return policy.role_of(key_id)


def _thresholds(policy: TrustPolicy, signers: list[SignerResult], manifest: CardManifest | None,
                where: str, *, skip_curator: bool) -> list[Finding]:
    """Too few valid signatures per role (the build signature's own failure is reported already)."""
    findings = []
    item_ids = manifest.item_ids() if manifest is not None else []
    for role in policy.roles.values():
        if role.threshold == 0 or (role.name == CURATOR and skip_curator):
            continue
        valid = {s.key_id: s for s in signers if s.valid and s.role == role.name}
        if len(valid) < role.threshold:
            findings.append(Finding("signature-threshold", ERROR, where,
                                    f"{role.name}: {len(valid)} of {role.threshold} required valid "
                                    f"signature(s)"))
            continue
        if role.name == CURATOR:
            continue
        for item in item_ids:
            approving = [s for s in valid.values() if s.items is None or item in s.items]
            if len(approving) < role.threshold:
                findings.append(Finding("signature-threshold", ERROR, where,
                                        f"{role.name}: item {item} approved by {len(approving)} of "
                                        f"{role.threshold} required signer(s)"))
        for s in valid.values():
            for item in s.items or ():
                if item not in item_ids:
                    findings.append(Finding("signature-comment", WARNING, s.file,
                                            f"approves item {item}, which is not on this card"))
    return findings


__all__ = ["TrustPolicy", "RolePolicy", "load_policy", "check_signatures", "SignatureCheck", "SignerResult"]
