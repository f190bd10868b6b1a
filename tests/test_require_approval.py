"""`build --require-approval POLICY`: reviewers' signed approvals gate what goes on the cards."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import PASSPHRASE

ALL_ITEMS = {"clip-01", "clip-02", "clip-03", "song-01", "photo-01"}


@pytest.fixture(scope="module")
def reviewer(tmp_path_factory) -> Path:
    from infopack.release.keys import keygen
    dest = tmp_path_factory.mktemp("approval-keys")
    keygen(str(dest / "ana"), "reviewer", PASSPHRASE)
    return dest


@pytest.fixture
def policy(tmp_path, keys_dir, reviewer) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(f'[roles.curator]\nkeys = ["{keys_dir / "curator.pub"}"]\n'
                    f'[roles.reviewer]\nthreshold = 1\nkeys = ["{reviewer / "ana.pub"}"]\n', encoding="utf-8")
    return path


def card_items(out: Path) -> set[str]:
    return {item["id"] for manifest in out.glob("card-*.manifest.json")
            for item in json.loads(manifest.read_bytes())["items"]}


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_build_leaves_out_exactly_the_unapproved_items(run_cli, built_copy, demo_manifest, keys_dir, reviewer, policy):
    approve = run_cli("approve", built_copy, "--key", reviewer / "ana.key", "--items", "clip-01,clip-03")
    assert approve.exit_code == 0, approve.output
    result = run_cli("build", demo_manifest, "--out", built_copy, "--key", keys_dir / "curator.key",
                     "--require-approval", policy)
    assert result.exit_code == 0, result.output
    assert card_items(built_copy) == {"clip-01", "clip-03"}
    report = json.loads((built_copy / "report.json").read_text(encoding="utf-8"))
    assert set(report["left_out"]) == ALL_ITEMS - {"clip-01", "clip-03"}
    assert report["left_out_reasons"]["clip-02"] == "approved by 0 of 1 required reviewer(s)"
    for item in ("clip-02", "song-01", "photo-01"):
        assert f"left out: {item} (approved by 0 of 1" in result.output
    # The approval was of the five-item manifest; the new manifest differs, so it is set aside
    # with the manifest it signed (infopack.build.publish), never deleted.
    assert not list(built_copy.glob("card-*.manifest.json.*.minisig"))
    assert len(list(built_copy.glob("superseded/card-01.*/card-01.manifest.json.*.minisig"))) == 1
    assert run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub").exit_code == 0


def test_unapproved_items_can_fail_the_build_instead(run_cli, built_copy, demo_manifest, keys_dir, reviewer, policy):
    assert run_cli("approve", built_copy, "--key", reviewer / "ana.key", "--items", "clip-01").exit_code == 0
    before = snapshot(built_copy)
    result = run_cli("build", demo_manifest, "--out", built_copy, "--key", keys_dir / "curator.key",
                     "--require-approval", policy, "--unapproved", "fail")
    assert result.exit_code == 1
    assert "4 item(s) not approved" in result.stderr and "clip-02" in result.stderr and "clip-01:" not in result.stderr
    assert snapshot(built_copy) == before


def test_nothing_approved_is_refused(run_cli, built_copy, demo_manifest, keys_dir, policy):
    result = run_cli("build", demo_manifest, "--out", built_copy, "--key", keys_dir / "curator.key",
                     "--require-approval", policy)
    assert result.exit_code == 1 and "no item of test-bundle is approved" in result.stderr


def test_an_unchanged_rebuild_keeps_the_approvals_and_passes_the_policy(run_cli, built_copy, demo_manifest,
                                                                        keys_dir, reviewer, policy):
    assert run_cli("approve", built_copy, "--key", reviewer / "ana.key").exit_code == 0
    approvals = sorted(p.name for p in built_copy.glob("card-*.manifest.json.*.minisig"))
    assert approvals
    result = run_cli("build", demo_manifest, "--out", built_copy, "--key", keys_dir / "curator.key",
                     "--require-approval", policy)
    assert result.exit_code == 0, result.output
    assert card_items(built_copy) == ALL_ITEMS
    assert sorted(p.name for p in built_copy.glob("card-*.manifest.json.*.minisig")) == approvals
    assert run_cli("verify", built_copy, "--policy", policy).exit_code == 0


def test_an_item_changed_since_its_approval_fails_the_build(run_cli, built_copy, samples_dir, demo_manifest,
                                                            keys_dir, reviewer, policy, tmp_path):
    assert run_cli("approve", built_copy, "--key", reviewer / "ana.key").exit_code == 0
    changed = tmp_path / "samples"
    shutil.copytree(samples_dir, changed)
    srt = changed / "subs" / "clip01.ko.srt"
    srt.write_text(srt.read_text(encoding="utf-8") + "\n99\n00:00:01,000 --> "
                   "00:00:02,000\n새로 넣은 자막\n", encoding="utf-8")
    before = snapshot(built_copy)
    result = run_cli("build", changed / demo_manifest.name, "--out", built_copy, "--key", keys_dir / "curator.key",
                     "--require-approval", policy)
    assert result.exit_code == 1
    assert "item clip-01 is not what the reviewers approved" in result.stderr
    assert snapshot(built_copy) == before


def test_approving_more_items_later_adds_to_the_same_reviewers_approval(run_cli, built_copy, demo_manifest,
                                                                        keys_dir, reviewer, policy):
    from infopack.release.gate import unapproved_items
    key = reviewer / "ana.key"
    assert run_cli("approve", built_copy, "--key", key, "--items", "clip-01").exit_code == 0
    second = run_cli("approve", built_copy, "--key", key, "--items", "clip-03")
    assert second.exit_code == 0 and "approved clip-01, clip-03 (new: clip-03)" in second.output
    assert sorted(unapproved_items(built_copy, policy, sorted(ALL_ITEMS))) == ["clip-02", "photo-01", "song-01"]
    result = run_cli("build", demo_manifest, "--out", built_copy, "--key", keys_dir / "curator.key",
                     "--require-approval", policy)
    assert result.exit_code == 0, result.output
    assert card_items(built_copy) == {"clip-01", "clip-03"}


def test_withdrawing_is_explicit_and_takes_out_only_what_it_names(run_cli, built_copy, reviewer, policy):
    from infopack.release.gate import unapproved_items
    key = reviewer / "ana.key"
    assert run_cli("approve", built_copy, "--key", key, "--items", "clip-01,clip-02").exit_code == 0
    assert run_cli("approve", built_copy, "--key", key, "--items", "clip-01").exit_code == 0     # no narrowing
    assert "clip-02" not in unapproved_items(built_copy, policy, ["clip-02"])
    result = run_cli("approve", built_copy, "--key", key, "--items", "clip-02", "--withdraw")
    assert result.exit_code == 0 and "withdrew clip-02; still approved: clip-01" in result.output
    assert sorted(unapproved_items(built_copy, policy, ["clip-01", "clip-02"])) == ["clip-02"]
    assert "no approval left" in run_cli("approve", built_copy, "--key", key, "--items", "clip-01",
                                         "--withdraw").output
    assert not list(built_copy.glob("card-*.manifest.json.*.minisig"))


def test_an_approval_of_earlier_manifest_bytes_is_replaced_not_extended(run_cli, built_copy, reviewer, policy):
    from infopack.release.gate import unapproved_items
    key = reviewer / "ana.key"
    assert run_cli("approve", built_copy, "--key", key, "--items", "clip-01").exit_code == 0
    signature = next(built_copy.glob("card-01.manifest.json.*.minisig"))
    manifest = built_copy / "card-01.manifest.json"
    original = manifest.read_bytes()
    manifest.write_bytes(original.replace(b'"version":3', b'"version":4'))     # as a rebuild would
    assert run_cli("approve", built_copy, "--key", key, "--items", "clip-03").exit_code == 0
    manifest.write_bytes(original)
    assert "version=4" in signature.read_text(encoding="utf-8")
    assert "items=clip-03" in signature.read_text(encoding="utf-8")
    assert sorted(unapproved_items(built_copy, policy, ["clip-01", "clip-03"])) == ["clip-01", "clip-03"]
