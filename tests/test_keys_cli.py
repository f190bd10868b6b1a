"""`keygen` and `key show` through click's CliRunner."""

from __future__ import annotations

import shutil
import stat
import subprocess

import pytest
from click.testing import CliRunner

from infopack.release import keys
from infopack.errors import InfopackError
from infopack.cli.keys import key, keygen

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
    assert "ENCRYPTED PRIVATE KEY" in key_path.read_text()
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
    assert "-----BEGIN PRIVATE KEY-----" in (tmp_path / "rig.key").read_text()


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
