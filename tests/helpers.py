"""Helpers several test files share (fixtures live in conftest.py)."""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.ciphers import Cipher, modes

from infopack.scan.redstar import REDSTAR_BLOCK_SIZE, REDSTAR_DES_KEY, REDSTAR_MAGIC, TripleDES


def make_redstar_trailer(serial: bytes, *more_serials: bytes) -> bytes:
    """The bytes Red Star OS would append for these disk serials (used to plant one)."""
    if TripleDES is None:
        raise RuntimeError("DES is not available in this cryptography build")
    blocks = b""
    for s in (serial, *more_serials):
        plain = b"WM" + s
        if len(plain) > REDSTAR_BLOCK_SIZE:
            raise ValueError(f"serial {s!r} is longer than {REDSTAR_BLOCK_SIZE - 2} bytes")
        encryptor = Cipher(TripleDES(REDSTAR_DES_KEY * 3), modes.ECB()).encryptor()
        blocks += encryptor.update(plain.ljust(REDSTAR_BLOCK_SIZE, b"\0")) + encryptor.finalize()
    return blocks + struct.pack("<I", len(blocks)) + REDSTAR_MAGIC
