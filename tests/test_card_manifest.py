"""CardManifest: the build's manifest bytes read back and written again unchanged; anything
else refused with one reason, which the verifier reports as `manifest-format`; the trusted
comments of signatures made and read in one place."""

from __future__ import annotations

import json

import pytest


def manifest_bytes(out) -> bytes:
    return (out / "card-01.manifest.json").read_bytes()


def test_a_built_manifest_reads_back_to_the_same_bytes(built):
    from infopack.release.card_manifest import CardManifest
    data = manifest_bytes(built)
    manifest = CardManifest.from_bytes(data)
    assert manifest.to_bytes() == data
    assert CardManifest.from_bytes(manifest.to_bytes()) == manifest
    assert manifest.to_dict() == json.loads(data)


def test_create_gives_the_builds_canonical_bytes_whatever_the_file_order(built):
    from infopack.release.card_manifest import CardManifest
    data = manifest_bytes(built)
    read = CardManifest.from_bytes(data)
    made = CardManifest.create(bundle=read.bundle, card=read.card, profile=read.profile,
                               files=reversed(read.files), items=read.items)
    assert made == read and made.to_bytes() == data


def test_the_parts_are_typed_and_the_item_views_agree_with_the_json(built):
    from infopack.release.card_manifest import CardManifest
    raw = json.loads(manifest_bytes(built))
    manifest = CardManifest.from_bytes(manifest_bytes(built))
    assert (manifest.bundle.id, manifest.bundle.version, manifest.card.id, manifest.card.card_class) == (
        "test-bundle", 3, "card-01", "8GB")
    assert manifest.item_ids() == [i["id"] for i in raw["items"]] == [
        "clip-01", "clip-02", "clip-03", "song-01", "photo-01"]
    hashes = {f["path"]: f["sha256"] for f in raw["files"]}
    assert manifest.item_files() == {i["id"]: {p: hashes[p] for p in i["files"]} for i in raw["items"]}
    assert sum(len(files) for files in manifest.item_files().values()) == len(manifest.files) == 8


def broken(change):
    def apply(data: dict) -> bytes:
        change(data)
        return json.dumps(data, ensure_ascii=False).encode("utf-8")
    return apply


@pytest.mark.parametrize("make, says", [
    (lambda d: b"\xff\xfe not utf-8", "not UTF-8 JSON"),
    (lambda d: b'{"format": ', "not UTF-8 JSON"),
    (lambda d: b"[]", "not a JSON object"),
    (broken(lambda d: d.update(format="infopack-card-manifest/2")), "unknown format 'infopack-card-manifest/2'"),
    (broken(lambda d: d.pop("items")), "'items' is missing"),
    (broken(lambda d: d["bundle"].update(version="3")), "'bundle.version' must be a whole number"),
    (broken(lambda d: d["card"].update(usable_bytes=True)), "'card.usable_bytes' must be a whole number"),
    (broken(lambda d: d["files"][2].pop("sha256")), "'files[2].sha256' is missing"),
    (broken(lambda d: d["files"].__setitem__(0, "a.mp4")), "files[0] must be an object"),
    (broken(lambda d: d["card"].update(owner="x")), "unknown field 'card.owner'"),
    (broken(lambda d: d["items"][1]["files"].append("없는 파일.mp4")), "items[1].files names '없는 파일.mp4'"),
    (broken(lambda d: d["items"][0].update(title_allow="date-ymd")), "'items[0].title_allow' must be a list"),
    (broken(lambda d: d["items"][0].update(title_allow=[])), "items[0].title_allow must be a non-empty list"),
    (broken(lambda d: d["items"][0].update(title_allow=[3])), "items[0].title_allow must be a non-empty list"),
])
def test_anything_but_a_card_manifest_is_refused_with_its_reason(built, make, says):
    from infopack.release.card_manifest import CardManifest, CardManifestError
    with pytest.raises(CardManifestError) as caught:
        CardManifest.from_bytes(make(json.loads(manifest_bytes(built))))
    assert says in str(caught.value)


def test_title_allow_is_kept_only_where_the_curator_gave_one(built):
    """Absent when empty, so manifests of items without it keep their bytes; read back as written."""
    from infopack.release.card_manifest import CardManifest, ItemEntry
    manifest = CardManifest.from_bytes(manifest_bytes(built))
    assert all(item.title_allow == () for item in manifest.items)
    assert b"title_allow" not in manifest_bytes(built)
    first = manifest.items[0]
    allowed = CardManifest.create(bundle=manifest.bundle, card=manifest.card, profile=manifest.profile,
                                  files=manifest.files, items=[ItemEntry(first.id, first.title, first.kind,
                                                                         first.files, ("date-korean",)),
                                                               *manifest.items[1:]])
    data = allowed.to_bytes()
    assert json.loads(data)["items"][0]["title_allow"] == ["date-korean"]
    assert CardManifest.from_bytes(data) == allowed and CardManifest.from_bytes(data).to_bytes() == data


def test_a_malformed_manifest_is_the_verifiers_manifest_format_finding(run_cli, built_copy, keys_dir,
                                                                         curator_key):
    """Signed by the curator, so the signature holds: what fails is the manifest's shape."""
    from infopack.release.seal import sign_manifest
    path = built_copy / "card-01.manifest.json"
    data = path.read_bytes().replace(b'"version":3', b'"version":"3"')
    path.write_bytes(data)
    (built_copy / "card-01.manifest.json.minisig").write_text(
        sign_manifest(data, curator_key, bundle_id="test-bundle", bundle_version=3, card_id="card-01"),
        encoding="utf-8")
    result = run_cli("verify", built_copy, "--pubkey", keys_dir / "curator.pub", "--json")
    findings = json.loads(result.stdout)["cards"][0]["findings"]
    assert result.exit_code == 1
    assert [(f["check"], f["level"], f["path"]) for f in findings] == [
        ("manifest-format", "error", "card-01.manifest.json")]
    assert "'bundle.version' must be a whole number" in findings[0]["message"]


def test_build_and_approval_comments_read_back(built):
    from infopack.release.card_manifest import CardManifest
    from infopack.release.comments import parse_comment, trusted_comment
    manifest = CardManifest.from_bytes(manifest_bytes(built))
    build = parse_comment(trusted_comment("test-bundle", 3, "card-01", "curator"))
    assert (build.role, build.kind, build.items, manifest.comment_mismatch(build)) == (
        "curator", "signature", None, None)
    approval = parse_comment(manifest.approval_comment("reviewer", ["clip-01", "song-01"], "봤음\n좋음"))
    assert (approval.role, approval.kind, approval.items, approval.note) == (
        "reviewer", "approval", ("clip-01", "song-01"), "봤음 좋음")
    other = parse_comment(trusted_comment("test-bundle", 3, "card-02", "curator"))
    assert "card=card-02 but the manifest is card=card-01" in manifest.comment_mismatch(other)
    assert parse_comment("timestamp:1700000000\tfile:card-01.manifest.json") is None
