"""The Red Star OS watermark trailer: found where planted, with the right offset, and
never on a clean file."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import infopack.scan.redstar as redstar
from infopack.checks import ERROR, WARNING
from infopack.scan import scan_file
from infopack.scan.redstar import REDSTAR_DES_KEY, des_decryptor, find_redstar_trailer

from helpers import make_redstar_trailer

# ERNW's published sample (redstar-tools, watermarked/README.md): this ciphertext
# decrypts to "WM8295FF513293A" under the fixed key.
PUBLISHED_BLOCK = bytes.fromhex("7908dfd0e092b2d128247e20315975b25a13a0e6294b75b1")


@pytest.fixture(scope="module")
def clean_mp4(tmp_path_factory):
    if not (shutil.which("ffmpeg") and shutil.which("ffprobe")):
        pytest.skip("ffmpeg/ffprobe not installed")
    path = tmp_path_factory.mktemp("redstar") / "clean.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1",
                    "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
                    "-c:v", "libx264", "-threads", "1", "-bsf:v", "filter_units=remove_types=6",
                    str(path)], check=True, timeout=120)
    return path


def plant(source, tmp_path, *trailers):
    target = tmp_path / "watermarked.mp4"
    target.write_bytes(source.read_bytes() + b"".join(trailers))
    return target


def test_published_sample_decrypts_with_the_published_key():
    decryptor = des_decryptor(REDSTAR_DES_KEY)
    if decryptor is None:
        pytest.skip("no DES in this cryptography build")
    assert (decryptor.update(PUBLISHED_BLOCK) + decryptor.finalize()).rstrip(b"\0") == b"WM8295FF513293A"


def test_published_sample_block_is_found_in_a_file(tmp_path):
    original = b"\xff\xd8 original bytes \xff\xd9"
    path = tmp_path / "photo.jpg"
    path.write_bytes(original + PUBLISHED_BLOCK + (24).to_bytes(4, "little") + b"EOF")
    info = find_redstar_trailer(str(path))
    assert info.original_size == len(original) and info.serials == (b"8295FF513293A",)


def test_trailer_layout_is_blocks_length_eof():
    trailer = make_redstar_trailer(b"S3RIAL")
    assert len(trailer) == 24 + 4 + 3
    assert trailer[24:28] == (24).to_bytes(4, "little") and trailer.endswith(b"EOF")


def test_planted_trailer_on_clean_mp4_is_found_at_the_original_end(clean_mp4, tmp_path):
    target = plant(clean_mp4, tmp_path, make_redstar_trailer(b"WD-WCAV12345678"))
    info = find_redstar_trailer(str(target))
    assert info.original_size == clean_mp4.stat().st_size
    assert info.trailer_size == 31 and info.blocks == 1
    assert info.serials == (b"WD-WCAV12345678",) and info.decrypted
    findings = scan_file(str(target))
    assert [(f.check, f.level) for f in findings] == [("redstar-trailer", ERROR)]
    assert "WD-WCAV12345678" in findings[0].message
    assert str(clean_mp4.stat().st_size) in findings[0].message


def test_several_machines_in_one_trailer_are_all_reported(clean_mp4, tmp_path):
    target = plant(clean_mp4, tmp_path, make_redstar_trailer(b"FIRST-DISK", b"SECOND-DISK"))
    info = find_redstar_trailer(str(target))
    assert info.blocks == 2 and info.serials == (b"FIRST-DISK", b"SECOND-DISK")
    assert info.original_size == clean_mp4.stat().st_size


def test_stacked_trailers_are_unwound_to_the_original_end(clean_mp4, tmp_path):
    target = plant(clean_mp4, tmp_path, make_redstar_trailer(b"ONE"), make_redstar_trailer(b"TWO", b"THREE"))
    info = find_redstar_trailer(str(target))
    assert info.serials == (b"ONE", b"TWO", b"THREE")
    assert info.original_size == clean_mp4.stat().st_size
    assert info.trailer_size == 31 + 55


def test_clean_files_are_not_flagged(clean_mp4, tmp_path):
    assert find_redstar_trailer(str(clean_mp4)) is None
    assert scan_file(str(clean_mp4)) == []
    heredoc = tmp_path / "script.txt"
    heredoc.write_text("cat <<EOF\nhello\nEOF")
    assert find_redstar_trailer(str(heredoc)) is None
    tiny = tmp_path / "tiny.bin"
    tiny.write_bytes((24).to_bytes(4, "little") + b"EOF")          # length larger than the file
    assert find_redstar_trailer(str(tiny)) is None


def test_structure_alone_is_detected_when_des_is_missing(clean_mp4, tmp_path, monkeypatch):
    target = plant(clean_mp4, tmp_path, make_redstar_trailer(b"SERIAL"))
    monkeypatch.setattr(redstar, "des_decryptor", lambda key: None)
    info = find_redstar_trailer(str(target))
    assert info.original_size == clean_mp4.stat().st_size and not info.decrypted
    findings = scan_file(str(target))
    assert [(f.check, f.level) for f in findings] == [("redstar-trailer", WARNING)]
    assert "no DES" in findings[0].message


def test_trailer_that_does_not_decrypt_is_a_warning(tmp_path):
    path = tmp_path / "odd.bin"
    path.write_bytes(b"payload" + bytes(range(24)) + (24).to_bytes(4, "little") + b"EOF")
    info = find_redstar_trailer(str(path))
    assert info.original_size == 7 and info.serials == ()
    assert [(f.check, f.level) for f in scan_file(str(path))] == [("redstar-trailer", WARNING)]
