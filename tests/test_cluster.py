"""Scale-out: the encodes of a build on a real Dask cluster on 127.0.0.1 (worker processes,
real ffmpeg), compared byte for byte with a local build of the same manifest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from conftest import REPO
from test_resume import assert_same_build

from infopack.build import build, cluster as cluster_module
from infopack.build.executors import ExecutorChoice, scheduler_address
from infopack.build.remote import (RemoteBuild, check_file, differences, input_marks, machine_facts,
                                   reads_pictures)
from infopack.errors import InfopackError, UsageError
from infopack.manifest import load_manifest
from infopack.profiles import load_profile
from infopack.review.report import write_report_html

ITEMS = 5          # in conftest's sample bundle


@pytest.fixture(scope="module")
def cluster():
    """Two single-thread worker processes on 127.0.0.1, as on two office PCs."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as local:
        yield local


def dask_url(address: str) -> str:
    return "dask://" + address.removeprefix("tcp://")


def worker_pids(address: str) -> dict[str, int]:
    with Client(address, set_as_default=False) as client:
        return client.run(os.getpid)


def build_as_built(manifest: Path, out: Path, key, **options):
    """build() as conftest's `built` was made (report.html too), so the two compare byte for byte."""
    return build(manifest, out, key, report_writers=[write_report_html], **options)


def left_in_tmp(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "tmp").iterdir())


def test_a_cluster_build_equals_a_local_build_and_fills_the_shared_cache(cluster, demo_manifest, keys_dir,
                                                                         curator_key, built, tmp_path, run_cli):
    cache, out = tmp_path / "cache", tmp_path / "out"
    result = run_cli("build", demo_manifest, "--out", out, "--key", keys_dir / "curator.key", "--cache", cache,
                     "--json", "--print-commands", "--executor", dask_url(cluster.scheduler_address))
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    workers = set(worker_pids(cluster.scheduler_address))
    finished = [e for e in events if e["event"] in ("encode", "encoded", "progress")]
    assert {e["event"] for e in finished} == {"encode", "encoded", "progress"}
    assert all(e["worker"] in workers for e in finished), "every job's events name the worker that ran it"
    assert events[-1]["encoded"] == ITEMS and events[-1]["cached"] == 0
    commands = [line for line in result.stderr.splitlines() if Path(line.split()[0]).name in ("ffmpeg", "ffprobe")]
    assert commands and all(any(line.endswith(f"  # on {w}") for w in workers) for line in commands)
    assert_same_build(out, built)
    assert left_in_tmp(cache) == [], "no work folder, check file or half entry is left in the shared cache"

    again = tmp_path / "again"
    local = []
    build_as_built(demo_manifest, again, curator_key, jobs=2, cache=cache, progress=local.append)
    assert (local[-1]["encoded"], local[-1]["cached"]) == (0, ITEMS), "a local rebuild reuses the cluster's encodes"
    assert_same_build(again, built)


def test_a_worker_killed_mid_encode_has_its_job_run_elsewhere(cluster, demo_manifest, curator_key, built, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    pids = worker_pids(cluster.scheduler_address)
    killed: dict[str, str] = {}
    events = []

    def progress(event: dict) -> None:
        events.append(event)
        if event["event"] == "encode" and event["kind"] == "video" and not killed:
            killed[event["item"]] = event["worker"]
            os.kill(pids[event["worker"]], signal.SIGKILL)

    build_as_built(demo_manifest, out, curator_key, jobs=2, cache=cache, progress=progress,
          executor=dask_url(cluster.scheduler_address))
    (item, dead), = killed.items()
    redone = [e["worker"] for e in events if e["event"] == "encoded" and e["item"] == item]
    assert redone and redone[0] != dead, "the killed worker's job ran again on another worker"
    assert events[-1]["encoded"] == ITEMS
    assert_same_build(out, built)
    assert left_in_tmp(cache) == [], "the dead worker's work folder was thrown away, never read"


def test_a_worker_with_another_ffmpeg_is_refused_by_name(cluster, demo_manifest, curator_key, tmp_path):
    wrapper = tmp_path / "other-ffmpeg"
    wrapper.mkdir()
    (wrapper / "ffmpeg").write_text('#!/bin/sh\ncase " $* " in *" -version "*)\n'
                                    '  echo "ffmpeg version 9.9-other Copyright (c) the FFmpeg developers"; exit 0;;\n'
                                    f'esac\nexec {shutil.which("ffmpeg")} "$@"\n')
    (wrapper / "ffmpeg").chmod(0o755)
    (wrapper / "ffprobe").symlink_to(shutil.which("ffprobe"))
    env = dict(os.environ, INFOPACK_FFMPEG=str(wrapper / "ffmpeg"), PYTHONPATH=str(REPO))
    odd = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
                            "--nthreads", "1", "--name", "odd-pc", "--no-nanny", "--no-dashboard"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        matching = set(worker_pids(cluster.scheduler_address))
        with Client(cluster.scheduler_address, set_as_default=False) as client:
            client.wait_for_workers(len(matching) + 1, timeout=60)
        cache = tmp_path / "cache"
        with pytest.raises(UsageError) as refused:
            build(demo_manifest, tmp_path / "out", curator_key, cache=cache,
                  executor=dask_url(cluster.scheduler_address))
    finally:
        odd.terminate()
        odd.wait(30)
    message = str(refused.value)
    assert "worker odd-pc (tcp://127.0.0.1:" in message
    assert "ffmpeg is 9.9-other there, " in message
    assert not any(address in message for address in matching), "the two matching workers are not named"
    assert not list((cache / "entries").iterdir()), "nothing was encoded"
    assert not list((tmp_path / "out").glob("card-*"))


def test_a_lost_scheduler_stops_the_build_and_a_local_rerun_reuses_finished_encodes(demo_manifest, curator_key,
                                                                                     tmp_path):
    """The song (the longest item, so the first job) finishes, then the scheduler dies while the
    clip encodes: one line says so, and a local rerun takes the song from the shared cache."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--no-nanny", "--no-dashboard"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cache, out = tmp_path / "cache", tmp_path / "out"
    two_items = {"exclude": {"clip-02": "not in this test", "clip-03": "not in this test",
                             "photo-01": "not in this test"}, "cache": cache}
    finished: list[str] = []

    def progress(event: dict) -> None:
        if event["event"] == "encoded" and not finished:
            finished.append(event["item"])
            scheduler.kill()

    try:
        with pytest.raises(InfopackError, match=f"lost the Dask scheduler at {address} .*rerun the build"):
            build(demo_manifest, out, curator_key, progress=progress, executor=f"dask://127.0.0.1:{port}",
                  **two_items)
    finally:
        for proc in (scheduler, worker):
            proc.kill()
            proc.wait(30)
    assert finished == ["song-01"]
    assert not list(out.glob("card-*"))
    events = []
    build(demo_manifest, out, curator_key, progress=events.append, **two_items)
    assert [e["item"] for e in events if e["event"] == "cached"][:1] == ["song-01"]
    assert (out / "card-01.manifest.json").is_file()


def test_an_unreachable_scheduler_is_said_in_one_line(demo_manifest, curator_key, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]          # closed again: nothing listens there
    started = time.monotonic()
    with pytest.raises(UsageError, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"):
        build(demo_manifest, tmp_path / "out", curator_key, cache=tmp_path / "cache",
              executor=f"dask://127.0.0.1:{port}")
    assert time.monotonic() - started < 30
    assert not list((tmp_path / "out").glob(".partial-*"))


def test_a_worker_that_sees_other_files_or_another_cache_says_which(demo_manifest, tmp_path):
    """The checks every worker runs, here in this process: inputs by size and hash prefix, the cache."""
    bundle = load_manifest(demo_manifest)
    profile = load_profile(bundle.profile)
    cache = tmp_path / "cache"
    (cache / "tmp").mkdir(parents=True)
    remote = RemoteBuild("t0ken", bundle, profile, profile.recipe(), str(cache), "x", dict(machine_facts(False)))
    clip, song = bundle.items[0], bundle.items[3]
    marks = {**input_marks(clip), **input_marks(song)}
    assert differences(remote, marks) == [f"does not see this build's cache folder {cache} (it must be the shared "
                                          f"folder, mounted at the same path)"]
    check_file(cache, "t0ken").write_text("t0ken")
    assert differences(remote, marks) == []
    marks[str(clip.source)][0] += 1
    marks[str(song.source)][1] = "0" * 64
    marks[str(tmp_path / "gone.mp4")] = [1, "0" * 64]
    found = differences(remote, marks)
    assert f"{clip.source} is {clip.source.stat().st_size:,} bytes there, " \
           f"{clip.source.stat().st_size + 1:,} here" in found
    assert f"{song.source} has other bytes there (its first 64 KiB differ)" in found
    assert any(line.startswith(f"cannot read {tmp_path / 'gone.mp4'}") for line in found)


def test_a_worker_with_another_tesseract_is_refused_when_a_source_has_picture_subtitles(demo_manifest, tmp_path,
                                                                                       monkeypatch):
    """OCR'd subtitles are card bytes too: where an item may have its subtitles read from pictures,
    the workers must have the client's tesseract and Korean data (not asked otherwise)."""
    from infopack.kinds.probe import MediaInfo
    from infopack.subtitles.images import tesseract_version
    from infopack.subtitles.sources import list_tracks
    pgs = {"streams": [{"index": 2, "codec_type": "subtitle", "codec_name": "hdmv_pgs_subtitle",
                        "tags": {"language": "kor"}}]}
    with_pictures = MediaInfo(tmp_path / "film.mkv", "video", 60.0, None, True, subtitle_tracks=tuple(list_tracks(pgs)))
    text_only = MediaInfo(tmp_path / "film.mp4", "video", 60.0, None, True)
    notel, avi = load_profile("notel-480p"), load_profile("legacy-avi")
    assert reads_pictures(notel, [text_only, with_pictures])
    assert not reads_pictures(notel, [text_only]) and not reads_pictures(avi, [with_pictures])   # avi burns them in

    bundle = load_manifest(demo_manifest)
    cache = tmp_path / "cache"
    (cache / "tmp").mkdir(parents=True)
    check_file(cache, "t0ken").write_text("t0ken")
    here = dict(machine_facts(False, True))
    assert here["tesseract (OCR)"].startswith(tesseract_version() + ", kor data ")
    remote = RemoteBuild("t0ken", bundle, notel, notel.recipe(), str(cache), "x", here, reads_pictures=True)
    assert differences(remote, {}) == []

    other = tmp_path / "bin"
    other.mkdir()
    (other / "tesseract").write_text(f'#!/bin/sh\ncase "$1" in --version) echo "tesseract 9.9.9"; exit 0;; esac\n'
                                     f'exec {shutil.which("tesseract")} "$@"\n')
    (other / "tesseract").chmod(0o755)
    monkeypatch.setenv("PATH", f"{other}{os.pathsep}{os.environ['PATH']}")
    machine_facts.cache_clear()
    tesseract_version.cache_clear()
    try:
        found = differences(remote, {})
        assert found == [f"tesseract (OCR) is tesseract 9.9.9, kor data {here['tesseract (OCR)'].split()[-1]} there, "
                         f"{here['tesseract (OCR)']} here"]
        text_build = RemoteBuild("t0ken", bundle, notel, notel.recipe(), str(cache), "x", dict(machine_facts(False)))
        assert differences(text_build, {}) == [], "without picture subtitles tesseract is not asked"
    finally:
        machine_facts.cache_clear()
        tesseract_version.cache_clear()


@pytest.mark.parametrize("choice, address", [
    (ExecutorChoice("dask://office-pc:8786"), "tcp://office-pc:8786"),
    (ExecutorChoice("dask://10.0.0.5"), "tcp://10.0.0.5:8786"),
    (ExecutorChoice("dask://office-pc:8786", Path("ca.pem"), Path("me.pem"), Path("me.key")), "tls://office-pc:8786"),
    (ExecutorChoice("tcp://office-pc:9000"), "tcp://office-pc:9000"),
])
def test_executor_addresses(choice, address):
    assert scheduler_address(choice) == address


@pytest.mark.parametrize("choice, problem", [
    (ExecutorChoice("office-pc:8786"), "expected local or dask://HOST:PORT"),
    (ExecutorChoice("dask://office-pc", Path("ca.pem")), "TLS needs all three"),
    (ExecutorChoice("tcp://office-pc:8786", Path("ca.pem"), Path("me.pem"), Path("me.key")), "expected local"),
])
def test_bad_executor_addresses_are_refused(choice, problem):
    with pytest.raises(UsageError, match=problem):
        scheduler_address(choice)


def test_a_cluster_needs_the_cache_and_tls_needs_a_cluster(demo_manifest, curator_key, tmp_path):
    with pytest.raises(UsageError, match="drop --no-cache"):
        build(demo_manifest, tmp_path / "out", curator_key, use_cache=False, executor="dask://127.0.0.1:1")
    with pytest.raises(UsageError, match="add --executor dask://HOST:PORT"):
        build(demo_manifest, tmp_path / "out", curator_key,
              executor=ExecutorChoice("local", Path("ca.pem"), Path("me.pem"), Path("me.key")))


def make_certificates(folder: Path, ca_name: str, names: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """A CA of the cluster's own and one certificate per name, signed by it (as docs/scale-out.md
    makes them with openssl): {name: (cert.pem, key.pem)}, with "ca" -> (ca.pem, ca.key)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def write(name: str, cert, key) -> tuple[str, str]:
        cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return str(cert_path), str(key_path)

    def certificate(subject: str, key, issuer: str, signer, ca: bool):
        now = datetime.datetime.now(datetime.timezone.utc)
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .sign(signer, hashes.SHA256()))

    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    made = {"ca": write(ca_name, certificate(ca_name, ca_key, ca_name, ca_key, True), ca_key)}
    for name in names:
        key = ec.generate_private_key(ec.SECP256R1())
        made[name] = write(name, certificate(name, key, ca_name, ca_key, False), key)
    return made


def test_a_tls_cluster_builds_with_the_tls_options_and_refuses_a_client_without_its_certificate(
        demo_manifest, curator_key, tmp_path, monkeypatch):
    from distributed import Security
    ours = make_certificates(tmp_path / "pki", "office-ca", ("node", "curator"))
    theirs = make_certificates(tmp_path / "other-pki", "other-ca", ("intruder",))
    security = Security(tls_ca_file=ours["ca"][0], tls_scheduler_cert=ours["node"][0],
                        tls_scheduler_key=ours["node"][1], tls_worker_cert=ours["node"][0],
                        tls_worker_key=ours["node"][1], tls_client_cert=ours["node"][0],
                        tls_client_key=ours["node"][1], require_encryption=True)
    quick = {"exclude": {"clip-01": "quick", "clip-02": "quick", "clip-03": "quick"}, "cache": tmp_path / "cache"}
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 3)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", protocol="tls://",
                      security=security, dashboard_address="127.0.0.1:0") as tls_cluster:
        address = tls_cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        url = "dask://" + address.removeprefix("tls://")
        events = []
        build(demo_manifest, tmp_path / "out", curator_key, progress=events.append, **quick,
              executor=ExecutorChoice(url, *map(Path, (ours["ca"][0], *ours["curator"]))))
        assert events[-1]["encoded"] == 2
        assert all(e["worker"].startswith("tls://127.0.0.1:") for e in events if e["event"] == "encoded")
        for refused in (ExecutorChoice(url),
                        ExecutorChoice(url, *map(Path, (ours["ca"][0], *theirs["intruder"])))):
            with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
                build(demo_manifest, tmp_path / "refused", curator_key, **quick, executor=refused)
