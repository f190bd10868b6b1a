"""docs/qa.md stays in step with the code: its check tables are the registry's, its options verify's."""

from __future__ import annotations

import re
from pathlib import Path

from infopack.checks import CHECKS, checks_table
from infopack.qa.verify import VERIFY_AREAS, verify_checks

REPO = Path(__file__).resolve().parent.parent


def test_the_tables_in_docs_qa_are_the_ones_made_from_the_registry():
    doc = (REPO / "docs" / "qa.md").read_text(encoding="utf-8")
    assert checks_table(verify_checks()) in doc
    assert checks_table(c for c in CHECKS.values() if c.area not in VERIFY_AREAS) in doc
    for name in CHECKS:
        assert doc.count(f"| `{name}` |") == 1


def test_verify_areas_are_areas_of_the_registry():
    areas = {c.area for c in CHECKS.values()}
    assert set(VERIFY_AREAS) <= areas and areas - set(VERIFY_AREAS)
    assert {"signature", "hash-mismatch", "meta-gps", "sub-credit", "redstar-trailer", "image"} <= {
        c.name for c in verify_checks()}


def test_docs_qa_names_every_verify_option_and_exit_code(run_cli):
    doc = (REPO / "docs" / "qa.md").read_text(encoding="utf-8")
    help_text = run_cli("verify", "--help").stdout
    options = set(re.findall(r"(--[a-z-]+)", help_text)) - {"--help"}
    assert options and {o for o in options if o not in doc} == set()
    for needed in ("**0**", "**1**", "**2**", "infopack approve", "infopack clean-card", "[roles.reviewer]", ".img"):
        assert needed in doc
