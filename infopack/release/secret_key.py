"""minisign's own secret key file, read and written exactly as minisign 0.11 does.

With keys in this format a curator can sign with `minisign -S -s KEY`, and infopack can
sign with a key made by `minisign -G`. The file (minisign's `SeckeyStruct`, src/minisign.h):

    untrusted comment line
    base64 of 158 bytes:
      "Ed"          signature algorithm
      "Sc" or 0 0   scrypt, or no passphrase (`minisign -G -W`)
      "B2"          checksum algorithm: BLAKE2b-256
      salt (32) | opslimit (8, little-endian) | memlimit (8, little-endian)
      104 bytes XOR-ed with scrypt(passphrase, salt) (left as they are without a passphrase):
        key id (8) | Ed25519 secret key (64: seed | public key) |
        checksum (32) = BLAKE2b-256("Ed" | key id | secret key)

The scrypt parameters come from opslimit/memlimit as libsodium's
`crypto_pwhash_scryptsalsa208sha256` picks them (`scrypt_params`). minisign writes new
keys with libsodium's "sensitive" limits (opslimit 33,554,432, memlimit 1,073,741,824):
N = 2**20, r = 8, p = 1: 1 GiB of memory and about 3.5 s for every load or write on
this project's 2-core machine (minisign itself takes about 3 s); we do the same, so
callers should load a key once per command.
`minisign -G -W` leaves the salt, the limits and the checksum all zero; `minisign -C -W`
(removing a passphrase) keeps a real checksum. We write a real checksum and accept both.

The role is a label in the untrusted comment (`infopack curator secret key 1A2B...`),
which minisign keeps as it is, also when `minisign -C` changes the passphrase. A key made
by `minisign -G` has no role there: infopack then asks for `--role` every time and never
guesses (see `role_from_comment`). As for public keys, the role is for people only: the
trust policy, keyed by key id, decides what a signature counts for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Callable, NamedTuple

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infopack.errors import InfopackError, UsageError
from infopack.release.minisign import KEY_ID_BYTES, UNTRUSTED_PREFIX, key_id_hex

ROLES = ("curator", "reviewer", "qa")

SIGNATURE_ALGORITHM = b"Ed"
KDF_SCRYPT = b"Sc"
KDF_NONE = b"\0\0"
CHECKSUM_ALGORITHM = b"B2"
SALT_BYTES = 32
SEED_BYTES = 32
SECRET_KEY_BYTES = 64          # libsodium's Ed25519 secret key: seed | public key
CHECKSUM_BYTES = 32
ENCRYPTED_BYTES = KEY_ID_BYTES + SECRET_KEY_BYTES + CHECKSUM_BYTES          # 104
FILE_BYTES = 2 + 2 + 2 + SALT_BYTES + 8 + 8 + ENCRYPTED_BYTES              # 158
_BASE64_CHARS = (FILE_BYTES + 2) // 3 * 4                                  # 212
_PUBLIC_KEY_BYTES = 2 + KEY_ID_BYTES + 32                                  # a .pub's 42

# libsodium's crypto_pwhash_scryptsalsa208sha256 limits (its header file).
OPSLIMIT_MIN = 32_768
MEMLIMIT_MIN = 16_777_216
OPSLIMIT_INTERACTIVE = 524_288
MEMLIMIT_INTERACTIVE = 16_777_216
OPSLIMIT_SENSITIVE = 33_554_432     # what minisign uses for every new key
MEMLIMIT_SENSITIVE = 1_073_741_824

# A key file names its own scrypt cost. Refuse more than minisign's default asks for
# (1 GiB, N*p = 2**20): no tool writes more, and a damaged or hostile file could
# otherwise make loading it take hours or all the memory.
_MAX_SCRYPT_MEMORY = MEMLIMIT_SENSITIVE
_MAX_SCRYPT_WORK = 2 ** 20          # N * p

# minisign reads a passphrase with fgets() into 1024 bytes and stops at the first CR/LF;
# it reads the comment line into 1024 bytes too (prefix and newline included).
MAX_PASSPHRASE_BYTES = 1023
MAX_COMMENT_BYTES = 1023 - len(UNTRUSTED_PREFIX) - 1
MIN_PASSPHRASE_CHARS = 12

_ROLE_COMMENT = re.compile(r"^infopack (?P<role>\w+) secret key\b")
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_PEM_BEGIN = "-----BEGIN "
_PEM_ENCRYPTED = "-----BEGIN ENCRYPTED PRIVATE KEY-----"

Passphrase = str | None | Callable[[], str]


class LoadedSecretKey(NamedTuple):
    private: Ed25519PrivateKey
    key_id: bytes           # as stored: minisign's own keys have random ids, never recompute
    comment: str            # the untrusted comment, without "untrusted comment: "


@dataclass(frozen=True)
class ScryptParams:
    n: int
    r: int
    p: int

    @property
    def memory_bytes(self) -> int:
        return 128 * self.r * self.n

    @property
    def maxmem(self) -> int:
        """What OpenSSL (behind hashlib.scrypt) counts: V (128*r*(N+2)) plus B (128*r*p)."""
        return 128 * self.r * (self.n + 2 + self.p)


@dataclass(frozen=True)
class _Fields:
    kdf: bytes
    salt: bytes
    opslimit: int
    memlimit: int
    sealed: bytes           # the 104 bytes, XOR-ed with scrypt's output when kdf is Sc
    comment: str


def scrypt_params(opslimit: int, memlimit: int) -> ScryptParams:
    """N, r, p from opslimit/memlimit, as libsodium's `pickparams` computes them.

    r is always 8. When the operation budget is the tighter limit, p = 1 and N follows
    from opslimit; otherwise N follows from memlimit and p uses up what opslimit allows.
    """
    opslimit = max(opslimit, OPSLIMIT_MIN)
    r = 8
    if opslimit < memlimit // 32:
        p = 1
        n_log2 = _smallest_log2_above((opslimit // (r * 4)) // 2)
    else:
        n_log2 = _smallest_log2_above((memlimit // (r * 128)) // 2)
        p = min((opslimit // 4) >> n_log2, 0x3FFFFFFF) // r
    return ScryptParams(n=1 << n_log2, r=r, p=p)


def write_secret_key(private: Ed25519PrivateKey, key_id: bytes, passphrase: str | None,
                     comment: str, *, opslimit: int = OPSLIMIT_SENSITIVE,
                     memlimit: int = MEMLIMIT_SENSITIVE) -> str:
    """The text of a minisign secret key file; `passphrase=None` writes one like `-W`.

    The limits are minisign's for new keys; tests pass libsodium's "interactive" ones
    (N = 2**14, 16 MiB) to stay fast. A passphrase that minisign could not read back is
    a UsageError; a bad key id or comment is the caller's mistake (ValueError).
    """
    if len(key_id) != KEY_ID_BYTES:
        raise ValueError("a minisign key id has 8 bytes")
    _check_comment(comment)
    seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    secret = seed + _public_raw(private)
    plain = key_id + secret + _checksum(key_id, secret)
    if passphrase is None:
        kdf, salt, opslimit, memlimit, sealed = KDF_NONE, bytes(SALT_BYTES), 0, 0, plain
    else:
        check_passphrase_typeable(passphrase)
        if opslimit < OPSLIMIT_MIN or memlimit < MEMLIMIT_MIN:
            raise ValueError("scrypt limits below libsodium's minimum")
        kdf, salt = KDF_SCRYPT, secrets.token_bytes(SALT_BYTES)
        stream = _scrypt_stream(passphrase, salt, _bounded_params(opslimit, memlimit, None))
        sealed = _xor(plain, stream)
    blob = (SIGNATURE_ALGORITHM + kdf + CHECKSUM_ALGORITHM + salt
            + opslimit.to_bytes(8, "little") + memlimit.to_bytes(8, "little") + sealed)
    return f"{UNTRUSTED_PREFIX}{comment}\n{base64.b64encode(blob).decode('ascii')}\n"


def read_secret_key(text: str, passphrase_or_callback: Passphrase,
                    path: str | os.PathLike | None = None) -> LoadedSecretKey:
    """Decrypt a minisign secret key, with one InfopackError line for each way it fails.

    A callback is called only when the key is encrypted and the file is otherwise sound,
    so nobody is asked for a passphrase for a file that cannot be a key.
    """
    fields = _parse(text, path)
    if fields.kdf == KDF_NONE:
        plain = fields.sealed
    else:
        params = _bounded_params(fields.opslimit, fields.memlimit, path)
        passphrase = (passphrase_or_callback() if callable(passphrase_or_callback)
                      else passphrase_or_callback)
        if passphrase is None:
            raise InfopackError(path, "the key is protected by a passphrase, and none was given")
        plain = _xor(fields.sealed, _scrypt_stream(passphrase, fields.salt, params, path))
    key_id = plain[:KEY_ID_BYTES]
    secret = plain[KEY_ID_BYTES:KEY_ID_BYTES + SECRET_KEY_BYTES]
    stored = plain[KEY_ID_BYTES + SECRET_KEY_BYTES:]
    unchecked = fields.kdf == KDF_NONE and stored == bytes(CHECKSUM_BYTES)  # `minisign -G -W`
    if not unchecked and not hmac.compare_digest(stored, _checksum(key_id, secret)):
        raise InfopackError(path, "the key file is damaged (checksum mismatch)"
                            if fields.kdf == KDF_NONE else
                            "wrong passphrase (checksum mismatch; or the key file is damaged)")
    private = Ed25519PrivateKey.from_private_bytes(secret[:SEED_BYTES])
    if _public_raw(private) != secret[SEED_BYTES:]:
        raise InfopackError(path, "the key file is damaged (its public half does not "
                            "belong to its private half)")
    return LoadedSecretKey(private=private, key_id=key_id, comment=fields.comment)


def is_minisign_secret_key(text: str) -> bool:
    """Whether `text` has the shape of a minisign secret key (nothing is decrypted)."""
    try:
        _parse(text, None)
    except InfopackError:
        return False
    return True


def needs_passphrase(text: str, path: str | os.PathLike | None = None) -> bool:
    """Whether loading the key needs a passphrase, so callers only ask when they must."""
    return _parse(text, path).kdf == KDF_SCRYPT


def role_comment(role: str, key_id: bytes) -> str:
    """The untrusted comment that records a key's role where minisign leaves it alone."""
    if role not in ROLES:
        raise UsageError(None, f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    return f"infopack {role} secret key {key_id_hex(key_id)}"


def role_from_comment(comment: str) -> str | None:
    """The role written by `role_comment`, or None (a key made by `minisign -G`, or edited).

    infopack never guesses a missing role: signing with a role-less key needs `--role`
    every time, or the role written once with `with_comment(text, role_comment(...))`.
    A `--role` that contradicts the comment is refused. The trust policy, which lists
    key ids per role, has the last word in either case.
    """
    if comment.startswith(UNTRUSTED_PREFIX):
        comment = comment[len(UNTRUSTED_PREFIX):]
    match = _ROLE_COMMENT.match(comment)
    role = match and match["role"]
    return role if role in ROLES else None


def with_comment(text: str, comment: str, path: str | os.PathLike | None = None) -> str:
    """The same key with another untrusted comment; no passphrase needed (as `minisign -C`
    keeps the comment, the comment is outside what the passphrase protects)."""
    _check_comment(comment)
    _parse(text, path)
    return f"{UNTRUSTED_PREFIX}{comment}\n{_content_lines(text)[1].strip()}\n"


def check_passphrase_strength(passphrase: str, allow_weak: bool) -> None:
    """Refuse a passphrase shorter than 12 characters unless the person insisted.

    The key file may be copied along with a laptop; only the passphrase (and scrypt's
    cost) then stands between a seizure and signatures in the curator's name.
    """
    check_passphrase_typeable(passphrase)
    if len(passphrase) < MIN_PASSPHRASE_CHARS and not allow_weak:
        raise UsageError(None, f"the passphrase has {len(passphrase)} characters; use at least "
                         f"{MIN_PASSPHRASE_CHARS} (a few words are easiest), or pass "
                         "--weak-passphrase to accept it anyway")


def check_passphrase_typeable(passphrase: str) -> None:
    """Refuse what `minisign -S` could not read back from a terminal or a pipe."""
    if not passphrase:
        raise UsageError(None, "the passphrase is empty; choose one, or use --no-passphrase")
    if any(ch in passphrase for ch in "\r\n\0"):
        raise UsageError(None, "the passphrase contains a line break or NUL, which minisign "
                         "cannot read; choose another")
    if len(passphrase.encode("utf-8")) > MAX_PASSPHRASE_BYTES:
        raise UsageError(None, f"the passphrase is longer than {MAX_PASSPHRASE_BYTES} bytes, "
                         "which minisign cannot read; choose a shorter one")


def derived_key_id(public_raw: bytes) -> bytes:
    """infopack's key id: the first 8 bytes of BLAKE2b-256 of the raw public key.

    `keys.key_id_for` is this function (keys.py imports this module, never the reverse).
    Keys made by `minisign -G` have random ids.
    """
    return hashlib.blake2b(public_raw, digest_size=32).digest()[:KEY_ID_BYTES]


def read_pem_key(pem_key_text: str, passphrase: str | None,
                 path: str | os.PathLike | None = None) -> tuple[Ed25519PrivateKey, str]:
    """The private key and role of an older infopack key file (header lines + PKCS#8 PEM)."""
    header, pem = _pem_parts(pem_key_text, path)
    role = pem_key_role(pem_key_text, path)
    encrypted = pem_needs_passphrase(pem_key_text, path)
    if encrypted and passphrase is None:
        raise InfopackError(path, "the key is protected by a passphrase, and none was given")
    try:
        private = serialization.load_pem_private_key(
            pem.encode("ascii"), passphrase.encode("utf-8") if encrypted else None)
    except ValueError:
        raise InfopackError(path, "wrong passphrase (or the file is not an infopack key)"
                            if encrypted else "the PEM block cannot be read") from None
    except (TypeError, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        raise InfopackError(path, f"not an infopack key file ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise InfopackError(path, "not an Ed25519 key; infopack signs with Ed25519 keys")
    written_id = header.get("key id")
    actual_id = key_id_hex(derived_key_id(_public_raw(private)))
    if written_id not in (None, actual_id):
        raise InfopackError(path, f"the key id written in the file ({written_id}) is not "
                            f"this key's ({actual_id}); the file was edited")
    return private, role


def pem_key_role(pem_key_text: str, path: str | os.PathLike | None = None) -> str:
    """The role written above an older infopack key's PEM block, read without the passphrase."""
    role = _pem_parts(pem_key_text, path)[0].get("role")
    if role not in ROLES:
        raise InfopackError(path, "no role recorded in the key file; it was not made by "
                            "`infopack keygen` (or its first lines were edited)")
    return role


def is_pem_key(text: str) -> bool:
    """Whether `text` looks like an older infopack key (a PEM private key block)."""
    return _PEM_BEGIN in text


def pem_needs_passphrase(pem_key_text: str, path: str | os.PathLike | None = None) -> bool:
    """Whether an older infopack key's PEM block is encrypted (read without the passphrase)."""
    return _pem_parts(pem_key_text, path)[1].startswith(_PEM_ENCRYPTED)


def convert_pem_key(pem_key_text: str, old_passphrase: str | None,
                    new_passphrase: str | None, path: str | os.PathLike | None = None, *,
                    opslimit: int = OPSLIMIT_SENSITIVE,
                    memlimit: int = MEMLIMIT_SENSITIVE) -> str:
    """An older infopack PEM key as a minisign secret key, with the same key id and role.

    The id stays the one infopack derived from the public key, so the `.pub` files,
    trust policies and signatures made before the conversion remain valid.
    """
    private, role = read_pem_key(pem_key_text, old_passphrase, path)
    key_id = derived_key_id(_public_raw(private))
    return write_secret_key(private, key_id, new_passphrase, role_comment(role, key_id),
                            opslimit=opslimit, memlimit=memlimit)


def _pem_parts(pem_key_text: str, path) -> tuple[dict[str, str], str]:
    """The `name: value` lines before the PEM block, and the block itself."""
    start = pem_key_text.find(_PEM_BEGIN)
    if start < 0:
        raise InfopackError(path, "not an infopack PEM key file (no PEM private key block)")
    header = {}
    for line in pem_key_text[:start].splitlines():
        name, sep, value = line.partition(":")
        if sep:
            header[name.strip().lower()] = value.strip()
    return header, pem_key_text[start:]


def _parse(text: str, path) -> _Fields:
    """Check the file's shape in minisign's order, before anything is decrypted."""
    lines = _content_lines(text)
    if any(line.startswith(_PEM_BEGIN) for line in lines):
        raise InfopackError(path, "this is an older infopack PEM key, not a minisign secret "
                            "key; convert it with `infopack key convert`")
    if len(lines) == 1 and lines[0].startswith(UNTRUSTED_PREFIX):
        raise InfopackError(path, "truncated minisign secret key: nothing after the comment line")
    if len(lines) != 2:
        raise InfopackError(path, "not a minisign secret key: expected a comment line "
                            "and one base64 line")
    comment, line = lines[0], lines[1].strip()
    if comment.startswith(UNTRUSTED_PREFIX):
        comment = comment[len(UNTRUSTED_PREFIX):]
    try:
        blob = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError):
        blob = None
    if blob is not None and len(blob) == _PUBLIC_KEY_BYTES and blob[:2] == SIGNATURE_ALGORITHM:
        raise InfopackError(path, "not a minisign secret key (this is a public key)")
    if _BASE64_LINE.fullmatch(line) and 0 < len(line) < _BASE64_CHARS:
        raise InfopackError(path, f"truncated minisign secret key: {len(line)} base64 "
                            f"characters instead of {_BASE64_CHARS}")
    if blob is None:
        raise InfopackError(path, "not a minisign secret key: the second line is not "
                            "valid base64")
    if len(blob) != FILE_BYTES:
        raise InfopackError(path, f"not a minisign secret key: {len(blob)} bytes instead "
                            f"of {FILE_BYTES}")
    signature_algorithm, kdf, checksum_algorithm = blob[0:2], blob[2:4], blob[4:6]
    if signature_algorithm != SIGNATURE_ALGORITHM:
        raise InfopackError(path, f"unsupported signature algorithm {signature_algorithm!r} "
                            "(minisign secret keys are Ed25519, 'Ed')")
    if checksum_algorithm != CHECKSUM_ALGORITHM:
        raise InfopackError(path, f"unsupported checksum algorithm {checksum_algorithm!r} "
                            "(minisign uses BLAKE2b, 'B2')")
    if kdf not in (KDF_SCRYPT, KDF_NONE):
        raise InfopackError(path, f"unsupported key derivation {kdf!r} (minisign uses "
                            "scrypt, 'Sc', or none)")
    salt_end = 6 + SALT_BYTES
    return _Fields(kdf=kdf, salt=blob[6:salt_end],
                   opslimit=int.from_bytes(blob[salt_end:salt_end + 8], "little"),
                   memlimit=int.from_bytes(blob[salt_end + 8:salt_end + 16], "little"),
                   sealed=blob[salt_end + 16:], comment=comment)


def _bounded_params(opslimit: int, memlimit: int, path) -> ScryptParams:
    params = scrypt_params(opslimit, memlimit)
    if params.memory_bytes > _MAX_SCRYPT_MEMORY or params.n * params.p > _MAX_SCRYPT_WORK:
        raise InfopackError(path, f"the key asks for more scrypt work than minisign ever uses "
                            f"(N={params.n}, r={params.r}, p={params.p}); refusing a damaged "
                            "or hostile key file")
    return params


def _scrypt_stream(passphrase: str, salt: bytes, params: ScryptParams, path=None) -> bytes:
    try:
        return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=params.n, r=params.r,
                              p=params.p, maxmem=params.maxmem, dklen=ENCRYPTED_BYTES)
    except (ValueError, MemoryError) as exc:
        raise InfopackError(path, f"cannot derive the key from the passphrase ({exc}); "
                            f"scrypt needs {params.memory_bytes // 2**20} MiB of memory") from None


def _checksum(key_id: bytes, secret: bytes) -> bytes:
    return hashlib.blake2b(SIGNATURE_ALGORITHM + key_id + secret,
                           digest_size=CHECKSUM_BYTES).digest()


def _public_raw(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def _smallest_log2_above(limit: int) -> int:
    """The first n_log2 in 1..62 with 2**n_log2 > limit (pickparams' loop; 63 if none)."""
    n_log2 = 1
    while n_log2 < 63 and (1 << n_log2) <= limit:
        n_log2 += 1
    return n_log2


def _check_comment(comment: str) -> None:
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch != "\t" for ch in comment):
        raise ValueError("the comment must be one line without control characters")
    if len(comment.encode("utf-8")) > MAX_COMMENT_BYTES:
        raise ValueError(f"the comment is longer than {MAX_COMMENT_BYTES} bytes, "
                         "more than minisign reads")


def _content_lines(text: str) -> list[str]:
    """Split on newlines only, tolerating CRLF and trailing blank lines (as minisign does)."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines
