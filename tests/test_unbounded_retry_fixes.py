"""LLM003's machine-applicable fixes: applied to the flagged fixtures they re-parse, and the finding they fix goes away."""

from __future__ import annotations

import shutil
from pathlib import Path

import libcst as cst

from llmlint.api import lint_paths
from llmlint.config import Config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules" / "LLM003"


def _check(path: Path):
    return lint_paths([str(path)], Config(root=str(path.parent), select=("LLM003",)), jobs=1, use_cache=False)


def _apply(text: str, edits) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line, column):
        return starts[line - 1] + column - 1

    for edit in sorted(edits, key=lambda e: (e.location.line, e.location.column), reverse=True):
        loc = edit.location
        text = text[: offset(loc.line, loc.column)] + edit.replacement + text[offset(loc.end_line, loc.end_column) :]
    return text


def test_fixes_reparse_and_remove_their_findings(tmp_path):
    source = FIXTURES / "flagged_tenacity_no_stop.py"
    target = tmp_path / source.name
    shutil.copy(source, target)
    before = _check(target).findings
    with_edits = [f for f in before if f.edits]
    assert {f.location.line for f in with_edits} == {28, 55, 76, 90}
    fixed = _apply(target.read_text(encoding="utf-8"), [e for f in with_edits for e in f.edits])
    cst.parse_module(fixed)
    assert "stop=tenacity.stop_after_attempt(5)" in fixed
    target.write_text(fixed, encoding="utf-8")
    after = _check(target).findings
    assert sorted(f.message for f in after) == sorted(f.message for f in before if not f.edits)


def test_fix_names_the_missing_import(tmp_path):
    target = tmp_path / "llm.py"
    target.write_text(
        "from openai import OpenAI\n"
        "from tenacity import retry, wait_exponential\n\n"
        "client = OpenAI(timeout=30)\n\n\n"
        "@retry(\n    wait=wait_exponential(max=30),\n)\n"
        "def ask(q):\n"
        "    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=100, messages=[{'role': 'user', 'content': q}])\n",
        encoding="utf-8",
    )
    (finding,) = _check(target).findings
    assert "add `stop=stop_after_attempt(5)` (from tenacity)" in finding.fix
    fixed = _apply(target.read_text(encoding="utf-8"), finding.edits)
    assert "@retry(\n    wait=wait_exponential(max=30),\n    stop=stop_after_attempt(5),\n)\n" in fixed
    cst.parse_module(fixed)


def test_backoff_fix_adds_max_tries(tmp_path):
    source = FIXTURES / "flagged_backoff.py"
    target = tmp_path / source.name
    shutil.copy(source, target)
    findings = _check(target).findings
    fixed = _apply(target.read_text(encoding="utf-8"), [e for f in findings for e in f.edits])
    cst.parse_module(fixed)
    assert "(RateLimitError, ServiceUnavailableError), max_tries=5)" in fixed


def test_empty_retrying_call_gets_a_stop(tmp_path):
    target = tmp_path / "llm.py"
    target.write_text(
        "import tenacity\nfrom openai import OpenAI\n\nclient = OpenAI(timeout=30)\n\n\n"
        "def ask(q):\n"
        "    for attempt in tenacity.Retrying():\n"
        "        with attempt:\n"
        "            return client.chat.completions.create(model='gpt-4o-mini', max_tokens=100, messages=[{'role': 'user', 'content': q}])\n",
        encoding="utf-8",
    )
    (finding,) = _check(target).findings
    fixed = _apply(target.read_text(encoding="utf-8"), finding.edits)
    assert "for attempt in tenacity.Retrying(stop=tenacity.stop_after_attempt(5)):" in fixed
    cst.parse_module(fixed)
