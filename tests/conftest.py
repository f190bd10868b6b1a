"""Shared fixtures: tiny real media made with real ffmpeg, real keys, one real build.

The session-scoped build is reused by the read-only tests; tests that change files copy
it first.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from samples.generate import generate  # noqa: E402

PASSPHRASE = "test passphrase 한글"


@pytest.fixture(scope="session", autouse=True)
def cheap_new_keys():
    """Keys made by the tests cost libsodium's "interactive" scrypt (16 MiB, milliseconds) to
    unlock instead of minisign's 1 GiB; the cost is written in each key file, so loading
    them is cheap everywhere. Tests of the real cost restore `NEW_KEY_LIMITS`."""
    from infopack.release import keys
    from infopack.release.secret_key import MEMLIMIT_INTERACTIVE, OPSLIMIT_INTERACTIVE
    real = keys.NEW_KEY_LIMITS
    keys.NEW_KEY_LIMITS = {"opslimit": OPSLIMIT_INTERACTIVE, "memlimit": MEMLIMIT_INTERACTIVE}
    yield
    keys.NEW_KEY_LIMITS = real


@pytest.fixture(scope="session", autouse=True)
def private_encode_cache(tmp_path_factory):
    """Builds in tests share one throwaway encode cache, never the user's ~/.cache/infopack."""
    os.environ["INFOPACK_CACHE"] = str(tmp_path_factory.mktemp("encode-cache"))
    yield


@pytest.fixture(scope="session")
def samples_dir(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("samples")
    generate(dest, seconds=4.0)
    return dest


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory) -> Path:
    from infopack.release.keys import keygen
    dest = tmp_path_factory.mktemp("keys")
    keygen(str(dest / "curator"), "curator", PASSPHRASE)
    keygen(str(dest / "other"), "curator", PASSPHRASE)
    return dest


@pytest.fixture(scope="session")
def curator_key(keys_dir):
    from infopack.release.keys import load_signing_key
    return load_signing_key(keys_dir / "curator.key", PASSPHRASE)


DEMO_MANIFEST = """
[bundle]
id = "test-bundle"
title = "시험 묶음"
profile = "notel-480p"
card = "8GB"
version = 3

[[items]]
id = "clip-01"
title = "바다 이야기 1화"
source = "media/clip01.mp4"
subtitles = ["subs/clip01.ko.srt"]
group = "바다 이야기"
episode = 1

[[items]]
id = "clip-02"
title = "시장 풍경"
source = "media/clip02.mkv"
subtitles = ["subs/clip02.ko.srt"]

[[items]]
id = "clip-03"
title = "세포의 삶"
source = "media/clip03.mp4"
subtitles = ["subs/clip03.smi"]

[[items]]
id = "song-01"
title = "아침 노래"
source = "media/song01.mp3"

[[items]]
id = "photo-01"
title = "해 뜨는 바다"
source = "media/photo01.jpg"
"""


@pytest.fixture(scope="session")
def demo_manifest(samples_dir) -> Path:
    path = samples_dir / "bundle.toml"
    path.write_text(DEMO_MANIFEST, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def built(demo_manifest, curator_key, tmp_path_factory) -> Path:
    """One real build of the sample bundle, with report.html as the command writes it (read-only:
    copy it before changing anything)."""
    from infopack.build import build
    from infopack.review.report import write_report_html
    out = tmp_path_factory.mktemp("built") / "out"
    build(demo_manifest, out, curator_key, jobs=2, report_writers=[write_report_html])
    return out


@pytest.fixture
def built_copy(built, tmp_path) -> Path:
    dest = tmp_path / "out"
    shutil.copytree(built, dest)
    return dest


@pytest.fixture
def run_cli(monkeypatch):
    """Run the real CLI in-process; returns click's Result (exit_code, output, stderr)."""
    from infopack.cli import cli
    monkeypatch.setenv("INFOPACK_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("INFOPACK_DEBUG", raising=False)

    def invoke(*args: str):
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return invoke
