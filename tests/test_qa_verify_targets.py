"""What `infopack verify OUT` checks when OUT holds a card image instead of a card folder."""

from __future__ import annotations

import json
import shutil

import pytest

from infopack.fat.catalog import CardType

TEST_CARD = CardType("test64M", 60_000_000, 512, "fat32", 64_000_000)
pytestmark = pytest.mark.skipif(shutil.which("mcopy") is None, reason="mtools not installed")


def out_with_image(built, tmp_path, card_dir=None):
    """A build folder with the off-card files and card-01.img, but no card-01 folder."""
    from infopack.fat.image import build_image
    out = tmp_path / "out"
    out.mkdir()
    for path in built.glob("card-01.*"):
        if path.is_file():
            shutil.copy2(path, out / path.name)
    build_image(card_dir or built / "card-01", out / "card-01.img", TEST_CARD)
    assert not (out / "card-01").exists()
    return out


def test_out_with_only_the_image_verifies_the_image(run_cli, built, keys_dir, tmp_path):
    out = out_with_image(built, tmp_path)
    result = run_cli("verify", out, "--pubkey", keys_dir / "curator.pub", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    card = report["cards"][0]
    assert card["image"] and card["target"].endswith("card-01.img") and card["files"] == 8
    # The image was made by hand, so the manifest records no image: a warning, not a failure.
    assert [f["check"] for f in card["findings"]] == ["image", "image-unsigned"]


def test_out_with_only_a_signed_image_verifies_every_byte_of_it(run_cli, demo_manifest, curator_key, keys_dir,
                                                                tmp_path):
    from infopack.build import build
    out = tmp_path / "out"
    build(demo_manifest, out, curator_key, jobs=2, image=True, image_size="content")
    shutil.rmtree(out / "card-01")
    result = run_cli("verify", out, "--pubkey", keys_dir / "curator.pub", "--json")
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)["cards"][0]
    assert card["image"] and [f["check"] for f in card["findings"]] == ["image"]
    with open(out / "card-01.img", "ab") as handle:
        handle.write(b"\0" * 512)                     # zeros appended: harmless, but not the signed bytes
    result = run_cli("verify", out, "--pubkey", keys_dir / "curator.pub", "--json")
    assert result.exit_code == 1
    assert [f["check"] for f in json.loads(result.stdout)["cards"][0]["findings"]] == ["image", "image-hash"]


def test_out_with_a_tampered_image_fails_on_the_changed_file(run_cli, built, keys_dir, tmp_path):
    card = tmp_path / "card"
    shutil.copytree(built / "card-01", card)
    photo = card / "사진" / "해 뜨는 바다.jpg"
    data = bytearray(photo.read_bytes())
    data[len(data) // 2] ^= 0x01
    photo.write_bytes(bytes(data))
    out = out_with_image(built, tmp_path, card)
    result = run_cli("verify", out, "--pubkey", keys_dir / "curator.pub", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    errors = [(f["check"], f["path"]) for f in report["cards"][0]["findings"] if f["level"] == "error"]
    assert ("hash-mismatch", "사진/해 뜨는 바다.jpg") in errors


def test_out_with_neither_folder_nor_image_reports_the_card_missing(run_cli, built, keys_dir, tmp_path):
    out = out_with_image(built, tmp_path)
    (out / "card-01.img").unlink()
    result = run_cli("verify", out, "--pubkey", keys_dir / "curator.pub", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [f["check"] for f in report["cards"][0]["findings"]] == ["card-missing"]
