"""Helpers several test files share (fixtures live in conftest.py)."""

from __future__ import annotations

import struct

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from infopack.release.keys import key_paths, public_key_for

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


def write_pem_key(prefix, role: str, passphrase: str | None) -> tuple[Path, Path]:
    """An older infopack key pair, as `infopack keygen` wrote it before minisign's format:
    `role:` and `key id:` lines above a PKCS#8 PEM block (PBKDF2, 2,048 rounds), mode 0600."""
    key_path, pub_path = key_paths(prefix)
    private = Ed25519PrivateKey.generate()
    public = public_key_for(private, role)
    encryption = (serialization.NoEncryption() if passphrase is None
                  else serialization.BestAvailableEncryption(passphrase.encode("utf-8")))
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                encryption).decode("ascii")
    key_path.write_text("infopack private key (keep it secret; the role below is a label only)\n"
                        f"role: {role}\nkey id: {public.key_id_hex}\n{pem}", encoding="ascii")
    key_path.chmod(0o600)
    pub_path.write_text(public.to_file_text(), encoding="utf-8")
    return key_path, pub_path


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """Write {relative path: bytes} under `root` (folders made as needed); returns `root`."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def install_tiny_card(monkeypatch, folder: Path) -> str:
    """A measured card type "tiny" (640 KiB usable, 4 KiB clusters: too small for FAT32 and for
    the sample bundle), made in `folder` and put where infopack looks; returns its name."""
    from infopack.fat import catalog
    folder.mkdir()
    (folder / "tiny.toml").write_text('usable_bytes = 655360\ncluster_bytes = 4096\nfilesystem = "fat32"\n'
                                      'total_bytes = 700000\n', encoding="utf-8")
    monkeypatch.setattr(catalog, "MEASURED_DIR", folder)
    return "tiny"
