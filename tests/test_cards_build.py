"""Cards in the real pipeline: plan before encoding, many cards, flashable images."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from infopack.fat.image import fsck_image
from infopack.fat.mbr import filesystem_offset
from tests.conftest import DEMO_MANIFEST
from helpers import install_tiny_card


def test_plan_shows_assignment_and_fill(run_cli, demo_manifest):
    result = run_cli("plan", demo_manifest)
    assert result.exit_code == 0, result.output
    for needle in ("card-01", "clip-01", "photo-01", "fill", "%", "8GB"):
        assert needle in result.stdout


@pytest.fixture
def tiny_card(monkeypatch, tmp_path):
    """A measured card type too small for the whole sample bundle."""
    return install_tiny_card(monkeypatch, tmp_path / "cards")


def test_content_larger_than_a_card_is_split_across_cards(run_cli, samples_dir, tiny_card, keys_dir, tmp_path):
    manifest = samples_dir / "tiny.toml"
    manifest.write_text(DEMO_MANIFEST.replace('card = "8GB"', f'card = "{tiny_card}"'), encoding="utf-8")
    planned = run_cli("plan", manifest)
    assert planned.exit_code == 0 and "card-02" in planned.stdout
    out = tmp_path / "out"
    result = run_cli("build", manifest, "--out", out, "--key", keys_dir / "curator.key")
    assert result.exit_code == 0, result.output
    cards = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(cards) >= 2
    seen = []
    for card in cards:
        manifest_data = json.loads((out / f"{card}.manifest.json").read_bytes())
        assert manifest_data["card"] == {"id": card, "count": len(cards), "class": "tiny",
                                         "usable_bytes": 655360}
        seen += [item["id"] for item in manifest_data["items"]]
    assert sorted(seen) == ["clip-01", "clip-02", "clip-03", "photo-01", "song-01"]
    verified = run_cli("verify", out, "--pubkey", keys_dir / "curator.pub", "--json")
    assert verified.exit_code == 0
    assert [c["card"] for c in json.loads(verified.stdout)["cards"]] == cards


def mcopy_sha256(image: Path, path: str) -> str:
    data = subprocess.run(["mcopy", "-n", "-i", f"{image}@@{filesystem_offset(image)}", f"::/{path}", "-"],
                          capture_output=True, check=True,
                          timeout=120, env={"MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"}
                          ).stdout
    return hashlib.sha256(data).hexdigest()


def test_flashable_image_is_valid_matches_the_manifest_and_is_reproducible(run_cli, samples_dir, keys_dir,
                                                                            tmp_path):
    manifest = samples_dir / "image.toml"
    manifest.write_text(DEMO_MANIFEST.replace('card = "8GB"', 'card = "1GB"'), encoding="utf-8")
    images = []
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        result = run_cli("build", manifest, "--out", out, "--key", keys_dir / "curator.key", "--image")
        assert result.exit_code == 0, result.output
        images.append(out / "card-01.img")
    image = images[0]
    fsck_image(image)                            # the file system inside the image's partition
    signed = json.loads((tmp_path / "out1" / "card-01.manifest.json").read_bytes())
    assert len(signed["files"]) == 8
    for entry in signed["files"]:
        assert mcopy_sha256(image, entry["path"]) == entry["sha256"], entry["path"]
    assert subprocess.run(["cmp", str(images[0]), str(images[1])], timeout=300).returncode == 0
    with open(image, "rb") as handle:                # the MBR, and the file system's first MiB
        raw = handle.read(filesystem_offset(image) + (1 << 20))
    for trace in (b"infopack", b"test-bundle", b"mkfs.fat", b"not a bootable disk"):
        assert trace not in raw, trace
