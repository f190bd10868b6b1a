"""infopack's minisign format against the real `minisign` binary, in both directions."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings, strategies as st

from infopack.release import minisign
from infopack.errors import InfopackError
from infopack.release.minisign import PublicKey, SignatureError

MINISIGN = shutil.which("minisign")
needs_minisign = pytest.mark.skipif(MINISIGN is None, reason="minisign is not installed")

TRUSTED = "infopack manifest card-01 of bundle demo"
UNTRUSTED = "signature from infopack curator key"
DATA = b'{"bundle": "demo", "files": []}\n'


def run_minisign(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([MINISIGN, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)


def make_key(key_id: bytes = b"\x01\x02\x03\x04\x05\x06\x07\x08"):
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    return private, PublicKey(key_id=key_id, raw=raw, comment="test public key")


@pytest.fixture
def infopack_signed(tmp_path):
    """A file, its infopack signature and public key, all written to disk."""
    private, public = make_key()
    (tmp_path / "manifest.json").write_bytes(DATA)
    sig_text = minisign.sign(DATA, private, public.key_id, TRUSTED, UNTRUSTED)
    (tmp_path / "manifest.json.minisig").write_text(sig_text)
    (tmp_path / "key.pub").write_text(public.to_file_text())
    return tmp_path, sig_text, public


@pytest.fixture
def minisign_key(tmp_path):
    """A key pair made by `minisign -G -W` (no password)."""
    result = run_minisign("-G", "-W", "-p", "x.pub", "-s", "x.key", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return minisign.parse_public_key((tmp_path / "x.pub").read_text())


def minisign_sign(tmp_path, *extra) -> str:
    (tmp_path / "file.bin").write_bytes(DATA)
    result = run_minisign("-S", *extra, "-s", "x.key", "-m", "file.bin",
                          "-t", TRUSTED, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return (tmp_path / "file.bin.minisig").read_text()


# --- minisign accepts what infopack writes ---------------------------------------

@needs_minisign
def test_minisign_binary_verifies_infopack_signature_with_key_file(infopack_signed):
    folder, _, _ = infopack_signed
    result = run_minisign("-Vm", "manifest.json", "-p", "key.pub", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert f"Trusted comment: {TRUSTED}" in result.stdout


@needs_minisign
def test_minisign_binary_verifies_infopack_signature_with_bare_key(infopack_signed):
    folder, _, public = infopack_signed
    result = run_minisign("-Vm", "manifest.json", "-P", public.base64_line(), "-H",
                          cwd=folder)
    assert result.returncode == 0, result.stderr


@needs_minisign
def test_minisign_binary_rejects_infopack_signature_over_changed_file(infopack_signed):
    folder, _, _ = infopack_signed
    (folder / "manifest.json").write_bytes(DATA.replace(b"demo", b"demO"))
    result = run_minisign("-Vm", "manifest.json", "-p", "key.pub", cwd=folder)
    assert result.returncode != 0


@needs_minisign
def test_minisign_binary_accepts_longest_allowed_comments(tmp_path):
    private, public = make_key()
    trusted = "t" * minisign.MAX_TRUSTED_COMMENT_BYTES
    untrusted = "u" * minisign.MAX_UNTRUSTED_COMMENT_BYTES
    (tmp_path / "f").write_bytes(DATA)
    (tmp_path / "f.minisig").write_text(
        minisign.sign(DATA, private, public.key_id, trusted, untrusted))
    (tmp_path / "k.pub").write_text(public.to_file_text())
    result = run_minisign("-Vm", "f", "-p", "k.pub", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert trusted in result.stdout


@needs_minisign
@pytest.mark.parametrize("trusted", ["infopack manifest card-01 of bundle 자유의 소리",
                                     "bundle\tdemo", "", "  spaces kept  "])
def test_minisign_binary_accepts_unicode_tabs_and_spaces_in_trusted_comment(tmp_path, trusted):
    private, public = make_key()
    (tmp_path / "f").write_bytes(DATA)
    (tmp_path / "f.minisig").write_text(
        minisign.sign(DATA, private, public.key_id, trusted, UNTRUSTED), encoding="utf-8")
    (tmp_path / "k.pub").write_text(public.to_file_text())
    result = run_minisign("-Vm", "f", "-p", "k.pub", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert minisign.verify(DATA, (tmp_path / "f.minisig").read_text(encoding="utf-8"),
                           public).trusted_comment == trusted


def test_signing_is_reproducible_without_timestamps():
    private, public = make_key()
    first = minisign.sign(DATA, private, public.key_id, TRUSTED, UNTRUSTED)
    second = minisign.sign(DATA, private, public.key_id, TRUSTED, UNTRUSTED)
    assert first == second
    assert first.splitlines()[2] == f"trusted comment: {TRUSTED}"


def test_signature_uses_prehashed_algorithm_and_key_id():
    private, public = make_key()
    sig = minisign.parse_signature(minisign.sign(DATA, private, public.key_id, TRUSTED, ""))
    assert sig.algorithm == b"ED"
    assert sig.key_id == public.key_id


@pytest.mark.parametrize("comment", ["two\nlines", "carriage\rreturn", "nul\0",
                                     "sep\u2028arator"])
def test_sign_refuses_comments_that_are_not_one_line(comment):
    private, public = make_key()
    with pytest.raises(ValueError, match="one line"):
        minisign.sign(DATA, private, public.key_id, comment, "")
    with pytest.raises(ValueError, match="one line"):
        minisign.sign(DATA, private, public.key_id, "", comment)


def test_sign_refuses_comment_too_long_for_minisign():
    private, public = make_key()
    with pytest.raises(ValueError, match="longer than"):
        minisign.sign(DATA, private, public.key_id,
                      "x" * (minisign.MAX_TRUSTED_COMMENT_BYTES + 1), "")


# --- infopack accepts what minisign writes -----------------------------------------

@needs_minisign
def test_infopack_verifies_minisign_prehashed_signature(tmp_path, minisign_key):
    sig = minisign.verify(DATA, minisign_sign(tmp_path), minisign_key)
    assert sig.algorithm == b"ED"
    assert sig.trusted_comment == TRUSTED


@needs_minisign
def test_infopack_verifies_minisign_legacy_signature(tmp_path, minisign_key):
    sig = minisign.verify(DATA, minisign_sign(tmp_path, "-l"), minisign_key)
    assert sig.algorithm == b"Ed"
    assert sig.trusted_comment == TRUSTED


@needs_minisign
def test_key_id_hex_matches_what_minisign_prints(tmp_path, minisign_key):
    comment = (tmp_path / "x.pub").read_text().splitlines()[0]
    assert comment == f"untrusted comment: minisign public key {minisign_key.key_id_hex}"


def test_key_id_hex_is_little_endian_unpadded_uppercase():
    assert minisign.key_id_hex(bytes.fromhex("c070c3f786fd5300")) == "53FD86F7C370C0"


@needs_minisign
def test_public_key_round_trips_through_file_text(tmp_path, minisign_key):
    text = (tmp_path / "x.pub").read_text()
    assert minisign_key.to_file_text() == text
    bare = text.splitlines()[1]
    assert minisign.parse_public_key(bare).raw == minisign_key.raw


# --- infopack rejects bad signatures, with a clear message ---------------------------

def infopack_case(tmp_path):
    private, public = make_key()
    return minisign.sign(DATA, private, public.key_id, TRUSTED, UNTRUSTED), public


def minisign_case(tmp_path):
    assert run_minisign("-G", "-W", "-p", "x.pub", "-s", "x.key", cwd=tmp_path).returncode == 0
    return minisign_sign(tmp_path), minisign.parse_public_key((tmp_path / "x.pub").read_text())


def minisign_legacy_case(tmp_path):
    assert run_minisign("-G", "-W", "-p", "x.pub", "-s", "x.key", cwd=tmp_path).returncode == 0
    return (minisign_sign(tmp_path, "-l"),
            minisign.parse_public_key((tmp_path / "x.pub").read_text()))


SIGNERS = [
    pytest.param(infopack_case, id="infopack"),
    pytest.param(minisign_case, id="minisign", marks=needs_minisign),
    pytest.param(minisign_legacy_case, id="minisign-legacy", marks=needs_minisign),
]


@pytest.mark.parametrize("make_case", SIGNERS)
def test_verify_rejects_data_with_a_flipped_byte(tmp_path, make_case):
    sig_text, public = make_case(tmp_path)
    flipped = bytearray(DATA)
    flipped[5] ^= 0x01
    with pytest.raises(SignatureError, match="signature does not match the file"):
        minisign.verify(bytes(flipped), sig_text, public)


@pytest.mark.parametrize("make_case", SIGNERS)
def test_verify_rejects_signature_by_another_key(tmp_path, make_case):
    sig_text, public = make_case(tmp_path)
    _, other = make_key(key_id=b"\xaa" * 8)
    with pytest.raises(SignatureError) as caught:
        minisign.verify(DATA, sig_text, other)
    assert str(caught.value) == (f"signed by another key (key id {public.key_id_hex}, "
                                 "expected AAAAAAAAAAAAAAAA)")


@pytest.mark.parametrize("make_case", SIGNERS)
def test_verify_rejects_another_key_that_reuses_the_key_id(tmp_path, make_case):
    sig_text, public = make_case(tmp_path)
    _, impostor = make_key(key_id=public.key_id)
    with pytest.raises(SignatureError, match="signature does not match the file"):
        minisign.verify(DATA, sig_text, impostor)


@pytest.mark.parametrize("make_case", SIGNERS)
def test_verify_rejects_altered_trusted_comment(tmp_path, make_case):
    sig_text, public = make_case(tmp_path)
    altered = sig_text.replace("card-01", "card-02")
    assert altered != sig_text
    with pytest.raises(SignatureError, match="trusted comment was altered"):
        minisign.verify(DATA, altered, public)


@pytest.mark.parametrize("make_case", SIGNERS)
def test_verify_ignores_changed_untrusted_comment(tmp_path, make_case):
    sig_text, public = make_case(tmp_path)
    lines = sig_text.splitlines()
    lines[0] = "untrusted comment: anything at all"
    assert minisign.verify(DATA, "\n".join(lines) + "\n", public).trusted_comment == TRUSTED


@pytest.mark.parametrize("make_case", SIGNERS)
def test_verify_rejects_truncated_signature_file(tmp_path, make_case):
    sig_text, public = make_case(tmp_path)
    truncated = "\n".join(sig_text.splitlines()[:3]) + "\n"
    with pytest.raises(SignatureError, match=r"not a minisign signature: 3 lines instead of 4"):
        minisign.verify(DATA, truncated, public, sig_path="m.minisig")


@pytest.mark.parametrize("make_case", SIGNERS)
def test_verify_rejects_signature_line_cut_short(tmp_path, make_case):
    sig_text, public = make_case(tmp_path)
    lines = sig_text.splitlines()
    lines[1] = base64.b64encode(base64.b64decode(lines[1])[:40]).decode()
    with pytest.raises(SignatureError, match="garbled signature: 40 bytes instead of 74"):
        minisign.verify(DATA, "\n".join(lines), public)


@pytest.mark.parametrize("make_case", SIGNERS)
def test_verify_rejects_garbled_base64(tmp_path, make_case):
    sig_text, public = make_case(tmp_path)
    lines = sig_text.splitlines()
    lines[3] = lines[3][:10] + "!!" + lines[3][12:]
    with pytest.raises(SignatureError,
                       match="garbled trusted comment signature: the line is not valid base64"):
        minisign.verify(DATA, "\n".join(lines), public)


@pytest.mark.parametrize("make_case", SIGNERS)
def test_verify_rejects_flipped_bit_in_signature(tmp_path, make_case):
    sig_text, public = make_case(tmp_path)
    lines = sig_text.splitlines()
    blob = bytearray(base64.b64decode(lines[1]))
    blob[-1] ^= 0x80
    lines[1] = base64.b64encode(bytes(blob)).decode()
    with pytest.raises(SignatureError, match="signature does not match the file"):
        minisign.verify(DATA, "\n".join(lines), public)


def test_error_names_the_signature_file():
    private, public = make_key()
    sig_text = minisign.sign(DATA, private, public.key_id, TRUSTED, "")
    with pytest.raises(SignatureError) as caught:
        minisign.verify(DATA + b"x", sig_text, public, sig_path="cards/manifest.minisig")
    assert str(caught.value).startswith("cards/manifest.minisig: signature does not match")
    assert "\n" not in str(caught.value)


def test_parse_signature_rejects_unknown_algorithm():
    private, public = make_key()
    lines = minisign.sign(DATA, private, public.key_id, TRUSTED, "").splitlines()
    lines[1] = base64.b64encode(b"XX" + base64.b64decode(lines[1])[2:]).decode()
    with pytest.raises(SignatureError, match="unsupported signature algorithm"):
        minisign.parse_signature("\n".join(lines))


def test_parse_signature_rejects_missing_trusted_comment_prefix():
    private, public = make_key()
    text = minisign.sign(DATA, private, public.key_id, TRUSTED, "")
    with pytest.raises(SignatureError, match="third line must start with 'trusted comment: '"):
        minisign.parse_signature(text.replace("\ntrusted comment: ", "\ncomment: "))


def test_parse_signature_accepts_crlf_line_endings():
    private, public = make_key()
    text = minisign.sign(DATA, private, public.key_id, TRUSTED, "")
    assert minisign.verify(DATA, text.replace("\n", "\r\n"), public).trusted_comment == TRUSTED


@pytest.mark.parametrize("text, problem", [
    ("", "expected an 'untrusted comment:' line"),
    ("untrusted comment: x\nnot base64!\n", "garbled public key"),
    ("untrusted comment: x\n" + base64.b64encode(b"Ed" + bytes(30)).decode(),
     "32 bytes instead of 42"),
    (base64.b64encode(b"XX" + bytes(40)).decode(), "not a minisign Ed25519 public key"),
])
def test_parse_public_key_rejects_bad_text_with_path(text, problem):
    with pytest.raises(InfopackError, match=problem) as caught:
        minisign.parse_public_key(text, path="keys/x.pub")
    assert str(caught.value).startswith("keys/x.pub: ")


def test_fingerprint_is_sha256_of_raw_key_in_groups():
    _, public = make_key()
    fingerprint = public.fingerprint()
    assert fingerprint.replace(" ", "").lower() == hashlib.sha256(public.raw).hexdigest()
    assert all(len(group) == 4 for group in fingerprint.split(" "))


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=2048),
       trusted=st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
                       max_size=200))
def test_any_data_and_one_line_comment_round_trip(data, trusted):
    private, public = make_key()
    sig = minisign.verify(data, minisign.sign(data, private, public.key_id, trusted, ""), public)
    assert sig.trusted_comment == trusted

