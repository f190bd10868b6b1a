"""verify catches each kind of tampering, through the real CLI, with the right named check."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest


def verify_json(run_cli, out: Path, pubkey: Path, *extra) -> tuple[int, dict]:
    result = run_cli("verify", out, "--pubkey", pubkey, "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


def checks(report: dict) -> set[str]:
    return {f["check"] for card in report["cards"] for f in card["findings"] if f["level"] == "error"}


def test_untouched_build_verifies(run_cli, built, keys_dir):
    code, report = verify_json(run_cli, built, keys_dir / "curator.pub")
    assert code == 0 and report["ok"] and checks(report) == set()
    assert report["cards"][0]["files"] == 8
    table = run_cli("verify", built, "--pubkey", keys_dir / "curator.pub")
    assert table.exit_code == 0 and "card-01: OK" in table.stdout


def first_video(out: Path) -> Path:
    return out / "card-01" / "영상" / "시장 풍경.mp4"


def flip_byte(out):
    path = first_video(out)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(out):
    path = first_video(out)
    path.write_bytes(path.read_bytes()[:-100])


def add_file(out):
    (out / "card-01" / "영상" / "extra.mp4").write_bytes(b"x" * 10)


def add_hidden(out):
    (out / "card-01" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")


def remove_file(out):
    first_video(out).unlink()


def rename_file(out):
    first_video(out).rename(out / "card-01" / "영상" / "시장 풍경 2.mp4")


def move_between_folders(out):
    first_video(out).rename(out / "card-01" / "사진" / "시장 풍경.mp4")


def nfd_name(out):
    path = first_video(out)
    path.rename(path.with_name(unicodedata.normalize("NFD", path.name)))


def edit_manifest(out):
    path = out / "card-01.manifest.json"
    path.write_bytes(path.read_bytes().replace(b'"version":3', b'"version":4'))


def reorder_manifest(out):
    path = out / "card-01.manifest.json"
    data = json.loads(path.read_bytes())
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def remove_signature(out):
    (out / "card-01.manifest.json.minisig").unlink()


@pytest.mark.parametrize("mutate, expected", [
    (flip_byte, {"hash-mismatch"}),
    (truncate, {"size-mismatch"}),
    (add_file, {"extra-file"}),
    (add_hidden, {"hidden-file"}),
    (remove_file, {"missing-file"}),
    (rename_file, {"missing-file", "extra-file"}),
    (move_between_folders, {"missing-file", "extra-file"}),
    (nfd_name, {"name-not-nfc"}),
    (edit_manifest, {"signature"}),
    (reorder_manifest, {"signature"}),
    (remove_signature, {"signature"}),
])
def test_each_mutation_is_caught(run_cli, built_copy, keys_dir, mutate, expected):
    mutate(built_copy)
    code, report = verify_json(run_cli, built_copy, keys_dir / "curator.pub")
    assert code == 1 and not report["ok"]
    assert expected <= checks(report), checks(report)


def test_signature_by_another_key_is_rejected(run_cli, built_copy, keys_dir):
    code, report = verify_json(run_cli, built_copy, keys_dir / "other.pub")
    assert code == 1
    messages = [f["message"] for f in report["cards"][0]["findings"] if f["check"] == "signature"]
    assert messages and "another key" in messages[0]


def test_a_copied_card_verifies_against_its_manifest(run_cli, built, keys_dir, tmp_path):
    card = tmp_path / "mounted-card"
    shutil.copytree(built / "card-01", card)
    result = run_cli("verify", card, "--manifest", built / "card-01.manifest.json",
                     "--pubkey", keys_dir / "curator.pub")
    assert result.exit_code == 0, result.output
    (card / "Thumbs.db").write_bytes(b"x")
    result = run_cli("verify", card, "--manifest", built / "card-01.manifest.json",
                     "--pubkey", keys_dir / "curator.pub")
    assert result.exit_code == 1 and "hidden-file" in result.stdout


def test_verify_usage_errors_exit_2(run_cli, built, keys_dir, tmp_path):
    assert run_cli("verify", tmp_path, "--pubkey", keys_dir / "curator.pub").exit_code == 2
    result = run_cli("verify", built, "--pubkey", tmp_path / "missing.pub")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_independent_tools_also_catch_a_flipped_byte(built_copy):
    flip_byte(built_copy)
    proc = subprocess.run(["sha256sum", "-c", "--quiet", "../card-01.SHA256SUMS"], cwd=built_copy / "card-01",
                          capture_output=True, timeout=60)
    assert proc.returncode != 0
