"""The README's rule table is the one generated from rules/, and its Quickstart commands are the CI's."""

from __future__ import annotations

import re
from pathlib import Path

from llmlint.registry import all_rules
from llmlint.ruletable import render_rule_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_rule_table_matches_rule_docs():
    table = re.search(r"<!-- rules:start -->\n(.*?)<!-- rules:end -->", README, re.S).group(1)
    assert table == render_rule_table(all_rules())


def test_ci_runs_the_readme_test_command():
    command = 'python -m pip install ".[test]" && python -m pytest'
    assert f"```sh\n{command}\n```" in README
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_quickstart_runs_the_demo_app():
    assert "```sh\npython -m pip install . && llmlint fixtures/demo-app --exit-zero\n```" in README
    assert (ROOT / "fixtures" / "demo-app" / "pyproject.toml").is_file()
