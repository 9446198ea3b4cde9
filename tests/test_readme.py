"""The README's rule table is the one generated from rules/, and its Quickstart commands are the CI's."""

from __future__ import annotations

import re
from pathlib import Path

from llmlint.ruleset.registry import all_rules
from llmlint.ruleset.ruletable import render_rule_table

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


def test_quickstart_output_is_the_real_output(monkeypatch):
    """The README's pasted output is what `llmlint fixtures/demo-app --exit-zero` prints: each finding shown is one
    of the real ones, word for word, the count of the others is right, and its summary lines are on stderr."""
    from click.testing import CliRunner

    from llmlint.cli import main

    pasted = re.search(r"<!-- quickstart-output:start -->\n```text\n(.*?)```\n<!-- quickstart-output:end -->", README, re.S).group(1)
    command, rest = pasted.split("\n", 1)
    assert command == "$ llmlint fixtures/demo-app --exit-zero"
    shown, more, summary = re.match(r"(.*?)\n\n\.\.\. and (\d+) more findings like these [^\n]*\n\n(.*)", rest, re.S).groups()
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["fixtures/demo-app", "--exit-zero", "--no-cache"])
    assert result.exit_code == 0
    blocks = [block.rstrip("\n") for block in result.stdout.split("\n\n")]
    pasted_blocks = shown.split("\n\n")
    assert pasted_blocks and all(block in blocks for block in pasted_blocks)
    assert len(blocks) == len(pasted_blocks) + int(more)
    assert all(line in result.stderr.splitlines() for line in summary.splitlines())
