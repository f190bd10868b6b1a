"""Role keys: created safely in minisign's format, sealed at rest, loaded with one-line errors;
older PEM keys still load (with a note to convert them)."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infopack.release import keys
from infopack.release import minisign
from infopack.release import secret_key as sk
from infopack.errors import InfopackError, UsageError

from helpers import write_pem_key

PASSPHRASE = "correct horse battery staple"
MINISIGN = shutil.which("minisign")


def never_asked(*args, **kw):
    raise AssertionError("the passphrase must not be asked for here")


@pytest.fixture
def reviewer_key(tmp_path):
    return keys.keygen(tmp_path / "reviewer", "reviewer", PASSPHRASE)


def raw_private(signing_key: keys.SigningKey) -> bytes:
    return signing_key.private.private_bytes(serialization.Encoding.Raw,
                                             serialization.PrivateFormat.Raw,
                                             serialization.NoEncryption())


def test_keygen_writes_key_and_pub_next_to_prefix(tmp_path, reviewer_key):
    assert reviewer_key == (tmp_path / "reviewer.key", tmp_path / "reviewer.pub")


def test_keygen_prefix_ending_in_key_is_taken_as_meant(tmp_path):
    key_path, pub_path = keys.keygen(tmp_path / "qa.key", "qa", None)
    assert (key_path.name, pub_path.name) == ("qa.key", "qa.pub")


def test_private_key_file_is_created_mode_0600_even_with_open_umask(tmp_path):
    old_umask = os.umask(0)
    try:
        key_path, _ = keys.keygen(tmp_path / "curator", "curator", PASSPHRASE)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_private_key_is_sealed_at_rest(reviewer_key):
    key_path, _ = reviewer_key
    content = key_path.read_bytes()
    assert base64.b64decode(content.splitlines()[1])[:6] == b"EdScB2"     # scrypt, BLAKE2b
    assert keys.is_encrypted(key_path)
    raw = raw_private(keys.load_signing_key(key_path, PASSPHRASE))
    for form in (raw, base64.b64encode(raw), raw.hex().encode(), raw.hex().upper().encode(),
                 base64.b64encode(raw)[:20], PASSPHRASE.encode()):
        assert form not in content


def test_key_file_is_minisigns_secret_key_format(reviewer_key):
    key_path, pub_path = reviewer_key
    loaded = sk.read_secret_key(key_path.read_text(), PASSPHRASE)
    signing_key = keys.load_signing_key(key_path, PASSPHRASE)
    assert raw_private(signing_key) == loaded.private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
        serialization.NoEncryption())
    assert loaded.key_id == signing_key.key_id == keys.load_public_key(pub_path).key_id


def test_keygen_in_a_fresh_process_uses_minisigns_own_scrypt_cost(tmp_path):
    """What `make demo` and the README's commands run: the tests' cheaper cost is theirs alone."""
    env = dict(os.environ, INFOPACK_PASSPHRASE=PASSPHRASE)
    proc = subprocess.run([sys.executable, "-m", "infopack", "keygen", "--out", str(tmp_path / "real")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    blob = base64.b64decode((tmp_path / "real.key").read_text().splitlines()[1])
    assert int.from_bytes(blob[38:46], "little") == sk.OPSLIMIT_SENSITIVE
    assert int.from_bytes(blob[46:54], "little") == sk.MEMLIMIT_SENSITIVE
    assert keys.NEW_KEY_LIMITS["memlimit"] < sk.MEMLIMIT_SENSITIVE          # this process: cheap


def test_role_is_recorded_in_both_files(reviewer_key):
    key_path, pub_path = reviewer_key
    signing_key = keys.load_signing_key(key_path, PASSPHRASE)
    public = keys.load_public_key(pub_path)
    assert signing_key.role == "reviewer"
    assert keys.role_of(public) == "reviewer"
    assert public == signing_key.public
    assert pub_path.read_text().splitlines()[0] == (
        f"untrusted comment: infopack reviewer public key {public.key_id_hex}")
    assert key_path.read_text().splitlines()[0] == (
        f"untrusted comment: infopack reviewer secret key {public.key_id_hex}")


def test_key_id_is_derived_from_the_public_key(reviewer_key):
    public = keys.load_public_key(reviewer_key[1])
    assert public.key_id == hashlib.blake2b(public.raw, digest_size=32).digest()[:8]
    assert keys.key_id_for(public.raw) == public.key_id


def test_unencrypted_key_only_when_asked_and_it_warns_when_used(tmp_path):
    key_path, _ = keys.keygen(tmp_path / "rig", "qa", None)
    assert base64.b64decode(key_path.read_text().splitlines()[1])[:6] == b"Ed\0\0B2"
    assert not keys.is_encrypted(key_path)
    warnings = []
    signing_key = keys.load_signing_key(key_path, never_asked, warn=warnings.append)
    assert signing_key.role == "qa" and not signing_key.protected
    assert warnings == [f"{key_path}: the private key is not protected by a passphrase; anyone "
                        "who copies the file can sign as qa"]


def test_short_passphrase_is_refused_unless_weak_is_allowed(tmp_path):
    with pytest.raises(UsageError, match="4 characters; use at least 12"):
        keys.keygen(tmp_path / "k", "curator", "abcd")
    assert list(tmp_path.iterdir()) == []
    key_path, _ = keys.keygen(tmp_path / "k", "curator", "abcd", allow_weak=True)
    assert keys.load_signing_key(key_path, "abcd").role == "curator"


def test_empty_passphrase_is_refused(tmp_path):
    with pytest.raises(UsageError, match="passphrase is empty"):
        keys.keygen(tmp_path / "k", "curator", "")
    assert list(tmp_path.iterdir()) == []


def test_unknown_role_is_refused(tmp_path):
    with pytest.raises(UsageError, match="unknown role 'admin'"):
        keys.keygen(tmp_path / "k", "admin", PASSPHRASE)


@pytest.mark.parametrize("existing", ["reviewer.key", "reviewer.pub"])
def test_keygen_refuses_to_overwrite_either_file(tmp_path, existing):
    (tmp_path / existing).write_text("precious")
    with pytest.raises(InfopackError, match="already exists; refusing to overwrite"):
        keys.keygen(tmp_path / "reviewer", "reviewer", PASSPHRASE)
    assert (tmp_path / existing).read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == [existing]


def test_keygen_refuses_to_follow_a_dangling_symlink(tmp_path):
    (tmp_path / "reviewer.key").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InfopackError, match="already exists"):
        keys.keygen(tmp_path / "reviewer", "reviewer", PASSPHRASE)
    assert not (tmp_path / "elsewhere").exists()


def test_keygen_leaves_no_half_pair_when_pub_cannot_be_written(tmp_path, monkeypatch):
    real_write = keys._write_new

    def fail_on_pub(path, content, mode):
        if path.suffix == ".pub":
            raise OSError(28, "No space left on device")
        real_write(path, content, mode)

    monkeypatch.setattr(keys, "_write_new", fail_on_pub)
    with pytest.raises(OSError):
        keys.keygen(tmp_path / "k", "curator", PASSPHRASE)
    assert list(tmp_path.iterdir()) == []


def test_keygen_into_missing_folder_is_one_line_error(tmp_path):
    with pytest.raises(InfopackError, match="no such folder"):
        keys.keygen(tmp_path / "nope" / "k", "curator", PASSPHRASE)


def test_wrong_passphrase_is_one_line_error(reviewer_key):
    key_path, _ = reviewer_key
    with pytest.raises(InfopackError) as caught:
        keys.load_signing_key(key_path, "wrong")
    assert str(caught.value) == (f"{key_path}: wrong passphrase "
                                 "(checksum mismatch; or the key file is damaged)")
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_encrypted_key_without_passphrase_says_how_to_give_one(reviewer_key):
    key_path, _ = reviewer_key
    assert keys.is_encrypted(key_path)
    with pytest.raises(InfopackError, match="protected by a passphrase: set INFOPACK_PASSPHRASE"):
        keys.load_signing_key(key_path, None)


def test_passphrase_is_asked_only_when_the_key_needs_one(tmp_path, reviewer_key):
    asked = []
    keys.load_signing_key(reviewer_key[0], lambda: asked.append(1) or PASSPHRASE)
    assert asked == [1]
    open_key, _ = keys.keygen(tmp_path / "open", "qa", None)
    keys.load_signing_key(open_key, never_asked, warn=lambda message: None)


def test_a_key_of_the_wrong_role_is_refused_before_the_passphrase_is_asked(tmp_path, reviewer_key):
    with pytest.raises(UsageError) as caught:
        keys.load_curator_key(reviewer_key[0], tmp_path / "out", prompt=never_asked)
    assert str(caught.value).startswith(f"{reviewer_key[0]}: this is a reviewer key; a build is "
                                        "signed with the curator's key")
    with pytest.raises(UsageError, match="is a reviewer key .its comment says so.; --role curator "
                                         "contradicts it"):
        keys.load_curator_key(reviewer_key[0], tmp_path / "out", prompt=never_asked, role="curator")


def test_missing_key_file_says_how_to_create_one(tmp_path):
    with pytest.raises(InfopackError) as caught:
        keys.load_signing_key(tmp_path / "none.key", PASSPHRASE)
    assert str(caught.value) == (f"{tmp_path / 'none.key'}: no such key file; create one "
                                 "with `infopack keygen --out PREFIX`")


def test_file_that_is_not_a_key_is_one_line_error(tmp_path):
    path = tmp_path / "notes.key"
    path.write_text("shopping list\n")
    path.chmod(0o600)
    with pytest.raises(InfopackError, match="notes.key: not a minisign secret key"):
        keys.load_signing_key(path, PASSPHRASE)


def test_pem_without_role_header_is_refused(tmp_path):
    path = tmp_path / "plain.key"
    path.write_bytes(keys.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    path.chmod(0o600)
    with pytest.raises(InfopackError, match="no role recorded"):
        keys.load_signing_key(path, None)


def test_non_ed25519_key_is_refused(tmp_path):
    path = tmp_path / "ec.key"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    path.write_bytes(b"role: curator\n" + pem)
    path.chmod(0o600)
    with pytest.raises(InfopackError, match="not an Ed25519 key"):
        keys.load_signing_key(path, None)


def test_edited_key_id_header_of_an_older_key_is_detected(tmp_path):
    key_path, _ = write_pem_key(tmp_path / "old", "reviewer", PASSPHRASE)
    text = key_path.read_text()
    key_path.write_text(text.replace("key id: ", "key id: 1"))
    with pytest.raises(InfopackError, match="the file was edited"):
        keys.load_signing_key(key_path, PASSPHRASE)


@pytest.mark.parametrize("mode, word", [(0o640, "readable"), (0o644, "readable"),
                                        (0o620, "writable")])
def test_key_readable_by_others_warns_and_still_loads(reviewer_key, mode, word):
    key_path, _ = reviewer_key
    key_path.chmod(mode)
    warnings = []
    signing_key = keys.load_signing_key(key_path, PASSPHRASE, warn=warnings.append)
    assert signing_key.role == "reviewer"
    assert warnings == [f"{key_path} is {word} by other users; run chmod 600 {key_path}"]


def test_private_key_file_loads_without_warning(reviewer_key):
    warnings = []
    keys.load_signing_key(reviewer_key[0], PASSPHRASE, warn=warnings.append)
    assert warnings == []


def test_default_warning_goes_to_stderr(reviewer_key, capsys):
    reviewer_key[0].chmod(0o640)
    keys.load_signing_key(reviewer_key[0], PASSPHRASE)
    assert "is readable by other users; run chmod 600" in capsys.readouterr().err


def test_passphrase_from_environment(monkeypatch):
    monkeypatch.setenv("INFOPACK_PASSPHRASE", PASSPHRASE)
    assert keys.passphrase_from_env_or_prompt(confirm=True, prompt=never_asked) == PASSPHRASE


def test_empty_passphrase_in_environment_is_refused(monkeypatch):
    monkeypatch.setenv("INFOPACK_PASSPHRASE", "")
    with pytest.raises(InfopackError, match="set but empty"):
        keys.passphrase_from_env_or_prompt(confirm=False, prompt=never_asked)


def test_no_passphrase_without_terminal_is_one_line_error(monkeypatch):
    monkeypatch.delenv("INFOPACK_PASSPHRASE", raising=False)
    monkeypatch.setattr(keys, "_stdin_is_terminal", lambda: False)
    with pytest.raises(InfopackError) as caught:
        keys.passphrase_from_env_or_prompt(confirm=False, prompt=never_asked)
    assert str(caught.value) == "no passphrase: set INFOPACK_PASSPHRASE or run in a terminal"


@pytest.mark.parametrize("confirm", [True, False])
def test_passphrase_is_prompted_hidden_at_a_terminal(monkeypatch, confirm):
    monkeypatch.delenv("INFOPACK_PASSPHRASE", raising=False)
    monkeypatch.setattr(keys, "_stdin_is_terminal", lambda: True)
    calls = []
    assert keys.passphrase_from_env_or_prompt(
        confirm=confirm, prompt=lambda text, **kw: calls.append(kw) or "typed") == "typed"
    assert calls == [{"hide_input": True, "confirmation_prompt": confirm}]


def test_missing_public_key_file_is_one_line_error(tmp_path):
    with pytest.raises(InfopackError, match="no such public key file"):
        keys.load_public_key(tmp_path / "x.pub")


def test_role_of_foreign_key_is_none():
    public = minisign.PublicKey(key_id=bytes(8), raw=bytes(32),
                                comment="minisign public key 0")
    assert keys.role_of(public) is None
    spoof = minisign.PublicKey(key_id=bytes(8), raw=bytes(32),
                               comment="infopack admin public key 0")
    assert keys.role_of(spoof) is None


@pytest.mark.parametrize("relative", ["build/curator.key", "build/sub/../curator.key",
                                      "build"])
def test_private_key_under_build_output_is_refused(tmp_path, relative):
    with pytest.raises(InfopackError, match="inside the build output folder"):
        keys.ensure_not_under(tmp_path / relative, tmp_path / "build")


def test_private_key_under_build_output_through_symlink_is_refused(tmp_path):
    (tmp_path / "build").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "build")
    with pytest.raises(InfopackError):
        keys.ensure_not_under(tmp_path / "link" / "k.key", tmp_path / "build")


@pytest.mark.parametrize("relative", ["keys/curator.key", "build-keys/curator.key"])
def test_private_key_outside_build_output_is_fine(tmp_path, relative):
    keys.ensure_not_under(tmp_path / relative, tmp_path / "build")


@pytest.mark.skipif(MINISIGN is None, reason="minisign is not installed")
def test_minisign_binary_verifies_with_keygen_public_key(tmp_path, reviewer_key):
    key_path, pub_path = reviewer_key
    signing_key = keys.load_signing_key(key_path, PASSPHRASE)
    data = b"manifest bytes\n"
    (tmp_path / "manifest.json").write_bytes(data)
    (tmp_path / "manifest.json.minisig").write_text(minisign.sign(
        data, signing_key.private, signing_key.key_id,
        "infopack manifest card-01 of bundle demo",
        f"signature from infopack {signing_key.role} key {signing_key.public.key_id_hex}"))
    result = subprocess.run([MINISIGN, "-Vm", "manifest.json", "-p", str(pub_path)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=30,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert "infopack manifest card-01 of bundle demo" in result.stdout


# --------------------------------------------------------------------------- older PEM keys

@pytest.mark.parametrize("passphrase", [PASSPHRASE, None])
def test_an_older_pem_key_still_loads_with_a_note_to_convert_it(tmp_path, passphrase):
    key_path, pub_path = write_pem_key(tmp_path / "old", "reviewer", passphrase)
    assert keys.is_encrypted(key_path) == (passphrase is not None)
    warnings = []
    signing_key = keys.load_signing_key(key_path, passphrase, warn=warnings.append)
    assert signing_key.role == "reviewer"
    assert signing_key.public == keys.load_public_key(pub_path)
    assert warnings[0] == (f"{key_path} is an older infopack key (PEM); convert it to minisign's "
                           f"format with `infopack key convert {key_path}`")
    assert len(warnings) == (1 if passphrase else 2)              # + not protected by a passphrase


def test_an_older_pem_key_with_a_wrong_passphrase_is_one_line(tmp_path):
    key_path, _ = write_pem_key(tmp_path / "old", "curator", PASSPHRASE)
    with pytest.raises(InfopackError, match="old.key: wrong passphrase"):
        keys.load_signing_key(key_path, "wrong")
