"""The plan is the build: the same cards and items on them, series splits said, strict series refused,
and where the build must differ from the plan, it says so and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infopack.fat.catalog import CardType
from infopack.plan import estimate as estimate_module
from infopack.plan.assign import packing_notes, settle
from infopack.plan.packing import PackItem, group_splits, pack
from infopack.plan.samples import MAX_WINDOWS, MIN_WINDOWS, windows
from infopack.manifest import load_manifest
from tests.conftest import DEMO_MANIFEST

SMALL = CardType("small", 100 * 4096, 4096, "fat32", 1_000_000)


@pytest.fixture
def tiny_home(monkeypatch, tmp_path) -> str:
    """A measured card type too small for the sample bundle, in a temporary ~/.config/infopack/cards/."""
    home = tmp_path / "home"
    folder = home / ".config" / "infopack" / "cards"
    folder.mkdir(parents=True)
    (folder / "tiny.toml").write_text('usable_bytes = 655360\ncluster_bytes = 4096\nfilesystem = "fat32"\n'
                                      'total_bytes = 700000\n', encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    return "tiny"


def manifest_for(samples_dir: Path, name: str, text: str) -> Path:
    path = samples_dir / name
    path.write_text(text, encoding="utf-8")
    return path


def built_cards(out: Path) -> list[dict]:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))["cards"]


def test_plan_and_build_make_the_same_cards_on_a_small_measured_card(run_cli, samples_dir, tiny_home, keys_dir,
                                                                     tmp_path):
    manifest = manifest_for(samples_dir, "plan-is-build.toml", DEMO_MANIFEST.replace('card = "8GB"', 'card = "tiny"'))
    planned = run_cli("plan", manifest, "--json")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert plan["schema"] == "infopack/plan/1" and plan["estimates"] == "sampled"
    assert len(plan["cards"]) >= 2 and not plan["problems"]
    out = tmp_path / "out"
    result = run_cli("build", manifest, "--out", out, "--key", keys_dir / "curator.key")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(c["id"], c["items"]) for c in report["cards"]] == [(c["card"], c["items"]) for c in plan["cards"]]
    assert "packing" not in report and "differ from the plan" not in result.stdout
    for card, built in zip(plan["cards"], report["cards"]):      # the estimates were close, not just lucky
        assert abs(card["estimated_bytes"] / built["used_bytes"] - 1) < 0.25


def test_a_build_that_must_differ_from_the_plan_says_which_card_and_why(run_cli, samples_dir, tiny_home, keys_dir,
                                                                        tmp_path, monkeypatch):
    """Estimates far too low (a stand-in for content the samples missed): the planned cards
    overflow, the build packs the built sizes and says so in a line and in report.json."""
    real = estimate_module.sampled_sizes
    monkeypatch.setattr(estimate_module, "sampled_sizes",
                        lambda *args, **kwargs: {k: v // 4 for k, v in real(*args, **kwargs).items()})
    manifest = manifest_for(samples_dir, "plan-too-low.toml", DEMO_MANIFEST.replace('card = "8GB"', 'card = "tiny"'))
    plan = json.loads(run_cli("plan", manifest, "--json").stdout)
    out = tmp_path / "out"
    result = run_cli("build", manifest, "--out", out, "--key", keys_dir / "curator.key")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["packing"]["planned_cards"] == len(plan["cards"])
    assert report["packing"]["cards"] == len(report["cards"]) > len(plan["cards"])
    assert "usable bytes" in report["packing"]["reason"] and "headroom" in report["packing"]["reason"]
    assert "the cards differ from the plan: card-0" in result.stdout


SERIES = DEMO_MANIFEST.replace('card = "8GB"', 'card = "tiny"').replace(
    'title = "시장 풍경"', 'title = "시장 풍경"\ngroup = "바다 이야기"\nepisode = 2').replace(
    'title = "세포의 삶"', 'title = "세포의 삶"\ngroup = "바다 이야기"\nepisode = 3')


def test_a_series_too_large_for_one_card_is_split_and_the_split_is_named(run_cli, samples_dir, tiny_home,
                                                                         keys_dir, tmp_path):
    manifest = manifest_for(samples_dir, "series-split.toml", SERIES)
    plan = json.loads(run_cli("plan", manifest, "--json").stdout)
    [planned_split] = plan["series_split"]
    out = tmp_path / "out"
    result = run_cli("build", manifest, "--out", out, "--key", keys_dir / "curator.key")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    [split] = report["series_split"]
    assert split == planned_split and split["group"] == "바다 이야기"
    runs = [run["items"] for run in split["cards"]]
    assert [i for run in runs for i in run] == ["clip-01", "clip-02", "clip-03"]      # in order, consecutive
    assert "series '바다 이야기' does not fit on one card and is split: clip-01" in result.stdout
    for run in split["cards"]:
        assert set(run["items"]) <= set(next(c["items"] for c in report["cards"] if c["id"] == run["card"]))


def test_a_strict_series_too_large_for_one_card_is_refused(run_cli, samples_dir, tiny_home, keys_dir, tmp_path):
    strict = SERIES.replace('version = 3', 'version = 3\ngroups = "strict"')
    manifest = manifest_for(samples_dir, "series-strict.toml", strict)
    planned = run_cli("plan", manifest)
    assert planned.exit_code == 1 and "series '바다 이야기'" in planned.stdout and "strict" in planned.stdout
    result = run_cli("build", manifest, "--out", tmp_path / "out", "--key", keys_dir / "curator.key")
    assert result.exit_code == 1
    assert "series '바다 이야기' (3 items" in result.stderr and "groups = \"strict\"" in result.stderr
    assert not list((tmp_path / "out").glob("card-*"))


def test_groups_must_be_split_or_strict(samples_dir):
    manifest = manifest_for(samples_dir, "groups-bad.toml", DEMO_MANIFEST.replace('version = 3',
                                                                                 'version = 3\ngroups = "keep"'))
    with pytest.raises(Exception, match=r"bundle.groups: must be \"split\""):
        load_manifest(manifest)


# --------------------------------------------------------------------------- the rules alone

def items(*sizes, group=None) -> list[PackItem]:
    return [PackItem(f"i{n}", {f"f{n}.mp4": size}, group=group, order=n) for n, size in enumerate(sizes)]


def test_settle_keeps_the_planned_cards_when_the_built_sizes_fit_them():
    planned = pack(items(150_000, 150_000, 150_000), SMALL)
    built = items(160_000, 140_000, 155_000)                     # within the headroom
    settled = settle(planned, built, SMALL, load_bundle_stub())
    assert [c.items for c in settled.result.cards] == [c.items for c in planned.cards]
    assert settled.reason is None and packing_notes(settled) == {}
    assert [c.used_bytes for c in settled.result.cards] != [c.used_bytes for c in planned.cards]   # measured bytes


def test_settle_packs_again_and_says_why_when_a_card_overflows():
    planned = pack(items(150_000, 150_000, 150_000), SMALL)      # two per card
    built = items(250_000, 250_000, 250_000)
    settled = settle(planned, built, SMALL, load_bundle_stub())
    assert len(settled.result.cards) == 3 and settled.planned_cards == 2
    assert settled.reason.startswith(f"{planned.cards[0].card_id} would hold ")
    assert packing_notes(settled)["packing"] == {"planned_cards": 2, "cards": 3, "reason": settled.reason}


def test_strict_groups_refuse_a_group_larger_than_a_card_and_place_nothing_of_it():
    members = items(200_000, 200_000, 200_000, group="series")
    loose = pack(members, SMALL)
    assert len(loose.cards) == 2 and not loose.problems
    assert [s.to_dict()["cards"] for s in group_splits(loose.cards, members)] == \
        [[{"card": "card-01", "items": ["i0", "i1"]}, {"card": "card-02", "items": ["i2"]}]]
    strict = pack(members, SMALL, strict_groups=True)
    assert strict.cards == [] and strict.left_out == ["i0", "i1", "i2"]
    assert "series 'series' (3 items" in strict.problems[0]


def test_windows_are_whole_gops_spread_over_the_item():
    assert windows(20.0, 5.0) == [windows(20.0, 5.0)[0]] and windows(20.0, 5.0)[0].whole
    spread = windows(600.0, 5.0)
    assert len(spread) == MIN_WINDOWS and all(w.seconds == 5.0 and w.preroll == 1.0 for w in spread)
    assert [round(w.start) for w in spread] == [98, 298, 498]
    assert windows(30.0, 5.0)[0].preroll == 1.0 and windows(24.0, 5.0)[0].start == 1.5
    assert len(windows(6 * 3600.0, 5.0)) == MAX_WINDOWS
    assert all(0 <= w.start <= 6 * 3600 - 5 for w in windows(6 * 3600.0, 5.0))


def load_bundle_stub():
    class Stub:
        max_cards = None
        groups = "split"
    return Stub()
