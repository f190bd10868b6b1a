"""Manifest validation names the file, the key and the problem."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infopack.errors import UsageError
from infopack.manifest import load_manifest

GOOD = """
[bundle]
id = "b"
title = "묶음"
profile = "notel-480p"
card = "8GB"
[[items]]
id = "a"
title = "가"
source = "media/a.mp4"
subtitles = ["media/a.srt"]
"""


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.mp4").write_bytes(b"x")
    (tmp_path / "media" / "a.srt").write_bytes(b"x")
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "m.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error(folder: Path, text: str) -> str:
    with pytest.raises(UsageError) as exc:
        load_manifest(write(folder, text))
    return exc.value.line()


def test_a_good_manifest_loads(folder):
    bundle = load_manifest(write(folder, GOOD))
    assert bundle.id == "b" and bundle.items[0].source == folder / "media" / "a.mp4"


@pytest.mark.parametrize("change, expected", [
    (("card = \"8GB\"", "card = \"8GB\"\ncolour = \"red\""), "bundle.colour: unknown key"),
    (("subtitles =", "subtitle ="), "subtitle: unknown key"),
    (("id = \"b\"", "id = \"B B\""), "bundle.id: 'B B' is not a valid id"),
    (("source = \"media/a.mp4\"", "source = \"media/nope.mp4\""), "source: no such file: media/nope.mp4"),
    (("source = \"media/a.mp4\"", "source = \"../a.mp4\""), "leaves the manifest's folder"),
    (("source = \"media/a.mp4\"", "source = \"media/../../a.mp4\""), "leaves the manifest's folder"),
    (("source = \"media/a.mp4\"", "source = \"/etc/passwd\""), "is an absolute path"),
    (("title = \"가\"", ""), "title: missing or empty"),
])
def test_bad_manifests_are_named(folder, change, expected):
    line = error(folder, GOOD.replace(*change))
    assert str(folder / "m.toml") in line and expected in line


def test_duplicate_ids(folder):
    line = error(folder, GOOD + GOOD[GOOD.index("[[items]]"):])
    assert "duplicate id 'a'" in line and "items[1]" in line


def test_symlink_pointing_outside(folder, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.mp4"
    outside.write_bytes(b"x")
    os.symlink(outside, folder / "media" / "link.mp4")
    line = error(folder, GOOD.replace("media/a.mp4", "media/link.mp4"))
    assert "link pointing outside" in line


def test_root_widens_the_allowed_folder(folder):
    sub = folder / "manifests"
    sub.mkdir()
    text = GOOD.replace('card = "8GB"', 'card = "8GB"\nroot = ".."').replace("media/", "../media/")
    path = sub / "m.toml"
    path.write_text(text, encoding="utf-8")
    assert load_manifest(path).root == folder.resolve()


def test_not_toml(folder):
    assert "not valid TOML" in error(folder, "[bundle\n")


def test_unknown_profile_and_card_fail_before_any_work(folder, run_cli, keys_dir):
    out = folder / "out"
    result = run_cli("build", write(folder, GOOD.replace("notel-480p", "walkman-9000")), "--out", out,
                     "--key", keys_dir / "curator.key")
    assert result.exit_code == 2 and "unknown profile 'walkman-9000'" in result.stderr
    result = run_cli("build", write(folder, GOOD.replace("8GB", "9GB")), "--out", out,
                     "--key", keys_dir / "curator.key")
    assert result.exit_code == 2 and "9GB" in result.stderr
    assert not out.exists() or not any(out.iterdir())
