"""Splitting: a video over the profile's max file size is cut into parts at keyframes.

A curator profile (in a --profiles folder) with a 60 KB limit and a keyframe every second
makes the 4 s sample split into several parts.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from infopack.fat.names import check_card_paths
from infopack.fat.catalog import load_card
from infopack.checks import ERROR
from infopack.errors import CheckFailed
from infopack.kinds.base import EncodeJob
from infopack.kinds import REGISTRY, probe_source
from infopack.kinds.subtitle import prepare_subtitles
from infopack.kinds.video import frame_size
from infopack.plan.layout import card_paths
from infopack.manifest import Item
from infopack.profiles import _extra_dirs, add_profile_dir, load_profile, profile_text
from infopack.scan import scan_file

LIMIT = 60_000


@pytest.fixture(scope="module")
def split_profiles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("profiles")
    text = profile_text("notel-480p")[1]
    text = text.replace('id = "notel-480p"', 'id = "split-test"')
    text = re.sub(r"(?m)^split_parts = .*$", f"split_parts = true\nmax_file_bytes = {LIMIT}", text)
    text = re.sub(r"(?m)^gop_seconds = .*$", "gop_seconds = 1", text)
    (folder / "split-test.toml").write_text(text, encoding="utf-8")
    (folder / "nosplit-test.toml").write_text(text.replace('id = "split-test"', 'id = "nosplit-test"')
                                              .replace("split_parts = true", "split_parts = false"), encoding="utf-8")
    add_profile_dir(folder)
    yield folder
    _extra_dirs.remove(folder)


def encode(profile_id, samples_dir, work):
    profile = load_profile(profile_id)
    source = samples_dir / "media" / "clip01.mp4"
    item = Item(id="clip-01", title="바다 이야기 1화", source=source, subtitles=(samples_dir / "subs" / "clip01.ko.srt",),
                group="바다 이야기", episode=1)
    info = probe_source(source)
    work.mkdir(parents=True)
    subs = prepare_subtitles(item, profile, work, duration=info.duration,
                             play_res=frame_size(info, profile.video))
    job = EncodeJob(item, info, profile, work, subs)
    handler = REGISTRY.kind_named("video")
    produced = handler.transcode(job)
    for prod in produced:
        handler.validate(job, prod)
    return item, info, produced


def duration(path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


@pytest.fixture(scope="module")
def split(split_profiles, samples_dir, tmp_path_factory):
    return encode("split-test", samples_dir, tmp_path_factory.mktemp("split") / "work")


def test_a_large_video_becomes_parts_under_the_limit_that_each_play(split):
    _, info, produced = split
    parts = [p for p in produced if p.role.startswith("part-")]
    assert len(parts) >= 2 and [p.role for p in parts] == [f"part-{n:02d}" for n in range(1, len(parts) + 1)]
    assert not [p for p in produced if p.role == "main"]
    for part in parts:
        assert part.path.stat().st_size <= LIMIT
        proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", str(part.path), "-f", "null", "-"],
                              capture_output=True, timeout=120)
        assert proc.returncode == 0 and not proc.stderr, proc.stderr
        assert not [f for f in scan_file(str(part.path)) if f.level == ERROR]
    assert sum(duration(p.path) for p in parts) == pytest.approx(info.duration, abs=0.2)


def test_parts_are_named_in_playback_order_and_pass_the_fat_rules(split):
    item, _, produced = split
    paths = card_paths([(item, "video", {p.role: p.extension for p in produced})], ascii_only=False)[item.id]
    parts = [paths[p.role] for p in produced if p.role.startswith("part-")]
    assert parts == sorted(parts)
    assert parts[0] == "바다 이야기/01 바다 이야기 1화 - 01.mp4"
    for role, path in paths.items():
        if role.startswith("sidecar-"):       # each sidecar sits beside its part
            assert path[:-4] + ".mp4" == paths["part-" + role.split("-")[1]]
    sizes = {paths[p.role]: p.path.stat().st_size for p in produced}
    assert not [f for f in check_card_paths(sizes, load_card("8GB")) if f.level == ERROR]


def test_each_part_has_its_own_sidecar_with_shifted_cues(split):
    from infopack.subtitles import read_subtitles
    _, _, produced = split
    sidecars = {p.role: p for p in produced if p.role.startswith("sidecar-")}
    assert sidecars, "the sample's subtitles must reach the parts"
    parts = {p.role: p for p in produced if p.role.startswith("part-")}
    for role, sidecar in sidecars.items():
        part = parts["part-" + role.split("-")[1]]
        doc = read_subtitles(sidecar.path)
        assert doc.cues and doc.cues[0].start_ms >= 0
        assert doc.cues[-1].end_ms <= round(duration(part.path) * 1000) + 50
    if len(sidecars) > 1:
        later = sorted(sidecars)[1]
        assert read_subtitles(sidecars[later].path).cues[0].start_ms < 4000


def test_recipe_names_the_split_rule(split_profiles, samples_dir, tmp_path):
    info = probe_source(samples_dir / "media" / "clip01.mp4")
    item = Item(id="x", title="x", source=info.path)
    handler = REGISTRY.kind_named("video")
    split = handler.recipe(EncodeJob(item, info, load_profile("split-test"), tmp_path))
    nosplit = handler.recipe(EncodeJob(item, info, load_profile("nosplit-test"), tmp_path))
    assert "split-parts" in split and "split-parts" not in nosplit


def test_without_split_parts_a_too_large_video_is_refused_naming_it(split_profiles, samples_dir, tmp_path):
    with pytest.raises(CheckFailed, match=r"item clip-01: output is [\d,]+ bytes, over profile nosplit-test's "
                                          r"max_file_bytes 60,000"):
        encode("nosplit-test", samples_dir, tmp_path / "work")


def test_a_build_with_a_splitting_profile_puts_the_parts_on_the_card(split_profiles, samples_dir, curator_key,
                                                                      keys_dir, run_cli, monkeypatch, tmp_path):
    """Through infopack.build: the parts and their sidecars land on the card, signed and scanned."""
    from infopack.build import build
    monkeypatch.setenv("HOME", str(tmp_path))          # a fresh encode cache
    manifest = samples_dir / "split-bundle.toml"
    manifest.write_text('[bundle]\nid = "split-bundle"\ntitle = "나눔"\nprofile = "split-test"\ncard = "8GB"\n\n'
                        '[[items]]\nid = "clip-01"\ntitle = "바다 이야기 1화"\nsource = "media/clip01.mp4"\n'
                        'subtitles = ["subs/clip01.ko.srt"]\n', encoding="utf-8")
    out = tmp_path / "out"
    build(manifest, out, curator_key, jobs=1)
    files = sorted(p.relative_to(out / "card-01").as_posix() for p in (out / "card-01").rglob("*") if p.is_file())
    videos = [f for f in files if f.endswith(".mp4")]
    assert len(videos) >= 2 and videos == [f"영상/바다 이야기 1화 - {n:02d}.mp4" for n in range(1, len(videos) + 1)]
    assert all((out / "card-01" / f).stat().st_size <= LIMIT for f in videos)
    assert any(f.endswith(" - 01.srt") for f in files)
    verified = run_cli("verify", out, "--pubkey", keys_dir / "curator.pub")
    assert verified.exit_code == 0, verified.output


def test_splitting_is_reproducible(split, split_profiles, samples_dir, tmp_path):
    _, _, again = encode("split-test", samples_dir, tmp_path / "again")
    first = {p.role: p.path.read_bytes() for p in split[2]}
    assert {p.role: p.path.read_bytes() for p in again} == first
    assert not any(b"Lavf" in data for data in first.values())
