"""The kind registry: a kind registered from outside (here, inside this test only) goes through
the whole pipeline (manifest, plan, build, signature, verify, review) without any other
module knowing it; and the registry finds kinds by content first for card files, by
extension first for sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infopack import scan
from infopack.build import build
from infopack.errors import CheckFailed, UsageError
from infopack.kinds import REGISTRY, probe_source
from infopack.kinds.base import EncodeJob, Kind, Produced
from infopack.kinds.probe import MediaInfo
from infopack.manifest import load_manifest
from infopack.manifest.init import init_manifest
from infopack.plan import make_plan
from infopack.qa.verify import VerifyOptions, verify_out
from infopack.release.keys import load_public_key
from infopack.review.model import load_bundle
from infopack.review.report import write_report_html
from infopack.review.server import ReviewApp

NOTICE = "바다는 넓고 깊다.\n내일도 배가 떠난다.\n"
TEXT_MANIFEST = """
[bundle]
id = "texts"
title = "글 묶음"
profile = "notel-480p"
card = "8GB"

[[items]]
id = "notice"
title = "안내문"
source = "docs/notice.note"

[[items]]
id = "notes"
title = "배 시간표"
source = "docs/notes.note"
kind = "text"
"""


class TextKind(Kind):
    """Plain notes, copied to the card unchanged (the scanner reads their bytes only)."""
    name = "text"
    extensions = frozenset({".note"})
    card_folder, card_folder_ascii = "글", "TEXT"

    def probe(self, path: Path) -> MediaInfo:
        return MediaInfo(path, self.name, 0.0, None, False)

    def transcode(self, job: EncodeJob) -> list[Produced]:
        out = job.work_dir / f"{job.item.id}.note"
        shutil.copyfile(job.info.path, out)
        return [Produced("main", out, ".note")]

    def validate(self, job: EncodeJob, produced: Produced) -> None:
        if produced.path.read_bytes() != job.info.path.read_bytes():
            raise CheckFailed(produced.path, f"item {job.item.id}: the copy differs from the source")


@pytest.fixture
def text_kind():
    kind = REGISTRY.register(TextKind())
    yield kind
    REGISTRY.unregister(kind.name)


@pytest.fixture
def text_bundle(tmp_path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notice.note").write_text(NOTICE, encoding="utf-8")
    (tmp_path / "docs" / "notes.note").write_text("배 시간표\n", encoding="utf-8")
    manifest = tmp_path / "bundle.toml"
    manifest.write_text(TEXT_MANIFEST, encoding="utf-8")
    return manifest


def test_a_registered_kind_goes_from_manifest_to_a_verified_reviewed_card(text_kind, text_bundle, curator_key,
                                                                         keys_dir, tmp_path):
    bundle = load_manifest(text_bundle)                      # kind = "text" is a known kind now
    plan = make_plan(bundle)
    assert plan.items["notice"].info.kind == "text"
    assert plan.items["notice"].sizes == {"글/안내문.note": len(NOTICE.encode("utf-8"))}
    assert plan.result.cards[0].items == ["notice", "notes"]

    out = tmp_path / "out"
    result = build(bundle, out, curator_key, jobs=2, report_writers=[write_report_html])
    card = out / "card-01"
    assert (card / "글" / "안내문.note").read_text(encoding="utf-8") == NOTICE
    assert sorted(p.relative_to(card).as_posix() for p in card.rglob("*") if p.is_file()) == \
        ["글/배 시간표.note", "글/안내문.note"]
    assert [r.info.kind for r in result.items] == ["text", "text"]

    reports = verify_out(out, load_public_key(keys_dir / "curator.pub"), VerifyOptions(deep=True))
    assert [r.ok for r in reports] == [True], [f.message for r in reports for f in r.findings]

    view = load_bundle(out)
    assert [(i.id, i.kind, i.kind_handler.name) for i in view.items] == [("notice", "text", "text"),
                                                                          ("notes", "text", "text")]
    page = ReviewApp(view, "ko", "anonymous").page()
    report_html = (out / "report.html").read_text(encoding="utf-8")
    for html in (page, report_html):
        assert 'id="item-notice"' in html and "안내문" in html and "글/안내문.note" in html
        assert "<video" not in html and "<audio" not in html       # the kind has no player


def test_a_kind_is_known_only_while_registered(text_bundle, tmp_path):
    with pytest.raises(UsageError, match=r"kind: must be one of video, audio, image, document$"):
        load_manifest(text_bundle)
    assert REGISTRY.get("text") is None
    with pytest.raises(UsageError, match="no media files found"):
        init_manifest(text_bundle.parent / "docs")


def test_init_counts_a_registered_kind_as_media(text_kind, text_bundle):
    manifest = init_manifest(text_bundle.parent / "docs").path
    assert [item.source.name for item in load_manifest(manifest).items] == ["notes.note", "notice.note"]


def test_each_extension_belongs_to_one_kind(text_kind):
    class Another(TextKind):
        name = "another"
    with pytest.raises(ValueError, match="'.note'"):
        REGISTRY.register(Another())
    with pytest.raises(ValueError, match="already registered"):
        REGISTRY.register(TextKind())
    assert REGISTRY.get("another") is None
    assert not REGISTRY.extensions(items=True) & REGISTRY.extensions(items=False)


def test_card_files_are_known_by_content_first(samples_dir, tmp_path):
    jpeg = tmp_path / "photo.mp4"                      # a JPEG renamed: still read for EXIF
    shutil.copy(samples_dir / "media" / "photo01.jpg", jpeg)
    song = tmp_path / "song.mp3"
    shutil.copy(samples_dir / "media" / "song01.mp3", song)
    clip = samples_dir / "media" / "clip01.mp4"
    same_clip_as_audio = tmp_path / "clip.m4a"         # an MP4 container: its extension says sound
    shutil.copy(clip, same_clip_as_audio)
    text_as_video = tmp_path / "notes.mp4"             # text has no signature: the extension decides
    text_as_video.write_text("not a film\n", encoding="utf-8")
    unknown = tmp_path / "notes.xyz"
    unknown.write_text("?\n", encoding="utf-8")
    found = {path.name: getattr(REGISTRY.kind_for_file(path), "name", None)
             for path in (jpeg, song, clip, same_clip_as_audio, text_as_video, unknown,
                          samples_dir / "subs" / "clip03.smi")}
    assert found == {"photo.mp4": "image", "song.mp3": "audio", "clip01.mp4": "video", "clip.m4a": "audio",
                     "notes.mp4": "video", "notes.xyz": None, "clip03.smi": "subtitle"}
    assert {REGISTRY.kind_for_file(p).scanned_as for p in (jpeg, song, clip)} == {"image", "media"}


def test_the_scanner_reads_files_as_their_kind_says(samples_dir, tmp_path):
    """The scanner asks the registry how to read a file: a kind registered here is read its way."""
    renamed = tmp_path / "photo.mp4"                    # content first: a JPEG named .mp4 is read for EXIF
    shutil.copy(samples_dir / "media" / "photo01.jpg", renamed)
    text = tmp_path / "readme.txt"
    text.write_text("hello\n", encoding="utf-8")
    unknown = tmp_path / "readme.xyz"
    unknown.write_text("hello\n", encoding="utf-8")
    assert scan.file_kind(str(renamed)) == "image"
    assert scan.file_kind(str(text)) == "document"          # a TXT book: read for credits and addresses
    assert scan.file_kind(str(unknown)) == "other"
    assert scan.file_kind(str(samples_dir / "subs" / "clip03.smi")) == "subtitle"

    class Pictures(Kind):
        name, extensions, scanned_as = "pictures", frozenset({".pic"}), "image"
        card_folder, card_folder_ascii = "그림", "PICTURES"
    REGISTRY.register(Pictures())
    try:
        picture = tmp_path / "x.pic"
        picture.write_bytes(b"not a known signature")
        assert scan.file_kind(str(picture)) == "image"
    finally:
        REGISTRY.unregister("pictures")
    assert scan.file_kind(str(picture)) == "other"


def test_sources_are_known_by_extension_first_and_probed_by_their_kind(samples_dir, tmp_path):
    assert REGISTRY.kind_for_source(samples_dir / "media" / "clip02.mkv").name == "video"
    nameless = tmp_path / "photo"                       # no extension: the content says image
    shutil.copy(samples_dir / "media" / "photo01.jpg", nameless)
    assert REGISTRY.kind_for_source(nameless).name == "image"
    assert probe_source(nameless).kind == "image"
    mystery = tmp_path / "clip.bin"                     # neither: ffprobe (the fallback kind) reads it
    shutil.copy(samples_dir / "media" / "clip01.mp4", mystery)
    assert REGISTRY.kind_for_source(mystery).name == "video"
    assert probe_source(samples_dir / "media" / "song01.mp3").kind == "audio"
    with pytest.raises(UsageError, match="cannot be an item|has no audio or video stream"):
        probe_source(samples_dir / "subs" / "clip01.ko.srt")
