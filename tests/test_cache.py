"""The content-addressed encode cache: no-op rebuilds encode nothing, a subtitle change redoes one
item, damaged entries are found and rebuilt, and `infopack cache stats|prune` manage it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from test_resume import assert_same_build, run_build


def encoded(events: list[dict]) -> list[str]:
    return sorted(e["item"] for e in events if e["event"] == "encoded")


@pytest.fixture
def bundle_copy(samples_dir, demo_manifest, tmp_path) -> Path:
    """The sample bundle in a folder this test may change."""
    dest = tmp_path / "bundle"
    shutil.copytree(samples_dir / "media", dest / "media")
    shutil.copytree(samples_dir / "subs", dest / "subs")
    shutil.copy(demo_manifest, dest / "bundle.toml")
    return dest / "bundle.toml"


def test_noop_rebuild_encodes_nothing_and_equals_a_clean_build(demo_manifest, keys_dir, built, tmp_path):
    cache = tmp_path / "cache"
    first = run_build(demo_manifest, tmp_path / "a", keys_dir, cache)
    assert encoded(first) == ["clip-01", "clip-02", "clip-03", "photo-01", "song-01"]
    again = run_build(demo_manifest, tmp_path / "a", keys_dir, cache)          # same OUT
    elsewhere = run_build(demo_manifest, tmp_path / "b", keys_dir, cache, "--print-commands")  # another OUT
    for events in (again, elsewhere):
        assert encoded(events) == []
        assert [e for e in events if e["event"] == "progress"] == []
        assert events[-1] == {**events[-1], "event": "done", "encoded": 0, "cached": 5}
    assert_same_build(tmp_path / "a", built)
    assert_same_build(tmp_path / "b", built)


def test_no_cache_encodes_everything_and_writes_no_entry(demo_manifest, keys_dir, built, tmp_path):
    events = run_build(demo_manifest, tmp_path / "out", keys_dir, tmp_path / "cache", "--no-cache")
    assert len(encoded(events)) == 5
    assert not (tmp_path / "cache").exists()
    assert_same_build(tmp_path / "out", built)


def test_one_subtitle_change_reencodes_only_that_item(bundle_copy, keys_dir, tmp_path):
    cache = tmp_path / "cache"
    run_build(bundle_copy, tmp_path / "out", keys_dir, cache)
    before = (tmp_path / "out" / "card-01" / "영상" / "시장 풍경.srt").read_bytes()
    subs = bundle_copy.parent / "subs" / "clip02.ko.srt"
    text = subs.read_bytes().decode("cp949")          # the sample is a legacy CP949 file
    first_cue_text = text.splitlines()[2]
    changed = text.replace(first_cue_text, first_cue_text + " 고침", 1)
    assert changed != text
    subs.write_bytes(changed.encode("cp949"))
    events = run_build(bundle_copy, tmp_path / "out", keys_dir, cache)
    assert encoded(events) == ["clip-02"]
    assert events[-1]["cached"] == 4
    after = (tmp_path / "out" / "card-01" / "영상" / "시장 풍경.srt").read_bytes()
    assert after != before and "고침".encode() in after


def test_a_moved_bundle_still_hits_the_cache(bundle_copy, keys_dir, tmp_path):
    """Paths are not part of the key: the same bytes elsewhere are the same encode."""
    cache = tmp_path / "cache"
    run_build(bundle_copy, tmp_path / "out1", keys_dir, cache)
    moved = tmp_path / "moved"
    shutil.move(str(bundle_copy.parent), moved)
    events = run_build(moved / "bundle.toml", tmp_path / "out2", keys_dir, cache)
    assert encoded(events) == []


@pytest.mark.parametrize("damage", ["truncate", "flip", "meta"])
def test_a_damaged_cache_entry_is_detected_and_rebuilt(demo_manifest, keys_dir, built, tmp_path, damage):
    cache = tmp_path / "cache"
    run_build(demo_manifest, tmp_path / "first", keys_dir, cache)
    entry = next(p.parent for p in sorted((cache / "entries").glob("*/*/main.m4a")))   # song-01
    target = entry / "main.m4a"
    data = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        target.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    else:
        (entry / "meta.json").write_text("{", encoding="utf-8")
    events = run_build(demo_manifest, tmp_path / "out", keys_dir, cache)
    corrupt = [e for e in events if e["event"] == "cache-corrupt"]
    assert [e["item"] for e in corrupt] == ["song-01"]
    assert encoded(events) == ["song-01"]
    assert_same_build(tmp_path / "out", built)
    again = run_build(demo_manifest, tmp_path / "again", keys_dir, cache)    # the entry was written anew
    assert encoded(again) == []


def test_an_entry_without_meta_is_never_used(tmp_path):
    """A killed store leaves at most a folder under tmp/; a folder without meta.json is a miss."""
    from infopack.build.cache import Cache
    store = Cache(tmp_path / "cache")
    source = tmp_path / "x.bin"
    source.write_bytes(b"abc" * 1000)
    store.store("ab" + "0" * 62, [("main", ".bin", source)])
    assert store.lookup("ab" + "0" * 62).files
    half = store.root / "entries" / "cd" / ("cd" + "0" * 62)
    half.mkdir(parents=True)
    (half / "main.bin").write_bytes(b"abc")
    found = store.lookup("cd" + "0" * 62)
    assert found.files is None and found.corrupt == "entry without meta.json"
    assert not half.exists()


def test_default_cache_location_follows_the_environment(tmp_path, monkeypatch):
    from infopack.build.cache import default_cache_dir
    monkeypatch.setenv("INFOPACK_CACHE", str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("INFOPACK_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "infopack"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "infopack"


def test_cache_stats_and_prune(demo_manifest, keys_dir, tmp_path, run_cli):
    cache = tmp_path / "cache"
    run_build(demo_manifest, tmp_path / "out", keys_dir, cache)
    result = run_cli("cache", "stats", "--cache", cache)
    assert result.exit_code == 0
    assert "5 entries" in result.output
    total = sum(p.stat().st_size for p in (cache / "entries").rglob("*") if p.is_file())
    assert f"{total:,} bytes" in result.output

    # --older-than: make one entry look unused for 10 days
    old = sorted((cache / "entries").glob("*/*/meta.json"))[0]
    os.utime(old, (old.stat().st_atime, old.stat().st_mtime - 10 * 86400))
    result = run_cli("cache", "prune", "--cache", cache, "--older-than", "5")
    assert result.exit_code == 0 and "removed 1 entries" in result.output
    assert not old.exists()

    # --max-bytes: least recently used first, until the rest fits
    entries = sorted((cache / "entries").glob("*/*"))
    newest = entries[-1]
    os.utime(newest / "meta.json", (newest.stat().st_atime, newest.stat().st_mtime + 60))
    keep = sum(p.stat().st_size for p in newest.iterdir())
    result = run_cli("cache", "prune", "--cache", cache, "--max-bytes", keep)
    assert result.exit_code == 0 and "removed 3 entries" in result.output
    assert sorted((cache / "entries").glob("*/*")) == [newest]

    result = run_cli("cache", "prune", "--cache", cache, "--all")
    assert result.exit_code == 0 and "0 entries, 0 bytes left" in result.output
    assert "0 entries" in run_cli("cache", "stats", "--cache", cache).output


def test_cache_prune_needs_a_rule(tmp_path, run_cli):
    result = run_cli("cache", "prune", "--cache", tmp_path / "cache")
    assert result.exit_code == 2
    assert "say what to prune" in result.stderr
    assert "Traceback" not in result.output


def test_report_lists_excluded_items_with_their_reason(demo_manifest, curator_key, tmp_path):
    from infopack.build import build
    result = build(demo_manifest, tmp_path / "out", curator_key, jobs=2, exclude={"song-01": "not approved"})
    assert result.left_out == ["song-01"] and result.left_out_reasons == {"song-01": "not approved"}
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert report["left_out"] == ["song-01"]
    assert report["left_out_reasons"] == {"song-01": "not approved"}
    assert "song-01" not in [i["id"] for i in report["items"]]
    assert not list((tmp_path / "out" / "card-01").rglob("*.m4a"))


def test_build_cli_options_fit_and_content_sized_image(demo_manifest, keys_dir, tmp_path, run_cli):
    from infopack.fat.catalog import load_card
    from infopack.fat.image import content_image_size
    out = tmp_path / "out"
    result = run_cli("build", demo_manifest, "--out", out, "--key", keys_dir / "curator.key", "--fit", "--image",
                     "--image-size", "content", "--cache", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    image = out / "card-01.img"
    assert image.stat().st_size == content_image_size(out / "card-01", load_card("8GB"))
    assert image.stat().st_size < load_card("8GB").usable_bytes
    assert "card-01: 5 items" in result.output
