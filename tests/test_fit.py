"""Size fitting: the samples fitted to a tiny card come out under it; too little room is refused.

The card is a measured card type (a TOML in ~/.config/infopack/cards, with HOME pointed at
a temporary folder), so its usable bytes can be made as small as the 4-second samples need.
The bundle is the demo's without its photo: image estimates are deliberately generous
(0.35 bytes per pixel; the synthetic photo compresses 8x better), and at this scale the
photo's overestimate alone would be most of the card.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import DEMO_MANIFEST
from infopack.fat.cost import card_cost
from infopack.fat.catalog import load_card
from infopack.errors import CheckFailed, UsageError
from infopack.plan.fit import fit_budgets
from infopack.kinds.base import EncodeJob
from infopack.kinds import REGISTRY, probe_source
from infopack.kinds.subtitle import prepare_subtitles
from infopack.kinds.video import frame_size
from infopack.plan.layout import card_paths
from infopack.manifest import load_manifest
from infopack.plan.packing import PackItem, pack
from infopack.profiles import load_profile
from infopack.scan import scan_file

FITS = 600_000            # bytes: the samples fit fitted, not at the profile's rates (~0.84 MB)
TOO_SMALL = 380_000       # bytes: the videos would have to go below notel-480p's floor
SHORTFALL = re.compile(r"3 videos \(0\.2 min\) do not fit 'tiny' above the quality floor \(150 kb/s at 854x480, "
                       r"profile notel-480p\): cut at least [\d.]+ MB \(([\d,]+) bytes, about \d+ s of video\) "
                       r"or use a larger card / more cards")


def use_card(home, usable: int) -> None:
    folder = home / ".config" / "infopack" / "cards"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.toml").write_text(f'name = "tiny"\nusable_bytes = {usable}\ncluster_bytes = 4096\n'
                                      f'filesystem = "fat32"\n', encoding="utf-8")


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """A measured card type "tiny" (usable bytes set by the test) and a manifest with fit = true."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return lambda usable: use_card(tmp_path, usable)


@pytest.fixture(scope="module")
def fit_manifest(samples_dir):
    path = samples_dir / "fit-bundle.toml"
    text = DEMO_MANIFEST[:DEMO_MANIFEST.index('[[items]]\nid = "photo-01"')]
    path.write_text(text.replace('card = "8GB"', 'card = "tiny"\nfit = true'), encoding="utf-8")
    return path


def probed(bundle):
    return {item.id: probe_source(item.source) for item in bundle.items}


def encode_all(bundle, profile, budgets, work):
    """Encode every item as the build does (validated), at `budgets`; {item id: [Produced]}."""
    produced = {}
    for item in bundle.items:
        info = probe_source(item.source)
        item_dir = work / item.id
        item_dir.mkdir(parents=True)
        subs = None
        if item.subtitles and info.kind == "video":
            play_res = frame_size(info, profile.video)
            subs = prepare_subtitles(item, profile, item_dir, duration=info.duration, play_res=play_res)
        handler = REGISTRY.kind_named(info.kind)
        job = EncodeJob(item, info, profile, item_dir, subs, video_bitrate=budgets.get(item.id))
        produced[item.id] = handler.transcode(job)
        for prod in produced[item.id]:
            handler.validate(job, prod)
    return produced


def card_files(bundle, profile, produced):
    infos = probed(bundle)
    paths = card_paths([(item, infos[item.id].kind, {p.role: p.extension for p in produced[item.id]})
                        for item in bundle.items], ascii_only=profile.ascii_names)
    return {item.id: {paths[item.id][p.role]: p.path.stat().st_size for p in produced[item.id]}
            for item in bundle.items}


def test_fitted_samples_come_out_under_the_card(tiny, fit_manifest, tmp_path):
    tiny(FITS)
    bundle = load_manifest(fit_manifest)
    profile, card = load_profile(bundle.profile), load_card("tiny")
    budgets = fit_budgets(bundle, profile, card, probed(bundle))
    assert set(budgets) == {"clip-01", "clip-02", "clip-03"}
    assert all(150_000 * 0.6 < rate < 1_000_000 for rate in budgets.values()), budgets
    fitted = card_files(bundle, profile, encode_all(bundle, profile, budgets, tmp_path / "fitted"))
    used = card_cost({p: s for files in fitted.values() for p, s in files.items()}, card)
    assert used <= card.usable_bytes, (used, card.usable_bytes)
    plan = pack([PackItem(id=i, files=f) for i, f in fitted.items()], card, max_cards=1)
    assert not plan.problems and not plan.left_out and len(plan.cards) == 1

    unfitted = card_files(bundle, profile, encode_all(bundle, profile, {}, tmp_path / "unfitted"))
    assert card_cost({p: s for files in unfitted.values() for p, s in files.items()}, card) > card.usable_bytes


def test_too_little_room_is_refused_with_the_shortfall(tiny, fit_manifest):
    tiny(TOO_SMALL)
    bundle = load_manifest(fit_manifest)
    profile, infos = load_profile(bundle.profile), probed(bundle)
    with pytest.raises(CheckFailed) as err:
        fit_budgets(bundle, profile, load_card("tiny"), infos)
    match = SHORTFALL.search(err.value.line())
    assert match and err.value.path == str(fit_manifest), err.value.line()
    # The stated shortfall is what is missing: that much more room (and a cluster or two) fits.
    short = int(match.group(1).replace(",", ""))
    tiny(TOO_SMALL + short + 2 * 4096)
    budgets = fit_budgets(bundle, profile, load_card("tiny"), infos)
    assert len(budgets) == 3 and min(budgets.values()) >= 150_000 * (640 * 360 / (854 * 480)) ** 0.75 - 1
    tiny(TOO_SMALL + short - 20_000)
    with pytest.raises(CheckFailed, match="quality floor"):
        fit_budgets(bundle, profile, load_card("tiny"), infos)


def test_rates_follow_duration_times_pixels_and_stop_at_the_cap(tiny, fit_manifest):
    bundle = load_manifest(fit_manifest)
    profile, infos = load_profile(bundle.profile), probed(bundle)
    tiny(FITS)
    budgets = fit_budgets(bundle, profile, load_card("tiny"), infos)
    # clip-01 is 854x480, clip-03 640x360: rates in the ratio of pixels^0.75.
    assert budgets["clip-01"] / budgets["clip-03"] == pytest.approx((854 * 480 / (640 * 360)) ** 0.75, rel=0.01)
    tiny(50_000_000)       # room for everything at the profile's own rates: nothing to fit
    assert fit_budgets(bundle, profile, load_card("tiny"), infos) == {}


def test_plan_uses_the_fitted_rates_and_the_cli_refuses_with_the_shortfall(tiny, fit_manifest, run_cli):
    from infopack.plan import make_plan
    tiny(FITS)
    plan = make_plan(load_manifest(fit_manifest))
    assert set(plan.fitted) == {"clip-01", "clip-02", "clip-03"}
    assert plan.items["clip-03"].video_bitrate == plan.fitted["clip-03"]
    assert not plan.result.problems and plan.result.cards[0].used_bytes <= FITS
    tiny(TOO_SMALL)
    result = run_cli("plan", fit_manifest)
    assert result.exit_code == 1
    assert SHORTFALL.search(result.output.replace("\n", " ")) or SHORTFALL.search(result.stderr.replace("\n", " "))


def test_mpeg4_profiles_refuse_fitting_with_one_line(tiny, fit_manifest, samples_dir):
    tiny(FITS)
    bundle = load_manifest(fit_manifest)
    with pytest.raises(UsageError, match="profile legacy-avi cannot be size-fitted"):
        fit_budgets(bundle, load_profile("legacy-avi"), load_card("tiny"), probed(bundle))


def test_two_pass_is_reproducible_stripped_and_in_the_recipe(fit_manifest, tmp_path):
    bundle = load_manifest(fit_manifest)
    item = bundle.items[0]
    info = probe_source(item.source)
    handler = REGISTRY.kind_named("video")
    for pid in ("notel-480p", "modern-hevc"):
        profile = load_profile(pid)
        outputs = []
        for run in ("a", "b"):
            work = tmp_path / pid / run
            work.mkdir(parents=True)
            job = EncodeJob(item, info, profile, work, video_bitrate=200_000)
            produced = handler.transcode(job)
            assert [p.role for p in produced] == ["main"]
            handler.validate(job, produced[0])
            outputs.append(produced[0].path.read_bytes())
            assert not [f for f in scan_file(str(produced[0].path)) if f.level == "error"]
        assert outputs[0] == outputs[1], pid
        plain = EncodeJob(item, info, profile, tmp_path)
        fitted = EncodeJob(item, info, profile, tmp_path, video_bitrate=200_000)
        other = EncodeJob(item, info, profile, tmp_path, video_bitrate=210_000)
        recipes = {tuple(handler.recipe(j)) for j in (plain, fitted, other)}
        assert len(recipes) == 3
        assert "pass=1" in " ".join(handler.recipe(fitted)) or "-pass" in handler.recipe(fitted)


def test_a_fitted_build_fits_the_card(tiny, fit_manifest, curator_key, tmp_path):
    """End to end through infopack.build (fit = true in the manifest)."""
    from infopack.build import build
    tiny(FITS)
    out = tmp_path / "out"
    build(fit_manifest, out, curator_key, jobs=2)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert len(report["cards"]) == 1
    assert report["cards"][0]["used_bytes"] <= FITS
    card = out / "card-01"
    sizes = {p.relative_to(card).as_posix(): p.stat().st_size for p in card.rglob("*") if p.is_file()}
    assert card_cost(sizes, load_card("tiny")) <= FITS
    assert not list(out.rglob("*.passlog*")) and not list(out.rglob("*.mbtree"))


def test_a_build_that_cannot_fit_is_refused_by_the_cli(tiny, fit_manifest, keys_dir, run_cli, tmp_path):
    tiny(TOO_SMALL)
    result = run_cli("build", fit_manifest, "--out", tmp_path / "out", "--key", keys_dir / "curator.key")
    assert result.exit_code == 1, result.output
    assert SHORTFALL.search((result.output + result.stderr).replace("\n", " "))
    assert not (tmp_path / "out" / "card-01").exists()
