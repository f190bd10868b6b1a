"""verify catches each kind of tampering, through the real CLI, with the right named check.

Every case is its own test; none may pass. File mutations run under `--pubkey` (the curator's
build signature only); the signer cases run under a trust policy with a reviewer role.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from conftest import PASSPHRASE
from helpers import make_redstar_trailer

KEYS: dict[str, Path] = {}      # the session's keys folder, for mutations that re-sign


@pytest.fixture(autouse=True)
def _remember_keys(keys_dir):
    KEYS["dir"] = keys_dir


def verify_json(run_cli, out: Path, pubkey: Path, *extra) -> tuple[int, dict]:
    result = run_cli("verify", out, "--pubkey", pubkey, "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


def checks(report: dict) -> set[str]:
    return {f["check"] for card in report["cards"] for f in card["findings"] if f["level"] == "error"}


def test_untouched_build_verifies(run_cli, built, keys_dir):
    code, report = verify_json(run_cli, built, keys_dir / "curator.pub")
    assert code == 0 and report["ok"] and checks(report) == set()
    assert report["cards"][0]["files"] == 8
    table = run_cli("verify", built, "--pubkey", keys_dir / "curator.pub")
    assert table.exit_code == 0 and "card-01: OK" in table.stdout


def first_video(out: Path) -> Path:
    return out / "card-01" / "영상" / "시장 풍경.mp4"


def flip_byte(out):
    path = first_video(out)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(out):
    path = first_video(out)
    path.write_bytes(path.read_bytes()[:-100])


def add_file(out):
    (out / "card-01" / "영상" / "extra.mp4").write_bytes(b"x" * 10)


def add_hidden(out):
    (out / "card-01" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")


def remove_file(out):
    first_video(out).unlink()


def rename_file(out):
    first_video(out).rename(out / "card-01" / "영상" / "시장 풍경 2.mp4")


def move_between_folders(out):
    first_video(out).rename(out / "card-01" / "사진" / "시장 풍경.mp4")


def nfd_name(out):
    path = first_video(out)
    path.rename(path.with_name(unicodedata.normalize("NFD", path.name)))


def edit_manifest(out):
    path = out / "card-01.manifest.json"
    path.write_bytes(path.read_bytes().replace(b'"version":3', b'"version":4'))


def reorder_manifest(out):
    path = out / "card-01.manifest.json"
    data = json.loads(path.read_bytes())
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def remove_signature(out):
    (out / "card-01.manifest.json.minisig").unlink()


def append_bytes(out):
    with open(first_video(out), "ab") as fh:
        fh.write(b"\0" * 7)


def append_redstar_trailer(out):
    with open(first_video(out), "ab") as fh:
        fh.write(make_redstar_trailer(b"WM8295FF513293A"[2:]))


def add_badly_named_file(out):
    (out / "card-01" / "영상" / "시장: 풍경.").write_bytes(b"x")


def add_camera_named_file(out):
    (out / "card-01" / "영상" / "KakaoTalk_20230501_123456789.mp4").write_bytes(b"x")


def add_folder(out):
    (out / "card-01" / "빈 폴더").mkdir()


def resign(out: Path, card_id: str, change, *, key=None, as_card: str | None = None) -> Path:
    """Rewrite a card's manifest (canonical bytes) and sign it again with the curator key."""
    from infopack.release.keys import load_signing_key
    from infopack.release.card_manifest import canonical_json
    from infopack.release.seal import sign_manifest
    key = key or load_signing_key(KEYS["dir"] / "curator.key", PASSPHRASE)
    manifest = json.loads((out / f"{card_id}.manifest.json").read_bytes())
    change(manifest)
    data = canonical_json(manifest)
    target = out / f"{as_card or card_id}.manifest.json"
    target.write_bytes(data)
    (out / (target.name + ".minisig")).write_text(
        sign_manifest(data, key, bundle_id=manifest["bundle"]["id"], bundle_version=manifest["bundle"]["version"],
                      card_id=manifest["card"]["id"]), encoding="utf-8")
    return target


def make_second_card(out: Path) -> None:
    """card-02: the audio and photo of card-01 only, with its own signed manifest."""
    card2 = out / "card-02"
    shutil.copytree(out / "card-01", card2)
    for folder in ("영상", "바다 이야기"):
        shutil.rmtree(card2 / folder)

    def keep_card2_files(manifest):
        manifest["card"]["id"] = "card-02"
        manifest["card"]["count"] = 2
        manifest["files"] = [f for f in manifest["files"] if not f["path"].startswith(("영상/", "바다 이야기/"))]
        manifest["items"] = [i for i in manifest["items"] if i["kind"] != "video"]
    resign(out, "card-01", keep_card2_files, as_card="card-02")


def swap_manifests_of_two_cards(out):
    """A genuine, signed manifest of card-01 presented as card-02's."""
    make_second_card(out)
    for suffix in (".manifest.json", ".manifest.json.minisig"):
        shutil.copy(out / f"card-01{suffix}", out / f"card-02{suffix}")


def copy_manifest_as_another_card(out):
    """card-01's file list, relabelled card-02 and signed by the curator, against card-02's folder."""
    make_second_card(out)

    def relabel(manifest):
        manifest["card"]["id"] = "card-02"
    resign(out, "card-01", relabel, as_card="card-02")


@pytest.mark.parametrize("mutate, expected", [
    (flip_byte, {"hash-mismatch"}),
    (truncate, {"size-mismatch"}),
    (add_file, {"extra-file"}),
    (add_hidden, {"hidden-file"}),
    (remove_file, {"missing-file"}),
    (rename_file, {"missing-file", "extra-file"}),
    (move_between_folders, {"missing-file", "extra-file"}),
    (nfd_name, {"name-not-nfc"}),
    (edit_manifest, {"signature"}),
    (reorder_manifest, {"signature"}),
    (remove_signature, {"signature"}),
    (append_bytes, {"size-mismatch"}),
    (append_redstar_trailer, {"size-mismatch", "redstar-trailer"}),
    (add_badly_named_file, {"extra-file", "fat-name"}),
    (add_camera_named_file, {"extra-file", "name-identifying"}),
    (add_folder, {"extra-folder"}),
    (swap_manifests_of_two_cards, {"card-mismatch"}),
    (copy_manifest_as_another_card, {"card-mismatch"}),
])
def test_each_mutation_is_caught(run_cli, built_copy, keys_dir, mutate, expected):
    mutate(built_copy)
    code, report = verify_json(run_cli, built_copy, keys_dir / "curator.pub")
    assert code == 1 and not report["ok"]
    assert expected <= checks(report), checks(report)


def rename_and_resign(out: Path, new_name: str, allow: list[str] | None = None) -> None:
    """The market clip renamed on the card and in a manifest the curator signs again."""
    old = "영상/시장 풍경.mp4"
    first_video(out).rename(out / "card-01" / "영상" / new_name)

    def renamed(manifest):
        for entry in manifest["files"]:
            if entry["path"] == old:
                entry["path"] = f"영상/{new_name}"
        for item in manifest["items"]:
            if old in item["files"]:
                item["files"] = sorted(f"영상/{new_name}" if p == old else p for p in item["files"])
                if allow:
                    item["title_allow"] = allow
        manifest["files"].sort(key=lambda f: f["path"])
    resign(out, "card-01", renamed)


def test_an_identifying_name_on_a_card_is_caught_even_when_signed(run_cli, built_copy, keys_dir):
    rename_and_resign(built_copy, "시장 풍경 2023-05-01 720p.mp4")
    code, report = verify_json(run_cli, built_copy, keys_dir / "curator.pub")
    assert code == 1 and checks(report) == {"name-identifying"}
    found = [f for f in report["cards"][0]["findings"] if f["check"] == "name-identifying"]
    assert [f["path"] for f in found] == ["영상/시장 풍경 2023-05-01 720p.mp4"] * 2
    assert "pattern date-ymd" in found[0]["message"] and "pattern release-resolution" in found[1]["message"]


def test_a_name_its_item_allows_passes(run_cli, built_copy, keys_dir):
    rename_and_resign(built_copy, "시장 풍경 2023-05-01.mp4", allow=["date-ymd"])
    code, report = verify_json(run_cli, built_copy, keys_dir / "curator.pub")
    assert code == 0 and report["ok"], report["cards"][0]["findings"]


def test_signature_by_another_key_is_rejected(run_cli, built_copy, keys_dir):
    code, report = verify_json(run_cli, built_copy, keys_dir / "other.pub")
    assert code == 1
    messages = [f["message"] for f in report["cards"][0]["findings"] if f["check"] == "signature"]
    assert messages and "another key" in messages[0]


def test_a_copied_card_verifies_against_its_manifest(run_cli, built, keys_dir, tmp_path):
    card = tmp_path / "mounted-card"
    shutil.copytree(built / "card-01", card)
    result = run_cli("verify", card, "--manifest", built / "card-01.manifest.json",
                     "--pubkey", keys_dir / "curator.pub")
    assert result.exit_code == 0, result.output
    (card / "Thumbs.db").write_bytes(b"x")
    result = run_cli("verify", card, "--manifest", built / "card-01.manifest.json",
                     "--pubkey", keys_dir / "curator.pub")
    assert result.exit_code == 1 and "hidden-file" in result.stdout


def test_verify_usage_errors_exit_2(run_cli, built, keys_dir, tmp_path):
    assert run_cli("verify", tmp_path, "--pubkey", keys_dir / "curator.pub").exit_code == 2
    result = run_cli("verify", built, "--pubkey", tmp_path / "missing.pub")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_independent_tools_also_catch_a_flipped_byte(built_copy):
    flip_byte(built_copy)
    proc = subprocess.run(["sha256sum", "-c", "--quiet", "../card-01.SHA256SUMS"], cwd=built_copy / "card-01",
                          capture_output=True, timeout=60)
    assert proc.returncode != 0


# --------------------------------------------------------------------------- replay

def test_an_older_release_is_refused_with_min_version(run_cli, built_copy, keys_dir):
    resign(built_copy, "card-01", lambda m: m["bundle"].update(version=2))
    code, report = verify_json(run_cli, built_copy, keys_dir / "curator.pub", "--min-version", "3")
    assert code == 1 and checks(report) == {"version-too-old"}
    code, _ = verify_json(run_cli, built_copy, keys_dir / "curator.pub", "--min-version", "2")
    assert code == 0


def test_another_bundle_is_refused_with_expect_bundle(run_cli, built, keys_dir):
    code, report = verify_json(run_cli, built, keys_dir / "curator.pub", "--expect-bundle", "other-bundle")
    assert code == 1 and checks(report) == {"bundle-mismatch"}
    code, _ = verify_json(run_cli, built, keys_dir / "curator.pub", "--expect-bundle", "test-bundle")
    assert code == 0


def test_a_card_checked_against_another_cards_manifest_says_so(run_cli, built_copy, keys_dir):
    make_second_card(built_copy)
    result = run_cli("verify", built_copy / "card-02", "--manifest", built_copy / "card-01.manifest.json",
                     "--pubkey", keys_dir / "curator.pub", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and "card-mismatch" in checks(report)
    message = next(f["message"] for f in report["cards"][0]["findings"] if f["check"] == "card-mismatch")
    assert "another card" in message and "card-02.manifest.json" in message
    # both cards verify against their own manifests
    assert verify_json(run_cli, built_copy, keys_dir / "curator.pub")[0] == 0


def test_a_signature_comment_naming_another_card_is_refused(run_cli, built_copy, keys_dir, curator_key):
    """The manifest and the signed comment must agree on bundle, version and card."""
    from infopack.release.minisign import sign
    manifest = built_copy / "card-01.manifest.json"
    (built_copy / "card-01.manifest.json.minisig").write_text(sign(
        manifest.read_bytes(), curator_key.private, curator_key.key_id,
        trusted_comment="infopack curator signature: bundle=test-bundle version=3 card=card-07",
        untrusted_comment="x"), encoding="utf-8")
    code, report = verify_json(run_cli, built_copy, keys_dir / "curator.pub")
    assert code == 1 and checks(report) == {"signature-comment"}


def test_card_overflow_is_caught(run_cli, built_copy, keys_dir):
    resign(built_copy, "card-01", lambda m: m["card"].update(usable_bytes=500_000))
    code, report = verify_json(run_cli, built_copy, keys_dir / "curator.pub")
    assert code == 1 and checks(report) == {"card-overflow"}


# --------------------------------------------------------------------------- signers under a policy

@pytest.fixture(scope="module")
def signers(tmp_path_factory):
    """Reviewer keys: one trusted, one that will be revoked, one nobody listed."""
    from infopack.release.keys import keygen
    dest = tmp_path_factory.mktemp("reviewer-keys")
    keygen(str(dest / "reviewer"), "reviewer", PASSPHRASE)
    keygen(str(dest / "revoked"), "reviewer", PASSPHRASE)
    keygen(str(dest / "stranger"), "reviewer", PASSPHRASE)
    return dest


def write_policy(path: Path, keys_dir: Path, signers: Path, *, reviewer_threshold: int = 1,
                 revoked: bool = False) -> Path:
    reviewers = [signers / "reviewer.pub"] + ([signers / "revoked.pub"] if revoked else [])
    lines = ["[roles.curator]", "threshold = 1", f'keys = ["{keys_dir / "curator.pub"}"]',
             "[roles.reviewer]", f"threshold = {reviewer_threshold}",
             "keys = [" + ", ".join(f'"{p}"' for p in reviewers) + "]"]
    if revoked:
        from infopack.release.keys import load_public_key
        lines.insert(0, f'revoked = ["{load_public_key(signers / "revoked.pub").key_id_hex}"]')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def approve(run_cli, out: Path, key: Path, *extra):
    result = run_cli("approve", out, "--key", key, *extra)
    assert result.exit_code == 0, result.output
    return result


def policy_checks(run_cli, out: Path, policy: Path, *extra) -> tuple[int, set[str]]:
    result = run_cli("verify", out, "--policy", policy, "--json", *extra)
    return result.exit_code, checks(json.loads(result.stdout))


def test_an_approved_card_verifies_under_the_policy(run_cli, built_copy, keys_dir, signers, tmp_path):
    approve(run_cli, built_copy, signers / "reviewer.key", "--note", "checked twice")
    assert policy_checks(run_cli, built_copy, write_policy(tmp_path / "p.toml", keys_dir, signers)) == (0, set())


def test_missing_reviewer_signature_fails(run_cli, built_copy, keys_dir, signers, tmp_path):
    code, found = policy_checks(run_cli, built_copy, write_policy(tmp_path / "p.toml", keys_dir, signers))
    assert code == 1 and found == {"signature-threshold"}


def test_signature_by_an_unknown_key_fails(run_cli, built_copy, keys_dir, signers, tmp_path):
    approve(run_cli, built_copy, signers / "reviewer.key")
    approve(run_cli, built_copy, signers / "stranger.key")
    code, found = policy_checks(run_cli, built_copy, write_policy(tmp_path / "p.toml", keys_dir, signers))
    assert code == 1 and found == {"signature-unknown-key"}


def test_build_signature_by_an_unknown_key_fails(run_cli, built_copy, keys_dir, signers, tmp_path):
    from infopack.release.keys import load_signing_key
    approve(run_cli, built_copy, signers / "reviewer.key")
    resign(built_copy, "card-01", lambda m: None, key=load_signing_key(keys_dir / "other.key", PASSPHRASE))
    code, found = policy_checks(run_cli, built_copy, write_policy(tmp_path / "p.toml", keys_dir, signers))
    assert code == 1 and found == {"signature-unknown-key"}


def test_build_signature_by_a_reviewer_key_is_the_wrong_role(run_cli, built_copy, keys_dir, signers, tmp_path):
    from infopack.release.keys import load_signing_key
    reviewer = load_signing_key(signers / "reviewer.key", PASSPHRASE)
    approve(run_cli, built_copy, signers / "reviewer.key")
    resign(built_copy, "card-01", lambda m: None, key=reviewer)
    code, found = policy_checks(run_cli, built_copy, write_policy(tmp_path / "p.toml", keys_dir, signers))
    assert code == 1 and "signature-wrong-role" in found


def test_approval_by_the_curator_key_is_the_wrong_role(run_cli, built_copy, keys_dir, signers, tmp_path,
                                                       curator_key):
    from infopack.release.approve import approve as approve_cards
    approve(run_cli, built_copy, signers / "reviewer.key")
    approve_cards(built_copy, curator_key)
    code, found = policy_checks(run_cli, built_copy, write_policy(tmp_path / "p.toml", keys_dir, signers))
    assert code == 1 and found == {"signature-wrong-role"}


def test_signature_by_a_revoked_key_fails(run_cli, built_copy, keys_dir, signers, tmp_path):
    approve(run_cli, built_copy, signers / "reviewer.key")
    approve(run_cli, built_copy, signers / "revoked.key")
    policy = write_policy(tmp_path / "p.toml", keys_dir, signers, revoked=True)
    code, found = policy_checks(run_cli, built_copy, policy)
    assert code == 1 and found == {"signature-revoked"}


def test_an_approval_for_some_items_only_leaves_the_others_unapproved(run_cli, built_copy, keys_dir, signers,
                                                                     tmp_path):
    approve(run_cli, built_copy, signers / "reviewer.key", "--items", "clip-01,song-01")
    result = run_cli("verify", built_copy, "--policy", write_policy(tmp_path / "p.toml", keys_dir, signers), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and checks(report) == {"signature-threshold"}
    messages = " ".join(f["message"] for f in report["cards"][0]["findings"])
    assert "clip-02" in messages and "photo-01" in messages and "clip-01 " not in messages


def test_an_approval_file_renamed_to_another_key_id_fails(run_cli, built_copy, keys_dir, signers, tmp_path):
    approve(run_cli, built_copy, signers / "reviewer.key")
    [approval] = built_copy.glob("card-01.manifest.json.*.minisig")
    approval.rename(built_copy / "card-01.manifest.json.ABCDEF0123456789.minisig")
    code, found = policy_checks(run_cli, built_copy, write_policy(tmp_path / "p.toml", keys_dir, signers))
    assert code == 1 and {"signature", "signature-threshold"} == found


def test_an_approval_of_another_manifest_fails(run_cli, built_copy, keys_dir, signers, tmp_path):
    """A reviewer's approval copied over from an older release does not hold for this one."""
    approve(run_cli, built_copy, signers / "reviewer.key")
    resign(built_copy, "card-01", lambda m: m["bundle"].update(version=4))
    code, found = policy_checks(run_cli, built_copy, write_policy(tmp_path / "p.toml", keys_dir, signers))
    assert code == 1 and found == {"signature", "signature-threshold"}
