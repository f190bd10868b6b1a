"""The check registry: every finding comes from a declared check, at a level it allows."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from infopack.checks import CHECKS, ERROR, INFO, LEVELS, WARNING, Finding, load_checks
from infopack.errors import InfopackError
from infopack.scan.scan_strings import SCAN_STRINGS_FILE, scan_data
from infopack.subtitles.scrub import CHECK_NAMES

PACKAGE = Path(__file__).resolve().parent.parent / "infopack"
LEVEL_NAMES = {"ERROR": ERROR, "WARNING": WARNING, "INFO": INFO}


def package_trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in sorted(PACKAGE.rglob("*.py"))}


def finding_calls(tree: ast.Module):
    """(line, check names, level name or None) of every `Finding(...)` call with a literal check."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Finding"):
            continue
        first = node.args[0] if node.args else None
        options = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
        names = [o.value for o in options if isinstance(o, ast.Constant) and isinstance(o.value, str)]
        level = node.args[1].id if len(node.args) > 1 and isinstance(node.args[1], ast.Name) else None
        if names:
            yield node.lineno, names, level


def string_constants(tree: ast.Module) -> set[str]:
    """Every string literal of a module except its docstrings."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}


def test_every_finding_the_package_makes_names_a_declared_check_at_an_allowed_level():
    """Read from the source, so a misspelt name on a path no test reaches still fails here."""
    problems, calls = [], 0
    for path, tree in package_trees().items():
        for line, names, level in finding_calls(tree):
            calls += 1
            for name in names:
                declared = CHECKS.get(name)
                if declared is None:
                    problems.append(f"{path.name}:{line}: {name!r} is not declared")
                elif level in LEVEL_NAMES and LEVEL_NAMES[level] not in declared.levels:
                    problems.append(f"{path.name}:{line}: {name!r} is not declared at {level}")
    assert calls > 60 and problems == []


def test_every_declared_check_is_reported_by_some_code_or_marked_reserved():
    in_code = set().union(*(string_constants(tree) for tree in package_trees().values()))
    in_data = {entry["check"] for entry in tomllib.loads(SCAN_STRINGS_FILE.read_text(encoding="utf-8"))["string"]}
    unused = [c.name for c in CHECKS.values() if c.name not in in_code | in_data and not c.reserved]
    assert unused == []


def test_the_scan_strings_and_subtitle_scan_name_declared_checks_at_allowed_levels():
    raw = tomllib.loads(SCAN_STRINGS_FILE.read_text(encoding="utf-8"))["string"]
    assert {entry["check"] for entry in raw} <= set(CHECKS)
    for spec in scan_data().strings:
        assert spec.level in CHECKS[spec.check].levels, spec.pattern
    assert all(ERROR in CHECKS[name].levels for name in CHECK_NAMES.values())


def test_a_finding_of_an_undeclared_check_or_level_cannot_be_made():
    with pytest.raises(ValueError, match="not declared"):
        Finding("meta-gsp", ERROR, "a.mp4", "a typo")
    with pytest.raises(ValueError, match="warning, not 'error'|level"):
        Finding("meta-url", ERROR, "a.mp4", "meta-url is only ever a warning")
    assert Finding("redstar-trailer", WARNING, "a.mp4", "shape only").level == WARNING
    assert Finding("redstar-trailer", ERROR, "a.mp4", "serial decrypted").level == ERROR


def test_every_check_declares_meaning_action_and_levels_usual_one_first():
    assert len(CHECKS) > 50
    for check in CHECKS.values():
        assert check.meaning and check.action and set(check.levels) <= set(LEVELS)
    assert CHECKS["redstar-trailer"].levels == (ERROR, WARNING)
    assert CHECKS["card-overflow"].default_level == ERROR
    assert CHECKS["meta-url"].default_level == WARNING


def test_a_scan_strings_entry_without_a_level_takes_its_checks_default(tmp_path):
    data = tmp_path / "scan-strings.toml"
    data.write_text("[[string]]\ncheck = \"meta-url\"\npattern = 'https?://x'\n")
    assert [s.level for s in scan_data(data).strings] == [WARNING]


REGISTRY = """areas = ["files"]

[check.extra-file]
area = "files"
levels = ["error"]
meaning = "on the card, not in the manifest"
action = "delete it"
"""


def test_the_registry_file_loads_reserved_checks_and_refuses_mistakes(tmp_path):
    path = tmp_path / "checks.toml"
    path.write_text(REGISTRY + '\n[check.future]\narea = "files"\nlevels = ["warning"]\nmeaning = "m"\n'
                    'action = "a"\nreserved = "reported once the FAT image reader lands"\n')
    assert load_checks(path)["future"].reserved.startswith("reported once")
    for broken, complaint in [(REGISTRY.replace('area = "files"', 'area = "fils"'), "area"),
                              (REGISTRY.replace('["error"]', '["fatal"]'), "levels"),
                              (REGISTRY.replace('["error"]', '[]'), "levels"),
                              (REGISTRY.replace('action = "delete it"\n', ""), "needs"),
                              (REGISTRY + "[check.extra-file]\n", "cannot read")]:
        path.write_text(broken)
        with pytest.raises(InfopackError, match=complaint):
            load_checks(path)
