"""Every rule fixture: the findings of its rule are exactly the `# expect:` markers (rule, file, line).

fixtures/rules/<ID>/flagged_<case>.py (or a flagged_<case>/ package) must produce the marked findings;
clean_<case> look-alikes must produce none. Only the fixture's own rule runs, so a fixture marks only its rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlint.api import lint_paths
from llmlint.engine.config import Config
from llmlint.ruleset.registry import all_rules
from tests.expectations import actual_findings, expected_findings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"


def _cases():
    for rule_dir in sorted(FIXTURES.iterdir()) if FIXTURES.is_dir() else ():
        for case in sorted(rule_dir.iterdir()):
            if case.name.startswith(("flagged_", "clean_")) and (case.suffix == ".py" or case.is_dir()):
                yield pytest.param(rule_dir.name, case, id=f"{rule_dir.name}/{case.name}")


def run_rule(rule_id: str, path: Path):
    root = path if path.is_dir() else path.parent
    config = Config(root=str(root), select=(rule_id,))
    return lint_paths([str(path)], config, jobs=1, use_cache=False, project_scope=False)  # each case is a program of its own


@pytest.mark.parametrize("rule_id, case", list(_cases()))
def test_fixture_findings_match_markers(rule_id, case):
    report = run_rule(rule_id, case)
    expected = expected_findings(case, {rule_id})
    if case.name.startswith("clean_"):
        assert not expected, f"{case.name} is a clean fixture but carries expect markers"
    assert actual_findings(report) == expected
    assert not report.problems, report.problems


@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_every_rule_has_flagged_and_clean_fixtures(rule_id):
    folder = FIXTURES / rule_id
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    assert any(n.startswith("flagged_") for n in names), f"{rule_id} has no flagged_ fixture"
    assert any(n.startswith("clean_") for n in names), f"{rule_id} has no clean_ fixture"
