"""Keys in minisign's own format, end to end: the standalone `minisign` signs with infopack's
keys and infopack builds with minisign's; older PEM keys still build, approve and convert;
roles are enforced when signing; no program infopack starts sees the passphrase."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PASSPHRASE
from helpers import write_pem_key

MINISIGN = shutil.which("minisign")

SMALL_MANIFEST = """
[bundle]
id = "keys-bundle"
title = "열쇠 시험"
profile = "notel-480p"
card = "8GB"
version = 1

[[items]]
id = "song-01"
title = "아침 노래"
source = "media/song01.mp3"

[[items]]
id = "photo-01"
title = "해 뜨는 바다"
source = "media/photo01.jpg"
"""


@pytest.fixture(scope="module")
def small_manifest(samples_dir) -> Path:
    """Two quick items from the shared samples (a song and a photo)."""
    path = samples_dir / "keys-bundle.toml"
    path.write_text(SMALL_MANIFEST, encoding="utf-8")
    return path


def minisign(*args, cwd: Path | None = None, password: str | None = None) -> subprocess.CompletedProcess:
    """The standalone minisign; a password is fed on stdin, where it reads one line."""
    assert MINISIGN, "the minisign binary is required (apt-get install minisign)"
    result = subprocess.run([MINISIGN, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                            timeout=120, input=password,
                            stdin=None if password is not None else subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr + result.stdout
    return result


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("infopack: warning:")]


# --------------------------------------------------------------------------- minisign <-> infopack

def test_minisign_signs_a_card_manifest_with_an_infopack_key(run_cli, built_copy, keys_dir):
    manifest = built_copy / "card-01.manifest.json"
    signature = built_copy / "card-01.manifest.json.minisig"
    signature.unlink()
    minisign("-S", "-s", keys_dir / "curator.key", "-m", manifest, "-x", signature, password=PASSPHRASE + "\n")
    minisign("-V", "-p", keys_dir / "curator.pub", "-m", manifest, "-x", signature)
    result = run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub", "--hash-only", "--json")
    assert result.exit_code == 0, result.output
    assert '"role": "curator"' in result.stdout


def test_infopack_builds_with_a_key_minisign_made(run_cli, small_manifest, tmp_path):
    minisign("-G", "-W", "-p", tmp_path / "ms.pub", "-s", tmp_path / "ms.key")
    out = tmp_path / "out"
    refused = run_cli("build", small_manifest, "--out", out, "--key", tmp_path / "ms.key")
    assert refused.exit_code == 2 and "records no role" in refused.stderr and "--role" in refused.stderr
    assert not out.exists()
    result = run_cli("build", small_manifest, "--out", out, "--key", tmp_path / "ms.key", "--role", "curator")
    assert result.exit_code == 0, result.output
    assert warnings_in(result.stderr) == [
        f"infopack: warning: {tmp_path / 'ms.key'}: the private key is not protected by a passphrase; "
        "anyone who copies the file can sign as curator"]
    shown = minisign("-V", "-p", tmp_path / "ms.pub", "-m", out / "card-01.manifest.json")
    assert "infopack curator signature: bundle=keys-bundle" in shown.stdout
    verified = run_cli("verify", out, "--pubkey", tmp_path / "ms.pub", "--hash-only")
    assert verified.exit_code == 0, verified.output


# --------------------------------------------------------------------------- roles when signing

def test_a_reviewer_key_cannot_sign_a_build(run_cli, small_manifest, tmp_path):
    from infopack.release.keys import keygen
    key_path, _ = keygen(tmp_path / "reviewer", "reviewer", PASSPHRASE)
    out = tmp_path / "out"
    result = run_cli("build", small_manifest, "--out", out, "--key", key_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"infopack: {key_path}: this is a reviewer key; a build is signed "
                                          "with the curator's key (a reviewer approves with `infopack approve`)"]
    assert not out.exists()


def test_verify_labels_a_reviewer_signed_build_by_its_own_comment_not_as_curator(run_cli, built_copy, tmp_path):
    """What a reviewer key could do before: sign the build. With --pubkey it is not 'curator'."""
    from infopack.release.keys import keygen, load_signing_key
    from infopack.release.seal import sign_manifest
    keygen(tmp_path / "reviewer", "reviewer", PASSPHRASE)
    reviewer = load_signing_key(tmp_path / "reviewer.key", PASSPHRASE)
    manifest = built_copy / "card-01.manifest.json"
    (built_copy / "card-01.manifest.json.minisig").write_text(sign_manifest(
        manifest.read_bytes(), reviewer, bundle_id="test-bundle", bundle_version=3, card_id="card-01"))
    result = run_cli("verify", built_copy, "--pubkey", tmp_path / "reviewer.pub", "--hash-only", "--json")
    card = json.loads(result.stdout)["cards"][0]
    assert result.exit_code == 1
    assert [(s["role"], s["valid"]) for s in card["signers"]] == [("reviewer", False)]
    assert {f["check"] for f in card["findings"] if f["level"] == "error"} == {"signature-wrong-role"}


# --------------------------------------------------------------------------- older PEM keys

def test_older_pem_keys_still_build_and_approve_and_convert(run_cli, small_manifest, tmp_path, monkeypatch):
    curator, curator_pub = write_pem_key(tmp_path / "curator", "curator", PASSPHRASE)
    reviewer, reviewer_pub = write_pem_key(tmp_path / "reviewer", "reviewer", PASSPHRASE)
    out = tmp_path / "out"
    note = "is an older infopack key (PEM); convert it to minisign's format with `infopack key convert"
    built = run_cli("build", small_manifest, "--out", out, "--key", curator)
    assert built.exit_code == 0, built.output
    assert warnings_in(built.stderr) == [f"infopack: warning: {curator} {note} {curator}`"]
    approved = run_cli("approve", out, "--key", reviewer)
    assert approved.exit_code == 0, approved.output
    assert warnings_in(approved.stderr) == [f"infopack: warning: {reviewer} {note} {reviewer}`"]

    converted = run_cli("key", "convert", curator)
    assert converted.exit_code == 0, converted.output
    assert (tmp_path / "curator.key.pem-old").is_file()
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[roles.curator]\nkeys = ["{curator_pub}"]\n'
                      f'[roles.reviewer]\nthreshold = 1\nkeys = ["{reviewer_pub}"]\n', encoding="utf-8")
    assert run_cli("verify", out, "--policy", policy, "--hash-only").exit_code == 0   # old signatures
    if MINISIGN:
        minisign("-V", "-p", curator_pub, "-m", out / "card-01.manifest.json")
    rebuilt = run_cli("build", small_manifest, "--out", out, "--key", curator)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert warnings_in(rebuilt.stderr) == []
    assert run_cli("verify", out, "--pubkey", curator_pub, "--hash-only").exit_code == 0


# --------------------------------------------------------------------------- warnings

def test_an_approval_with_an_unprotected_key_warns_once(run_cli, built_copy, tmp_path):
    from infopack.release.keys import keygen
    key_path, _ = keygen(tmp_path / "rig", "reviewer", None)
    result = run_cli("approve", built_copy, "--key", key_path)
    assert result.exit_code == 0, result.output
    assert warnings_in(result.stderr) == [
        f"infopack: warning: {key_path}: the private key is not protected by a passphrase; "
        "anyone who copies the file can sign as reviewer"]


# --------------------------------------------------------------------------- no secret in children

WRAPPED = ("ffmpeg", "ffprobe", "env", "mkfs.fat", "fsck.fat", "mcopy", "mmd", "minisign")


def wrap_programs(bin_dir: Path, dumps: Path) -> dict[str, Path]:
    """Scripts that record the environment they were started with, then run the real program."""
    bin_dir.mkdir()
    dumps.mkdir()
    wrapped = {}
    for name in WRAPPED:
        real = shutil.which(name)
        assert real, f"{name} is required for this test"
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\ntr '\\0' '\\n' < /proc/$$/environ > '{dumps}/{name}.'$$\n"
                          f"exec '{real}' \"$@\"\n")
        script.chmod(0o755)
        wrapped[name] = script
    return wrapped


def test_no_program_infopack_starts_sees_the_passphrase(run_cli, small_manifest, keys_dir, tmp_path, monkeypatch):
    from infopack import tools
    from infopack.fat.image import read_image_files
    wrapped = wrap_programs(tmp_path / "bin", tmp_path / "env-dumps")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("INFOPACK_FFMPEG", str(wrapped["ffmpeg"]))
    monkeypatch.setenv("MY_SMTP_PASSWORD", "hunter2 hunter2")
    tools.ffmpeg_info.cache_clear()
    try:
        out = tmp_path / "out"
        result = run_cli("build", small_manifest, "--out", out, "--key", keys_dir / "curator.key",
                         "--no-cache", "--image", "--image-size", "content")
        assert result.exit_code == 0, result.output
        for _, chunks in read_image_files(out / "card-01.img"):   # mcopy streamed outside tools.run
            b"".join(chunks)
    finally:
        tools.ffmpeg_info.cache_clear()
    dumps = {path.name.rsplit(".", 1)[0] for path in (tmp_path / "env-dumps").iterdir()}
    assert {"ffmpeg", "ffprobe", "env", "mkfs.fat", "mcopy"} <= dumps       # the wrappers did run
    assert "minisign" not in dumps                                          # signing is in-process
    for path in (tmp_path / "env-dumps").iterdir():
        environment = path.read_text(encoding="utf-8", errors="replace")
        assert "\nPATH=" in "\n" + environment                                 # the rest is passed on
        assert "INFOPACK_PASSPHRASE" not in environment, path.name
        assert PASSPHRASE not in environment and "hunter2" not in environment, path.name


def test_child_env_drops_secrets_and_keeps_the_rest(monkeypatch):
    from infopack.release.keys import PASSPHRASE_ENV
    from infopack.tools import child_env
    monkeypatch.setenv(PASSPHRASE_ENV, "secret words")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("TZ", "UTC")
    env = child_env()
    assert PASSPHRASE_ENV not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["TZ"] == "UTC" and env["PATH"]
