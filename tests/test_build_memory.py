"""Memory stays flat with many items: peak RSS of the infopack process for a 200-item bundle of
tiny images (bench/speed.py measures 1,000), cold and as a no-op rebuild."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.speed import MEASURE, make_tiny_bundle
from conftest import PASSPHRASE, REPO

LIMIT_MB = 200


def build_measured(manifest, out, keys_dir, cache, rss_file) -> tuple[dict, float]:
    env = dict(os.environ, INFOPACK_PASSPHRASE=PASSPHRASE, INFOPACK_CACHE=str(cache), PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", MEASURE.format(rss=str(rss_file)), "build", str(manifest),
                           "--out", str(out), "--key", str(keys_dir / "curator.key"), "-j", "2", "--json"],
                          env=env, capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    events = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    return events[-1], int(rss_file.read_text()) / 1024


def test_200_items_stay_under_200_mb_and_a_noop_rebuild_encodes_nothing(keys_dir, tmp_path):
    manifest = make_tiny_bundle(tmp_path / "bundle", 200)
    cold, cold_mb = build_measured(manifest, tmp_path / "out", keys_dir, tmp_path / "cache", tmp_path / "rss1")
    assert cold["event"] == "done" and cold["encoded"] + cold["cached"] == 200
    assert cold_mb < LIMIT_MB, f"peak RSS {cold_mb:.0f} MB"
    noop, noop_mb = build_measured(manifest, tmp_path / "out", keys_dir, tmp_path / "cache", tmp_path / "rss2")
    assert noop["encoded"] == 0 and noop["cached"] == 200
    assert noop_mb < LIMIT_MB, f"peak RSS {noop_mb:.0f} MB"
    assert len(list((tmp_path / "out" / "card-01").rglob("*.jpg"))) == 200
