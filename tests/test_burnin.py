"""Burned-in Hangul subtitles: real build, real libass, proven by OCR of a frame.

A missing Korean font must stop the build with an install hint: libass would otherwise
draw empty boxes into every frame without complaint.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import infopack.kinds.fonts
import infopack.profiles
from infopack.errors import InfopackError

LINE = "바다 위로 해가 뜹니다"
PROFILE_ID = "test-burn-480p"


def _tesseract_with_korean() -> str | None:
    """Why the OCR test cannot run here, or None when it can."""
    exe = shutil.which("tesseract")
    if exe is None:
        return "tesseract is not installed (sudo apt-get install tesseract-ocr tesseract-ocr-kor)"
    langs = subprocess.run([exe, "--list-langs"], capture_output=True, timeout=60).stdout.decode()
    if "kor" not in langs.split():
        return "tesseract's Korean data is not installed (sudo apt-get install tesseract-ocr-kor)"
    return None


def _ffmpeg(*args: str) -> None:
    subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def burn_profile(tmp_path, monkeypatch) -> str:
    """The built-in notel profile with `[subtitles] mode = "burn"`, in its own profiles folder."""
    from importlib import resources
    text = resources.files("infopack").joinpath("data/profiles/notel-480p.toml").read_text(encoding="utf-8")
    text = text.replace('id = "notel-480p"', f'id = "{PROFILE_ID}"', 1)
    text, count = re.subn(r'(?m)^mode = "[^"]*"', 'mode = "burn"', text)
    assert count == 1
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / f"{PROFILE_ID}.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(infopack.profiles, "_extra_dirs", [])
    infopack.profiles.add_profile_dir(folder)
    assert infopack.profiles.load_profile(PROFILE_ID).subtitles.mode == "burn"
    return PROFILE_ID


@pytest.fixture
def burn_bundle(tmp_path, burn_profile) -> Path:
    """A 3 s dark clip with one Hangul cue from 0.5 s to 2.5 s, in a bundle using the burn profile."""
    src = tmp_path / "bundle"
    src.mkdir()
    _ffmpeg("-f", "lavfi", "-i", "color=c=0x203040:size=640x360:rate=25", "-t", "3",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", str(src / "dark.mp4"))
    (src / "dark.ko.srt").write_text(f"1\n00:00:00,500 --> 00:00:02,500\n{LINE}\n", encoding="utf-8")
    manifest = src / "bundle.toml"
    manifest.write_text(f"""
[bundle]
id = "burn-test"
title = "자막 시험"
profile = "{burn_profile}"
card = "8GB"
version = 1

[[items]]
id = "dark-01"
title = "해돋이"
source = "dark.mp4"
subtitles = ["dark.ko.srt"]
""", encoding="utf-8")
    return manifest


@pytest.fixture
def signing_key(tmp_path):
    from infopack.release.keys import keygen, load_signing_key
    (tmp_path / "keys").mkdir()
    keygen(tmp_path / "keys" / "curator", "curator", None)
    return load_signing_key(tmp_path / "keys" / "curator.key", None)


def _ocr_bottom_third(video: Path, at: float, work: Path) -> str:
    frame = work / f"frame-{at}.png"
    _ffmpeg("-ss", str(at), "-i", str(video), "-frames:v", "1",
            "-vf", "crop=iw:ih/3:0:ih*2/3,scale=iw*2:ih*2:flags=lanczos", str(frame))
    proc = subprocess.run(["tesseract", str(frame), "stdout", "-l", "kor", "--psm", "7"],
                          capture_output=True, timeout=120, check=True)
    return proc.stdout.decode("utf-8", "replace")


def _normalise(text: str) -> str:
    return " ".join(text.split())


def test_burned_in_hangul_is_readable_by_ocr_and_reproducible(burn_bundle, signing_key, tmp_path):
    reason = _tesseract_with_korean()
    if reason:
        pytest.skip(reason)
    from infopack.build import build
    from infopack.kinds.probe import ffprobe_json

    # ffmpeg's filter syntax gives `:` `,` `'` `[` meaning: the ASS lives under OUT, so use them.
    out1 = tmp_path / "out: 1,a'b [c];d"
    first = build(burn_bundle, out1, signing_key, jobs=1)
    card = out1 / "card-01"
    videos = sorted(card.rglob("*.mp4"))
    assert len(videos) == 1, sorted(card.rglob("*"))
    assert not list(card.rglob("*.srt")), "burn-only mode must not put a sidecar on the card"
    streams = ffprobe_json(videos[0]).get("streams", [])
    assert [s["codec_type"] for s in streams if s.get("codec_type") == "subtitle"] == []
    assert [s["codec_type"] for s in streams] == ["video"]
    assert first.items[0].subtitles["burn_font"] == infopack.kinds.fonts.find_korean_font().family

    seen = _normalise(_ocr_bottom_third(videos[0], 1.5, tmp_path))
    similarity = difflib.SequenceMatcher(None, seen.replace(" ", ""), LINE.replace(" ", "")).ratio()
    assert "바다" in seen, f"OCR read {seen!r}"
    assert similarity >= 0.8, f"OCR read {seen!r} (similarity {similarity:.2f} to {LINE!r})"

    # Before the cue starts the bottom of the frame is empty.
    assert "바다" not in _ocr_bottom_third(videos[0], 0.2, tmp_path)

    # Same font, same libass, same x264 settings: a second build gives the same bytes.
    build(burn_bundle, tmp_path / "out2", signing_key, jobs=1)
    again = tmp_path / "out2" / videos[0].relative_to(out1)
    assert again.read_bytes() == videos[0].read_bytes()
    assert ((tmp_path / "out2" / "card-01.manifest.json").read_bytes()
            == (out1 / "card-01.manifest.json").read_bytes())


def test_missing_korean_font_stops_the_build_with_an_install_hint(burn_bundle, signing_key, tmp_path, monkeypatch):
    monkeypatch.setattr(infopack.kinds.fonts, "_fontconfig_korean_fonts", lambda: [])
    from infopack.build import build
    with pytest.raises(InfopackError) as err:
        build(burn_bundle, tmp_path / "out", signing_key, jobs=1)
    assert err.value.line() == ("no Korean font installed for burned-in subtitles; "
                                "install one: sudo apt-get install fonts-nanum")
    assert not list((tmp_path / "out").glob("card-*")), "a failed build must leave no card"


def test_missing_fontconfig_names_the_package_to_install(monkeypatch):
    monkeypatch.setattr(infopack.kinds.fonts, "FC_LIST", "fc-list-not-installed-here")
    with pytest.raises(InfopackError) as err:
        infopack.kinds.fonts.find_korean_font()
    assert "no Korean font can be found" in err.value.line()
    assert "sudo apt-get install fontconfig" in err.value.line()


def test_font_choice_prefers_nanum_gothic_regular_then_noto_cjk_kr(monkeypatch):
    entry = infopack.kinds.fonts._FontEntry
    fonts = [
        entry("/f/Other.ttf", ("Baekmuk Gulim",), ("Regular",)),
        entry("/f/NotoSansCJK-Regular.ttc", ("Noto Sans CJK JP", "Noto Sans CJK KR"), ("Regular",)),
        entry("/f/NanumGothicBold.ttf", ("NanumGothic", "나눔고딕"), ("Bold",)),
        entry("/f/NanumGothic.ttf", ("NanumGothic", "나눔고딕"), ("Regular",)),
    ]
    monkeypatch.setattr(infopack.kinds.fonts, "_fontconfig_korean_fonts", lambda: list(fonts))
    found = infopack.kinds.fonts.find_korean_font()
    assert (found.family, found.file, found.fonts_dir) == ("NanumGothic", Path("/f/NanumGothic.ttf"), Path("/f"))

    monkeypatch.setattr(infopack.kinds.fonts, "_fontconfig_korean_fonts", lambda: fonts[:2])
    assert infopack.kinds.fonts.find_korean_font().family == "Noto Sans CJK KR"
    monkeypatch.setattr(infopack.kinds.fonts, "_fontconfig_korean_fonts", lambda: fonts[:1])
    assert infopack.kinds.fonts.find_korean_font().family == "Baekmuk Gulim"


def test_the_installed_korean_font_is_found():
    found = infopack.kinds.fonts.find_korean_font()
    assert found.file.is_file() and found.file.parent == found.fonts_dir
