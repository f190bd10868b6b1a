"""OutDir is the only code that knows the names of the files in a build folder.

The names are checked in the source: a string literal in code that is (part of) a file
name or glob pattern with `manifest.json`, `.minisig` or `SHA256SUMS` in it belongs in
`infopack/release/outdir.py`. Messages and docs meant for people (text with spaces) may
still mention the names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import PASSPHRASE

PACKAGE = Path(__file__).resolve().parent.parent / "infopack"
NAMES = ("manifest.json", ".minisig", "SHA256SUMS")
OWNER = "release/outdir.py"
EXEMPT = (
    "cli/",          # help text names the files for people
)


def names_in_code(source: str) -> list[tuple[int, str]]:
    """(line, literal) for each string in code (not a docstring) that is a file name or pattern using NAMES."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and any(name in node.value for name in NAMES) and not any(ch.isspace() for ch in node.value)]


def test_the_scanner_finds_names_built_in_code_and_leaves_messages_alone():
    code = '''
"""Writes card-NN.manifest.json."""
def publish(out, card_id, key):
    """Signs `card-NN.manifest.json.minisig`."""
    old = sorted(out.glob("card-*.manifest.json"))
    sig = out / f"{card_id}.manifest.json.{key}.minisig"
    sums = out / (card_id + ".SHA256SUMS")
    raise ValueError("no card manifests here (expected card-NN.manifest.json)")
'''
    assert [literal for _, literal in names_in_code(code)] == [
        "card-*.manifest.json", ".manifest.json.", ".minisig", ".SHA256SUMS"]


def test_only_outdir_knows_the_names_of_the_files_in_a_build_folder():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == OWNER or rel.startswith(EXEMPT):
            continue
        found += [f"infopack/{rel}:{line}: {literal!r}"
                  for line, literal in names_in_code(path.read_text(encoding="utf-8"))]
    assert found == [], "use infopack.release.outdir.OutDir instead:\n" + "\n".join(found)


# --------------------------------------------------------------------------- the API, on a real build

def test_outdir_names_every_file_of_a_real_build(built):
    from infopack.release.outdir import OutDir
    out = OutDir(built)
    assert out.cards() == out.require_cards() == ["card-01"]
    for path in (out.manifest_path("card-01"), out.build_signature_path("card-01"), out.sums_path("card-01"),
                 out.report_path, out.report_html_path):
        assert path.is_file() and path.parent == built, path
    assert out.card_dir("card-01").is_dir() and out.card_target("card-01") == out.card_dir("card-01")
    assert not out.image_path("card-01").exists() and out.approval_paths("card-01") == []
    assert out.all_manifests() == [out.manifest_path("card-01")]
    assert out.seal_files() == [out.manifest_path("card-01"), out.build_signature_path("card-01"),
                                out.sums_path("card-01")]
    assert out.card_contents() == [out.card_dir("card-01")]
    every = sorted(p for p in built.iterdir() if p.name.startswith("card-"))
    assert sorted(out.seal_files() + out.card_contents()) == every
    assert sorted(p.name for p in every if OutDir.is_seal_name(p.name)) == sorted(p.name for p in out.seal_files())


def test_approvals_are_named_by_key_id_and_found_again(built_copy, tmp_path):
    from infopack.release.approve import approve
    from infopack.release.keys import keygen, load_signing_key
    from infopack.release.outdir import OutDir
    keygen(tmp_path / "reviewer", "reviewer", PASSPHRASE)
    key = load_signing_key(tmp_path / "reviewer.key", PASSPHRASE)
    [done] = approve(built_copy, key, items=["clip-01"], note="ok")
    out = OutDir(built_copy)
    key_id = key.public.key_id_hex
    assert done.signature == out.approval_path("card-01", key_id) and done.items == ("clip-01",)
    assert out.approval_paths("card-01") == [done.signature]
    assert out.key_id_in_name("card-01", done.signature) == key_id
    assert out.key_id_in_name("card-01", out.build_signature_path("card-01")) is None
    assert out.all_approvals() == [("card-01", done.signature)]
    assert done.signature in out.seal_files() and OutDir.is_seal_name(done.signature.name)
    assert not list(built_copy.glob(".*.tmp"))


def test_an_image_stands_in_for_a_missing_card_folder(tmp_path):
    from infopack.release.outdir import OutDir
    out = OutDir(tmp_path)
    assert out.card_target("card-02") == tmp_path / "card-02"          # missing: verify says card-missing
    out.image_path("card-02").write_bytes(b"\0")
    assert out.card_target("card-02") == out.image_path("card-02")
    assert out.card_contents() == [out.image_path("card-02")]
    out.card_dir("card-02").mkdir()
    assert out.card_target("card-02") == out.card_dir("card-02")


def test_a_manifest_under_any_name_keeps_its_signatures_beside_it(tmp_path):
    from infopack.release.outdir import ManifestFiles, card_of
    files = ManifestFiles(tmp_path / "returned.json")
    assert files.build_signature == tmp_path / "returned.json.minisig"
    assert files.approval("ABC123") == tmp_path / "returned.json.ABC123.minisig"
    files.approval("ABC123").write_text("x")
    files.build_signature.write_text("x")
    (tmp_path / "returned.json..minisig").write_text("x")          # no key id: not an approval
    assert files.approvals() == [files.approval("ABC123")]
    assert card_of(tmp_path / "card-07.manifest.json") == "card-07"


def test_a_folder_without_manifests_is_a_usage_error(tmp_path):
    from infopack.errors import UsageError
    from infopack.release.outdir import OutDir
    (tmp_path / "card-01").mkdir()
    with pytest.raises(UsageError, match="no card manifests here .*is this a build folder"):
        OutDir(tmp_path).require_cards()
