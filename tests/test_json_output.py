"""`--json` on every listing: one JSON document with a `schema`, and errors as JSON too."""

from __future__ import annotations

import json

import pytest


def document(result, schema: str) -> dict:
    data = json.loads(result.stdout)
    assert data["schema"] == schema, data
    assert next(iter(data)) == "schema"                    # the envelope's first key
    return data


def test_plan_json_lists_cards_items_and_estimates(run_cli, demo_manifest):
    result = run_cli("plan", demo_manifest, "--json")
    assert result.exit_code == 0, result.output
    plan = document(result, "infopack/plan/1")
    [card] = plan["cards"]
    assert card["card"] == "card-01" and card["items"] == ["clip-01", "clip-02", "clip-03", "song-01", "photo-01"]
    assert 0 < card["estimated_bytes"] <= card["usable_bytes"]
    assert {i["id"]: i["sampled"] for i in plan["items"]} == {"clip-01": True, "clip-02": True, "clip-03": True,
                                                              "song-01": False, "photo-01": True}
    assert plan["series_split"] == [] and plan["problems"] == [] and plan["left_out"] == []


def test_plan_fast_json_gives_the_upper_estimates(run_cli, demo_manifest):
    sampled = document(run_cli("plan", demo_manifest, "--json"), "infopack/plan/1")
    fast = document(run_cli("plan", demo_manifest, "--json", "--fast"), "infopack/plan/1")
    assert fast["estimates"] == "upper" and not any(i["sampled"] for i in fast["items"])
    assert fast["cards"][0]["estimated_bytes"] > sampled["cards"][0]["estimated_bytes"]


@pytest.mark.parametrize("args", [("profiles", "--json"), ("profiles", "list", "--json")])
def test_profiles_json(run_cli, args):
    profiles = document(run_cli(*args), "infopack/profiles/1")["profiles"]
    assert "notel-480p" in [p["id"] for p in profiles]
    assert all(p["description"] for p in profiles)


def test_profile_show_json_keeps_its_fields(run_cli):
    shown = document(run_cli("profiles", "show", "notel-480p", "--json"), "infopack/profile/1")
    assert shown["id"] == "notel-480p" and shown["video"]["codec"] == "libx264"


def test_cards_list_json(run_cli):
    cards = document(run_cli("cards", "list", "--json"), "infopack/cards/1")["cards"]
    eight = next(c for c in cards if c["name"] == "8GB")
    assert eight["filesystem"] == "fat32" and eight["cluster_bytes"] == 32768 and eight["source"] == "catalog"


def test_cache_stats_json(run_cli, tmp_path):
    stats = document(run_cli("cache", "stats", "--cache", tmp_path / "cache", "--json"), "infopack/cache-stats/1")
    assert stats["entries"] == 0 and stats["bytes"] == 0 and stats["oldest_use"] is None


def test_review_status_json(run_cli, built_copy):
    status = document(run_cli("review", "status", built_copy, "--json"), "infopack/review-status/1")
    assert status["reviewers"] == []
    assert [i["id"] for i in status["items"]] == ["clip-01", "clip-02", "clip-03", "song-01", "photo-01"]
    assert all(i["signed_by"] == [] and i["reviews"] == {} for i in status["items"])
    assert status["signatures_checked"] is False


def test_subs_check_json(run_cli, samples_dir, tmp_path):
    broken = tmp_path / "broken.srt"
    broken.write_bytes(b"\x00\x01 not a subtitle")
    result = run_cli("subs", "check", samples_dir / "subs" / "clip03.smi", broken, "--json")
    assert result.exit_code == 1
    checked = document(result, "infopack/subs-check/1")
    good, bad = checked["files"]
    assert good["ok"] and good["format"] == "sami" and good["cues"] > 0
    assert not bad["ok"] and bad["error"] and checked["failed"] == 1


def test_key_show_json(run_cli, keys_dir):
    key = document(run_cli("key", "show", keys_dir / "curator.pub", "--json"), "infopack/key/1")
    assert key["role"] == "curator" and len(key["key_id"]) == 16 and key["fingerprint"]


def test_verify_and_scan_json_carry_a_schema_and_keep_their_fields(run_cli, built, keys_dir):
    verified = document(run_cli("verify", built, "--pubkey", keys_dir / "curator.pub", "--json"),
                        "infopack/verify/1")
    assert verified["ok"] and verified["cards"][0]["card"] == "card-01"
    scanned = document(run_cli("scan", built / "card-01", "--json"), "infopack/scan/1")
    assert scanned["clean"] and scanned["files"] > 0 and scanned["findings"] == []


def test_errors_under_json_are_json(run_cli, tmp_path):
    result = run_cli("plan", tmp_path / "missing.toml", "--json")
    assert result.exit_code == 2
    error = document(result, "infopack/error/1")
    assert error == {"schema": "infopack/error/1", "error": "no such manifest file",
                     "path": str(tmp_path / "missing.toml"), "exit": 2}
    assert "infopack: " in result.stderr                   # the line for people stays on stderr
    failed = run_cli("verify", tmp_path, "--pubkey", tmp_path / "none.pub", "--json")
    assert document(failed, "infopack/error/1")["exit"] == failed.exit_code == 2


def test_without_json_errors_stay_one_line_on_stderr(run_cli, tmp_path):
    result = run_cli("plan", tmp_path / "missing.toml")
    assert result.exit_code == 2 and result.stdout == "" and "no such manifest file" in result.stderr


def test_a_build_error_under_json_is_one_json_line_like_its_events(run_cli, demo_manifest, tmp_path):
    result = run_cli("build", demo_manifest, "--out", tmp_path / "out", "--key", tmp_path / "none.key", "--json")
    assert result.exit_code == 2
    [line] = result.stdout.splitlines()
    assert json.loads(line)["schema"] == "infopack/error/1" and json.loads(line)["exit"] == 2
