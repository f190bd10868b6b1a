"""Signing keys for the people who handle a bundle: curator, reviewer and QA.

A key pair is two files:

* `PREFIX.key`: the Ed25519 private key as PKCS#8 PEM, encrypted with a passphrase
  (unencrypted only on explicit request), created with mode 0600. A few plain lines
  before the PEM block record the role and key id, so they can be shown without the
  passphrase. They are stripped before the PEM is parsed (cryptography and openssl
  also skip text before `-----BEGIN`, but we do not rely on that).
* `PREFIX.pub`: a minisign public key whose untrusted comment names the role and key
  id, so reviewers can use it with the standalone `minisign` tool as well.

The role in either file is a label for people, not a security property: anyone can
edit an untrusted comment. Trust comes from comparing the fingerprint.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infopack.errors import InfopackError, UsageError
from infopack.release.minisign import PublicKey, key_id_hex, parse_public_key

ROLES = ("curator", "reviewer", "qa")
PASSPHRASE_ENV = "INFOPACK_PASSPHRASE"
KEY_SUFFIX = ".key"
PUB_SUFFIX = ".pub"
PEM_BEGIN = "-----BEGIN "
HEADER_TITLE = "infopack private key (keep it secret; the role below is a label only)"
_PUBLIC_COMMENT = re.compile(r"^infopack (?P<role>\w+) public key\b")

# Asks at the terminal, as click.prompt does: prompt("Passphrase", hide_input=True,
# confirmation_prompt=bool) -> the text typed. The CLI passes click.prompt.
Prompt = Callable[..., str]


@dataclass(frozen=True)
class SigningKey:
    """A private key ready to sign, with the id and role that go into signatures."""

    private: Ed25519PrivateKey
    key_id: bytes
    role: str
    public: PublicKey


def key_id_for(public_raw: bytes) -> bytes:
    """The first 8 bytes of BLAKE2b-256 of the raw public key.

    minisign accepts any 8-byte id (its own keygen picks random ones); deriving it
    from the key means the id can be recomputed and checked, and never collides by
    accident between two keys of the same curator.
    """
    return hashlib.blake2b(public_raw, digest_size=32).digest()[:8]


def public_key_for(private: Ed25519PrivateKey, role: str) -> PublicKey:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    key_id = key_id_for(raw)
    comment = f"infopack {role} public key {key_id_hex(key_id)}"
    return PublicKey(key_id=key_id, raw=raw, comment=comment)


def key_paths(prefix: str | os.PathLike) -> tuple[Path, Path]:
    """PREFIX.key and PREFIX.pub; a prefix already ending in .key or .pub is taken as meant."""
    prefix = Path(prefix)
    if prefix.suffix in (KEY_SUFFIX, PUB_SUFFIX):
        prefix = prefix.with_suffix("")
    return (prefix.with_name(prefix.name + KEY_SUFFIX),
            prefix.with_name(prefix.name + PUB_SUFFIX))


def keygen(prefix: str | os.PathLike, role: str,
           passphrase: str | None) -> tuple[Path, Path]:
    """Create PREFIX.key and PREFIX.pub for `role`; never overwrite an existing key.

    `passphrase=None` writes an unencrypted key: only for test rigs and throwaway keys.
    """
    if role not in ROLES:
        raise UsageError(None, f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    key_path, pub_path = key_paths(prefix)
    _check_can_create(key_path, pub_path)
    private = Ed25519PrivateKey.generate()
    public = public_key_for(private, role)
    key_text = _key_header(role, public) + _private_pem(private, passphrase)
    _write_new(key_path, key_text.encode("ascii"), 0o600)
    try:
        _write_new(pub_path, public.to_file_text().encode("utf-8"), 0o644)
    except BaseException:
        key_path.unlink()  # we just created it; leave no half key pair behind
        raise
    return key_path, pub_path


def load_signing_key(path: str | os.PathLike, passphrase: str | None, *,
                     warn: Callable[[str], None] | None = None) -> SigningKey:
    """Load a key made by `keygen`, with a one-line error for each way it can fail."""
    path = Path(path)
    text = _read_key_file(path)
    _warn_if_shared(path, warn or _warn_to_stderr)
    header, pem = _split_key_file(text, path)
    role = header.get("role")
    if role not in ROLES:
        raise InfopackError(path, "no role recorded in the key file; it was not made by "
                            "`infopack keygen` (or its first lines were edited)")
    private = _load_private(pem, passphrase, path)
    public = public_key_for(private, role)
    if header.get("key id") not in (None, public.key_id_hex):
        raise InfopackError(path, f"the key id written in the file ({header['key id']}) is "
                            f"not this key's ({public.key_id_hex}); the file was edited")
    return SigningKey(private=private, key_id=public.key_id, role=role, public=public)


def is_encrypted(path: str | os.PathLike) -> bool:
    """Whether loading the key needs a passphrase, so callers only ask when they must."""
    return "-----BEGIN ENCRYPTED PRIVATE KEY-----" in _read_key_file(Path(path))


def passphrase_from_env_or_prompt(confirm: bool, prompt: Prompt) -> str:
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
    return prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)


def passphrase_for(path: str | os.PathLike, prompt: Prompt) -> str | None:
    """What loading the key at `path` needs: None for an unencrypted key, else the passphrase."""
    return passphrase_from_env_or_prompt(confirm=False, prompt=prompt) if is_encrypted(path) else None


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


def _check_can_create(key_path: Path, pub_path: Path) -> None:
    for path in (key_path, pub_path):
        if path.exists() or path.is_symlink():
            raise InfopackError(path, "already exists; refusing to overwrite a key "
                                "(choose another --out PREFIX or move the old files away)")
    if not key_path.parent.is_dir():
        raise InfopackError(key_path.parent, "no such folder; create it first")


def _key_header(role: str, public: PublicKey) -> str:
    return f"{HEADER_TITLE}\nrole: {role}\nkey id: {public.key_id_hex}\n"


def _private_pem(private: Ed25519PrivateKey, passphrase: str | None) -> str:
    if passphrase is None:
        encryption = serialization.NoEncryption()
    elif not passphrase:
        raise UsageError(None, "the passphrase is empty; choose one, or use --no-passphrase")
    else:
        encryption = serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
    pem = private.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8, encryption)
    return pem.decode("ascii")


def _write_new(path: Path, content: bytes, mode: int) -> None:
    """Create `path` with `mode` from the start (never readable by others), never replacing."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise InfopackError(path, "no such key file; create one with "
                            "`infopack keygen --out PREFIX`") from None
    except UnicodeDecodeError:
        raise InfopackError(path, "not an infopack key file (it is not text)") from None
    except OSError as exc:
        raise InfopackError(path, f"cannot read the key file: {exc.strerror}") from None


def _split_key_file(text: str, path: Path) -> tuple[dict[str, str], str]:
    """Separate the `name: value` lines before the PEM block from the block itself."""
    start = text.find(PEM_BEGIN)
    if start < 0:
        raise InfopackError(path, "not an infopack key file (no PEM private key block)")
    header = {}
    for line in text[:start].splitlines():
        name, sep, value = line.partition(":")
        if sep:
            header[name.strip().lower()] = value.strip()
    return header, text[start:]


def _load_private(pem: str, passphrase: str | None, path: Path) -> Ed25519PrivateKey:
    encrypted = pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    if encrypted and passphrase is None:
        raise InfopackError(path, f"the key is encrypted: set {PASSPHRASE_ENV} "
                            "or run in a terminal to be asked for the passphrase")
    password = passphrase.encode("utf-8") if encrypted else None
    try:
        private = serialization.load_pem_private_key(pem.encode("ascii"), password)
    except ValueError:
        problem = ("wrong passphrase (or the file is not an infopack key)" if encrypted
                   else "not an infopack key file (the PEM block cannot be read)")
        raise InfopackError(path, problem) from None
    except (TypeError, UnsupportedAlgorithm) as exc:
        raise InfopackError(path, f"not an infopack key file ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise InfopackError(path, "not an Ed25519 key; infopack signs with Ed25519 keys "
                            "made by `infopack keygen`")
    return private


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
