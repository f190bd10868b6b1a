"""minisign secret key files: ours work in the real `minisign`, minisign's work in infopack.

Most keys here use libsodium's "interactive" scrypt limits (N = 2**14, 16 MiB), which
minisign reads like any other; two tests pay minisign's default cost (1 GiB, seconds).
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import hashlib
import shutil
import subprocess
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infopack.errors import InfopackError, UsageError
from infopack.release import keys, minisign
from infopack.release import secret_key as sk

from helpers import write_pem_key

MINISIGN = shutil.which("minisign")
PASSPHRASE = "correct horse battery staple"
FAST = {"opslimit": sk.OPSLIMIT_INTERACTIVE, "memlimit": sk.MEMLIMIT_INTERACTIVE}
DATA = b'{"bundle": "demo", "files": []}\n'


def run_minisign(*args, cwd, password: str | None = None) -> subprocess.CompletedProcess:
    """minisign with the password fed on stdin: it then reads one line with fgets()."""
    assert MINISIGN, "the minisign binary is required (apt-get install minisign)"
    result = subprocess.run([MINISIGN, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=120, input=password, stdin=None if password is not None
                            else subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr + result.stdout
    return result


def new_key() -> tuple[Ed25519PrivateKey, minisign.PublicKey]:
    private = Ed25519PrivateKey.generate()
    public = keys.public_key_for(private, "curator")
    return private, public


def write_pair(tmp_path, passphrase, **limits) -> tuple[str, minisign.PublicKey]:
    private, public = new_key()
    text = sk.write_secret_key(private, public.key_id, passphrase,
                               sk.role_comment("curator", public.key_id), **limits)
    (tmp_path / "k.key").write_text(text)
    (tmp_path / "k.pub").write_text(public.to_file_text())
    return text, public


def minisign_signs_and_verifies(tmp_path, public: minisign.PublicKey,
                                password: str | None) -> None:
    """`minisign -S` with the key, then `minisign -V` and infopack's verify on the result."""
    (tmp_path / "m.json").write_bytes(DATA)
    run_minisign("-S", "-s", "k.key", "-m", "m.json", cwd=tmp_path,
                 password=None if password is None else password + "\n")
    run_minisign("-V", "-p", "k.pub", "-m", "m.json", cwd=tmp_path)
    sig = minisign.verify(DATA, (tmp_path / "m.json.minisig").read_text(), public)
    assert sig.key_id == public.key_id


def infopack_signs_and_minisign_verifies(tmp_path, loaded: sk.LoadedSecretKey,
                                         pub_name: str) -> None:
    (tmp_path / "m.json").write_bytes(DATA)
    (tmp_path / "m.json.minisig").write_text(
        minisign.sign(DATA, loaded.private, loaded.key_id, "infopack test", "test"))
    result = run_minisign("-V", "-p", pub_name, "-m", "m.json", cwd=tmp_path)
    assert "Trusted comment: infopack test" in result.stdout


def blob_of(text: str) -> bytes:
    return base64.b64decode(text.splitlines()[1])


def with_blob(text: str, blob: bytes) -> str:
    return f"{text.splitlines()[0]}\n{base64.b64encode(blob).decode()}\n"


def flip(text: str, offset: int) -> str:
    blob = bytearray(blob_of(text))
    blob[offset] ^= 0x01
    return with_blob(text, bytes(blob))


# --- scrypt parameters, checked against the installed libsodium itself ---------------

@pytest.fixture(scope="module")
def libsodium():
    lib = ctypes.CDLL(ctypes.util.find_library("sodium"))
    assert lib.sodium_init() >= 0
    lib.crypto_pwhash_scryptsalsa208sha256.argtypes = [
        ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p, ctypes.c_ulonglong,
        ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_size_t]
    for name in ("opslimit_sensitive", "opslimit_interactive"):
        getattr(lib, f"crypto_pwhash_scryptsalsa208sha256_{name}").restype = ctypes.c_ulonglong
    for name in ("memlimit_sensitive", "memlimit_interactive"):
        getattr(lib, f"crypto_pwhash_scryptsalsa208sha256_{name}").restype = ctypes.c_size_t
    return lib


def test_limits_are_libsodiums_and_minisigns_default_is_n_2_20_r_8_p_1(libsodium):
    prefix = "crypto_pwhash_scryptsalsa208sha256_"
    assert getattr(libsodium, prefix + "opslimit_sensitive")() == sk.OPSLIMIT_SENSITIVE
    assert getattr(libsodium, prefix + "memlimit_sensitive")() == sk.MEMLIMIT_SENSITIVE
    assert getattr(libsodium, prefix + "opslimit_interactive")() == sk.OPSLIMIT_INTERACTIVE
    assert getattr(libsodium, prefix + "memlimit_interactive")() == sk.MEMLIMIT_INTERACTIVE
    params = sk.scrypt_params(sk.OPSLIMIT_SENSITIVE, sk.MEMLIMIT_SENSITIVE)
    assert (params.n, params.r, params.p) == (2 ** 20, 8, 1)
    assert params.memory_bytes == 2 ** 30


@pytest.mark.parametrize("opslimit, memlimit", [
    (sk.OPSLIMIT_INTERACTIVE, sk.MEMLIMIT_INTERACTIVE),   # memory-bound branch, p = 1
    (1_000, 16_777_216),                                  # opslimit raised to the minimum
    (1_000_000, 50_000_000),                              # ops-bound branch, N from opslimit
    (4_194_304, 16_777_216),                              # memory-bound with p = 8
    (3_000_000, 20_000_000),                              # neither limit a power of two
])
def test_scrypt_params_give_the_same_bytes_as_libsodium(libsodium, opslimit, memlimit):
    salt, password = bytes(range(32)), "비밀 passphrase".encode()
    expected = ctypes.create_string_buffer(sk.ENCRYPTED_BYTES)
    assert libsodium.crypto_pwhash_scryptsalsa208sha256(
        expected, sk.ENCRYPTED_BYTES, password, len(password), salt, opslimit, memlimit) == 0
    params = sk.scrypt_params(opslimit, memlimit)
    ours = hashlib.scrypt(password, salt=salt, n=params.n, r=params.r, p=params.p,
                          maxmem=params.maxmem, dklen=sk.ENCRYPTED_BYTES)
    assert ours == expected.raw


# --- (a) keys written by infopack, used by minisign ----------------------------------

def test_minisign_signs_with_our_passphrase_protected_key(tmp_path):
    text, public = write_pair(tmp_path, PASSPHRASE, **FAST)
    assert blob_of(text)[:6] == b"EdScB2"
    assert sk.needs_passphrase(text)
    minisign_signs_and_verifies(tmp_path, public, PASSPHRASE)


def test_minisign_signs_with_our_korean_passphrase_key(tmp_path):
    text, public = write_pair(tmp_path, "두만강 건너 봄바람 불어온다", **FAST)
    minisign_signs_and_verifies(tmp_path, public, "두만강 건너 봄바람 불어온다")


def test_new_keys_use_minisigns_default_cost_and_minisign_signs_with_them(tmp_path):
    """Reading a key at this cost is proved on the minisign-made key below."""
    started = time.perf_counter()
    text, public = write_pair(tmp_path, PASSPHRASE)
    assert time.perf_counter() - started < 30  # one 1 GiB scrypt run: 3.5 s here, idle
    blob = blob_of(text)
    assert int.from_bytes(blob[38:46], "little") == sk.OPSLIMIT_SENSITIVE
    assert int.from_bytes(blob[46:54], "little") == sk.MEMLIMIT_SENSITIVE
    minisign_signs_and_verifies(tmp_path, public, PASSPHRASE)


def test_minisign_signs_with_our_unencrypted_key_without_asking(tmp_path):
    text, public = write_pair(tmp_path, None)
    blob = blob_of(text)
    assert blob[:6] == b"Ed\0\0B2" and blob[6:54] == bytes(48)  # as `minisign -G -W`
    assert not sk.needs_passphrase(text)
    minisign_signs_and_verifies(tmp_path, public, None)  # stdin is /dev/null
    run_minisign("-R", "-s", "k.key", "-p", "again.pub", cwd=tmp_path)
    again = minisign.parse_public_key((tmp_path / "again.pub").read_text())
    assert (again.key_id, again.raw) == (public.key_id, public.raw)


def test_minisign_keeps_the_role_comment_when_it_removes_the_passphrase(tmp_path):
    text, public = write_pair(tmp_path, PASSPHRASE, **FAST)
    run_minisign("-C", "-W", "-s", "k.key", cwd=tmp_path, password=PASSPHRASE + "\n")
    changed = (tmp_path / "k.key").read_text()
    comment_line = changed.splitlines()[0]
    assert comment_line == f"untrusted comment: infopack curator secret key {public.key_id_hex}"
    assert sk.role_from_comment(comment_line) == "curator"
    loaded = sk.read_secret_key(changed, lambda: pytest.fail("no passphrase needed"))
    assert loaded.key_id == public.key_id
    assert blob_of(changed)[-32:] != bytes(32)  # -C -W keeps a real checksum


# --- (b) keys made by minisign, used by infopack --------------------------------------

@pytest.fixture(scope="module")
def minisign_made(tmp_path_factory):
    """Keys from `minisign -G`, one with a password fed on stdin (twice), one with -W."""
    folder = tmp_path_factory.mktemp("minisign-made")
    run_minisign("-G", "-p", "pw.pub", "-s", "pw.key", cwd=folder,
                 password=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    run_minisign("-G", "-W", "-p", "open.pub", "-s", "open.key", cwd=folder)
    return folder


def test_a_key_minisign_made_with_a_password_signs_for_infopack(minisign_made):
    text = (minisign_made / "pw.key").read_text()
    assert sk.is_minisign_secret_key(text) and sk.needs_passphrase(text)
    started = time.perf_counter()
    loaded = sk.read_secret_key(text, lambda: PASSPHRASE, minisign_made / "pw.key")
    assert time.perf_counter() - started < 30  # N = 2**20: 3.5 s here when idle
    public = minisign.parse_public_key((minisign_made / "pw.pub").read_text())
    assert loaded.key_id == public.key_id
    assert loaded.comment == "minisign encrypted secret key"
    assert sk.role_from_comment(loaded.comment) is None
    infopack_signs_and_minisign_verifies(minisign_made, loaded, "pw.pub")


def test_a_key_minisign_made_with_W_loads_despite_its_zero_checksum(minisign_made):
    text = (minisign_made / "open.key").read_text()
    assert not sk.needs_passphrase(text)
    assert blob_of(text)[-32:] == bytes(32)
    loaded = sk.read_secret_key(text, lambda: pytest.fail("asked for a passphrase"))
    infopack_signs_and_minisign_verifies(minisign_made, loaded, "open.pub")


def test_a_role_less_key_can_be_labelled_without_its_passphrase(minisign_made, tmp_path):
    text = (minisign_made / "open.key").read_text()
    loaded = sk.read_secret_key(text, None)
    labelled = sk.with_comment(text, sk.role_comment("qa", loaded.key_id))
    assert sk.role_from_comment(labelled.splitlines()[0]) == "qa"
    (tmp_path / "k.key").write_text(labelled)
    shutil.copy(minisign_made / "open.pub", tmp_path / "k.pub")
    minisign_signs_and_verifies(tmp_path, minisign.parse_public_key(
        (tmp_path / "k.pub").read_text()), None)


# --- (c) one clear error for each way a key file fails --------------------------------

def error_of(text: str, passphrase=PASSPHRASE) -> str:
    with pytest.raises(InfopackError) as caught:
        sk.read_secret_key(text, passphrase, "curator.key")
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.fixture(scope="module")
def encrypted_key():
    private, public = new_key()
    return sk.write_secret_key(private, public.key_id, PASSPHRASE, "test", **FAST)


@pytest.fixture(scope="module")
def open_key():
    private, public = new_key()
    return sk.write_secret_key(private, public.key_id, None, "test")


def test_wrong_passphrase_is_a_checksum_mismatch(encrypted_key):
    assert error_of(encrypted_key, "correct horse battery stapler") == (
        "curator.key: wrong passphrase (checksum mismatch; or the key file is damaged)")


def test_encrypted_key_without_a_passphrase_says_so(encrypted_key):
    assert "protected by a passphrase, and none was given" in error_of(encrypted_key, None)


@pytest.mark.parametrize("offset, message", [
    (70, "the key file is damaged (checksum mismatch)"),           # inside the secret key
    (55, "the key file is damaged (checksum mismatch)"),           # inside the key id
    (140, "the key file is damaged (checksum mismatch)"),          # inside the checksum
    (0, "unsupported signature algorithm b'Dd'"),
    (3, "unsupported key derivation b'\\x00\\x01'"),
    (5, "unsupported checksum algorithm b'B3'"),
])
def test_a_flipped_byte_is_named(open_key, offset, message):
    assert message in error_of(flip(open_key, offset))


def test_a_flipped_byte_in_an_encrypted_key_fails_like_a_wrong_passphrase(encrypted_key):
    assert "wrong passphrase" in error_of(flip(encrypted_key, 100))


def test_a_flipped_byte_in_a_key_without_checksum_is_caught_by_its_public_half(minisign_made):
    damaged = flip((minisign_made / "open.key").read_text(), 6 + 32 + 16 + 8 + 5)
    assert "its public half does not belong to its private half" in error_of(damaged)


@pytest.mark.parametrize("cut", [lambda t: t[:len(t) // 2], lambda t: t.splitlines()[0] + "\n",
                                 lambda t: t[:len(t.splitlines()[0]) + 1 + 200]])
def test_a_truncated_key_says_truncated(encrypted_key, cut):
    assert "truncated minisign secret key" in error_of(cut(encrypted_key))


def test_things_that_are_not_minisign_secret_keys(tmp_path, encrypted_key):
    write_pem_key(tmp_path / "old", "curator", None)
    pem = (tmp_path / "old.key").read_text()
    assert "older infopack PEM key" in error_of(pem)
    assert "infopack key convert" in error_of(pem)
    public = keys.load_public_key(tmp_path / "old.pub").to_file_text()
    assert "(this is a public key)" in error_of(public)
    assert "not a minisign secret key" in error_of("hello\nworld, not base64!\n")
    assert "not a minisign secret key" in error_of("")
    for text in (pem, public, ""):
        assert not sk.is_minisign_secret_key(text)
    assert sk.is_minisign_secret_key(encrypted_key.replace("\n", "\r\n"))


def test_no_passphrase_is_asked_for_a_file_that_is_not_a_key(encrypted_key):
    def ask():
        raise AssertionError("asked for a passphrase")
    assert "truncated" in error_of(encrypted_key[:150], ask)


def test_a_key_demanding_more_scrypt_memory_than_minisign_uses_is_refused_fast(encrypted_key):
    blob = bytearray(blob_of(encrypted_key))
    blob[46:54] = (2 ** 36).to_bytes(8, "little")         # memlimit 64 GiB
    blob[38:46] = (2 ** 40).to_bytes(8, "little")
    started = time.perf_counter()
    hostile = with_blob(encrypted_key, bytes(blob))
    assert "more scrypt work than minisign ever uses" in error_of(hostile)
    assert time.perf_counter() - started < 1


def test_passphrases_minisign_cannot_read_back_are_refused_when_writing():
    private, public = new_key()
    for bad in ("two\nlines here", "carriage\rreturn", "x" * 1024):
        with pytest.raises(UsageError):
            sk.write_secret_key(private, public.key_id, bad, "test", **FAST)


# --- (d) converting today's PEM keys ---------------------------------------------------

def test_converted_pem_key_keeps_its_id_and_role_and_minisign_signs_with_it(tmp_path):
    key_path, pub_path = write_pem_key(tmp_path / "k", "reviewer", PASSPHRASE)
    before = keys.load_signing_key(key_path, PASSPHRASE)
    (tmp_path / "m.json").write_bytes(DATA)
    old_sig = minisign.sign(DATA, before.private, before.key_id, "before", "before")
    converted = sk.convert_pem_key(key_path.read_text(), PASSPHRASE, "a new long passphrase",
                                   key_path, **FAST)
    key_path.write_text(converted)
    loaded = sk.read_secret_key(converted, "a new long passphrase")
    assert loaded.key_id == before.key_id == keys.key_id_for(before.public.raw)
    assert sk.role_from_comment(loaded.comment) == "reviewer"
    assert loaded.comment == f"infopack reviewer secret key {before.public.key_id_hex}"
    minisign_signs_and_verifies(tmp_path, keys.load_public_key(pub_path), "a new long passphrase")
    minisign.verify(DATA, old_sig, keys.load_public_key(pub_path))


def test_unencrypted_pem_key_converts_to_a_key_without_passphrase(tmp_path):
    key_path, pub_path = write_pem_key(tmp_path / "k", "qa", None)
    converted = sk.convert_pem_key(key_path.read_text(), None, None, key_path)
    assert not sk.needs_passphrase(converted)
    key_path.write_text(converted)
    minisign_signs_and_verifies(tmp_path, keys.load_public_key(pub_path), None)


def test_conversion_with_the_wrong_old_passphrase_fails_clearly(tmp_path):
    key_path, _ = write_pem_key(tmp_path / "k", "curator", PASSPHRASE)
    with pytest.raises(InfopackError, match=r"k\.key: wrong passphrase"):
        sk.convert_pem_key(key_path.read_text(), "not it", PASSPHRASE, key_path, **FAST)


def test_conversion_refuses_a_pem_key_whose_written_id_was_edited(tmp_path):
    key_path, _ = write_pem_key(tmp_path / "k", "curator", None)
    text = key_path.read_text()
    edited = "\n".join("key id: 1234" if line.startswith("key id:") else line
                       for line in text.splitlines())
    with pytest.raises(InfopackError, match="the file was edited"):
        sk.convert_pem_key(edited, None, None, key_path)


# --- (e) passphrase policy and roles ----------------------------------------------------

def test_short_passphrase_is_refused_unless_allowed():
    with pytest.raises(UsageError) as caught:
        sk.check_passphrase_strength("elevenchars", allow_weak=False)
    assert "11 characters" in str(caught.value) and "at least 12" in str(caught.value)
    assert "--weak-passphrase" in str(caught.value)
    sk.check_passphrase_strength("elevenchars", allow_weak=True)
    sk.check_passphrase_strength("twelve chars", allow_weak=False)
    sk.check_passphrase_strength("압록강 두만강 임진강 한강", allow_weak=False)


def test_empty_or_unreadable_passphrase_is_refused_even_when_weak_is_allowed():
    for bad in ("", "line\nbreak and more"):
        with pytest.raises(UsageError):
            sk.check_passphrase_strength(bad, allow_weak=True)


def test_role_from_comment():
    assert sk.ROLES == keys.ROLES
    key_id = bytes.fromhex("0102030405060708")
    assert sk.role_from_comment(sk.role_comment("curator", key_id)) == "curator"
    assert sk.role_from_comment("untrusted comment: infopack qa secret key 1") == "qa"
    assert sk.role_from_comment("minisign encrypted secret key") is None
    assert sk.role_from_comment("infopack boss secret key 1") is None
    with pytest.raises(UsageError):
        sk.role_comment("boss", key_id)
