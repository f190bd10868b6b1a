"""Publishing never loses a file it did not make: reviewers' approvals, reviews/ and anything
else in OUT survive a SIGKILL at any moment of a rebuild, and every approval still verifies
(beside the manifest it signed: in place, or set aside in OUT/superseded/ when the rebuild
changed that manifest). The build is stopped at named points (INFOPACK_TEST_PAUSE), not by luck."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import PASSPHRASE
from test_resume import build_cmd, build_env

from infopack.build.pause import ENV, PAUSED, PUBLISH_POINTS

POINTS = ("probed", "cached", "assemble", "report") + PUBLISH_POINTS


@pytest.fixture(scope="module")
def reviewer(tmp_path_factory) -> Path:
    from infopack.release.keys import keygen
    dest = tmp_path_factory.mktemp("publish-keys")
    keygen(str(dest / "ana"), "reviewer", PASSPHRASE)
    keygen(str(dest / "ben"), "reviewer", PASSPHRASE)
    return dest


@pytest.fixture
def approved_out(built, tmp_path, reviewer) -> Path:
    """A copy of the build, approved by two reviewers, with reviews/ and a curator's own note."""
    from infopack.release.approve import approve
    from infopack.release.keys import load_signing_key
    out = tmp_path / "out"
    shutil.copytree(built, out)
    for name in ("ana", "ben"):
        assert approve(out, load_signing_key(reviewer / f"{name}.key", PASSPHRASE), note=f"{name} ok")
    (out / "reviews").mkdir()
    (out / "reviews" / "decisions.json").write_text('{"clip-01": "ok"}', encoding="utf-8")
    (out / "notes.txt").write_text("curator's own notes", encoding="utf-8")
    return out


def others_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in [out / "notes.txt", *(out / "reviews").rglob("*")]
            if p.is_file()}


def approvals(out: Path, reviewer: Path) -> dict[str, Path]:
    """Every approval in OUT (in place or set aside), by file name; each must verify over the
    manifest beside it, with its reviewer's key."""
    from infopack.release.keys import load_public_key
    from infopack.release.minisign import verify
    from infopack.release.outdir import ManifestFiles
    keys = {k.key_id_hex: k for k in (load_public_key(reviewer / f"{n}.pub") for n in ("ana", "ben"))}
    found: dict[str, Path] = {}
    for manifest in sorted([*out.glob("card-*.manifest.json"), *out.glob("superseded/*/card-*.manifest.json")]):
        files = ManifestFiles(manifest)
        for path in files.approvals():
            key_id = files.key_id_in_name(path)
            verify(manifest.read_bytes(), path.read_text(encoding="utf-8"), keys[key_id], path.name)
            assert path.name not in found, f"{path.name} is in OUT twice"
            found[path.name] = path
    orphans = [p for p in out.rglob("*.minisig") if p.name in {n for n in found} and p not in found.values()]
    assert not orphans, f"approvals without their manifest: {orphans}"
    return found


def kill_at(point: str, manifest: Path, out: Path, keys_dir: Path) -> None:
    """Run a rebuild until it stops at `point`, check no approval is inside its staging folder, SIGKILL it."""
    env = build_env(Path(os.environ["INFOPACK_CACHE"])) | {ENV: point}
    proc = subprocess.Popen(build_cmd(manifest, out, keys_dir), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        said = []
        for line in proc.stderr:
            said.append(line.decode())
            if line.decode().startswith(PAUSED + point):
                break
        else:
            raise AssertionError(f"the build never reached {point}: {''.join(said)}")
        staged = [p for p in out.glob(".partial-*/**/*") if p.name.endswith(".minisig")
                  and not p.name.endswith(".manifest.json.minisig")]
        assert staged == [], f"approvals inside the staging folder at {point}: {staged}"
    finally:
        proc.kill()
        proc.wait(60)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("rebuild", ["unchanged", "changed"])
def test_a_rebuild_killed_at_each_point_keeps_every_approval(approved_out, demo_manifest, keys_dir, reviewer,
                                                             tmp_path, run_cli, rebuild):
    out = approved_out
    before = approvals(out, reviewer)
    assert len(before) == 2
    mine = others_files(out)
    manifest = demo_manifest
    if rebuild == "changed":                       # a new bundle version: new manifest bytes, same encodes
        manifest = tmp_path / "bundle.toml"
        manifest.write_text(demo_manifest.read_text("utf-8").replace("version = 3", "version = 4"), "utf-8")
        shutil.copytree(demo_manifest.parent / "media", tmp_path / "media")
        shutil.copytree(demo_manifest.parent / "subs", tmp_path / "subs")
    for point in POINTS:
        kill_at(point, manifest, out, keys_dir)
        assert set(approvals(out, reviewer)) == set(before), point
        assert others_files(out) == mine, point
    result = run_cli("build", manifest, "--out", out, "--key", keys_dir / "curator.key")
    assert result.exit_code == 0, result.output
    after = approvals(out, reviewer)
    assert set(after) == set(before) and others_files(out) == mine and not list(out.glob(".partial-*"))
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[roles.curator]\nkeys = ["{keys_dir / "curator.pub"}"]\n[roles.reviewer]\nthreshold = 2\n'
                      f'keys = ["{reviewer / "ana.pub"}", "{reviewer / "ben.pub"}"]\n', encoding="utf-8")
    assert run_cli("verify", out, "--pubkey", keys_dir / "curator.pub").exit_code == 0
    if rebuild == "unchanged":                     # still beside the manifest they signed
        assert all(path.parent == out for path in after.values())
        assert run_cli("verify", out, "--policy", policy).exit_code == 0
    else:                                          # set aside with the manifest they signed, where they verify
        [kept] = {path.parent for path in after.values()}
        assert kept.parent == out / "superseded"
        assert run_cli("verify", out / "card-01", "--manifest", kept / "card-01.manifest.json",
                       "--policy", policy).exit_code == 0
        assert not list(out.glob("card-01.manifest.json.*.minisig"))


def test_setting_aside_never_overwrites_another_approval(approved_out, reviewer, tmp_path):
    """The same key approved the same manifest twice (a rebuild went back to it in between): both kept."""
    from infopack.build.publish import set_aside
    from infopack.release.outdir import OutDir
    out = OutDir(approved_out)
    [first, _] = out.approval_paths("card-01")
    original = first.read_bytes()
    moved = set_aside(out, "card-01", first)
    first.write_bytes(original.replace(b" ok\n", b" ok again\n"))      # whichever reviewer sorts first
    moved_again = set_aside(out, "card-01", first)
    assert moved.read_bytes() == original and moved_again.read_bytes() != original
    assert moved.parent != moved_again.parent and moved.name == moved_again.name
    assert (moved_again.parent / "card-01.manifest.json").read_bytes() == out.manifest_path("card-01").read_bytes()
