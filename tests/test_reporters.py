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
from llmlint.reporters import github, text
from llmlint.reporters import json as json_reporter
from llmlint.results.finding import Edit, Location, Problem, Report
from tests.report_samples import (
    finding,
    make_rule,
    sample_report,
    sample_rules,
    sample_source_lines,
)

GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --- text ---------------------------------------------------------------------------------------------------


def test_full_text_matches_reviewed_golden_file():
    expected = (GOLDEN / "report-full.txt").read_text(encoding="utf-8")
    assert text.render(sample_report(), sample_rules(), source_lines=sample_source_lines()) == expected


def test_concise_text_matches_reviewed_golden_file():
    expected = (GOLDEN / "report-concise.txt").read_text(encoding="utf-8")
    assert text.render(sample_report(), sample_rules(), style="concise") == expected


def test_full_is_the_default_style_as_in_ruff():
    report, rules, lines = sample_report(), sample_rules(), sample_source_lines()
    assert text.render(report, rules, source_lines=lines) == text.render(report, rules, style="full", source_lines=lines)
    with pytest.raises(ValueError, match="unknown text style 'grouped'"):
        text.render(report, rules, style="grouped")


def test_every_finding_line_names_its_severity():
    concise = text.render(sample_report(), sample_rules(), style="concise").splitlines()
    assert [re.match(r"[^ ]+:\d+:\d+: (\w+)\[LLM\d{3}\] [a-z-]+: ", line).group(1) for line in concise] == [
        "error", "warning", "error", "note"]
    full = text.render(sample_report(), sample_rules(), source_lines=sample_source_lines())
    titles = [line for line in full.splitlines() if re.match(r"\w+\[LLM\d{3}\] ", line)]
    assert [t.split("[")[0] for t in titles] == ["error", "warning", "error", "note"]


@pytest.mark.parametrize("style", ["full", "concise"])
def test_text_is_plain_unless_color_is_asked_for(style):
    report, rules, lines = sample_report(), sample_rules(), sample_source_lines()
    plain = text.render(report, rules, style=style, source_lines=lines)
    colored = text.render(report, rules, style=style, source_lines=lines, color=True)
    assert not ANSI.search(plain)
    assert ANSI.search(colored)
    assert ANSI.sub("", colored) == plain


def test_text_colors_severity():
    colored = text.render(sample_report(), sample_rules(), style="concise", color=True).splitlines()
    assert "\x1b[1;31merror[LLM107]\x1b[0m" in colored[0]  # error: red
    assert "\x1b[1;33mwarning[LLM101]\x1b[0m" in colored[1]  # warning: yellow
    assert "\x1b[1;36mnote[LLM106]\x1b[0m" in colored[3]  # note: cyan


def test_text_of_an_empty_report_is_empty():
    for style in text.STYLES:
        assert text.render(Report(files_checked=3), sample_rules(), style=style) == ""


def test_full_without_source_shows_where_and_fix():
    rule = sample_rules()["LLM101"]
    report = Report(findings=[finding(rule, Location("gone.py", 7, 5), "no timeout", "pass `timeout=30`")])
    assert text.render(report, {}, source_lines=lambda path, line: None) == (
        "warning[LLM101] missing-timeout: no timeout\n --> gone.py:7:5\nfix: pass `timeout=30`\n"
    )


def _snippet(source: str, location: Location, rule_id: str = "LLM101", message: str = "m") -> list[str]:
    rule = sample_rules()[rule_id]
    report = Report(findings=[finding(rule, location, message, "")])
    return text.render(report, {}, source_lines=sample_source_lines({location.path: source})).splitlines()


def test_caret_sits_under_the_span_after_tabs_and_wide_characters():
    source = 'def f():\n\tanswer = "回答"; reply = llm.invoke(q)\n'
    lines = _snippet(source, Location("a.py", 2, 25, 2, 39))
    code, carets = lines[4], lines[5]
    assert code == "  2 |     answer = \"回答\"; reply = llm.invoke(q)"
    start = carets.index("^")
    assert carets[start:] == "^" * len("llm.invoke(q)")
    # the tab shows as four spaces and each wide character takes two columns, so the caret lines up with `llm`
    assert start == len('  2 |     answer = "') + 4 + len('"; reply = ')


def test_a_long_line_is_cut_around_the_span():
    source = "prompt = " + repr("x" * 300) + "; reply = client.chat.completions.create(messages=prompt)\n"
    column = source.index("client") + 1
    lines = _snippet(source, Location("a.py", 1, column, 1, column + len("client.chat.completions.create(messages=prompt)")))
    assert all(len(line) <= text.MAX_SOURCE_WIDTH + 10 for line in lines[2:])
    code, carets = lines[3], lines[4]
    assert code.startswith("  1 | ...")
    assert code[carets.index("^"):].startswith("client.chat.completions.create(")


def test_a_long_multi_line_span_is_folded():
    body = "".join(f"    arg{i}=1,\n" for i in range(10))
    source = f"def f():\n    reply = client.chat.completions.create(\n{body}    )\n    return reply\n"
    lines = _snippet(source, Location("a.py", 2, 13, 13, 6))
    assert lines[4:12] == [
        "  2 |       reply = client.chat.completions.create(",
        "    |  _____________^",
        "  3 | |     arg0=1,",
        "... | |",
        " 12 | |     arg9=1,",
        " 13 | |     )",
        "    | |_____^",
        " 14 |       return reply",
    ]


def test_source_lines_never_show_a_key():
    named = "8c7f1e2d9a0b4c3d5e6f7a8b9c0d1e2f3a4b5c6d"
    provider = "sk-ant-api03-Rb9xk2mQ7vLw4nT8pZs1cYd6hJ0fGe3u"
    source = (
        f'client = Anthropic(api_key="{named}")\n'
        f'BACKUP = "{provider}"\n'
        "reply = client.messages.create(model=MODEL, max_tokens=100, messages=m)\n"
    )
    output = "\n".join(_snippet(source, Location("a.py", 3, 9, 3, 71)))
    assert named not in output and provider not in output
    assert 'api_key="8c…(40 chars)"' in output and "sk-ant-ap…" in output


def test_read_source_lines_decodes_as_python_and_prefers_buffers(tmp_path):
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\r\nx = 1\rend = 2\n")
    (tmp_path / "buffered.py").write_text("on disk\n", encoding="utf-8")
    lines = text.read_source_lines(str(tmp_path), {str(tmp_path / "buffered.py"): b"in the editor\n"})
    assert [lines("latin.py", n) for n in (2, 3, 4)] == ["name = 'été'", "x = 1", "end = 2"]
    assert lines("buffered.py", 1) == "in the editor"
    assert lines("missing.py", 1) is None and lines("latin.py", 99) is None


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
    assert text.statistics(report) == "  3  LLM101  warning  missing-timeout\n  1  LLM003  error    unbounded-retry\n"
    assert json.loads(text.statistics(report, as_json=True)) == [
        {"rule_id": "LLM101", "name": "missing-timeout", "severity": "warning", "count": 3},
        {"rule_id": "LLM003", "name": "unbounded-retry", "severity": "error", "count": 1},
    ]
    assert text.statistics(Report()) == ""


def test_project_notes_are_shown_once_per_project():
    rule = sample_rules()["LLM106"]
    note_a, note_b = "the project in `a` has no LLM instrumentation at all", "the project in `b` has none either"
    report = Report(findings=[finding(rule, Location(f"{p}/m.py", n), "m", "f", note=note)
                              for p, note in (("a", note_a), ("b", note_b)) for n in (1, 2, 3)])
    assert text.project_notes(report) == [f"note[LLM106] unobserved-model-call: {note_a}",
                                          f"note[LLM106] unobserved-model-call: {note_b}"]
    lines = github.render(report, {}).splitlines()
    assert lines[-2:] == [f"::notice title=LLM106 unobserved-model-call::{note_a}",
                          f"::notice title=LLM106 unobserved-model-call::{note_b}"]


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
        "api": "openai.chat.completions.create",
        "note": None,
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
        "::`client.chat.completions.create` uses the OpenAI default timeout (600 s)."
        "%0A%0AFix: pass `timeout=30` to the call or to `OpenAI(...)`"
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
    # a finding's message never holds a raw CR or LF (llmlint.engine.redact.safe_text): they show escaped, on one line
    assert line.endswith("::100%25 sure\\r\\nreally: yes, sir.%0A%0AFix: x")
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
    assert text.render(report, {}, style="concise") == "a.py:5:3: warning[LLM108] blocking-call-in-async: sync call in `async def handle`\n"
    assert github.render(report, {}).endswith("::sync call in `async def handle`\n")
    assert json.loads(json_reporter.render(report, {}))["findings"][0]["edits"] == []


def test_edit_spans_are_reported_as_given():
    rule = sample_rules()["LLM101"]
    edit = Edit(Location("a.py", 2, 1, 3, 1), "")
    report = Report(findings=[finding(rule, Location("a.py", 2), "m", "f", edits=(edit,))])
    (span,) = json.loads(json_reporter.render(report, {}))["findings"][0]["edits"]
    assert (span["line"], span["column"], span["end_line"], span["end_column"]) == (2, 1, 3, 1)


# --- SARIF additions: short titles, properties --------------------------------------------------------------


def test_sarif_short_description_is_the_rule_document_title():
    from llmlint.reporters import sarif
    from llmlint.ruleset.registry import all_rules

    rules = all_rules()
    log = json.loads(sarif.render(Report(), rules, source_lines=lambda path, line: ""))
    for descriptor in log["runs"][0]["tool"]["driver"]["rules"]:
        title = descriptor["shortDescription"]["text"]
        assert title == rules[descriptor["id"]].title
        assert len(title) < 100 and title.endswith(".") and title.count(". ") == 0, title  # one sentence


def test_sarif_result_carries_the_canonical_api_and_project_note():
    from llmlint.reporters import sarif

    report = sample_report()
    rule = sample_rules()["LLM106"]
    report.findings[3] = finding(rule, Location("app/llm.py", 22, 12), "m", "f", api="openai.chat.completions.create",
                                 note="this project has no LLM instrumentation at all")
    results = json.loads(sarif.render(report, sample_rules(), source_lines=lambda path, line: ""))["runs"][0]["results"]
    assert results[1]["properties"] == {"api": "openai.chat.completions.create"}
    assert results[3]["properties"] == {"api": "openai.chat.completions.create",
                                        "projectNote": "this project has no LLM instrumentation at all"}
    assert "properties" not in results[0]


# --- on the demo app ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_report():
    from llmlint.api import lint_paths

    return lint_paths([str(Path(__file__).resolve().parent.parent / "fixtures" / "demo-app")], use_cache=False)


def test_demo_app_output_has_no_line_over_200_characters(demo_report):
    from llmlint.ruleset.registry import all_rules

    assert demo_report.findings
    output = text.render(demo_report, all_rules())  # the default format: concise lines add the path in front
    assert max(len(line) for line in output.splitlines()) <= 200
    assert all(len(f.message) <= 165 for f in demo_report.findings)


def test_demo_app_names_apis_as_the_code_does(demo_report):
    rag = [f for f in demo_report.findings if f.location.path.endswith("rag.py") and f.rule_id == "LLM101"]
    assert rag and rag[0].message.startswith("`kb_chain.invoke` has no timeout")
    assert rag[0].api == "langchain.chain.invoke"
    assert json.loads(json_reporter.render(demo_report, {}))["findings"][-4]["api"] == "langchain.chain.invoke"
    assert not any("openai.chat.completions.create" in f.message for f in demo_report.findings)


def test_demo_app_project_advice_is_given_once(demo_report):
    unobserved = [f for f in demo_report.findings if f.rule_id == "LLM106"]
    assert len(unobserved) == 5 and not any("instrumentation" in f.message for f in unobserved)
    assert text.project_notes(demo_report) == [
        "note[LLM106] unobserved-model-call: the project in `fixtures/demo-app` has no LLM instrumentation at all: "
        "5 of its 6 model calls are unobserved"
    ]


def test_timeout_none_is_said_plainly(tmp_path):
    from llmlint.api import lint_paths

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'bot'\n", encoding="utf-8")
    (tmp_path / "bot.py").write_text(
        "from openai import OpenAI\n\nclient = OpenAI(timeout=None)\n\n\n"
        "def answer(question):\n"
        "    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=50, messages=[question])\n",
        encoding="utf-8",
    )
    report = lint_paths([str(tmp_path)], use_cache=False)
    (timeout,) = [f for f in report.findings if f.rule_id == "LLM101"]
    assert timeout.message == (
        "`timeout=None` on its client disables the timeout of `client.chat.completions.create`: it waits forever for a response"
    )
    assert "no limit" not in timeout.message
