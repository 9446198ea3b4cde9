"""Inputs that must never crash a run or drop a file unnamed: broken configuration, bad patterns, unwritable
output, special files, symbolic links, unreadable files, syntax errors, lone-CR line endings (issue 13).

Each test asserts the exit status, the exact `path: skipped: reason` or error line, and that the other files'
findings are still reported."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from llmlint.api import lint_paths
from llmlint.cli import main
from llmlint.engine import indexfiles as indexing

CHAT = '''\
from openai import OpenAI

client = OpenAI()


def answer(question: str) -> str:
    response = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}], max_tokens=100)
    return response.choices[0].message.content
'''
FINDING = "chat.py:7:16: warning[LLM101] missing-timeout:"

HELPERS = '''\
import json


def load_settings(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with one model call without a timeout (chat.py:7) and a helper the pre-filter passes over."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'support-bot'\n", encoding="utf-8")
    (root / "chat.py").write_text(CHAT, encoding="utf-8")
    (root / "settings.py").write_text(HELPERS, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def check(*args):
    return CliRunner().invoke(main, ["check", *args, "--select", "LLM101", "--output-format", "concise"])


def lines(text: str, marker: str) -> list[str]:
    return [line for line in text.splitlines() if marker in line]


def run_cli(*args, cwd):
    """The real console script in a subprocess: a hang fails the test after 60 s instead of blocking the suite."""
    return subprocess.run([sys.executable, "-m", "llmlint", "check", *args, "--select", "LLM101", "--no-cache", "--output-format", "concise"], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


# Configuration: an error is one line and exit 2; a pyproject.toml that does not configure llmlint is passed over


def test_pyproject_that_is_not_utf8_is_a_config_error(project):
    (project / "pyproject.toml").write_bytes(b"[tool.llmlint]\nselect = ['LLM1']\n# r\xe9sum\xe9 of the settings\n")
    result = check(".", "--no-cache")
    assert result.exit_code == 2
    assert result.stderr == "Error: pyproject.toml: invalid TOML: not UTF-8 text (byte 0xe9 on line 3)\n"


def test_config_option_file_that_is_not_utf8_is_a_config_error(project):
    (project / "ci.toml").write_bytes(b"fail-on = 'error'\n# \xff\n")
    result = check(".", "--config", "ci.toml", "--no-cache")
    assert result.exit_code == 2
    assert result.stderr == "Error: ci.toml: invalid TOML: not UTF-8 text (byte 0xff on line 2)\n"


def test_array_nested_too_deeply_in_another_table_is_a_config_error(project):
    nested = "[" * 100_000 + "]" * 100_000
    (project / "pyproject.toml").write_text(f"[tool.llmlint]\nfail-on = 'error'\n\n[tool.other]\nmatrix = {nested}\n", encoding="utf-8")
    result = check(".", "--no-cache")
    assert result.exit_code == 2
    assert result.stderr == "Error: pyproject.toml: invalid TOML: nested too deeply to read\n"


@pytest.mark.parametrize("key", ["exclude", "extend-exclude"])
def test_exclude_pattern_that_does_not_compile_is_a_config_error_naming_the_key(project, key):
    (project / "pyproject.toml").write_text(f'[tool.llmlint]\n{key} = ["generated", "[z-a]"]\n', encoding="utf-8")
    result = check(".", "--no-cache")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: pyproject.toml: tool.llmlint.{key}: '[z-a]' is not a valid glob pattern: bad character "
                             'range z-a (accepted: "tests/fixtures", "*_pb2.py")\n')


def test_per_file_ignores_glob_with_a_reversed_range_does_not_crash(project):
    (project / "pyproject.toml").write_text('[tool.llmlint.per-file-ignores]\n"[z-a]" = ["LLM101"]\n', encoding="utf-8")
    result = check(".", "--no-cache")
    assert result.exit_code == 1
    assert lines(result.stdout, "LLM101") == [f"{FINDING} `client.chat.completions.create` has no timeout: the openai client waits up to 600 s by default"]


def test_malformed_pyproject_above_that_does_not_configure_llmlint_is_passed_over(project):
    (project.parent / "pyproject.toml").write_text('[tool.black\nline-length = 100\n', encoding="utf-8")
    (project / "pyproject.toml").unlink()  # so that the search goes on upward
    result = check(".", "--no-cache")
    assert result.exit_code == 1
    assert lines(result.stderr, "warning: ") == [
        f"warning: {project.parent / 'pyproject.toml'}: invalid TOML: Expected ']' at the end of a table declaration (at line 1, "
        "column 12) (ignored: it has no [tool.llmlint] table)"
    ]
    assert lines(result.stdout, FINDING)


def test_malformed_pyproject_that_configures_llmlint_is_a_config_error(project):
    (project / "pyproject.toml").write_text("[tool.llmlint]\nselect = ['LLM1'\n", encoding="utf-8")
    result = check(".", "--no-cache")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: pyproject.toml: invalid TOML: ")
    assert result.stderr.count("\n") == 1


def test_gitignore_line_that_is_not_a_pattern_is_ignored_with_a_warning(project):
    (project / ".gitignore").write_text("*.log\n[z-a]\nscratch.py\n", encoding="utf-8")
    (project / "scratch.py").write_text("import openai\n\ndef f(:\n", encoding="utf-8")  # ignored: never reported
    result = check(".", "--no-cache")
    assert result.exit_code == 1
    assert lines(result.stderr, "warning: ") == ["warning: .gitignore:2: '[z-a]' is not a valid pattern (bad character range z-a); line ignored"]
    assert "scratch.py" not in result.stderr  # the lines after the bad one still apply
    assert lines(result.stdout, FINDING)


# Output


def test_output_into_a_folder_that_does_not_exist_is_one_line_exit_2(project):
    result = check(".", "--no-cache", "-o", "reports/llmlint.txt")
    assert result.exit_code == 2
    assert result.stderr == "Error: cannot write the report to reports/llmlint.txt: folder reports does not exist\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_output_to_a_full_device_is_one_line_exit_2(project):
    result = check(".", "--no-cache", "-o", "/dev/full", "--exit-zero")
    assert result.exit_code == 2
    assert result.stderr == "Error: cannot write the report to /dev/full: No space left on device\n"


# Every discovered file is analysed or named


def test_syntax_error_in_a_file_the_prefilter_passes_over_is_named(project):
    (project / "migrate.py").write_text("import sqlite3\n\n\ndef upgrade(db:\n    db.execute('ALTER TABLE users ADD email')\n", encoding="utf-8")
    result = check(".", "--no-cache")
    assert result.exit_code == 1
    assert lines(result.stderr, ": skipped: ") == ["migrate.py: skipped: syntax error at line 4, column 12: '(' was never closed"]
    assert lines(result.stdout, FINDING)
    assert result.stderr.splitlines()[-1].endswith("in 2 files; 1 file skipped.")


def test_syntax_error_line_is_the_one_cpython_reports(project):
    # libcst's parser places this error on line 4 (the token after the bad one); CPython and editors say line 3
    (project / "bot.py").write_text("import openai\n\ndef ask(:\n    return openai.chat.completions.create(model='gpt-4o')\n", encoding="utf-8")
    result = check(".", "--no-cache")
    assert lines(result.stderr, ": skipped: ") == ["bot.py: skipped: syntax error at line 3, column 9: invalid syntax"]
    assert result.exit_code == 1 and lines(result.stdout, FINDING)


def test_syntax_verdict_is_cached_for_warm_runs(project, monkeypatch):
    (project / "migrate.py").write_text("def upgrade(db:\n    pass\n", encoding="utf-8")
    cold = lint_paths(["."])
    assert [str(p) for p in cold.problems] == ["migrate.py: skipped: syntax error at line 1, column 12: '(' was never closed"]

    def must_not_parse(data, display):
        raise AssertionError(f"{display} parsed again")

    monkeypatch.setattr(indexing, "check_syntax", must_not_parse)
    warm = lint_paths(["."])
    assert [str(p) for p in warm.problems] == [str(p) for p in cold.problems]
    assert warm.files_checked == cold.files_checked == 2


def test_non_python_file_named_on_the_command_line_is_skipped(project):
    (project / "README.md").write_text("# Support bot\n\nAnswers customer questions.\n", encoding="utf-8")
    result = check("README.md", "chat.py", "--no-cache")
    assert result.exit_code == 1
    assert lines(result.stderr, ": skipped: ") == ["README.md: skipped: not a Python file"]
    assert lines(result.stdout, FINDING)


def test_script_with_a_python_shebang_named_on_the_command_line_is_checked(project):
    (project / "ask").write_text("#!/usr/bin/env python3\n" + CHAT, encoding="utf-8")
    result = check("ask", "--no-cache")
    assert result.exit_code == 1
    assert lines(result.stdout, "ask:8:16: warning[LLM101] missing-timeout:")


def test_only_non_python_files_named_prints_a_warning(project):
    (project / "notes.txt").write_text("todo: add a timeout\n", encoding="utf-8")
    result = check("notes.txt", "--no-cache")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "notes.txt: skipped: not a Python file",
        "warning: no Python files found in notes.txt",
        "No findings in 0 files; 1 file skipped.",
    ]


def test_empty_folder_prints_a_warning(project):
    (project / "plugins").mkdir()
    result = check("plugins", "--no-cache")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == ["warning: no Python files found in plugins", "No findings in 0 files."]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_symbolic_links_not_followed_are_named(project, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "vendor_client.py").write_text(CHAT, encoding="utf-8")
    os.symlink("removed_module.py", project / "dangling.py")
    os.symlink("loop_b.py", project / "loop_a.py")
    os.symlink("loop_a.py", project / "loop_b.py")
    os.symlink(outside / "vendor_client.py", project / "vendor_client.py")
    (project / "pkg").mkdir()
    (project / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    os.symlink("..", project / "pkg" / "parent")
    result = check(".", "--no-cache")
    assert result.exit_code == 1
    assert lines(result.stderr, ": skipped: ") == [
        "dangling.py: skipped: broken symbolic link (its target does not exist)",
        "loop_a.py: skipped: symbolic link loop",
        "loop_b.py: skipped: symbolic link loop",
        "pkg/parent: skipped: symbolic link loop (to ., a folder that holds it)",
        f"vendor_client.py: skipped: symbolic link to {outside.as_posix()}/vendor_client.py, outside the checked folder .",
    ]
    assert lines(result.stdout, FINDING)
    assert result.stderr.splitlines()[-1].endswith("in 3 files; 5 files skipped.")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_fifo_is_named_and_never_opened(project):
    os.mkfifo(project / "events.py")
    walked = run_cli(".", cwd=project)
    assert walked.returncode == 1
    assert lines(walked.stderr, ": skipped: ") == ["events.py: skipped: not a regular file (a FIFO)"]
    assert lines(walked.stdout, FINDING)
    named = run_cli("events.py", "chat.py", cwd=project)  # opening it would block until a writer comes
    assert named.returncode == 1
    assert lines(named.stderr, ": skipped: ") == ["events.py: skipped: not a regular file (a FIFO)"]
    assert lines(named.stdout, FINDING)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_fifo_checked_in_as_gitignore_does_not_hang_the_walk(project):
    os.mkfifo(project / ".gitignore")
    result = run_cli(".", cwd=project)
    assert result.returncode == 1
    assert lines(result.stderr, ": skipped: ") == [] and lines(result.stdout, FINDING)


def test_unreadable_file_named_on_the_command_line_is_one_skipped_line(project, monkeypatch):
    """Simulated (the suite may run as root, who reads anything): click's access check and the read both fail."""
    (project / "secrets.py").write_text("API_BASE = 'https://api.openai.com/v1'\n", encoding="utf-8")
    locked = str(project / "secrets.py")
    real_access, real_read = os.access, indexing._read

    def access(path, mode, *args, **kwargs):
        return False if os.path.abspath(path) == locked else real_access(path, mode, *args, **kwargs)

    def read(path):
        if path == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_read(path)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(indexing, "_read", read)
    result = check("secrets.py", "chat.py", "--no-cache")
    assert result.exit_code == 1
    assert lines(result.stderr, ": skipped: ") == ["secrets.py: skipped: cannot read file: Permission denied"]
    assert lines(result.stdout, FINDING)
    assert result.stderr.splitlines()[-1].endswith("in 1 file; 1 file skipped.")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_with_chmod(project):
    locked = project / "secrets.py"
    locked.write_text("API_BASE = 'https://api.openai.com/v1'\n", encoding="utf-8")
    locked.chmod(0)
    try:
        result = check("secrets.py", "chat.py", "--no-cache")
    finally:
        locked.chmod(0o644)
    assert result.exit_code == 1
    assert lines(result.stderr, ": skipped: ") == ["secrets.py: skipped: cannot read file: Permission denied"]


def test_missing_path_stays_a_usage_error(project):
    result = check("no_such_module.py", "--no-cache")
    assert result.exit_code == 2
    assert "no_such_module.py: no such file or directory" in result.stderr


# Line endings


LOGGED_CHAT = "import logging\n" + CHAT  # the SDK import is not on the first line: the pre-filter must see line ends


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_lone_cr_and_crlf_files_get_the_findings_of_lf_files(project, newline):
    (project / "chat.py").write_bytes(LOGGED_CHAT.replace("\n", newline).encode("utf-8"))
    result = check(".", "--no-cache")
    assert result.exit_code == 1
    assert lines(result.stdout, "LLM101") == [
        "chat.py:8:16: warning[LLM101] missing-timeout: `client.chat.completions.create` has no timeout: the openai client waits up to 600 s by default"
    ]


def test_lone_cr_file_with_a_syntax_error_is_named_at_its_line(project):
    (project / "migrate.py").write_bytes(b"import sqlite3\r\rdef upgrade(db:\r    pass\r")
    result = check(".", "--no-cache")
    assert lines(result.stderr, ": skipped: ") == ["migrate.py: skipped: syntax error at line 3, column 12: '(' was never closed"]
    assert result.exit_code == 1 and lines(result.stdout, FINDING)


def test_lone_cr_suppression_comment_applies(project):
    source = LOGGED_CHAT.replace("max_tokens=100)", "max_tokens=100)  # llmlint: ignore[LLM101] the gateway times out")
    (project / "chat.py").write_bytes(source.replace("\n", "\r").encode("utf-8"))
    result = check(".", "--no-cache", "--select", "LLM103", "--report-unused-suppressions")
    assert lines(result.stdout, "LLM1") == [
        "chat.py:8:16: warning[LLM103] unhandled-model-error: `client.chat.completions.create` is not in a try/except and nothing "
        "calls `answer()`: a provider error (rate limit, timeout, outage) crashes it"
    ]  # the file is analysed, and the comment on its line 8 suppresses LLM101 there
    assert "unused suppression" not in result.stderr and result.exit_code == 1


def test_prefilter_reads_lone_cr_lines(project):
    """The pre-filter's import scan sees every line of a lone-CR file (it once read it as one line)."""
    from llmlint.engine.prefilter import scan

    data = LOGGED_CHAT.replace("\n", "\r").encode("utf-8")
    assert scan(data, "chat", False)[:2] == scan(LOGGED_CHAT.encode("utf-8"), "chat", False)[:2] == (True, ("logging", "openai:OpenAI"))


def test_many_passed_over_files_are_checked_on_every_core(project):
    """Enough files for a process pool: each verdict comes back from a worker, the broken one named."""
    for number in range(26):
        (project / f"report_{number:02}.py").write_text(f"def total_{number}(rows):\n    return sum(row['amount'] for row in rows)\n",
                                                        encoding="utf-8")
    (project / "report_17.py").write_text("def total_17(rows:\n    return 0\n", encoding="utf-8")
    report = lint_paths(["."], jobs=2, use_cache=False)
    assert [str(p) for p in report.problems] == ["report_17.py: skipped: syntax error at line 1, column 13: '(' was never closed"]
    assert report.files_checked == 27 and [f.location.line for f in report.findings if f.rule_id == "LLM101"] == [7]
