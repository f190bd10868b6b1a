"""Text subtitle tracks inside a container are scanned like sidecar files."""

from __future__ import annotations

import subprocess

from infopack.scan import scan_file


def mux(tmp_path, srt_text: str):
    srt = tmp_path / "in.srt"
    srt.write_text(srt_text, encoding="utf-8")
    out = tmp_path / "with-subs.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=160x120:rate=10", "-i", str(srt), "-t", "2", "-map", "0:v", "-map", "1:s",
                    "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:s", "+bitexact",
                    "-c:v", "libx264", "-threads", "1", "-bsf:v", "filter_units=remove_types=6",
                    "-c:s", "mov_text", str(out)], check=True, timeout=60)
    return out


def test_credit_in_a_soft_track_is_found(tmp_path):
    path = mux(tmp_path, "1\n00:00:00,100 --> 00:00:01,000\n안녕하세요\n\n"
                         "2\n00:00:01,000 --> 00:00:01,900\n번역: 김철수 kim@example.org\n")
    errors = {f.check for f in scan_file(str(path)) if f.level == "error"}
    assert {"sub-credit", "sub-email"} & errors, errors


def test_clean_soft_track_gives_no_findings(tmp_path):
    path = mux(tmp_path, "1\n00:00:00,100 --> 00:00:01,000\n안녕하세요\n")
    assert [f for f in scan_file(str(path))] == []
