"""The command line: exit codes as API, options, and what goes to stdout and stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmlint.cli import main

ROOT = Path(__file__).resolve().parent.parent
NO_TIMEOUT = '''\
from openai import OpenAI

client = OpenAI()


def answer(question: str) -> str:
    response = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}], max_tokens=100)
    return response.choices[0].message.content
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    (tmp_path / "bot.py").write_text(NO_TIMEOUT, encoding="utf-8")
    (tmp_path / "util.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_findings_exit_1_and_are_printed_with_fix(project):
    result = invoke("check", "bot.py", "--select", "LLM101", "--no-cache")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()  # the full format (the default, as in ruff): title, place, source and caret, fix
    assert lines[0].startswith("warning[LLM101] missing-timeout: `client.chat.completions.create` has no timeout")
    assert lines[1] == "   --> bot.py:7:16"
    source = next(i for i, line in enumerate(lines) if line.startswith("  7 |     response = client.chat.completions.create("))
    assert lines[source + 1] == "    |                " + "^" * 105  # under the call, up to the cut of the long line
    assert lines[-1].startswith("fix: pass `timeout=30`")


def test_bare_invocation_means_check_of_current_folder(project):
    result = invoke("--select", "LLM101", "--no-cache", "--output-format", "concise")
    assert result.exit_code == 1
    assert "bot.py:7:16: warning[LLM101]" in result.stdout


def test_path_without_command_means_check(project):
    assert invoke("util.py", "--no-cache").exit_code == 0


def test_clean_file_exits_0(project):
    result = invoke("check", "util.py", "--no-cache")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_exit_zero_and_fail_on(project):
    assert invoke("check", "bot.py", "--select", "LLM101", "--exit-zero", "--no-cache").exit_code == 0
    assert invoke("check", "bot.py", "--select", "LLM101", "--fail-on", "error", "--no-cache").exit_code == 0
    assert invoke("check", "bot.py", "--select", "LLM101", "--fail-on", "note", "--no-cache").exit_code == 1


def test_ignore_by_name_and_prefix(project):
    assert invoke("check", "bot.py", "--select", "LLM101", "--ignore", "missing-timeout", "--no-cache").exit_code == 0
    assert invoke("check", "bot.py", "--ignore", "LLM1", "--no-cache").exit_code == 0
    # as in ruff, the more specific selector wins: LLM101 stays selected over an LLM1 ignore
    assert invoke("check", "bot.py", "--select", "LLM101", "--ignore", "LLM1", "--no-cache").exit_code == 1


def test_missing_path_is_usage_error(project):
    result = invoke("check", "no_such_dir", "--no-cache")
    assert result.exit_code == 2
    assert "no_such_dir" in result.output
    assert "Traceback" not in result.output


def test_unknown_rule_is_usage_error(project):
    result = invoke("check", ".", "--select", "LLM999", "--no-cache")
    assert result.exit_code == 2
    assert "LLM999" in result.output


def test_bad_config_key_is_usage_error_naming_file_and_key(project):
    (project / "pyproject.toml").write_text("[tool.llmlint]\nselct = ['LLM1']\n", encoding="utf-8")
    result = invoke("check", ".", "--no-cache")
    assert result.exit_code == 2
    assert "pyproject.toml" in result.output and "selct" in result.output


def test_json_output_to_file(project):
    result = invoke("check", "bot.py", "--select", "LLM101", "--format", "json", "-o", "out.json", "--no-cache")
    assert result.exit_code == 1
    document = json.loads((project / "out.json").read_text(encoding="utf-8"))
    assert [(f["rule_id"], f["path"], f["line"]) for f in document["findings"]] == [("LLM101", "bot.py", 7)]


def test_github_format(project):
    result = invoke("check", "bot.py", "--select", "LLM101", "--format", "github", "--no-cache")
    assert result.stdout.startswith("::warning file=bot.py,line=7,col=16,")


def test_syntax_error_is_skipped_with_one_line_and_others_still_checked(project):
    (project / "broken.py").write_text("import openai\ndef f(:\n", encoding="utf-8")
    result = invoke("check", ".", "--select", "LLM101", "--no-cache", "--output-format", "concise")
    assert result.exit_code == 1
    skipped = [line for line in result.stderr.splitlines() if ": skipped: " in line]
    assert len(skipped) == 1 and skipped[0].startswith("broken.py: skipped: syntax error")
    assert "bot.py:7:16: warning[LLM101]" in result.stdout


def test_binary_and_undecodable_files_are_skipped(project):
    (project / "blob.py").write_bytes(b"import openai\n\x00\x01\x02")
    (project / "latin.py").write_bytes(b"# -*- coding: ascii -*-\nimport openai\nx = '\xe9'\n")
    result = invoke("check", ".", "--select", "LLM101", "--no-cache")
    assert "blob.py: skipped: binary file" in result.stderr
    assert "latin.py: skipped: cannot decode" in result.stderr
    assert result.exit_code == 1


def test_pep263_coding_cookie_is_honoured(project):
    (project / "bot.py").write_bytes(("# -*- coding: latin-1 -*-\n# r\u00e9sum\u00e9\n" + NO_TIMEOUT).encode("latin-1"))
    result = invoke("check", "bot.py", "--select", "LLM101", "--no-cache", "--output-format", "concise")
    assert result.exit_code == 1
    assert "bot.py:9:16: warning[LLM101]" in result.stdout


def test_deeply_nested_file_is_skipped_not_fatal(project):
    (project / "deep.py").write_text("import openai\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n", encoding="utf-8")
    result = invoke("check", ".", "--select", "LLM101", "--no-cache")
    assert "deep.py: skipped:" in result.stderr
    assert result.exit_code == 1


def test_suppression_comment(project):
    text = NO_TIMEOUT.replace("max_tokens=100)", "max_tokens=100)  # llmlint: ignore[LLM101] batch job, no user waits")
    (project / "bot.py").write_text(text, encoding="utf-8")
    assert invoke("check", "bot.py", "--select", "LLM101", "--no-cache").exit_code == 0


def test_bare_suppression_suppresses_nothing_and_is_reported(project):
    (project / "bot.py").write_text(NO_TIMEOUT.replace("max_tokens=100)", "max_tokens=100)  # llmlint: ignore"), encoding="utf-8")
    result = invoke("check", "bot.py", "--select", "LLM101", "--no-cache")
    assert result.exit_code == 1
    assert "suppresses nothing" in result.stderr


def test_statistics_replace_the_listing_and_survive_quiet(project):
    (project / "chat.py").write_text(NO_TIMEOUT.replace("answer", "reply"), encoding="utf-8")
    result = invoke("check", ".", "--select", "LLM101", "--statistics", "--no-cache")
    assert result.exit_code == 1
    assert result.stdout == "  2  LLM101  warning  missing-timeout\n"  # only the table, as `ruff --statistics`
    assert "Found 2 findings (2 warnings) in 3 files." in result.stderr.splitlines()
    quiet = invoke("check", ".", "--select", "LLM101", "--statistics", "--no-cache", "-q")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (1, result.stdout, "")
    as_json = invoke("check", ".", "--select", "LLM101", "--statistics", "--no-cache", "--format", "json")
    assert json.loads(as_json.stdout) == [{"rule_id": "LLM101", "name": "missing-timeout", "severity": "warning", "count": 2}]
    assert invoke("check", ".", "--statistics", "--format", "sarif", "--no-cache").exit_code == 2


def test_output_format_concise_and_full(project):
    concise = invoke("check", "bot.py", "--select", "LLM101", "--no-cache", "--output-format", "concise")
    assert concise.stdout == (
        "bot.py:7:16: warning[LLM101] missing-timeout: `client.chat.completions.create` has no timeout: the openai client "
        "waits up to 600 s by default\n"
    )
    full = invoke("check", "bot.py", "--select", "LLM101", "--no-cache", "--output-format", "full")
    assert full.stdout == invoke("check", "bot.py", "--select", "LLM101", "--no-cache").stdout
    assert full.stdout == invoke("check", "bot.py", "--select", "LLM101", "--no-cache", "--format", "text").stdout
    assert concise.stdout == invoke("check", "bot.py", "--select", "LLM101", "--no-cache", "--format", "text",
                                    "--output-format", "concise").stdout
    as_json = invoke("check", "bot.py", "--select", "LLM101", "--no-cache", "--output-format", "json")
    assert json.loads(as_json.stdout)["findings"][0]["api"] == "openai.chat.completions.create"
    clash = invoke("check", "bot.py", "--no-cache", "--format", "json", "--output-format", "concise")
    assert clash.exit_code == 2 and "--output-format concise is a text format" in clash.stderr


def test_progress_line_only_on_a_terminal_and_never_under_quiet(project, monkeypatch):
    import llmlint.cli
    import llmlint.engine.progress

    monkeypatch.setattr(llmlint.engine.progress, "DELAY", 0.0)
    plain = invoke("check", ".", "--select", "LLM101", "--no-cache")  # CliRunner's stderr is not a terminal
    assert "\r" not in plain.stderr and "\x1b" not in plain.stderr
    monkeypatch.setattr(llmlint.cli, "_stderr_is_terminal", lambda: True)
    quiet = invoke("check", ".", "--select", "LLM101", "--no-cache", "-q")
    assert quiet.stderr == ""
    stopped, stop = [], llmlint.engine.progress.ProgressLine.stop
    monkeypatch.setattr(llmlint.engine.progress.ProgressLine, "stop", lambda self: (stopped.append(self), stop(self)))
    result = invoke("check", ".", "--select", "LLM101", "--no-cache")
    assert len(stopped) == 1  # on a (fake) terminal, without -q, the line is up for the run and taken down after it
    assert result.stdout.startswith("warning[LLM101]")  # and stdout, the report, never holds it


def test_progress_line_draws_after_the_delay_and_erases_itself():
    import io

    from llmlint.engine import progress

    now = [100.0]
    stream = io.StringIO()
    line = progress.ProgressLine(stream, delay=2.0, clock=lambda: now[0])
    progress.stage("parsing", 10_000)
    progress.advance(1234)
    line.tick()
    assert stream.getvalue() == ""  # a quick run shows nothing
    now[0] = 114.4
    line.tick()
    assert stream.getvalue() == "\r\x1b[Kllmlint: parsing 1,234/10,000 files, 14 s"
    line.stop()
    assert stream.getvalue().endswith("14 s\r\x1b[K")  # erased, so the summary starts on a clean line


def test_rules_lists_every_rule():
    result = invoke("rules")
    assert result.exit_code == 0
    assert "LLM101  missing-timeout" in result.stdout


def test_explain_by_id_and_name():
    by_id, by_name = invoke("explain", "LLM101"), invoke("explain", "missing-timeout")
    assert by_id.exit_code == 0 and by_id.stdout == by_name.stdout
    assert by_id.stdout.startswith("# missing-timeout (LLM101)")
    assert invoke("explain", "LLM999").exit_code == 2


def test_cache_is_used_and_cleaned(project):
    first = invoke("check", "bot.py", "--select", "LLM101")
    assert (project / ".llmlint_cache" / ".gitignore").read_text(encoding="utf-8").strip().endswith("*")
    second = invoke("check", "bot.py", "--select", "LLM101")
    assert first.stdout == second.stdout and second.exit_code == 1
    assert invoke("clean").exit_code == 0
    assert not (project / ".llmlint_cache").exists()


def test_corrupt_cache_entry_is_rebuilt(project):
    invoke("check", "bot.py", "--select", "LLM101")
    for entry in (project / ".llmlint_cache").rglob("*"):
        if entry.is_file() and entry.name != ".gitignore":
            entry.write_bytes(b"not a pickle")
    result = invoke("check", "bot.py", "--select", "LLM101", "--output-format", "concise")
    assert result.exit_code == 1 and "bot.py:7:16: warning[LLM101]" in result.stdout


def test_version_and_help_do_not_import_the_engine():
    code = (
        "import sys; from click.testing import CliRunner; from llmlint.cli import main; "
        "r = CliRunner().invoke(main, ['--version']); assert r.exit_code == 0, r.output; "
        "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('libcst', 'networkx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_runs_answered_from_the_cache_do_not_import_libcst(project):
    """Nothing changed, or only a comment: the cache answers, and libcst (a third of a warm run's time) stays unloaded."""
    code = (
        "import sys; from llmlint.api import lint_paths; report = lint_paths(['.']); "
        "print(len(report.findings), sorted(m for m in ('libcst',) if m in sys.modules))"
    )
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=project).stdout.split(maxsplit=1)
    assert cold[1].strip() == "['libcst']"
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=project).stdout.split(maxsplit=1)
    assert warm == [cold[0], "[]\n"]
    bot = project / "bot.py"
    bot.write_text(bot.read_text(encoding="utf-8") + "# reviewed: the timeout comes from the gateway\n", encoding="utf-8")
    os.utime(bot, ns=(time.time_ns() - 5_000_000_000,) * 2)
    touched = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=project).stdout.split(maxsplit=1)
    assert touched == [cold[0], "[]\n"]


def test_python_dash_m(project):
    result = subprocess.run([sys.executable, "-m", "llmlint", "check", "util.py", "--no-cache"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_warm_run_sees_a_new_suppression_comment_and_a_code_change(project):
    assert invoke("check", "bot.py", "--select", "LLM101").exit_code == 1
    text = NO_TIMEOUT.replace("max_tokens=100)", "max_tokens=100)  # llmlint: ignore[LLM101] cron job")
    (project / "bot.py").write_text(text, encoding="utf-8")
    assert invoke("check", "bot.py", "--select", "LLM101").exit_code == 0
    (project / "bot.py").write_text(NO_TIMEOUT.replace("OpenAI()", "OpenAI(timeout=300)"), encoding="utf-8")
    result = invoke("check", "bot.py", "--select", "LLM101")
    assert result.exit_code == 1 and "timeout of 300 s" in result.stdout
    (project / "bot.py").write_text(NO_TIMEOUT.replace("OpenAI()", "OpenAI(timeout=30)"), encoding="utf-8")
    assert invoke("check", "bot.py", "--select", "LLM101").exit_code == 0


def test_warm_run_sees_a_change_in_another_module(project):
    (project / "settings.py").write_text("TIMEOUT = 30\n", encoding="utf-8")
    (project / "bot.py").write_text("from settings import TIMEOUT\n" + NO_TIMEOUT.replace("OpenAI()", "OpenAI(timeout=TIMEOUT)"), encoding="utf-8")
    assert invoke("check", ".", "--select", "LLM101").exit_code == 0
    (project / "settings.py").write_text("TIMEOUT = 900\n", encoding="utf-8")
    assert invoke("check", ".", "--select", "LLM101").exit_code == 1


def test_every_format_reports_a_notebook_finding(monkeypatch):
    """The full text shows the finding's code cell; SARIF, JSON and annotations read no text lines of a notebook."""
    monkeypatch.chdir(ROOT)
    notebook = "fixtures/notebooks/support-triage"
    full = invoke("check", notebook, "--select", "LLM101", "--no-cache")
    assert full.exit_code == 1 and "  4 |       response = client.chat.completions.create(" in full.stdout
    for fmt in ("json", "sarif", "github"):
        result = invoke("check", notebook, "--select", "LLM101", "--no-cache", "--format", fmt)
        assert result.exit_code == 1 and "explore_tickets.ipynb" in result.stdout, fmt


def test_extend_exclude_on_the_command_line_adds_to_the_configuration(project):
    (project / "generated").mkdir()
    (project / "generated" / "client_stub.py").write_text(NO_TIMEOUT, encoding="utf-8")
    both = invoke("check", ".", "--select", "LLM101", "--output-format", "concise", "--no-cache")
    assert both.exit_code == 1
    assert "bot.py" in both.stdout and "generated/client_stub.py" in both.stdout
    kept = invoke("check", ".", "--select", "LLM101", "--output-format", "concise", "--no-cache",
                  "--extend-exclude", "generated,*_pb2.py")
    assert kept.exit_code == 1
    assert "bot.py" in kept.stdout and "generated" not in kept.stdout
    none = invoke("check", ".", "--select", "LLM101", "--no-cache", "--extend-exclude", "generated", "--extend-exclude", "bot.py")
    assert none.exit_code == 0, none.output


def test_extend_exclude_with_a_pattern_that_does_not_compile_is_a_usage_error(project):
    result = invoke("check", ".", "--no-cache", "--extend-exclude", "[z-a]")
    assert result.exit_code == 2
    assert "--extend-exclude" in result.output and "[z-a]" in result.output


def test_exclude_on_the_command_line_replaces_the_configurations_exclude(project):
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n\n[tool.llmlint]\nexclude = [\"bot.py\"]\n", encoding="utf-8")
    (project / "legacy").mkdir()
    (project / "legacy" / "old_bot.py").write_text(NO_TIMEOUT, encoding="utf-8")
    configured = invoke("check", ".", "--select", "LLM101", "--output-format", "concise", "--no-cache")
    assert "legacy/old_bot.py" in configured.stdout and "bot.py:" not in configured.stdout.replace("old_bot.py:", "")
    replaced = invoke("check", ".", "--select", "LLM101", "--output-format", "concise", "--no-cache", "--exclude", "legacy")
    assert replaced.exit_code == 1
    assert "legacy" not in replaced.stdout and "bot.py" in replaced.stdout
