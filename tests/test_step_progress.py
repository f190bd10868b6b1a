"""Progress where time passes besides encoding: sample encodes, the cards after encoding (assemble,
scan, hash, sign, image), verify, scan and copy feed bars on a terminal."""

from __future__ import annotations

from infopack.build import build
from infopack.cli.progress import Bars, bar_feed
from infopack.qa.verify import VerifyOptions, verify_out
from infopack.release.keys import load_public_key
from infopack.scan import scan_paths


class FakeBar:
    def __init__(self):
        self.total, self.completed = 0, 0

    def update(self, *, completed=None, total=None, advance=0):
        self.total = self.total if total is None else total
        self.completed = (self.completed if completed is None else completed) + advance


def test_verify_reports_every_file_and_its_bytes(built, keys_dir):
    events = []
    [report] = verify_out(built, load_public_key(keys_dir / "curator.pub"), VerifyOptions(progress=events.append))
    start, *steps = events
    assert start == {"event": "verifying", "files": report.files, "bytes": report.bytes}
    assert len(steps) == report.files and sum(e["bytes"] for e in steps) == report.bytes
    bar = FakeBar()
    feed = bar_feed(bar, "verifying", "verified")
    for event in events:
        feed(event)
    assert bar.total == bar.completed == report.bytes


def test_scan_reports_every_file(built):
    events = []
    scan_paths([str(built / "card-01")], progress=events.append)
    assert events[0]["event"] == "scanning" and len(events) == events[0]["files"] + 1
    bar = FakeBar()
    feed = bar_feed(bar, "scanning", "scanned", size="files")
    for event in events:
        feed(event)
    assert bar.total == bar.completed == events[0]["files"]


def test_the_cards_after_encoding_have_their_own_bar(demo_manifest, curator_key, tmp_path):
    events = []
    result = build(demo_manifest, tmp_path / "out", curator_key, jobs=2, progress=events.append)
    names = [e["event"] for e in events]
    sealing = events[names.index("sealing")]
    sealed = [e for e in events if e["event"] == "sealed"]
    assert names.index("sealing") < names.index("sealed") < names.index("done")
    assert sealing["cards"] == len(sealed) == len(result.cards)
    assert sealing["bytes"] == sum(e["bytes"] for e in sealed) == sum(c.used_bytes for c in result.cards)
    bars = Bars()
    try:
        for event in events:
            bars(event)
        task = bars.progress.tasks[bars.steps["cards"]]
        assert task.total == task.completed == sealing["bytes"]
    finally:
        bars.close()
