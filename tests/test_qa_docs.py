"""docs/qa.md stays in step with the code: every check verify can report is in the table."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from infopack.subtitles.scrub import CHECK_NAMES
from infopack.qa.verify import QA_CHECKS, qa_checks_table

REPO = Path(__file__).resolve().parent.parent
# The modules whose findings verify reports (verify, trust, the scanner, the subtitle scan).
SOURCES = ["infopack/qa/verify.py", "infopack/release/trust.py", "infopack/scan/__init__.py", "infopack/subtitles/scrub.py"]


def names_in_code() -> set[str]:
    names = set()
    for source in SOURCES:
        text = (REPO / source).read_text(encoding="utf-8")
        names |= set(re.findall(r'Finding\(\s*"([a-z0-9-]+)"', text))
        names |= set(re.findall(r'self\.add\("([a-z0-9-]+)"', text))
        names |= set(re.findall(r'return "(meta-[a-z-]+)", (?:ERROR|WARNING)', text))     # classify_tag
        names |= set(re.findall(r'\("(sub-[a-z-]+)", _SUB_', text))                       # built-in subtitle scan
        names |= set(re.findall(r'"(signature-[a-z-]+)" if', text))
    data = tomllib.loads((REPO / "infopack/data/scan-strings.toml").read_text(encoding="utf-8"))
    names |= {entry["check"] for entry in data["string"]}
    return names | set(CHECK_NAMES.values())


def test_every_check_the_code_can_report_is_documented():
    documented = {c.name for c in QA_CHECKS}
    assert names_in_code() - documented == set()
    assert len(documented) == len(QA_CHECKS)                         # no name twice


def test_the_table_in_docs_qa_is_the_one_made_from_the_code():
    doc = (REPO / "docs" / "qa.md").read_text(encoding="utf-8")
    assert qa_checks_table() in doc
    for check in QA_CHECKS:
        assert f"| `{check.name}` |" in doc


def test_docs_qa_names_every_verify_option_and_exit_code(run_cli):
    doc = (REPO / "docs" / "qa.md").read_text(encoding="utf-8")
    help_text = run_cli("verify", "--help").stdout
    options = set(re.findall(r"(--[a-z-]+)", help_text)) - {"--help"}
    assert options and {o for o in options if o not in doc} == set()
    for needed in ("**0**", "**1**", "**2**", "infopack approve", "infopack clean-card", "[roles.reviewer]", ".img"):
        assert needed in doc
