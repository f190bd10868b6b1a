"""The trailer Red Star OS appends to media files it touches: find it, name its disk serials.

Layout, from ERNW's Red Star OS 3.0 research (Florian Grunow & Niklaus Schiess, 32C3
talk "Lifting the Fog on Red Star OS", Dec 2015, and their published redstar-tools,
folder "watermarked"): the OS appends to a file

    [24-byte block] ... [24-byte block] [uint32 little-endian: total block bytes] "EOF"

Each block is DES-ECB under the fixed, unsalted key 07 06 05 04 03 02 01 00 and
decrypts to b"WM" + the disk serial, NUL-padded to 24 bytes. Each further Red Star
machine adds one block and rewrites the length (24, 48, ...). Their published sample
decrypts 79 08 df d0 ... 75 b1 to "WM8295FF513293A" (our tests use it).
We also accept trailers stacked on trailers (a trailer followed by another one).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, modes

from infopack.checks import ERROR, WARNING, Finding
from infopack.scan.messages import shown

try:                                    # newer cryptography releases keep DES under "decrepit"
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:
    try:
        from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
    except ImportError:                 # a build without DES: trailers are found by shape only
        TripleDES = None


REDSTAR_DES_KEY = bytes.fromhex("0706050403020100")
REDSTAR_BLOCK_SIZE = 24
REDSTAR_MAGIC = b"EOF"
REDSTAR_MAX_BLOCKS = 1000          # sanity bound on the length field
_REDSTAR_FOOTER = 4 + len(REDSTAR_MAGIC)


@dataclass(frozen=True)
class TrailerInfo:
    original_size: int              # offset where the original file ends: truncate here
    trailer_size: int               # bytes appended after it, all trailers together
    blocks: int                     # 24-byte watermark blocks found
    serials: tuple[bytes, ...]      # decrypted disk serials, in file order
    decrypted: bool                 # every block decrypted to b"WM..."


def des_decryptor(key: bytes):
    """A single-DES ECB decryptor, or None when this cryptography build has no DES.

    Three-key TDES with K1=K2=K3 is single DES (EDE collapses to one encryption).
    """
    if TripleDES is None:
        return None
    try:
        return Cipher(TripleDES(key * 3), modes.ECB()).decryptor()
    except Exception:  # noqa: BLE001 - e.g. a FIPS build that refuses DES
        return None


def find_redstar_trailer(path: str) -> TrailerInfo | None:
    """The Red Star trailer(s) at the end of the file, or None.

    Detection is by structure (length field + "EOF", a whole number of 24-byte blocks
    that fits in the file); decryption, when DES is available, adds the serials.
    """
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        end = size
        blocks: list[bytes] = []
        while end >= _REDSTAR_FOOTER + REDSTAR_BLOCK_SIZE:
            f.seek(end - _REDSTAR_FOOTER)
            footer = f.read(_REDSTAR_FOOTER)
            if footer[4:] != REDSTAR_MAGIC:
                break
            length = struct.unpack("<I", footer[:4])[0]
            start = end - _REDSTAR_FOOTER - length
            if (length == 0 or length % REDSTAR_BLOCK_SIZE
                    or length > REDSTAR_MAX_BLOCKS * REDSTAR_BLOCK_SIZE or start < 0):
                break
            f.seek(start)
            data = f.read(length)
            blocks[:0] = [data[i:i + REDSTAR_BLOCK_SIZE] for i in range(0, length, REDSTAR_BLOCK_SIZE)]
            end = start
    if not blocks:
        return None
    serials = [_redstar_serial(b) for b in blocks]
    found = tuple(s for s in serials if s is not None)
    return TrailerInfo(end, size - end, len(blocks), found, len(found) == len(blocks))


def _redstar_serial(block: bytes) -> bytes | None:
    decryptor = des_decryptor(REDSTAR_DES_KEY)
    if decryptor is None:
        return None
    plain = decryptor.update(block) + decryptor.finalize()
    return plain[2:].rstrip(b"\0") if plain.startswith(b"WM") else None


def redstar_findings(path: str, where: str) -> list[Finding]:
    trailer = find_redstar_trailer(path)
    if trailer is None:
        return []
    cut = f"truncate the file to its first {trailer.original_size} bytes"
    if trailer.decrypted:
        serials = ", ".join(shown(s, 30) for s in trailer.serials)
        return [Finding("redstar-trailer", ERROR, where,
                        f"Red Star OS watermark: {trailer.blocks} block(s) naming disk serial(s) "
                        f"{serials} in the last {trailer.trailer_size} bytes; {cut}")]
    if trailer.serials:
        return [Finding("redstar-trailer", ERROR, where,
                        f"Red Star OS watermark: {len(trailer.serials)} of {trailer.blocks} "
                        f"block(s) decrypt to disk serials; {cut}")]
    why = ("does not decrypt with the known key" if des_available()
           else "not decrypted: this cryptography build has no DES")
    return [Finding("redstar-trailer", WARNING, where,
                    f"a trailer shaped like Red Star OS's watermark ({trailer.blocks} block(s) "
                    f"+ length + 'EOF'), {why}; check it and {cut}")]


def des_available() -> bool:
    return des_decryptor(REDSTAR_DES_KEY) is not None
