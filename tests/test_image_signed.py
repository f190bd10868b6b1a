"""Images signed as a whole: the card manifest records each image's layout, size and SHA-256,
so `verify IMG` checks every byte of it first, then the files inside. Each way of hiding
something in an image fails with a named finding: the signed record (`image-hash`) and what
was found (`image-free-space`, `image-deleted-entry`, `image-label`, `image-hidden-data`,
or the changed file's `hash-mismatch`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infopack.fat.mbr import filesystem_offset
from infopack.fat.reader import image_listing, read_fat, read_geometry

pytestmark = pytest.mark.skipif(shutil.which("mcopy") is None, reason="mtools not installed")
PHOTO = "사진/해 뜨는 바다.jpg"


@pytest.fixture(scope="module", params=["mbr", "superfloppy"])
def signed(request, demo_manifest, curator_key, tmp_path_factory) -> Path:
    """A build with a content-sized image of each layout (small, quick to copy)."""
    from infopack.build import build
    out = tmp_path_factory.mktemp(f"signed-{request.param}") / "out"
    build(demo_manifest, out, curator_key, jobs=2, image=True, image_size="content", image_layout=request.param)
    return out


def verify_image(run_cli, image: Path, out: Path, keys_dir: Path) -> tuple[int, list[tuple[str, str, str]]]:
    result = run_cli("verify", image, "--manifest", out / "card-01.manifest.json", "--pubkey",
                     keys_dir / "curator.pub", "--json")
    report = json.loads(result.stdout)["cards"][0]
    return result.exit_code, [(f["check"], f["level"], f["path"]) for f in report["findings"]]


def mtools(*args: str) -> None:
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", LC_ALL="C.UTF-8", MTOOLSRC="/dev/null")
    subprocess.run(list(args), env=env, check=True, capture_output=True, timeout=120)


def on(image: Path) -> str:
    """mtools' name of the image's file system."""
    offset = filesystem_offset(image)
    return f"{image}@@{offset}" if offset else str(image)


def free_cluster_payload(image: Path, tmp_path: Path) -> None:
    geo = read_geometry(image)
    fat = read_fat(image, geo)
    free = next(c for c in range(geo.clusters + 1, 1, -1) if c < len(fat) and fat[c] == 0)
    with open(image, "r+b") as handle:
        handle.seek(geo.cluster_offset(free))
        handle.write(b"a message for whoever finds this card")


def deleted_entry(image: Path, tmp_path: Path) -> None:
    secret = tmp_path / "note.txt"
    secret.write_text("이 카드는 김철수가 만들었다\n", encoding="utf-8")
    mtools("mcopy", "-i", on(image), str(secret), "::/사진/note.txt")
    mtools("mdel", "-i", on(image), "::/사진/note.txt")


def changed_label(image: Path, tmp_path: Path) -> None:
    mtools("mlabel", "-i", on(image), "::KIMCHOLSU")


def appended_bytes(image: Path, tmp_path: Path) -> None:
    with open(image, "ab") as handle:
        handle.write(b"appended after the file system")


def changed_file(image: Path, tmp_path: Path) -> None:
    entry = next(e for e in image_listing(image) if e.path == PHOTO)
    geo = read_geometry(image)
    with open(image, "r+b") as handle:
        handle.seek(geo.cluster_offset(entry.first_cluster) + 100)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0x01]))


TAMPERINGS = {
    "free-cluster payload": (free_cluster_payload, ("image-free-space", "error")),
    "deleted-entry residue": (deleted_entry, ("image-deleted-entry", "error")),
    "changed label": (changed_label, ("image-label", "error")),
    "appended bytes": (appended_bytes, ("image-hidden-data", "error")),
    "a changed file inside": (changed_file, ("hash-mismatch", "error")),
}


def test_the_signed_image_verifies_byte_for_byte(signed, run_cli, keys_dir):
    from infopack.fat.image import image_digest
    from infopack.fat.residue import image_residue
    record = json.loads((signed / "card-01.manifest.json").read_bytes())["image"]
    image = signed / "card-01.img"
    assert (record["size"], record["sha256"]) == image_digest(image) and record["layout"] in ("mbr", "superfloppy")
    assert image_residue(image) == []                   # free clusters, slack, gap: all zero
    code, findings = verify_image(run_cli, image, signed, keys_dir)
    assert code == 0 and findings == [("image", "info", "card-01.img")]


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_each_tampering_makes_verify_fail_with_a_named_finding(signed, run_cli, keys_dir, tmp_path, tampering):
    change, expected = TAMPERINGS[tampering]
    image = tmp_path / "card-01.img"
    shutil.copyfile(signed / "card-01.img", image)
    change(image, tmp_path)
    code, findings = verify_image(run_cli, image, signed, keys_dir)
    assert code == 1
    named = [(check, level) for check, level, _ in findings]
    assert ("image-hash", "error") in named, findings     # the signed bytes, checked first
    assert named.index(("image-hash", "error")) == 1
    assert expected in named, findings                  # and what was found
    if tampering == "a changed file inside":
        assert ("hash-mismatch", "error", PHOTO) in findings


def test_an_image_no_manifest_records_is_searched_and_flagged(built, run_cli, keys_dir, tmp_path):
    """A manifest without an image record (an older build, an image made by hand): a warning, and
    the image is still searched for what it holds besides its files."""
    from infopack.fat.catalog import CardType
    from infopack.fat.image import build_image
    image = build_image(built / "card-01", tmp_path / "card-01.img",
                        CardType("test64M", 60_000_000, 512, "fat32", 64_000_000))
    code, findings = verify_image(run_cli, image, built, keys_dir)
    assert code == 0 and [c for c, _, _ in findings] == ["image", "image-unsigned"]
    changed_label(image, tmp_path)
    code, findings = verify_image(run_cli, image, built, keys_dir)
    assert code == 1 and ("image-label", "error") in [(c, level) for c, level, _ in findings]


def test_without_an_image_the_manifest_keeps_its_bytes(signed, built):
    """The card folder's manifest is what it was before images were signed: no `image` field."""
    from infopack.release.card_manifest import CardManifest, canonical_json
    plain = (built / "card-01.manifest.json").read_bytes()
    assert "image" not in json.loads(plain)
    with_image = json.loads((signed / "card-01.manifest.json").read_bytes())
    del with_image["image"]
    assert canonical_json(with_image) == plain
    assert CardManifest.from_bytes(plain).to_bytes() == plain and CardManifest.from_bytes(plain).image is None


def test_a_build_refuses_an_image_that_holds_more_than_its_files(built, tmp_path, monkeypatch):
    from infopack.checks import ERROR, Finding
    from infopack.errors import InfopackError
    from infopack.fat import image as image_module
    from infopack.fat.catalog import CardType
    monkeypatch.setattr(image_module, "image_residue",
                        lambda path: [Finding("image-free-space", ERROR, "x.img", "free clusters hold data")])
    with pytest.raises(InfopackError, match="image-free-space"):
        image_module.build_image(built / "card-01", tmp_path / "x.img",
                                 CardType("test64M", 60_000_000, 512, "fat32", 64_000_000))
    assert not (tmp_path / "x.img").exists()


def test_verify_out_checks_the_image_beside_the_card_folder(signed, run_cli, keys_dir, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(signed, out)
    assert run_cli("verify", out, "--pubkey", keys_dir / "curator.pub").exit_code == 0
    changed_label(out / "card-01.img", tmp_path)
    result = run_cli("verify", out, "--pubkey", keys_dir / "curator.pub", "--json")
    assert result.exit_code == 1
    named = {f["check"] for f in json.loads(result.stdout)["cards"][0]["findings"]}
    assert {"image-hash", "image-label"} <= named
