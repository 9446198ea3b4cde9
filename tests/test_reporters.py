"""Text, JSON and GitHub reporters, and the format dispatcher."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import llmlint
from llmlint import reporters
from llmlint.finding import Edit, Location, Problem, Report
from llmlint.reporters import github, text
from llmlint.reporters import json as json_reporter
from tests.report_samples import finding, make_rule, sample_report, sample_rules

GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --- text ---------------------------------------------------------------------------------------------------


def test_text_matches_reviewed_golden_file():
    expected = (GOLDEN / "report.txt").read_text(encoding="utf-8")
    assert text.render(sample_report(), sample_rules()) == expected


def test_text_is_plain_unless_color_is_asked_for():
    report, rules = sample_report(), sample_rules()
    plain = text.render(report, rules)
    colored = text.render(report, rules, color=True)
    assert not ANSI.search(plain)
    assert ANSI.search(colored)
    assert ANSI.sub("", colored) == plain


def test_text_colors_rule_id_by_severity():
    colored = text.render(sample_report(), sample_rules(), color=True).splitlines()
    assert "\x1b[1;31mLLM107\x1b[0m" in colored[0]  # error: red
    assert "\x1b[1;33mLLM101\x1b[0m" in colored[2]  # warning: yellow


def test_text_of_an_empty_report_is_empty():
    assert text.render(Report(files_checked=3), sample_rules()) == ""


def test_summary_counts_findings_by_severity_and_skipped_files():
    assert text.summary(sample_report()) == (
        "Found 4 findings (2 errors, 1 warning, 1 note) in 12 files; 1 file skipped."
    )


def test_summary_uses_singular_forms():
    rule = sample_rules()["LLM101"]
    report = Report(findings=[finding(rule, Location("a.py", 1), "m", "f")], files_checked=1)
    assert text.summary(report) == "Found 1 finding (1 warning) in 1 file."


def test_summary_without_findings():
    assert text.summary(Report(files_checked=12)) == "No findings in 12 files."
    skipped = Report(files_checked=2, problems=[Problem("a.py", "x"), Problem("b.py", "y")])
    assert text.summary(skipped) == "No findings in 2 files; 2 files skipped."


def test_statistics_lists_rules_most_frequent_first():
    rules = sample_rules()
    timeout, retry = rules["LLM101"], rules["LLM003"]
    report = Report(
        findings=[finding(retry, Location("a.py", 1), "m", "f")]
        + [finding(timeout, Location("a.py", line), "m", "f") for line in (2, 3, 4)]
    )
    assert text.statistics(report) == "  3  LLM101  missing-timeout\n  1  LLM003  unbounded-retry\n"
    assert text.statistics(Report()) == ""


# --- json ---------------------------------------------------------------------------------------------------


def test_json_document_shape():
    document = json.loads(json_reporter.render(sample_report(), sample_rules()))
    assert document["version"] == 1
    assert document["tool"] == {"name": "llmlint", "version": llmlint.__version__}
    assert document["files_checked"] == 12
    assert document["skipped"] == [{"path": "app/broken.py", "reason": "syntax error at line 3, column 8"}]
    assert [f["rule_id"] for f in document["findings"]] == ["LLM107", "LLM101", "LLM003", "LLM106"]


def test_json_finding_carries_span_fix_edits_and_related():
    timeout = json.loads(json_reporter.render(sample_report(), sample_rules()))["findings"][1]
    assert timeout == {
        "rule_id": "LLM101",
        "name": "missing-timeout",
        "severity": "warning",
        "path": "app/llm.py",
        "line": 12,
        "column": 14,
        "end_line": 15,
        "end_column": 6,
        "message": "`client.chat.completions.create` uses the OpenAI default timeout (600 s)",
        "fix": "pass `timeout=30` to the call or to `OpenAI(...)`",
        "edits": [
            {
                "path": "app/llm.py",
                "line": 15,
                "column": 5,
                "end_line": 15,
                "end_column": 5,
                "replacement": ", timeout=30",
            }
        ],
        "related": [
            {"path": "app/clients.py", "line": 3, "column": 10, "message": "client created here without a timeout"}
        ],
    }


def test_json_is_indented_with_sorted_keys():
    output = json_reporter.render(sample_report(), sample_rules())
    assert output == json.dumps(json.loads(output), indent=2, sort_keys=True) + "\n"


# --- github -------------------------------------------------------------------------------------------------


def test_github_commands_map_severity_and_carry_the_span():
    lines = github.render(sample_report(), sample_rules()).splitlines()
    assert lines[1] == (
        "::warning file=app/llm.py,line=12,col=14,endLine=15,endColumn=6,title=LLM101 missing-timeout"
        "::`client.chat.completions.create` uses the OpenAI default timeout (600 s)"
        " Fix: pass `timeout=30` to the call or to `OpenAI(...)`"
    )
    assert [line.split(" ", 1)[0] for line in lines[:4]] == ["::error", "::warning", "::error", "::notice"]


def test_github_reports_skipped_files():
    last = github.render(sample_report(), sample_rules()).splitlines()[-1]
    assert last == "::warning file=app/broken.py,title=llmlint::skipped: syntax error at line 3, column 8"


def test_github_escapes_message_and_properties():
    rule = sample_rules()["LLM101"]
    odd = finding(rule, Location("dir,1/a:b%.py", 2), "100% sure\r\nreally: yes, sir", "x")
    line = github.render(Report(findings=[odd]), {}).rstrip("\n")
    assert "\n" not in line
    assert line.startswith("::warning file=dir%2C1/a%3Ab%25.py,line=2,")
    # a finding's message never holds a raw CR or LF (llmlint.redact.safe_text): they show escaped, on one line
    assert line.endswith("::100%25 sure\\r\\nreally: yes, sir Fix: x")
    assert github.escape_data("a\r\nb%") == "a%0D%0Ab%25"


# --- dispatcher ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", reporters.FORMATS)
def test_dispatch_matches_the_format_module(fmt):
    module = __import__(f"llmlint.reporters.{fmt}", fromlist=["render"])
    report, rules = sample_report(), sample_rules()
    # source_lines keeps the SARIF renderer off the disk; other renderers ignore options they do not know.
    opts = {"source_lines": lambda path, line: "", "color": False}
    assert reporters.render(fmt, report, rules, **opts) == module.render(report, rules, **opts)


def test_dispatch_rejects_unknown_format():
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        reporters.render("xml", sample_report(), sample_rules())


def test_reporter_modules_are_imported_lazily():
    code = "import sys, llmlint.reporters; print(sorted(m for m in sys.modules if m.startswith('llmlint.reporters.')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_renderers_handle_a_finding_without_fix_or_extras():
    rule = make_rule("LLM108", "blocking-call-in-async", "warning")
    bare = finding(rule, Location("a.py", 5, 3), "sync call in `async def handle`", "")
    report = Report(findings=[bare], files_checked=1)
    assert text.render(report, {}) == "a.py:5:3: LLM108 blocking-call-in-async sync call in `async def handle`\n"
    assert github.render(report, {}).endswith("::sync call in `async def handle`\n")
    assert json.loads(json_reporter.render(report, {}))["findings"][0]["edits"] == []


def test_edit_spans_are_reported_as_given():
    rule = sample_rules()["LLM101"]
    edit = Edit(Location("a.py", 2, 1, 3, 1), "")
    report = Report(findings=[finding(rule, Location("a.py", 2), "m", "f", edits=(edit,))])
    (span,) = json.loads(json_reporter.render(report, {}))["findings"][0]["edits"]
    assert (span["line"], span["column"], span["end_line"], span["end_column"]) == (2, 1, 3, 1)
