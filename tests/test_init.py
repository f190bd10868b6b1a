"""`infopack init` writes a manifest that loads, pairing subtitles by base name."""

from __future__ import annotations

import shutil

from infopack.manifest import load_manifest


def test_init_pairs_subtitles_by_basename(run_cli, samples_dir, tmp_path):
    folder = tmp_path / "season-3"
    folder.mkdir()
    shutil.copy(samples_dir / "media" / "clip01.mp4", folder / "ep01.mp4")
    shutil.copy(samples_dir / "media" / "clip02.mkv", folder / "ep02.mkv")
    shutil.copy(samples_dir / "subs" / "clip01.ko.srt", folder / "ep01.ko.srt")
    shutil.copy(samples_dir / "subs" / "clip03.smi", folder / "ep02.smi")
    shutil.copy(samples_dir / "subs" / "clip02.ko.srt", folder / "ep10.srt")     # no ep10 media: unpaired
    result = run_cli("init", folder)
    assert result.exit_code == 0, result.output
    bundle = load_manifest(folder / "infopack.toml")
    assert bundle.id == "season-3" and bundle.profile == "notel-480p" and bundle.card == "8GB"
    pairs = {item.id: [s.name for s in item.subtitles] for item in bundle.items}
    assert pairs == {"ep01": ["ep01.ko.srt"], "ep02": ["ep02.smi"]}
    again = run_cli("init", folder)
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_init_on_an_empty_folder(run_cli, tmp_path):
    result = run_cli("init", tmp_path)
    assert result.exit_code == 2 and "no media files found" in result.stderr
