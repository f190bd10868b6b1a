"""Trust policy, reviewer approvals, minisign interoperability, returned cards and images.

Every signature infopack writes must check with the standalone `minisign -V`; a reviewer
may sign with `minisign -S` instead of infopack; no output byte may carry private key
material or the passphrase; a returned card's Red Star trailers come off only where the
signed manifest proves the original bytes.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PASSPHRASE
from helpers import make_redstar_trailer

needs_minisign = pytest.mark.skipif(shutil.which("minisign") is None, reason="minisign is not installed")


@pytest.fixture(scope="module")
def reviewer_dir(tmp_path_factory) -> Path:
    from infopack.release.keys import keygen
    dest = tmp_path_factory.mktemp("reviewers")
    keygen(str(dest / "reviewer"), "reviewer", PASSPHRASE)
    keygen(str(dest / "second"), "reviewer", PASSPHRASE)
    return dest


def write_policy(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def standard_policy(tmp_path: Path, keys_dir: Path, reviewer_dir: Path, threshold: int = 1) -> Path:
    return write_policy(tmp_path / "policy.toml", f"""
[roles.curator]
threshold = 1
keys = ["{keys_dir / 'curator.pub'}"]

[roles.reviewer]
threshold = {threshold}
keys = ["{reviewer_dir / 'reviewer.pub'}", "{reviewer_dir / 'second.pub'}"]
""")


def verify_policy(run_cli, target, policy, *extra):
    result = run_cli("verify", target, "--policy", policy, "--json", *extra)
    report = json.loads(result.stdout)
    return result.exit_code, {f["check"] for c in report["cards"] for f in c["findings"] if f["level"] == "error"}


# --------------------------------------------------------------------------- policy file

def test_policy_accepts_key_lines_and_paths_relative_to_the_policy(tmp_path, keys_dir, reviewer_dir):
    from infopack.release.keys import load_public_key
    from infopack.release.trust import load_policy
    shutil.copy(keys_dir / "curator.pub", tmp_path / "curator.pub")
    line = load_public_key(reviewer_dir / "reviewer.pub").base64_line()
    policy = load_policy(write_policy(tmp_path / "p.toml", f"""
revoked = ["{load_public_key(reviewer_dir / 'second.pub').key_id_hex}"]
[roles.curator]
threshold = 1
keys = ["curator.pub"]
[roles.reviewer]
threshold = 1
keys = ["{line}", "{reviewer_dir / 'second.pub'}"]
"""))
    curator = load_public_key(keys_dir / "curator.pub")
    assert policy.role_of(curator.key_id) == "curator"
    assert policy.role_of(load_public_key(reviewer_dir / "reviewer.pub").key_id) == "reviewer"
    assert load_public_key(reviewer_dir / "second.pub").key_id in policy.revoked


def test_a_key_line_with_a_slash_near_its_start_is_a_key_not_a_path(tmp_path, keys_dir):
    from infopack.release.minisign import PublicKey
    from infopack.release.trust import load_policy
    odd = PublicKey(key_id=b"\x3f" + bytes(7), raw=bytes(range(32)))
    assert odd.base64_line().startswith("RWQ/")
    policy = load_policy(write_policy(tmp_path / "p.toml", f"""
[roles.curator]
keys = ["{keys_dir / 'curator.pub'}"]
[roles.reviewer]
keys = ["{odd.base64_line()}"]
"""))
    assert policy.role_of(odd.key_id) == "reviewer"


@pytest.mark.parametrize("body, says", [
    ('[roles.reviewer]\nkeys = []\n', "roles.curator"),
    ('[roles.curator]\nkeys = ["{c}"]\n[roles.reviewer]\nkeys = ["{c}"]\n', "both curator and reviewer"),
    ('[roles.curator]\nkeys = ["{c}"]\n[roles.reviewer]\nthreshold = 2\nkeys = []\n', "needs 2"),
    ('[roles.curator]\nkeys = ["missing.pub"]\n', "neither"),
    ('[roles.curator]\nkeys = ["{c}"]\ntrheshold = 1\n', "unknown setting"),
    ('[roles.curator\n', "not valid TOML"),
])
def test_bad_policies_are_usage_errors(run_cli, tmp_path, keys_dir, built, body, says):
    policy = write_policy(tmp_path / "p.toml", body.replace("{c}", str(keys_dir / "curator.pub")))
    result = run_cli("verify", built, "--policy", policy)
    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output


def test_pubkey_and_policy_together_is_a_usage_error(run_cli, built, keys_dir, reviewer_dir, tmp_path):
    result = run_cli("verify", built, "--pubkey", keys_dir / "curator.pub",
                     "--policy", standard_policy(tmp_path, keys_dir, reviewer_dir))
    assert result.exit_code == 2
    assert run_cli("verify", built).exit_code == 2


# --------------------------------------------------------------------------- approve

def test_approve_writes_one_signature_per_signer_with_items_and_note(run_cli, built_copy, keys_dir,
                                                                     reviewer_dir, tmp_path):
    from infopack.release.keys import load_public_key
    from infopack.release.minisign import parse_signature
    result = run_cli("approve", built_copy, "--key", reviewer_dir / "reviewer.key",
                     "--note", "봤음\nline two\x07 " + "x" * 500)
    assert result.exit_code == 0, result.output
    key_id = load_public_key(reviewer_dir / "reviewer.pub").key_id_hex
    path = built_copy / f"card-01.manifest.json.{key_id}.minisig"
    sig = parse_signature(path.read_text(encoding="utf-8"))
    comment = sig.trusted_comment
    assert comment.startswith("infopack reviewer approval: bundle=test-bundle version=3 card=card-01 "
                              "items=clip-01,clip-02,clip-03,song-01,photo-01 note=봤음 line two ")
    assert "\n" not in comment and "\x07" not in comment and len(comment) < 400
    assert "timestamp" not in comment
    first = path.read_bytes()
    assert run_cli("approve", built_copy, "--key", reviewer_dir / "reviewer.key",
                   "--note", "봤음\nline two\x07 " + "x" * 500).exit_code == 0
    assert path.read_bytes() == first                        # no timestamp: same bytes again
    assert run_cli("approve", built_copy, "--key", reviewer_dir / "second.key").exit_code == 0
    assert len(list(built_copy.glob("card-01.manifest.json.*.minisig"))) == 2
    policy = standard_policy(tmp_path, keys_dir, reviewer_dir, threshold=2)
    assert verify_policy(run_cli, built_copy, policy) == (0, set())


def test_approve_refuses_unknown_items_and_curator_keys(run_cli, built_copy, keys_dir, reviewer_dir):
    result = run_cli("approve", built_copy, "--key", reviewer_dir / "reviewer.key", "--items", "clip-01,nope")
    assert result.exit_code == 2 and "nope" in result.output
    result = run_cli("approve", built_copy, "--key", keys_dir / "curator.key")
    assert result.exit_code == 2 and "curator key cannot approve" in result.output
    assert not list(built_copy.glob("card-01.manifest.json.*.minisig"))


def test_approve_with_pubkey_refuses_a_card_that_does_not_verify(run_cli, built_copy, keys_dir, reviewer_dir):
    video = built_copy / "card-01" / "영상" / "시장 풍경.mp4"
    video.write_bytes(video.read_bytes() + b"x")
    result = run_cli("approve", built_copy, "--key", reviewer_dir / "reviewer.key",
                     "--pubkey", keys_dir / "curator.pub")
    assert result.exit_code == 1 and "size-mismatch" in result.output
    assert not list(built_copy.glob("card-01.manifest.json.*.minisig"))


def test_approve_with_a_wrong_passphrase_is_one_line(run_cli, built_copy, reviewer_dir, monkeypatch):
    monkeypatch.setenv("INFOPACK_PASSPHRASE", "wrong")
    from click.testing import CliRunner
    from infopack.cli import cli
    result = CliRunner().invoke(cli, ["approve", str(built_copy), "--key", str(reviewer_dir / "reviewer.key")])
    assert result.exit_code == 2 and "wrong passphrase" in result.output and "Traceback" not in result.output


def test_note_is_sanitised_to_one_short_line():
    from infopack.release.comments import MAX_NOTE_CHARS, sanitise_note
    assert sanitise_note("a\r\nb\tc\u2028d  e") == "a b c d e"
    assert len(sanitise_note("가" * 1000)) == MAX_NOTE_CHARS
    assert sanitise_note("\u1100\u1161") == "가"                    # NFC


# --------------------------------------------------------------------------- minisign interoperability

@needs_minisign
def test_minisign_accepts_every_signature_infopack_writes(run_cli, built_copy, keys_dir, reviewer_dir):
    assert run_cli("approve", built_copy, "--key", reviewer_dir / "reviewer.key",
                   "--items", "clip-01", "--note", "ok").exit_code == 0
    manifest = built_copy / "card-01.manifest.json"
    pairs = [(built_copy / "card-01.manifest.json.minisig", keys_dir / "curator.pub")]
    pairs += [(p, reviewer_dir / "reviewer.pub") for p in built_copy.glob("card-01.manifest.json.*.minisig")]
    assert len(pairs) == 2
    for sig, pub in pairs:
        proc = subprocess.run(["minisign", "-V", "-m", str(manifest), "-x", str(sig), "-p", str(pub)],
                              capture_output=True, timeout=30, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "infopack" in proc.stdout                      # minisign shows the trusted comment


@needs_minisign
def test_a_minisign_made_reviewer_signature_counts_under_the_policy(run_cli, built_copy, keys_dir, tmp_path):
    from infopack.release.keys import load_public_key
    subprocess.run(["minisign", "-G", "-W", "-p", str(tmp_path / "ms.pub"), "-s", str(tmp_path / "ms.key")],
                   check=True, capture_output=True, timeout=30)
    key_id = load_public_key(tmp_path / "ms.pub").key_id_hex
    manifest = built_copy / "card-01.manifest.json"
    sig = built_copy / f"card-01.manifest.json.{key_id}.minisig"
    subprocess.run(["minisign", "-S", "-s", str(tmp_path / "ms.key"), "-m", str(manifest), "-x", str(sig)],
                   check=True, capture_output=True, timeout=30)
    policy = write_policy(tmp_path / "p.toml", f"""
[roles.curator]
keys = ["{keys_dir / 'curator.pub'}"]
[roles.reviewer]
threshold = 1
keys = ["ms.pub"]
""")
    assert verify_policy(run_cli, built_copy, policy) == (0, set())
    # the same key listed as nobody's: unknown, and the reviewer threshold is not met
    other = write_policy(tmp_path / "q.toml", f"""
[roles.curator]
keys = ["{keys_dir / 'curator.pub'}"]
[roles.reviewer]
threshold = 0
""")
    assert verify_policy(run_cli, built_copy, other) == (1, {"signature-unknown-key"})


@needs_minisign
def test_infopack_reads_a_legacy_minisign_signature_too(run_cli, built_copy, keys_dir, tmp_path):
    from infopack.release.keys import load_public_key
    subprocess.run(["minisign", "-G", "-W", "-p", str(tmp_path / "ms.pub"), "-s", str(tmp_path / "ms.key")],
                   check=True, capture_output=True, timeout=30)
    key_id = load_public_key(tmp_path / "ms.pub").key_id_hex
    manifest = built_copy / "card-01.manifest.json"
    subprocess.run(["minisign", "-S", "-l", "-s", str(tmp_path / "ms.key"), "-m", str(manifest),
                    "-x", str(built_copy / f"card-01.manifest.json.{key_id}.minisig")],
                   check=True, capture_output=True, timeout=30)
    policy = write_policy(tmp_path / "p.toml", f"""
[roles.curator]
keys = ["{keys_dir / 'curator.pub'}"]
[roles.reviewer]
keys = ["ms.pub"]
""")
    assert verify_policy(run_cli, built_copy, policy) == (0, set())


# --------------------------------------------------------------------------- signer labels

def signers_of(run_cli, out, *trust):
    result = run_cli("verify", out, *trust, "--hash-only", "--json")
    card = json.loads(result.stdout)["cards"][0]
    return result.exit_code, card, {f["check"] for f in card["findings"] if f["level"] == "error"}


def test_under_a_policy_labels_come_from_the_policy_and_a_build_signed_as_reviewer_fails(
        run_cli, built_copy, keys_dir, reviewer_dir, tmp_path):
    """A key the policy calls curator, whose own signed comment says reviewer, did not sign as curator."""
    from infopack.release.keys import keygen, load_signing_key
    keygen(tmp_path / "mixed", "reviewer", PASSPHRASE)
    resign(built_copy, load_signing_key(tmp_path / "mixed.key", PASSPHRASE), lambda m: None)
    policy = write_policy(tmp_path / "p.toml", f"""
[roles.curator]
keys = ["{tmp_path / 'mixed.pub'}"]
[roles.reviewer]
threshold = 0
keys = ["{reviewer_dir / 'reviewer.pub'}"]
""")
    code, card, errors = signers_of(run_cli, built_copy, "--policy", policy)
    assert code == 1 and errors == {"signature-wrong-role"}
    assert [(s["role"], s["valid"]) for s in card["signers"]] == [("curator", False)]
    assert "says it was made as reviewer" in json.dumps(card["findings"], ensure_ascii=False)


def test_with_pubkey_a_signature_is_labelled_by_its_own_comment(run_cli, built_copy, keys_dir):
    code, card, errors = signers_of(run_cli, built_copy, "--pubkey", keys_dir / "curator.pub")
    assert (code, errors) == (0, set())
    assert [(s["role"], s["valid"]) for s in card["signers"]] == [("curator", True)]


# --------------------------------------------------------------------------- no secrets in any output

def secret_forms(key_file: Path, passphrase: str) -> dict[str, bytes]:
    from cryptography.hazmat.primitives import serialization
    from infopack.release.keys import load_signing_key
    key = load_signing_key(key_file, passphrase)
    raw = key.private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
    der = key.private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    pem = key.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    forms = {"raw": raw, "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode(),
             "base64": base64.b64encode(raw).rstrip(b"="), "der": der,
             "der-base64": base64.b64encode(der).rstrip(b"="), "pem": pem,
             "passphrase": passphrase.encode("utf-8"), "passphrase-utf16": passphrase.encode("utf-16-le")}
    sealed = key_file.read_text(encoding="utf-8").splitlines()[1]    # minisign's base64 line
    forms["key-file-line"] = sealed.encode()
    forms["key-file-sealed-part"] = base64.b64decode(sealed)[54:]    # the 104 scrypt-sealed bytes
    return forms


def test_no_output_byte_carries_private_key_material_or_the_passphrase(run_cli, built_copy, keys_dir,
                                                                       reviewer_dir):
    assert run_cli("approve", built_copy, "--key", reviewer_dir / "reviewer.key", "--note", "fine").exit_code == 0
    secrets = {**{f"curator {k}": v for k, v in secret_forms(keys_dir / "curator.key", PASSPHRASE).items()},
               **{f"reviewer {k}": v for k, v in secret_forms(reviewer_dir / "reviewer.key", PASSPHRASE).items()}}
    files = [p for p in built_copy.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".minisig") and ".manifest.json." in p.name for p in files)
    assert len([p for p in files if "card-01/" in p.as_posix()]) == 8
    for path in files:
        data = path.read_bytes()
        for name, secret in secrets.items():
            assert secret not in data, f"{name} found in {path.relative_to(built_copy)}"


# --------------------------------------------------------------------------- returned cards

def plant_trailer(path: Path, serial: bytes = b"8295FF513293A") -> None:
    with open(path, "ab") as fh:
        fh.write(make_redstar_trailer(serial))


def test_clean_card_restores_files_with_a_red_star_trailer(run_cli, built_copy, keys_dir):
    card = built_copy / "card-01"
    video, photo = card / "영상" / "시장 풍경.mp4", card / "사진" / "해 뜨는 바다.jpg"
    original = video.read_bytes()
    plant_trailer(video)
    plant_trailer(photo, b"AAAA")
    plant_trailer(photo, b"BBBB")                            # a second Red Star machine
    assert run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub").exit_code == 1
    result = run_cli("clean-card", card, "--manifest", built_copy / "card-01.manifest.json",
                     "--pubkey", keys_dir / "curator.pub")
    assert result.exit_code == 0, result.output
    assert "restored 영상/시장 풍경.mp4" in result.output and "restored 사진/해 뜨는 바다.jpg" in result.output
    assert video.read_bytes() == original
    assert run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub").exit_code == 0


def test_clean_card_never_guesses(run_cli, built_copy, keys_dir):
    card = built_copy / "card-01"
    video = card / "영상" / "시장 풍경.mp4"
    data = bytearray(video.read_bytes())
    data[100] ^= 1
    video.write_bytes(bytes(data))
    plant_trailer(video)
    before = video.read_bytes()
    result = run_cli("clean-card", card, "--manifest", built_copy / "card-01.manifest.json",
                     "--pubkey", keys_dir / "curator.pub", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["restored"] == []
    assert "differ from the signed manifest" in report["not_restored"][0]["message"]
    assert video.read_bytes() == before


def test_clean_card_checks_the_signature_first(run_cli, built_copy, keys_dir):
    card = built_copy / "card-01"
    video = card / "영상" / "시장 풍경.mp4"
    plant_trailer(video)
    before = video.read_bytes()
    result = run_cli("clean-card", card, "--manifest", built_copy / "card-01.manifest.json",
                     "--pubkey", keys_dir / "other.pub")
    assert result.exit_code == 1 and "nothing was changed" in result.output
    assert video.read_bytes() == before


# --------------------------------------------------------------------------- QA checks

def resign(out: Path, key, change) -> None:
    from infopack.release.card_manifest import canonical_json
    from infopack.release.seal import entries_for, sign_manifest
    path = out / "card-01.manifest.json"
    manifest = json.loads(path.read_bytes())
    change(manifest)
    manifest["files"] = [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in entries_for(out / "card-01")]
    data = canonical_json(manifest)
    path.write_bytes(data)
    (out / "card-01.manifest.json.minisig").write_text(
        sign_manifest(data, key, bundle_id=manifest["bundle"]["id"], bundle_version=manifest["bundle"]["version"],
                      card_id="card-01"), encoding="utf-8")


def test_deep_decodes_media_and_parses_subtitles(run_cli, built_copy, keys_dir, curator_key):
    card = built_copy / "card-01"
    video = card / "영상" / "세포의 삶.mp4"
    video.write_bytes(video.read_bytes()[: video.stat().st_size * 2 // 3])
    (card / "영상" / "시장 풍경.srt").write_bytes(b"\x00\x01\x02 not a subtitle \xff\xfe")
    resign(built_copy, curator_key, lambda m: None)
    shallow = run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub", "--json")
    found = {f["check"] for f in json.loads(shallow.stdout)["cards"][0]["findings"]}
    assert "deep-decode" not in found and "deep-subtitle" not in found
    deep = run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub", "--json", "--deep")
    findings = json.loads(deep.stdout)["cards"][0]["findings"]
    assert deep.exit_code == 1
    assert ("deep-decode", "영상/세포의 삶.mp4") in {(f["check"], f["path"]) for f in findings}
    assert ("deep-subtitle", "영상/시장 풍경.srt") in {(f["check"], f["path"]) for f in findings}


def test_deep_passes_an_untouched_build(run_cli, built, keys_dir):
    result = run_cli("verify", built, "--pubkey", keys_dir / "curator.pub", "--deep")
    assert result.exit_code == 0, result.output


def test_metadata_left_in_a_signed_file_is_an_error(run_cli, built_copy, keys_dir, curator_key):
    """A curator who signs a file with metadata in it still fails QA (same scanner as `infopack scan`)."""
    (built_copy / "card-01" / "영상" / "시장 풍경.srt").write_text(
        "1\n00:00:01,000 --> 00:00:02,000\n번역: 홍길동 https://example.com\n", encoding="utf-8")
    resign(built_copy, curator_key, lambda m: None)
    result = run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub", "--json")
    findings = json.loads(result.stdout)["cards"][0]["findings"]
    errors = {f["check"] for f in findings if f["level"] == "error"}
    assert result.exit_code == 1 and errors and all(c.startswith(("sub-", "meta-")) for c in errors), findings
    quick = run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub", "--hash-only")
    assert quick.exit_code == 0


def test_table_output_names_checks(run_cli, built_copy, keys_dir):
    (built_copy / "card-01" / "Thumbs.db").write_bytes(b"x")
    result = run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub")
    assert result.exit_code == 1 and "card-01: FAILED" in result.stdout and "hidden-file" in result.stdout


@pytest.mark.skipif(shutil.which("mkfs.fat") is None or shutil.which("mcopy") is None,
                    reason="dosfstools/mtools not installed")
def test_a_fat_image_of_the_card_verifies(run_cli, built, keys_dir, tmp_path):
    from infopack.fat.catalog import CardType
    from infopack.fat.image import build_image
    image = build_image(built / "card-01", tmp_path / "card-01.img",
                        CardType("test64M", 60_000_000, 512, "fat32", 64_000_000))
    result = run_cli("verify", image, "--manifest", built / "card-01.manifest.json",
                     "--pubkey", keys_dir / "curator.pub", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert report["cards"][0]["image"] and report["cards"][0]["files"] == 8
    assert run_cli("verify", image, "--pubkey", keys_dir / "curator.pub").exit_code == 2   # needs --manifest
    other = tmp_path / "other"
    shutil.copytree(built / "card-01", other)
    (other / "사진" / "해 뜨는 바다.jpg").unlink()
    bad = build_image(other, tmp_path / "bad.img", CardType("test64M", 60_000_000, 512, "fat32", 64_000_000))
    result = run_cli("verify", bad, "--manifest", built / "card-01.manifest.json",
                     "--pubkey", keys_dir / "curator.pub", "--json")
    assert result.exit_code == 1 and "missing-file" in result.stdout
