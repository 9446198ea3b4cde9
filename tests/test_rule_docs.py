"""The rule documents are the single source of each rule: complete, true to the catalog, paired with a class,
and their examples behave as they say (Example raises exactly its rule; Use instead raises nothing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmlint.api import lint_paths
from llmlint.engine.config import Config
from llmlint.ruleset.registry import (
    all_rules,
    class_name,
    module_name,
    rule_class,
    rule_modules,
)
from llmlint.ruleset.ruledoc import SECTIONS

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT.parent / "shared" / "CATALOG.md"
RULES = all_rules()


def catalog_rows() -> dict[str, tuple[str, str]]:
    """{id: (name, severity text)} from the catalog's tables, when the catalog is beside the repository."""
    rows = {}
    for line in CATALOG.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"LLM\d{3}", cells[0]):
            rows[cells[0]] = (cells[1], cells[-1])
    return rows


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_doc_has_every_section_in_order(rule_id):
    meta = RULES[rule_id]
    headings = re.findall(r"^## (.+)$", meta.markdown, re.M)
    assert headings == list(SECTIONS)
    assert meta.markdown.startswith(f"# {meta.name} ({meta.id})\n")
    assert meta.summary.startswith("Flags ")
    assert meta.filename == f"{meta.id}-{meta.name}.md"


@pytest.mark.skipif(not CATALOG.exists(), reason="shared/CATALOG.md is not beside this checkout")
@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_doc_front_matter_matches_catalog(rule_id):
    meta = RULES[rule_id]
    name, severity = catalog_rows()[rule_id]
    assert meta.name == name
    assert meta.severity.value in severity


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_doc_pairs_with_its_class(rule_id):
    meta = RULES[rule_id]
    cls = rule_class(meta)
    assert cls.__name__ == class_name(meta.name)
    assert cls.__module__ == f"llmlint.rules.{module_name(meta.name)}"


def test_every_rule_module_has_a_doc():
    documented = {module_name(meta.name) for meta in RULES.values()}
    assert set(rule_modules()) == documented


def _lint_snippet(tmp_path: Path, code: str):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'example'\n", encoding="utf-8")
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    return lint_paths([str(tmp_path)], Config(root=str(tmp_path)), jobs=1, use_cache=False)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_doc_example_raises_exactly_its_rule(rule_id, tmp_path):
    code = RULES[rule_id].example("Example")
    assert code, "the Example section needs a python code block"
    report = _lint_snippet(tmp_path, code)
    assert {f.rule_id for f in report.findings} == {rule_id}


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_doc_use_instead_raises_nothing(rule_id, tmp_path):
    code = RULES[rule_id].example("Use instead")
    assert code, "the Use instead section needs a python code block"
    report = _lint_snippet(tmp_path, code)
    assert [f"{f.rule_id}:{f.location.line} {f.message}" for f in report.findings] == []
