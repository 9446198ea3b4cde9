"""The bundled demo app: every rule's findings are exactly its `# expect:` markers, and every rule shows."""

from __future__ import annotations

from pathlib import Path

from llmlint.api import lint_paths
from llmlint.engine.config import Config
from llmlint.ruleset.registry import all_rules
from tests.expectations import actual_findings, expected_findings

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo-app"


def test_demo_app_findings_are_its_markers():
    report = lint_paths([str(DEMO)], Config(root=str(DEMO)), jobs=1, use_cache=False)
    assert sorted(actual_findings(report)) == sorted(expected_findings(DEMO, set(all_rules())))
    assert not report.problems


def test_demo_app_shows_every_rule_of_the_catalog():
    marked = {rule_id for rule_id, _, _ in expected_findings(DEMO)}
    catalog = {f"LLM00{n}" for n in range(1, 6)} | {f"LLM10{n}" for n in range(1, 9)}
    assert marked == catalog
    assert set(all_rules()) <= marked
