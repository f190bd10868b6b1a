"""The minisign file formats, as pure functions over text and bytes.

Signatures are written in minisign's format so that reviewers and QA can check a
bundle with the standalone `minisign -Vm FILE -p KEY.pub`, without trusting infopack.
The format (jedisct1/minisign README):

    public key   untrusted comment line, then base64("Ed" | key id (8) | Ed25519 key (32))
    signature    untrusted comment line,
                 base64(algorithm (2) | key id (8) | Ed25519 signature (64)),
                 "trusted comment: " line,
                 base64(Ed25519 signature over (signature (64) | trusted comment bytes))

Algorithm "ED" signs BLAKE2b-512(file) (what we write, and minisign's default);
legacy "Ed" signs the file itself (`minisign -S -l`). Both are accepted on verify.
No function here reads or writes files: callers pass text and bytes, so the sealed
bytes are exactly the verified bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from infopack.errors import InfopackError

KEY_ALGORITHM = b"Ed"
PREHASHED = b"ED"
LEGACY = b"Ed"
UNTRUSTED_PREFIX = "untrusted comment: "
TRUSTED_PREFIX = "trusted comment: "
KEY_ID_BYTES = 8
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64

# minisign reads the untrusted comment line into a 1024-byte buffer and the trusted
# comment into 8192 bytes; stay well inside both so every signature we write is readable.
MAX_UNTRUSTED_COMMENT_BYTES = 900
MAX_TRUSTED_COMMENT_BYTES = 8000


class SignatureError(InfopackError):
    """A signature is malformed, by another key, or does not match what it signs."""


@dataclass(frozen=True)
class PublicKey:
    """A minisign public key: the key id is how minisign tells keys apart."""

    key_id: bytes
    raw: bytes
    comment: str = ""

    def __post_init__(self):
        if len(self.key_id) != KEY_ID_BYTES or len(self.raw) != PUBLIC_KEY_BYTES:
            raise ValueError("a minisign public key has an 8-byte id and a 32-byte key")

    @property
    def key_id_hex(self) -> str:
        """The key id as minisign prints it, so people can compare the two outputs."""
        return key_id_hex(self.key_id)

    def base64_line(self) -> str:
        """The one-line form that `minisign -P` accepts."""
        return base64.b64encode(KEY_ALGORITHM + self.key_id + self.raw).decode("ascii")

    def to_file_text(self) -> str:
        return f"{UNTRUSTED_PREFIX}{self.comment}\n{self.base64_line()}\n"

    def fingerprint(self) -> str:
        """SHA-256 of the raw key, in groups of four hex digits to read aloud.

        The 8-byte key id only names a key; comparing the fingerprint over a second
        channel is what tells a reviewer the key is the curator's.
        """
        digest = hashlib.sha256(self.raw).hexdigest().upper()
        return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))

    def ed25519(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.raw)


@dataclass(frozen=True)
class Signature:
    """A parsed minisign signature file."""

    algorithm: bytes        # PREHASHED (b"ED") or LEGACY (b"Ed")
    key_id: bytes
    signature: bytes        # over BLAKE2b-512(data) for ED, over data for Ed
    trusted_comment: str
    global_signature: bytes  # over signature | trusted comment bytes
    untrusted_comment: str = ""

    @property
    def key_id_hex(self) -> str:
        return key_id_hex(self.key_id)


def key_id_hex(key_id: bytes) -> str:
    """minisign stores the id little-endian and prints it as an unpadded uppercase number."""
    return f"{int.from_bytes(key_id, 'little'):X}"


def parse_public_key(text: str, path: str | os.PathLike | None = None) -> PublicKey:
    """Read a `.pub` file's text, or the bare base64 line that `minisign -P` takes."""
    lines = _content_lines(text)
    comment = ""
    if len(lines) == 2 and lines[0].startswith(UNTRUSTED_PREFIX):
        comment = lines[0][len(UNTRUSTED_PREFIX):]
        lines = lines[1:]
    if len(lines) != 1:
        raise InfopackError(path, "not a minisign public key: expected an "
                            "'untrusted comment:' line and one base64 line")
    blob = _decode_base64(lines[0], path, "public key")
    if len(blob) != 2 + KEY_ID_BYTES + PUBLIC_KEY_BYTES:
        raise InfopackError(path, f"not a minisign public key: {len(blob)} bytes "
                            f"instead of {2 + KEY_ID_BYTES + PUBLIC_KEY_BYTES}")
    if blob[:2] != KEY_ALGORITHM:
        raise InfopackError(path, "not a minisign Ed25519 public key "
                            f"(algorithm {blob[:2]!r})")
    return PublicKey(key_id=blob[2:10], raw=blob[10:], comment=comment)


def sign(data: bytes, private_key: Ed25519PrivateKey, key_id: bytes,
         trusted_comment: str, untrusted_comment: str) -> str:
    """Return the text of a prehashed ("ED") minisign signature over `data`.

    The trusted comment is signed too; callers pass one without a timestamp so that
    sealing the same bundle twice gives the same bytes (Ed25519 is deterministic).
    """
    _check_comment(trusted_comment, "trusted", MAX_TRUSTED_COMMENT_BYTES)
    _check_comment(untrusted_comment, "untrusted", MAX_UNTRUSTED_COMMENT_BYTES)
    if len(key_id) != KEY_ID_BYTES:
        raise ValueError("a minisign key id has 8 bytes")
    signature = private_key.sign(_signed_message(PREHASHED, data))
    global_signature = private_key.sign(signature + trusted_comment.encode("utf-8"))
    return (f"{UNTRUSTED_PREFIX}{untrusted_comment}\n"
            f"{_b64(PREHASHED + key_id + signature)}\n"
            f"{TRUSTED_PREFIX}{trusted_comment}\n"
            f"{_b64(global_signature)}\n")


def parse_signature(text: str, path: str | os.PathLike | None = None) -> Signature:
    """Read a `.minisig` file's text; anything malformed is a SignatureError."""
    lines = _content_lines(text)
    if len(lines) != 4:
        raise SignatureError(path, f"not a minisign signature: {len(lines)} lines "
                             "instead of 4 (truncated or not a signature file?)")
    untrusted, sig_line, trusted, global_line = lines
    if not untrusted.startswith(UNTRUSTED_PREFIX):
        raise SignatureError(path, "not a minisign signature: the first line must "
                             "start with 'untrusted comment: '")
    if not trusted.startswith(TRUSTED_PREFIX):
        raise SignatureError(path, "not a minisign signature: the third line must "
                             "start with 'trusted comment: '")
    blob = _decode_base64(sig_line, path, "signature", SignatureError)
    if len(blob) != 2 + KEY_ID_BYTES + SIGNATURE_BYTES:
        raise SignatureError(path, f"garbled signature: {len(blob)} bytes instead of "
                             f"{2 + KEY_ID_BYTES + SIGNATURE_BYTES}")
    if blob[:2] not in (PREHASHED, LEGACY):
        raise SignatureError(path, f"unsupported signature algorithm {blob[:2]!r}")
    global_signature = _decode_base64(global_line, path, "trusted comment signature",
                                      SignatureError)
    if len(global_signature) != SIGNATURE_BYTES:
        raise SignatureError(path, "garbled trusted comment signature: "
                             f"{len(global_signature)} bytes instead of {SIGNATURE_BYTES}")
    return Signature(algorithm=blob[:2], key_id=blob[2:10], signature=blob[10:],
                     trusted_comment=trusted[len(TRUSTED_PREFIX):],
                     global_signature=global_signature,
                     untrusted_comment=untrusted[len(UNTRUSTED_PREFIX):])


def verify(data: bytes, sig_text: str, public_key: PublicKey,
           sig_path: str | os.PathLike | None = None) -> Signature:
    """Check `sig_text` over `data` with `public_key`, as `minisign -V` does.

    Checks run in minisign's order: key id, then the signature over the data, then
    the trusted comment. Once the data signature holds, its bytes are genuine, so a
    failing global signature can only mean the trusted comment was changed.
    """
    sig = parse_signature(sig_text, sig_path)
    if sig.key_id != public_key.key_id:
        raise SignatureError(sig_path, f"signed by another key (key id {sig.key_id_hex}, "
                             f"expected {public_key.key_id_hex})")
    ed_key = public_key.ed25519()
    if not _holds(ed_key, sig.signature, _signed_message(sig.algorithm, data)):
        raise SignatureError(sig_path, "signature does not match the file "
                             "(the file was changed after signing, or it is another file)")
    if not _holds(ed_key, sig.global_signature,
                  sig.signature + sig.trusted_comment.encode("utf-8")):
        raise SignatureError(sig_path, "trusted comment was altered after signing")
    return sig


def _signed_message(algorithm: bytes, data: bytes) -> bytes:
    """What the Ed25519 signature covers: the BLAKE2b-512 hash, or the data (legacy)."""
    return hashlib.blake2b(data).digest() if algorithm == PREHASHED else data


def _holds(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _content_lines(text: str) -> list[str]:
    """Split on newlines only (not on U+2028 etc.), tolerating CRLF and trailing blank lines."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _decode_base64(line: str, path, what: str, error=InfopackError) -> bytes:
    try:
        return base64.b64decode(line.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise error(path, f"garbled {what}: the line is not valid base64") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _check_comment(comment: str, kind: str, max_bytes: int) -> None:
    """One line of text that minisign can read back; tabs are fine (minisign uses them)."""
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch != "\t" for ch in comment):
        raise ValueError(f"the {kind} comment must be one line without control characters")
    if len(comment.encode("utf-8")) > max_bytes:
        raise ValueError(f"the {kind} comment is longer than {max_bytes} bytes")
