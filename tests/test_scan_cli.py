"""`infopack scan` command: table or JSON, "clean: N files" line, exit status."""

from __future__ import annotations

import json

from click.testing import CliRunner
from PIL import Image

from infopack.cli.scan import scan


def make_images(folder, *, dirty: bool):
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("a.jpg", "b.png"):
        im = Image.new("RGB", (32, 24), (10, 200, 10))
        extra = {"comment": b"by Kim [0][0] Planted"} if dirty and name == "a.jpg" else {}
        im.save(folder / name, **extra)
    return folder


def test_clean_folder_prints_the_clean_line_and_exits_0(tmp_path):
    folder = make_images(tmp_path / "card", dirty=False)
    result = CliRunner().invoke(scan, [str(folder)])
    assert result.exit_code == 0, result.output
    assert "clean: 2 files, no identifying metadata found" in result.output


def test_dirty_file_prints_a_table_and_exits_1(tmp_path):
    folder = make_images(tmp_path / "card", dirty=True)
    result = CliRunner().invoke(scan, [str(folder)])
    assert result.exit_code == 1, result.output
    assert "meta-comment" in result.output and "error" in result.output
    assert "[0][0]" in result.output              # messages are not read as rich markup


def test_json_output_lists_findings_for_scripts(tmp_path):
    folder = make_images(tmp_path / "card", dirty=True)
    result = CliRunner().invoke(scan, ["--json", str(folder)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["files"] == 2 and report["clean"] is False
    assert report["findings"][0] == {"check": "meta-comment", "level": "error",
                                     "path": str(folder / "a.jpg"),
                                     "message": "JPEG comment 'by Kim [0][0] Planted'"}


def test_warnings_alone_exit_0(tmp_path):
    path = tmp_path / "notes.dat"            # not .txt: a TXT book is read as a document (a URL there is an error)
    path.write_text("see https://example.org/page for more\n")
    result = CliRunner().invoke(scan, ["--json", str(path)])
    assert result.exit_code == 0
    assert [f["level"] for f in json.loads(result.output)["findings"]] == ["warning"]
