"""The content-addressed encode cache: no-op rebuilds encode nothing, a subtitle change redoes one
item, damaged entries are found and rebuilt, and `infopack cache stats|prune` manage it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from test_resume import assert_same_build, build_cmd, build_env, run_build


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
    (tmp_path / "work").mkdir()
    assert store.lookup("ab" + "0" * 62, tmp_path / "work", "x.").files
    assert (tmp_path / "work" / "x.main.bin").read_bytes() == source.read_bytes()
    half = store.root / "entries" / "cd" / ("cd" + "0" * 62)
    half.mkdir(parents=True)
    (half / "main.bin").write_bytes(b"abc")
    found = store.lookup("cd" + "0" * 62, tmp_path / "work", "y.")
    assert found.files is None and found.corrupt == "entry without meta.json"
    assert not half.exists() and not (tmp_path / "work" / "y.main.bin").exists()


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


# --------------------------------------------------------------------------- independent output files

def card_files_of(out: Path) -> list[Path]:
    return sorted(p for p in (out / "card-01").rglob("*") if p.is_file())


def test_outs_sharing_a_cache_hold_files_of_their_own(demo_manifest, keys_dir, built, tmp_path, run_cli):
    """Three OUTs from one cache: no card file is linked to the cache or to another OUT, so one
    byte changed in one OUT leaves the others, the cache and a fourth build as they were."""
    cache = tmp_path / "cache"
    outs = [tmp_path / name for name in ("a", "b", "c")]
    for out in outs:
        run_build(demo_manifest, out, keys_dir, cache)
    entries = sorted(p for p in (cache / "entries").rglob("*") if p.is_file() and p.name != "meta.json")
    assert entries and all(p.stat().st_mode & 0o777 == 0o444 for p in entries)       # read-only entries
    files = [p for out in outs for p in card_files_of(out)]
    assert files and all(p.stat().st_nlink == 1 for p in files)
    inodes = [(p.stat().st_dev, p.stat().st_ino) for p in files + entries]
    assert len(set(inodes)) == len(inodes)

    damaged = outs[0] / "card-01" / "소리" / "아침 노래.m4a"
    with open(damaged, "r+b") as handle:                  # in place, as a careless tool would
        handle.seek(200)
        byte = handle.read(1)
        handle.seek(200)
        handle.write(bytes([byte[0] ^ 1]))
    pub = keys_dir / "curator.pub"
    assert run_cli("verify", outs[0], "--pubkey", pub, "--hash-only").exit_code == 1
    for out in outs[1:]:
        assert run_cli("verify", out, "--pubkey", pub).exit_code == 0, out
    fourth = run_build(demo_manifest, tmp_path / "d", keys_dir, cache)
    assert fourth[-1]["encoded"] == 0 and fourth[-1]["cached"] == 5 and not cache_events(fourth)
    assert run_cli("verify", tmp_path / "d", "--pubkey", pub).exit_code == 0
    assert_same_build(tmp_path / "d", built)
    assert all(p.stat().st_nlink == 1 for p in card_files_of(tmp_path / "d"))


def cache_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event"] in ("cache-corrupt", "cache-unwritable")]


def test_clone_file_makes_a_file_of_its_own(tmp_path):
    import hashlib
    from infopack.build.cache import clone_file
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 << 20))
    assert clone_file(source, tmp_path / "clone.bin") == (3 << 20, hashlib.sha256(source.read_bytes()).hexdigest())
    assert (tmp_path / "clone.bin").read_bytes() == source.read_bytes()
    assert (tmp_path / "clone.bin").stat().st_ino != source.stat().st_ino and source.stat().st_nlink == 1
    with pytest.raises(FileExistsError):                   # never writes through an existing file
        clone_file(source, tmp_path / "clone.bin")


@contextmanager
def mounted(kind: str, source: str, where: Path, *options: str):
    """A file system mounted for one test (root only); yields None where this machine does not allow it."""
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", kind, *options, source, str(where)], capture_output=True, timeout=60)
    if proc.returncode != 0:
        yield None
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("mkfs.xfs") is None or os.geteuid() != 0,
                    reason="needs xfsprogs and root to mount a small XFS file system")
def test_on_a_file_system_with_clones_a_cache_hit_is_a_copy_on_write_clone(tmp_path):
    """XFS (like btrfs) clones a file without copying it: it shares the cache entry's blocks
    until one of them is written, yet is an inode of its own."""
    from infopack.build.cache import clone_file
    disk = tmp_path / "xfs.img"
    with open(disk, "wb") as handle:
        handle.truncate(320 << 20)                         # XFS's smallest
    subprocess.run(["mkfs.xfs", "-q", str(disk)], check=True, timeout=120)
    with mounted("xfs", str(disk), tmp_path / "mnt", "-o", "loop") as mnt:
        assert mnt is not None, "could not mount the XFS image"
        source = mnt / "entry.bin"
        source.write_bytes(os.urandom(4 << 20))
        assert clone_file(source, mnt / "card.bin")[0] == 4 << 20
        flags = subprocess.run(["filefrag", "-v", str(mnt / "card.bin")], capture_output=True, text=True,
                               timeout=60).stdout
        assert "shared" in flags                           # the blocks are the entry's, not a copy
        assert (mnt / "card.bin").read_bytes() == source.read_bytes()
        assert (mnt / "card.bin").stat().st_ino != source.stat().st_ino
        with open(mnt / "card.bin", "r+b") as handle:      # writing one leaves the other as it was
            handle.write(b"changed")
        assert source.read_bytes()[:7] != b"changed"


# --------------------------------------------------------------------------- a full or read-only cache

def test_a_full_cache_file_system_only_costs_speed(demo_manifest, keys_dir, built, tmp_path, run_cli):
    """A 512 KiB tmpfs as the cache fills during the first build: one warning, a good build;
    remounted read-only, a rebuild reads what was stored and warns once again."""
    with mounted("tmpfs", "tmpfs", tmp_path / "cachefs", "-o", "size=512k") as cache:
        if cache is None:
            pytest.skip("cannot mount a tmpfs here; test_a_cache_that_cannot_be_written_is_simulated covers it")
        events = run_build(demo_manifest, tmp_path / "out", keys_dir, cache)
        warnings = [e for e in events if e["event"] == "cache-unwritable"]
        assert len(warnings) == 1 and "No space left on device" in warnings[0]["detail"], events
        assert events[-1]["encoded"] == 5
        assert run_cli("verify", tmp_path / "out", "--pubkey", keys_dir / "curator.pub").exit_code == 0
        assert_same_build(tmp_path / "out", built)
        assert not list((cache / "tmp").iterdir())         # nothing half-written left behind
        stored = len(list((cache / "entries").glob("*/*")))
        subprocess.run(["mount", "-o", "remount,ro", str(cache)], check=True, timeout=60)
        again = run_build(demo_manifest, tmp_path / "again", keys_dir, cache)
        assert [e["event"] for e in again].count("cache-unwritable") <= 1
        assert again[-1]["cached"] >= stored and again[-1]["cached"] + again[-1]["encoded"] == 5
        assert_same_build(tmp_path / "again", built)
        plain = subprocess.run(build_cmd(demo_manifest, tmp_path / "plain", keys_dir), env=build_env(cache),
                               capture_output=True, timeout=600)
        assert plain.returncode == 0, plain.stderr.decode()
        err = plain.stderr.decode()
        assert err.count("infopack: warning: cannot write to the cache") == (1 if stored < 5 else 0)
        assert "Traceback" not in err and "internal error" not in err


def test_a_cache_that_cannot_be_written_is_simulated(demo_manifest, curator_key, built, tmp_path, monkeypatch):
    """ENOSPC on every write into the cache, in-process: a good build and one warning."""
    import errno
    from infopack.build import build
    from infopack.build import cache as cache_module
    from infopack.review.report import write_report_html
    real_clone, real_write = cache_module.clone_file, Path.write_bytes
    root = tmp_path / "cache"

    def full(*_args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def clone(source: Path, target: Path):
        return (full if root in target.parents else real_clone)(source, target)

    def write_bytes(path: Path, data: bytes):
        return full() if root in path.parents else real_write(path, data)

    monkeypatch.setattr(cache_module, "clone_file", clone)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    events: list[dict] = []
    build(demo_manifest, tmp_path / "out", curator_key, jobs=2, cache=root, progress=events.append,
          report_writers=[write_report_html])
    warnings = [e for e in events if e["event"] == "cache-unwritable"]
    assert len(warnings) == 1 and "No space left on device" in warnings[0]["detail"]
    assert not list((root / "entries").glob("*/*")) and not list((root / "tmp").iterdir())
    assert_same_build(tmp_path / "out", built)
