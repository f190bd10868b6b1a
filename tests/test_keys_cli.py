"""`keygen`, `key show` and `key convert` through click's CliRunner."""

from __future__ import annotations

import shutil
import stat
import subprocess

import pytest
from click.testing import CliRunner

from infopack.release import keys, minisign
from infopack.release import secret_key as sk
from infopack.errors import InfopackError
from infopack.cli.keys import key, keygen

from helpers import write_pem_key

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def runner():
    return CliRunner()


def test_keygen_with_passphrase_from_environment(runner, tmp_path):
    prefix = tmp_path / "reviewer"
    result = runner.invoke(keygen, ["--out", str(prefix), "--role", "reviewer"],
                           env={"INFOPACK_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 0, result.output
    key_path = tmp_path / "reviewer.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert keys.is_encrypted(key_path)
    assert key_path.read_text().startswith("untrusted comment: infopack reviewer secret key ")
    assert "role:        reviewer" in result.stdout
    assert keys.load_signing_key(key_path, PASSPHRASE).role == "reviewer"
    assert result.stderr == ""


def test_keygen_role_defaults_to_curator(runner, tmp_path):
    result = runner.invoke(keygen, ["--out", str(tmp_path / "k")],
                           env={"INFOPACK_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 0, result.output
    assert keys.role_of(keys.load_public_key(tmp_path / "k.pub")) == "curator"


def test_keygen_no_passphrase_warns_on_stderr(runner, tmp_path):
    result = runner.invoke(keygen, ["--out", str(tmp_path / "rig"), "--role", "qa",
                                    "--no-passphrase"])
    assert result.exit_code == 0, result.output
    assert "warning: the private key is stored unencrypted" in result.stderr
    assert "warning" not in result.stdout
    assert not keys.is_encrypted(tmp_path / "rig.key")


def test_keygen_without_passphrase_source_raises_one_line_error(runner, tmp_path):
    result = runner.invoke(keygen, ["--out", str(tmp_path / "k")],
                           env={"INFOPACK_PASSPHRASE": None})
    assert isinstance(result.exception, InfopackError)
    assert str(result.exception) == ("no passphrase: set INFOPACK_PASSPHRASE "
                                     "or run in a terminal")
    assert list(tmp_path.iterdir()) == []


def test_keygen_refuses_to_overwrite(runner, tmp_path):
    args = ["--out", str(tmp_path / "k"), "--no-passphrase"]
    assert runner.invoke(keygen, args).exit_code == 0
    before = (tmp_path / "k.key").read_bytes()
    result = runner.invoke(keygen, args)
    assert isinstance(result.exception, InfopackError)
    assert "already exists; refusing to overwrite" in str(result.exception)
    assert (tmp_path / "k.key").read_bytes() == before


def test_keygen_rejects_unknown_role(runner, tmp_path):
    result = runner.invoke(keygen, ["--out", str(tmp_path / "k"), "--role", "admin"])
    assert result.exit_code == 2
    assert "admin" in result.output


def test_key_show_prints_id_role_and_fingerprint(runner, tmp_path):
    runner.invoke(keygen, ["--out", str(tmp_path / "qa"), "--role", "qa"],
                  env={"INFOPACK_PASSPHRASE": PASSPHRASE})
    public = keys.load_public_key(tmp_path / "qa.pub")
    result = runner.invoke(key, ["show", str(tmp_path / "qa.pub")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"key id:      {public.key_id_hex}",
        "role:        qa",
        f"fingerprint: {public.fingerprint()}",
        f"minisign -P: {public.base64_line()}",
    ]


@pytest.mark.skipif(shutil.which("minisign") is None, reason="minisign is not installed")
def test_key_show_of_minisign_key_has_no_role(runner, tmp_path):
    subprocess.run(["minisign", "-G", "-W", "-p", "m.pub", "-s", "m.key"], cwd=tmp_path,
                   check=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    result = runner.invoke(key, ["show", str(tmp_path / "m.pub")])
    assert result.exit_code == 0, result.output
    assert "role:        unknown (not an infopack key)" in result.stdout


def test_key_show_of_missing_file_is_one_line_error(runner, tmp_path):
    result = runner.invoke(key, ["show", str(tmp_path / "none.pub")])
    assert isinstance(result.exception, InfopackError)
    assert str(result.exception) == f"{tmp_path / 'none.pub'}: no such public key file"


def test_keygen_refuses_a_short_passphrase_unless_weak_is_asked_for(runner, tmp_path):
    result = runner.invoke(keygen, ["--out", str(tmp_path / "k")], env={"INFOPACK_PASSPHRASE": "abcd"})
    assert isinstance(result.exception, InfopackError)
    assert "4 characters; use at least 12" in str(result.exception)
    assert list(tmp_path.iterdir()) == []
    result = runner.invoke(keygen, ["--out", str(tmp_path / "k"), "--weak-passphrase"],
                           env={"INFOPACK_PASSPHRASE": "abcd"})
    assert result.exit_code == 0, result.output
    assert keys.load_signing_key(tmp_path / "k.key", "abcd").role == "curator"


# --------------------------------------------------------------------------- key convert

DATA = b'{"card": "card-01"}\n'


def sign_with(key: keys.SigningKey) -> str:
    return minisign.sign(DATA, key.private, key.key_id, "signed in a test", "test")


def test_key_convert_rewrites_an_older_key_keeping_its_id_and_signatures(runner, tmp_path, monkeypatch):
    key_path, pub_path = write_pem_key(tmp_path / "curator", "curator", "old pass")
    old_text = key_path.read_text()
    old_signature = sign_with(keys.load_signing_key(key_path, "old pass", warn=lambda m: None))
    monkeypatch.setattr(keys, "_stdin_is_terminal", lambda: True)
    result = runner.invoke(key, ["convert", str(key_path)],
                           input="old pass\nnew long passphrase\nnew long passphrase\n",
                           env={"INFOPACK_PASSPHRASE": None})
    assert result.exit_code == 0, result.output
    backup = tmp_path / "curator.key.pem-old"
    assert f"the old key is kept as {backup}: delete it" in result.stdout
    assert backup.read_text() == old_text and stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert sk.is_minisign_secret_key(key_path.read_text())
    warnings = []
    converted = keys.load_signing_key(key_path, "new long passphrase", warn=warnings.append)
    assert warnings == []
    public = keys.load_public_key(pub_path)
    assert (converted.key_id, converted.role, converted.public) == (public.key_id, "curator", public)
    minisign.verify(DATA, old_signature, public)
    minisign.verify(DATA, sign_with(converted), public)
    with pytest.raises(InfopackError, match="wrong passphrase"):
        keys.load_signing_key(key_path, "old pass")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_key_convert_refuses_a_short_new_passphrase_unless_weak_is_asked_for(runner, tmp_path):
    key_path, _ = write_pem_key(tmp_path / "k", "reviewer", "abcd")
    before = key_path.read_text()
    result = runner.invoke(key, ["convert", str(key_path)], env={"INFOPACK_PASSPHRASE": "abcd"})
    assert isinstance(result.exception, InfopackError)
    assert "4 characters; use at least 12" in str(result.exception)
    assert key_path.read_text() == before and not (tmp_path / "k.key.pem-old").exists()
    result = runner.invoke(key, ["convert", str(key_path), "--weak-passphrase"],
                           env={"INFOPACK_PASSPHRASE": "abcd"})
    assert result.exit_code == 0, result.output
    assert keys.load_signing_key(key_path, "abcd").role == "reviewer"


def test_key_convert_with_a_wrong_old_passphrase_changes_nothing(runner, tmp_path):
    key_path, _ = write_pem_key(tmp_path / "k", "curator", PASSPHRASE)
    before = key_path.read_text()
    result = runner.invoke(key, ["convert", str(key_path)], env={"INFOPACK_PASSPHRASE": "not it at all"})
    assert "wrong passphrase" in str(result.exception)
    assert key_path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.key", "k.pub"]


def test_key_convert_refuses_a_role_that_contradicts_the_key(runner, tmp_path):
    key_path, _ = write_pem_key(tmp_path / "k", "reviewer", PASSPHRASE)
    result = runner.invoke(key, ["convert", str(key_path), "--role", "curator"],
                           env={"INFOPACK_PASSPHRASE": PASSPHRASE})
    assert isinstance(result.exception, InfopackError)
    assert "is a reviewer key (its comment says so); --role curator contradicts it" in str(result.exception)
    assert not (tmp_path / "k.key.pem-old").exists()


def test_key_convert_never_overwrites_an_earlier_backup(runner, tmp_path):
    key_path, _ = write_pem_key(tmp_path / "k", "curator", PASSPHRASE)
    (tmp_path / "k.key.pem-old").write_text("an even older key")
    result = runner.invoke(key, ["convert", str(key_path)], env={"INFOPACK_PASSPHRASE": PASSPHRASE})
    assert "already exists" in str(result.exception)
    assert (tmp_path / "k.key.pem-old").read_text() == "an even older key"


def test_key_convert_without_passphrase_warns(runner, tmp_path):
    key_path, _ = write_pem_key(tmp_path / "k", "qa", PASSPHRASE)
    result = runner.invoke(key, ["convert", str(key_path), "--no-passphrase"],
                           env={"INFOPACK_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 0, result.output
    assert "warning: the converted key is stored unencrypted" in result.stderr
    assert not keys.is_encrypted(key_path)


def test_key_convert_of_an_infopack_minisign_key_has_nothing_to_do(runner, tmp_path):
    keys.keygen(tmp_path / "k", "reviewer", PASSPHRASE)
    before = (tmp_path / "k.key").read_text()
    result = runner.invoke(key, ["convert", str(tmp_path / "k.key")])
    assert result.exit_code == 0 and "already a minisign reviewer key; nothing to do" in result.stdout
    assert (tmp_path / "k.key").read_text() == before
    result = runner.invoke(key, ["convert", str(tmp_path / "k.key"), "--no-passphrase"])
    assert "minisign -C -s" in str(result.exception)
