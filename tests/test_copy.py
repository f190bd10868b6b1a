"""`infopack copy`: a card folder onto a mounted card, checked for room first, flushed, verified
there; other files refused unless --clean; an interrupted copy finishes when run again."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from infopack.cardtime import CARD_EPOCH
from infopack.errors import CheckFailed, UsageError
from infopack.qa import copy as copy_module
from infopack.qa.copy import copy_card
from infopack.release.keys import load_public_key


def card_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_cli(run_cli, built: Path, target: Path, keys_dir: Path, *extra):
    return run_cli("copy", built / "card-01", target, "--pubkey", keys_dir / "curator.pub", *extra)


def verify_target(run_cli, built: Path, target: Path, keys_dir: Path) -> dict:
    result = run_cli("verify", target, "--manifest", built / "card-01.manifest.json", "--pubkey",
                     keys_dir / "curator.pub", "--json")
    return json.loads(result.stdout) | {"exit": result.exit_code}


def test_copy_to_a_folder_then_verify_of_the_target_passes(run_cli, built_copy, keys_dir, tmp_path):
    target = tmp_path / "card"
    target.mkdir()
    result = copy_cli(run_cli, built_copy, target, keys_dir)
    assert result.exit_code == 0, result.output
    assert "card-01 -> " in result.stdout and "flushed" in result.stdout and "OK" in result.stdout
    assert card_files(target) == card_files(built_copy / "card-01")
    assert {p.stat().st_mtime for p in target.rglob("*")} == {CARD_EPOCH}
    verified = verify_target(run_cli, built_copy, target, keys_dir)
    assert verified["exit"] == 0 and verified["ok"] and verified["cards"][0]["files"] == len(card_files(target))


def test_an_interrupted_copy_leaves_whole_files_only_and_finishes_when_run_again(built_copy, keys_dir, tmp_path):
    target = tmp_path / "card"
    target.mkdir()
    pubkey = load_public_key(keys_dir / "curator.pub")
    seen = []

    def pull_the_plug(event: dict) -> None:
        if event["event"] == "copied":
            seen.append(event["path"])
            if len(set(seen)) == 3:
                raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        copy_card(built_copy / "card-01", built_copy / "card-01.manifest.json", target, pubkey,
                  progress=pull_the_plug)
    assert not [p for p in target.rglob("*") if p.name.endswith(".partial")]
    done = card_files(target)
    assert 0 < len(done) < len(card_files(built_copy / "card-01"))
    # a crash (no clean-up at all) leaves a temporary file, and a file can be damaged later
    first = sorted(p for p in target.rglob("*") if p.is_file())[0]
    (first.parent / ".infopack-7.partial").write_bytes(b"half a file")
    data = first.read_bytes()
    first.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    result = copy_card(built_copy / "card-01", built_copy / "card-01.manifest.json", target, pubkey)
    assert result.report.ok, [f.to_dict() for f in result.report.findings]
    assert first.relative_to(target).as_posix() in result.copied
    assert len(result.kept) == len(done) - 1 and not result.removed
    assert card_files(target) == card_files(built_copy / "card-01")


def test_a_target_holding_other_files_is_refused_unless_clean(run_cli, built_copy, keys_dir, tmp_path):
    target = tmp_path / "card"
    (target / "DCIM").mkdir(parents=True)
    (target / "DCIM" / "IMG_0001.JPG").write_bytes(b"someone's photo")
    (target / "notes.txt").write_text("a note", encoding="utf-8")
    refused = copy_cli(run_cli, built_copy, target, keys_dir)
    assert refused.exit_code == 2 and "that are not on card-01" in refused.stderr and "--clean" in refused.stderr
    assert card_files(target) == {"DCIM/IMG_0001.JPG": hashlib.sha256(b"someone's photo").hexdigest(),
                                  "notes.txt": hashlib.sha256(b"a note").hexdigest()}
    declined = run_cli("copy", built_copy / "card-01", target, "--pubkey", keys_dir / "curator.pub", "--clean")
    assert declined.exit_code != 0 and (target / "notes.txt").exists()          # CliRunner answers no
    cleaned = copy_cli(run_cli, built_copy, target, keys_dir, "--clean", "--yes", "--json")
    assert cleaned.exit_code == 0, cleaned.output
    document = json.loads(cleaned.stdout)
    assert document["schema"] == "infopack/copy/1" and document["verify"]["ok"]
    assert document["removed"] == ["DCIM/IMG_0001.JPG", "notes.txt", "DCIM/"]
    assert card_files(target) == card_files(built_copy / "card-01")


@pytest.fixture
def small_mount(tmp_path, monkeypatch):
    """A 64 KiB tmpfs (we run as root here); elsewhere statvfs says the same of a plain folder."""
    target = tmp_path / "small"
    target.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(target)],
                             capture_output=True).returncode == 0
    if not mounted:
        real = os.statvfs
        small = os.statvfs_result((4096, 4096, 16, 16, 16, 1000, 1000, 1000, 0, 255))
        monkeypatch.setattr(copy_module.os, "statvfs", lambda path: small if Path(path) == target else real(path))
    yield target
    if mounted:
        subprocess.run(["umount", str(target)], check=True)


def test_a_card_too_small_is_refused_before_anything_is_written(run_cli, built_copy, keys_dir, small_mount):
    result = copy_cli(run_cli, built_copy, small_mount, keys_dir)
    assert result.exit_code == 2
    assert "not enough room" in result.stderr and "nothing was written" in result.stderr
    assert list(small_mount.iterdir()) == []


def test_nothing_is_copied_from_a_card_whose_signature_does_not_verify(built_copy, keys_dir, tmp_path):
    target = tmp_path / "card"
    target.mkdir()
    (built_copy / "card-01.manifest.json.minisig").unlink()
    with pytest.raises(CheckFailed, match="signature"):
        copy_card(built_copy / "card-01", built_copy / "card-01.manifest.json", target,
                  load_public_key(keys_dir / "curator.pub"))
    assert list(target.iterdir()) == []


def test_a_changed_file_in_the_build_folder_is_not_copied(built_copy, keys_dir, tmp_path):
    target = tmp_path / "card"
    target.mkdir()
    victim = sorted(p for p in (built_copy / "card-01").rglob("*") if p.is_file())[-1]
    victim.write_bytes(victim.read_bytes() + b"!")
    with pytest.raises(CheckFailed, match="differs from the signed manifest"):
        copy_card(built_copy / "card-01", built_copy / "card-01.manifest.json", target,
                  load_public_key(keys_dir / "curator.pub"))
    assert not (target / victim.relative_to(built_copy / "card-01")).exists()
    assert not [p for p in target.rglob("*") if p.name.endswith(".partial")]


def test_the_target_cannot_be_the_card_folder_itself(built_copy, keys_dir):
    with pytest.raises(UsageError, match="card folder itself"):
        copy_card(built_copy / "card-01", built_copy / "card-01.manifest.json", built_copy / "card-01",
                  load_public_key(keys_dir / "curator.pub"))
