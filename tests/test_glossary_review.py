"""Reviewers' signed glossary decisions: which count under a policy, and what they change.

An entry is used when enough reviewer keys of the policy confirmed it in files whose
signatures hold and none of them rejected it; the build rewrites the word and its report
says which confirmed entry changed which cue.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PASSPHRASE

ICE_CREAM = ("아이스크림", "얼음보숭이")
JUICE = ("주스", "과일단물")


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict:
    from infopack.release.keys import keygen, load_signing_key
    folder = tmp_path_factory.mktemp("glossary-keys")
    found = {}
    for name, role in (("ana", "reviewer"), ("bora", "reviewer"), ("cura", "curator")):
        keygen(str(folder / name), role, PASSPHRASE)
        found[name] = load_signing_key(folder / f"{name}.key", PASSPHRASE)
        found[f"{name}.pub"] = folder / f"{name}.pub"
    return found


def make_policy(tmp_path: Path, keys: dict, reviewers: list[str], threshold: int = 1, revoked: str = "") -> Path:
    from infopack.release.trust import load_policy
    path = tmp_path / f"policy-{'-'.join(reviewers)}-{threshold}.toml"
    listed = ", ".join(f'"{keys[f"{r}.pub"]}"' for r in reviewers)
    path.write_text(f'revoked = [{revoked}]\n[roles.curator]\nkeys = ["{keys["cura.pub"]}"]\n'
                    f"[roles.reviewer]\nthreshold = {threshold}\nkeys = [{listed}]\n", encoding="utf-8")
    return load_policy(path)


def decide(out: Path, keys: dict, who: str, pair, decision, sign: bool = True):
    from infopack.release.glossary_review import record
    return record(out, keys[who].public.key_id_hex, pair, decision, keys[who] if sign else None)


def confirmed(policy, out: Path):
    from infopack.release.glossary_review import review_files, trusted_confirmations
    return trusted_confirmations(policy, review_files([out]))


def test_a_signed_confirmation_counts_only_for_a_reviewer_the_policy_trusts(keys, tmp_path):
    out = tmp_path / "out"
    decide(out, keys, "ana", ICE_CREAM, "confirm")
    ana = keys["ana"].public.key_id_hex
    assert confirmed(make_policy(tmp_path, keys, ["ana"]), out) == ({ICE_CREAM: (ana,)}, [])
    found, problems = confirmed(make_policy(tmp_path, keys, ["bora"]), out)
    assert found == {} and "not a reviewer key of the policy" in problems[0]
    found, problems = confirmed(make_policy(tmp_path, keys, ["ana", "bora"], revoked=f'"{ana}"'), out)
    assert found == {} and "revokes" in problems[0]


def test_changed_or_unsigned_decisions_do_not_count(keys, tmp_path):
    out = tmp_path / "out"
    policy = make_policy(tmp_path, keys, ["ana", "bora"])
    decide(out, keys, "ana", ICE_CREAM, "confirm")
    path = out / "reviews" / f"glossary-{keys['ana'].public.key_id_hex}.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("아이스크림", "주스"), encoding="utf-8")
    found, problems = confirmed(policy, out)
    assert found == {} and "does not match" in problems[0]
    decide(out, keys, "bora", JUICE, "confirm", sign=False)
    found, problems = confirmed(policy, out)
    assert found == {} and any("not signed" in p for p in problems)


def test_threshold_and_rejections(keys, tmp_path):
    out = tmp_path / "out"
    ana, bora = keys["ana"].public.key_id_hex, keys["bora"].public.key_id_hex
    decide(out, keys, "ana", ICE_CREAM, "confirm")
    decide(out, keys, "ana", JUICE, "confirm")
    decide(out, keys, "bora", ICE_CREAM, "confirm")
    two = make_policy(tmp_path, keys, ["ana", "bora"], threshold=2)
    assert confirmed(two, out)[0] == {ICE_CREAM: tuple(sorted((ana, bora)))}
    decide(out, keys, "bora", JUICE, "reject")
    one = make_policy(tmp_path, keys, ["ana", "bora"], threshold=1)
    assert set(confirmed(one, out)[0]) == {ICE_CREAM}                   # one trusted "no" vetoes
    decide(out, keys, "bora", JUICE, None)                              # taken back: nothing said
    assert set(confirmed(one, out)[0]) == {ICE_CREAM, JUICE}


def test_the_decisions_file_is_plain_and_checks_with_minisign(keys, tmp_path):
    import shutil
    import subprocess
    out = tmp_path / "out"
    decide(out, keys, "ana", ICE_CREAM, "confirm")
    path = out / "reviews" / f"glossary-{keys['ana'].public.key_id_hex}.toml"
    first = path.read_bytes()
    decide(out, keys, "ana", ICE_CREAM, "confirm")
    assert path.read_bytes() == first                                   # no timestamp: same decisions, same bytes
    if shutil.which("minisign"):
        checked = subprocess.run(["minisign", "-Vm", str(path), "-p", str(keys["ana.pub"])], capture_output=True)
        assert checked.returncode == 0, checked.stderr


def test_subs_lint_needs_a_policy_to_use_reviewers_decisions(run_cli, tmp_path):
    source = tmp_path / "a.srt"
    source.write_text("1\n00:00:01,000 --> 00:00:04,000\n아이스크림을 먹었다\n", encoding="utf-8")
    result = run_cli("subs", "lint", source, "--apply", "--out", tmp_path / "b.srt", "--reviews", tmp_path)
    assert result.exit_code == 2 and "--policy and --reviews go together" in result.stderr


GLOSSARY_MANIFEST = """
[bundle]
id = "glossary-bundle"
title = "용어집 묶음"
profile = "notel-480p"
card = "8GB"
version = 1

[[items]]
id = "shop"
title = "가게"
source = "media/clip01.mp4"
subtitles = ["subs/shop.srt"]
"""


def test_the_build_rewrites_confirmed_words_and_reports_which_cues_changed(run_cli, samples_dir, keys, tmp_path):
    (samples_dir / "subs" / "shop.srt").write_text(
        "1\n00:00:00,500 --> 00:00:02,000\n아이스크림을 샀다\n\n2\n00:00:02,200 --> 00:00:03,500\n주스도 샀다\n",
        encoding="utf-8")
    manifest = samples_dir / "glossary-bundle.toml"
    manifest.write_text(GLOSSARY_MANIFEST, encoding="utf-8")
    out = tmp_path / "out"
    decide(out, keys, "ana", ICE_CREAM, "confirm")
    decide(out, keys, "ana", JUICE, "reject")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[roles.curator]\nkeys = ["{keys["cura.pub"]}"]\n'
                      f'[roles.reviewer]\nthreshold = 1\nkeys = ["{keys["ana.pub"]}"]\n', encoding="utf-8")
    result = run_cli("build", manifest, "--out", out, "--key", keys["cura.pub"].with_suffix(".key"),
                     "--glossary-policy", policy)
    assert result.exit_code == 0, result.output
    sidecar = next(out.glob("card-01/**/*.srt")).read_text(encoding="utf-8")
    assert "얼음보숭이를 샀다" in sidecar and "주스도 샀다" in sidecar
    subtitles = json.loads((out / "report.json").read_text(encoding="utf-8"))["items"][0]["subtitles"]
    assert subtitles["glossary_changes"] == [{"cue": 1, "sk": "아이스크림", "nk": "얼음보숭이", "word": "아이스크림을",
                                              "replacement": "얼음보숭이를",
                                              "reviewers": [keys["ana"].public.key_id_hex]}]
    assert "확인된 용어집 항목으로 바꾼 말" in (out / "report.html").read_text(encoding="utf-8")
