"""Signing keys for the people who handle a bundle: curator, reviewer and QA.

A key pair is two files:

* `PREFIX.key`: the Ed25519 private key in minisign's own secret-key format
  (`infopack.release.secret_key`), sealed with a passphrase through scrypt at minisign's
  own cost (unsealed only on explicit request), created with mode 0600. Its untrusted
  comment names the role (`infopack curator secret key 1A2B...`), so the role is known
  before the passphrase is asked. `minisign -S -s PREFIX.key` signs with it, and infopack
  signs with a key made by `minisign -G` (which records no role: `--role` says it).
* `PREFIX.pub`: a minisign public key whose untrusted comment names the role and key
  id, so reviewers can use it with the standalone `minisign` tool as well.

Older infopack keys (PKCS#8 PEM with 2,048 PBKDF2 rounds, role and key id on plain
lines above the block) still load, with a note: `infopack key convert` rewrites them
in minisign's format, keeping their key id.

The role in either file is a label for people, not a security property: anyone can
edit an untrusted comment. Trust comes from comparing the fingerprint, and the trust
policy (keyed by key id) decides what a signature counts for.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infopack.errors import InfopackError, UsageError
from infopack.release.minisign import PublicKey, key_id_hex, parse_public_key
from infopack.release.secret_key import (
    MEMLIMIT_SENSITIVE, OPSLIMIT_SENSITIVE, ROLES, Passphrase, check_passphrase_strength,
    convert_pem_key, derived_key_id, is_pem_key, needs_passphrase,
    pem_key_role, pem_needs_passphrase, read_pem_key, read_secret_key, role_comment,
    role_from_comment, with_comment, write_secret_key)
from infopack.release.trust import CURATOR

PASSPHRASE_ENV = "INFOPACK_PASSPHRASE"
KEY_SUFFIX = ".key"
PUB_SUFFIX = ".pub"
OLD_PEM_SUFFIX = ".pem-old"
_PUBLIC_COMMENT = re.compile(r"^infopack (?P<role>\w+) public key\b")

# What a new or converted key costs to unlock: minisign's own scrypt limits (1 GiB of
# memory, about 3.5 s here), written into the key file. The test suite lowers them
# in-process (tests/conftest.py); no option or environment variable can.
NEW_KEY_LIMITS = {"opslimit": OPSLIMIT_SENSITIVE, "memlimit": MEMLIMIT_SENSITIVE}

# Asks at the terminal, as click.prompt does: prompt("Passphrase", hide_input=True,
# confirmation_prompt=bool) -> the text typed. The CLI passes click.prompt.
Prompt = Callable[..., str]

key_id_for = derived_key_id   # the first 8 bytes of BLAKE2b-256 of the raw public key


@dataclass(frozen=True)
class SigningKey:
    """A private key ready to sign, with the id and role that go into signatures."""

    private: Ed25519PrivateKey
    key_id: bytes
    role: str
    public: PublicKey
    protected: bool = True          # sealed by a passphrase in its file


@dataclass(frozen=True)
class KeyFile:
    """A private key file read but not unlocked: its role and whether it needs a passphrase
    are known without the passphrase, so the wrong key is refused before anyone is asked."""

    path: Path
    text: str
    recorded_role: str | None       # None: a key made by `minisign -G`
    minisign: bool                  # False: an older infopack PEM key
    protected: bool

    def role_for(self, given: str | None) -> str:
        """The role to sign as: the recorded one, or `given` (`--role`); never a guess."""
        if given is not None and given not in ROLES:
            raise UsageError(self.path, f"unknown role {given!r}; choose one of {', '.join(ROLES)}")
        if self.recorded_role and given and given != self.recorded_role:
            raise UsageError(self.path, f"is a {self.recorded_role} key (its comment says so); "
                             f"--role {given} contradicts it")
        role = self.recorded_role or given
        if role is None:
            raise UsageError(self.path, "the key records no role (made by `minisign -G`?); give "
                             f"--role ({'/'.join(ROLES)}) every time, or record it once with "
                             f"`infopack key convert {self.path} --role ROLE`")
        return role

    def unlock(self, passphrase: Passphrase, role: str, *,
               warn: Callable[[str], None] | None = None) -> SigningKey:
        """Decrypt the key (a callable passphrase is asked only when one is needed)."""
        warn = warn or _warn_to_stderr
        _warn_if_shared(self.path, warn)
        if self.protected:
            passphrase = passphrase() if callable(passphrase) else passphrase
            if passphrase is None:
                raise InfopackError(self.path, f"the key is protected by a passphrase: set "
                                    f"{PASSPHRASE_ENV} or run in a terminal to be asked for it")
        if self.minisign:
            loaded = read_secret_key(self.text, passphrase if self.protected else None, self.path)
            private, key_id = loaded.private, loaded.key_id     # minisign's ids are random: as stored
        else:
            private, _ = read_pem_key(self.text, passphrase if self.protected else None, self.path)
            key_id = key_id_for(_public_raw(private))
            warn(f"{self.path} is an older infopack key (PEM); convert it to minisign's format "
                 f"with `infopack key convert {self.path}`")
        if not self.protected:
            warn(f"{self.path}: the private key is not protected by a passphrase; anyone who "
                 f"copies the file can sign as {role}")
        public = PublicKey(key_id=key_id, raw=_public_raw(private), comment=_public_comment(role, key_id))
        return SigningKey(private=private, key_id=key_id, role=role, public=public,
                          protected=self.protected)


def public_key_for(private: Ed25519PrivateKey, role: str) -> PublicKey:
    """The public key of a key infopack makes (its id derived from the key)."""
    raw = _public_raw(private)
    key_id = key_id_for(raw)
    return PublicKey(key_id=key_id, raw=raw, comment=_public_comment(role, key_id))


def key_paths(prefix: str | os.PathLike) -> tuple[Path, Path]:
    """PREFIX.key and PREFIX.pub; a prefix already ending in .key or .pub is taken as meant."""
    prefix = Path(prefix)
    if prefix.suffix in (KEY_SUFFIX, PUB_SUFFIX):
        prefix = prefix.with_suffix("")
    return (prefix.with_name(prefix.name + KEY_SUFFIX),
            prefix.with_name(prefix.name + PUB_SUFFIX))


def keygen(prefix: str | os.PathLike, role: str, passphrase: str | None, *,
           allow_weak: bool = False) -> tuple[Path, Path]:
    """Create PREFIX.key and PREFIX.pub for `role`; never overwrite an existing key.

    `passphrase=None` writes an unsealed key: only for test rigs and throwaway keys. A
    passphrase under 12 characters is refused unless `allow_weak`.
    """
    if role not in ROLES:
        raise UsageError(None, f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if passphrase is not None:
        check_passphrase_strength(passphrase, allow_weak)
    key_path, pub_path = key_paths(prefix)
    _check_can_create(key_path, pub_path)
    private = Ed25519PrivateKey.generate()
    public = public_key_for(private, role)
    key_text = write_secret_key(private, public.key_id, passphrase,
                                role_comment(role, public.key_id), **NEW_KEY_LIMITS)
    _write_new(key_path, key_text.encode("utf-8"), 0o600)
    try:
        _write_new(pub_path, public.to_file_text().encode("utf-8"), 0o644)
    except BaseException:
        key_path.unlink()  # we just created it; leave no half key pair behind
        raise
    return key_path, pub_path


def read_key_file(path: str | os.PathLike) -> KeyFile:
    """Read a private key (minisign's format, or an older infopack PEM key) without unlocking it."""
    path = Path(path)
    text = _read_key_file(path)
    if is_pem_key(text):
        return KeyFile(path, text, pem_key_role(text, path), minisign=False,
                       protected=pem_needs_passphrase(text, path))
    protected = needs_passphrase(text, path)           # one line naming what is wrong, if not a key
    return KeyFile(path, text, role_from_comment(text.split("\n", 1)[0].rstrip("\r")),
                   minisign=True, protected=protected)


def load_signing_key(path: str | os.PathLike, passphrase: Passphrase, *, role: str | None = None,
                     warn: Callable[[str], None] | None = None) -> SigningKey:
    """Load a private key, with a one-line error for each way it can fail.

    `role` is `--role`: needed for a key that records none, refused if it contradicts
    the recorded one. `passphrase` may be a function, called only if the key needs one.
    """
    key_file = read_key_file(path)
    return key_file.unlock(passphrase, key_file.role_for(role), warn=warn)


def load_curator_key(path: str | os.PathLike, out: str | os.PathLike, *, prompt: Prompt,
                     role: str | None = None, warn: Callable[[str], None] | None = None) -> SigningKey:
    """The key a build signs with: a curator's. Any other is refused before the passphrase is
    asked and before anything is encoded, as `load_approver_key` refuses a curator's."""
    ensure_not_under(path, out)
    key_file = read_key_file(path)
    key_role = key_file.role_for(role)
    if key_role != CURATOR:
        raise UsageError(path, f"this is a {key_role} key; a build is signed with the curator's "
                         "key (a reviewer approves with `infopack approve`)")
    return key_file.unlock(passphrase_asker(prompt), key_role, warn=warn)


def is_encrypted(path: str | os.PathLike) -> bool:
    """Whether loading the key needs a passphrase, so callers only ask when they must."""
    return read_key_file(path).protected


def passphrase_from_env_or_prompt(confirm: bool, prompt: Prompt, label: str = "Passphrase") -> str:
    """The passphrase from INFOPACK_PASSPHRASE, else asked at the terminal with `prompt`.

    Scripts and CI set the variable; people are asked without echo (twice when
    `confirm`, for a new key). Never read from a pipe: that is where mistakes hide.
    """
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        if not from_env:
            raise InfopackError(None, f"{PASSPHRASE_ENV} is set but empty")
        return from_env
    if not _stdin_is_terminal():
        raise InfopackError(None, f"no passphrase: set {PASSPHRASE_ENV} or run in a terminal")
    return prompt(label, hide_input=True, confirmation_prompt=confirm)


def passphrase_asker(prompt: Prompt, label: str = "Passphrase") -> Callable[[], str]:
    """A passphrase to be asked only if the key turns out to need one."""
    return lambda: passphrase_from_env_or_prompt(confirm=False, prompt=prompt, label=label)


def convert_pem_key_file(key_file: KeyFile, *, role: str | None, old_passphrase: Passphrase,
                         new_passphrase: Callable[[], str] | None, allow_weak: bool) -> Path:
    """Rewrite an older PEM key in minisign's format, keeping its key id and role.

    The old file is kept as KEY.pem-old (returned; the caller tells the person to delete
    it, as it still signs with the old passphrase). `new_passphrase=None` writes an
    unsealed key. Nothing is written until both passphrases are known and checked.
    """
    path = key_file.path
    key_file.role_for(role)                            # a contradicting --role is refused
    backup = path.with_name(path.name + OLD_PEM_SUFFIX)
    if backup.exists() or backup.is_symlink():
        raise InfopackError(backup, "already exists; move it away first (it would receive the old key)")
    old = None
    if key_file.protected:
        old = old_passphrase() if callable(old_passphrase) else old_passphrase
    read_pem_key(key_file.text, old, path)             # a wrong old passphrase fails before a new one is asked
    new = None
    if new_passphrase is not None:
        new = new_passphrase()
        check_passphrase_strength(new, allow_weak)
    text = convert_pem_key(key_file.text, old, new, path, **NEW_KEY_LIMITS)
    _write_new(backup, key_file.text.encode("utf-8"), 0o600)
    _replace_key_file(path, text)
    return backup


def record_role(key_file: KeyFile, role: str, passphrase: Passphrase) -> None:
    """Write `role` into the comment of a key made by `minisign -G` (the key itself unchanged).

    The comment carries the key id, which is inside the sealed part: the key is unlocked
    once (its passphrase asked only if it has one), which also proves it is sound.
    """
    key_role = key_file.role_for(role)
    if not key_file.minisign:
        raise UsageError(key_file.path, "an older PEM key: convert it with `infopack key convert`")
    loaded = read_secret_key(key_file.text, passphrase, key_file.path)
    _replace_key_file(key_file.path, with_comment(key_file.text, role_comment(key_role, loaded.key_id),
                                                  key_file.path))


def load_public_key(path: str | os.PathLike) -> PublicKey:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InfopackError(path, "no such public key file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InfopackError(path, f"cannot read the public key: {exc}") from None
    return parse_public_key(text, path)


def role_of(public_key: PublicKey) -> str | None:
    """The role named in the key's comment, or None (e.g. a key made by `minisign -G`)."""
    match = _PUBLIC_COMMENT.match(public_key.comment)
    role = match and match["role"]
    return role if role in ROLES else None


def ensure_not_under(path: str | os.PathLike, folder: str | os.PathLike) -> None:
    """Refuse a private key path inside the build output, which gets copied and shared."""
    resolved, out = Path(path).resolve(), Path(folder).resolve()
    if resolved == out or out in resolved.parents:
        raise InfopackError(path, f"is inside the build output folder {folder}; keep "
                            "private keys outside anything that is copied or shared")


def _public_comment(role: str, key_id: bytes) -> str:
    return f"infopack {role} public key {key_id_hex(key_id)}"


def _public_raw(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)


def _check_can_create(key_path: Path, pub_path: Path) -> None:
    for path in (key_path, pub_path):
        if path.exists() or path.is_symlink():
            raise InfopackError(path, "already exists; refusing to overwrite a key "
                                "(choose another --out PREFIX or move the old files away)")
    if not key_path.parent.is_dir():
        raise InfopackError(key_path.parent, "no such folder; create it first")


def _write_new(path: Path, content: bytes, mode: int) -> None:
    """Create `path` with `mode` from the start (never readable by others), never replacing."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _replace_key_file(path: Path, text: str) -> None:
    """Write a new file 0600 beside `path`, then put it in place in one step."""
    tmp = path.with_name(f".{path.name}.new")
    try:
        _write_new(tmp, text.encode("utf-8"), 0o600)
    except FileExistsError:
        raise InfopackError(tmp, "is left over from an interrupted run; delete it and try again") from None
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink()
        raise


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InfopackError(path, "no such key file; create one with "
                            "`infopack keygen --out PREFIX`") from None
    except UnicodeDecodeError:
        raise InfopackError(path, "not a private key file (it is not text)") from None
    except OSError as exc:
        raise InfopackError(path, f"cannot read the key file: {exc.strerror}") from None


def _warn_if_shared(path: Path, warn: Callable[[str], None]) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o044:
        warn(f"{path} is readable by other users; run chmod 600 {path}")
    elif mode & 0o022:
        warn(f"{path} is writable by other users; run chmod 600 {path}")


def _warn_to_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()
