"""llmlint never dies with a traceback: a bug met while indexing one file skips that file (the run goes on), a bug
anywhere else is one line on stderr, a crash report file and exit status 2 (never 1, even with --exit-zero). Also:
`-j` is capped at the cores available, and `python -m llmlint` never imports the analysed folder's modules."""

from __future__ import annotations

import concurrent.futures
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import llmlint.engine.indexer
import llmlint.engine.indexfiles
import llmlint.engine.prefilter
from llmlint.api import lint_paths
from llmlint.cli import main
from llmlint.rules.unbounded_output import UnboundedOutput

CHAT = '''from openai import OpenAI

client = OpenAI(timeout=30)


def {name}(question: str) -> str:
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": question}}])
    return reply.choices[0].message.content
'''
KEY = "sk-proj-Lw5Jc8Vn2Qx7Rt4Mz9Pb1Kd6Hs3Gf0Ya8Ue5Io2Nt7"


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'bots'\n", encoding="utf-8")
    (tmp_path / "good.py").write_text(CHAT.format(name="ask"), encoding="utf-8")
    (tmp_path / "broken.py").write_text(CHAT.format(name="answer"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    crash_dir = tmp_path.parent / f"{tmp_path.name}-crash"
    crash_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(crash_dir))  # crash reports go here, not to the system's /tmp
    return tmp_path


def _fail_for(path_part: str, error: Exception):
    real = llmlint.engine.indexer.build_index

    def build_index(module, path, *args, **kwargs):
        if path_part in path:
            raise error
        return real(module, path, *args, **kwargs)

    return build_index


def test_a_bug_indexing_one_file_skips_that_file_and_the_run_goes_on(project, monkeypatch):
    monkeypatch.setattr(llmlint.engine.indexer, "build_index", _fail_for("broken.py", RuntimeError("no rule for this node")))
    result = CliRunner().invoke(main, ["check", ".", "--no-cache", "--format", "json", "--select", "LLM102", "--fail-on", "note"])
    assert result.exit_code == 1, result.output
    assert "broken.py: skipped: internal error: RuntimeError: no rule for this node (please report)" in result.stderr.splitlines()
    document = json.loads(result.stdout)
    assert [(f["rule_id"], f["path"], f["line"]) for f in document["findings"]] == [("LLM102", "good.py", 7)]
    assert document["skipped"] == [{"path": "broken.py", "reason": "internal error: RuntimeError: no rule for this node (please report)"}]


def test_a_worker_reports_a_bug_indexing_one_file_as_that_file_s_problem(monkeypatch):
    """What a pool worker runs per chunk: one file's failure is its outcome, the next file is still indexed."""
    monkeypatch.setattr(llmlint.engine.indexer, "build_index", _fail_for("broken.py", KeyError("Lambda")))
    jobs = [(name, name, name[:-3], False, CHAT.format(name="ask").encode()) for name in ("broken.py", "good.py")]
    broken, good = [pickle.loads(out) for out in llmlint.engine.indexfiles._index_chunk(jobs)]
    assert broken[0] is None and str(broken[1]) == "broken.py: skipped: internal error: KeyError: 'Lambda' (please report)"
    assert good[0] is not None and good[1] is None


def test_a_bug_indexing_one_file_is_not_a_parse_error(monkeypatch, tmp_path):
    monkeypatch.setattr(llmlint.engine.indexer, "build_index", _fail_for("broken.py", ValueError("bad span")))
    (tmp_path / "broken.py").write_text(CHAT.format(name="answer"), encoding="utf-8")
    report = lint_paths([tmp_path / "broken.py"], use_cache=False)
    assert [problem.reason for problem in report.problems] == ["internal error: ValueError: bad span (please report)"]


def test_a_bug_in_the_pre_filter_or_the_syntax_check_skips_one_file(project, monkeypatch):
    real_scan, real_check = llmlint.engine.prefilter.scan, llmlint.engine.indexfiles.check_syntax

    def scan(data, module, is_package):
        if module == "broken":
            raise IndexError("tuple index out of range")
        return real_scan(data, module, is_package)

    def check_syntax(data, display):
        if display == "notes.py":
            raise UnicodeError("surrogates not allowed")
        return real_check(data, display)

    (project / "notes.py").write_text("TODO = ['retry the upload']\n", encoding="utf-8")  # passed over, still checked
    monkeypatch.setattr(llmlint.engine.prefilter, "scan", scan)
    monkeypatch.setattr(llmlint.engine.indexfiles, "check_syntax", check_syntax)
    report = lint_paths(["."], use_cache=False)
    assert [str(p) for p in report.problems] == [
        "broken.py: skipped: internal error: IndexError: tuple index out of range (please report)",
        "notes.py: skipped: internal error: UnicodeError: surrogates not allowed (please report)",
    ]
    assert {f.location.path for f in report.findings} == {"good.py"}


def test_a_bug_in_the_comment_only_shortcut_falls_back_to_indexing_the_file(project, monkeypatch):
    first = lint_paths(["."])
    good = project / "good.py"
    good.write_text(good.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    os.utime(good, ns=(time.time_ns() - 5_000_000_000,) * 2)

    called = []

    def reindex_comments(state, facts, cache):
        called.append(state.file.display)
        raise AttributeError("'NoneType' object has no attribute 'span'")

    monkeypatch.setattr(llmlint.engine.indexfiles, "reindex_comments", reindex_comments)
    second = lint_paths(["."])
    assert called == ["good.py"]
    assert second.problems == [] and [f.sort_key for f in second.findings] == [f.sort_key for f in first.findings]


def _crash_reports(project: Path) -> list[Path]:
    return sorted((project.parent / f"{project.name}-crash").glob("llmlint-crash-*.txt"))


@pytest.mark.parametrize("options", [[], ["--exit-zero"], ["--format", "sarif"]])
def test_a_bug_in_a_rule_is_one_line_a_crash_report_and_exit_2(project, monkeypatch, options):
    def check(self, analysis):
        raise ZeroDivisionError(f"division by zero while reading the model {KEY}")

    monkeypatch.setattr(UnboundedOutput, "check", check)
    result = CliRunner().invoke(main, ["check", ".", "--no-cache", *options])
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    (report,) = _crash_reports(project)
    assert line.startswith("llmlint: internal error: ZeroDivisionError: division by zero while reading the model sk-pr…(")
    assert line.endswith(f"(please report it; traceback in {report})")
    text = report.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "in check" in text and "ZeroDivisionError" in text
    assert KEY not in text and KEY not in result.stderr  # a crash report is redacted like any output


def test_a_bug_in_a_reporter_or_the_inventory_exits_2(project, monkeypatch):
    import llmlint.reporters.inventory
    import llmlint.reporters.json

    def broken(*args, **kwargs):
        raise TypeError("Object of type Severity is not JSON serializable")

    monkeypatch.setattr(llmlint.reporters.json, "render", broken)
    monkeypatch.setattr(llmlint.reporters.inventory, "render_inventory", broken)
    for command in (["check", ".", "--format", "json", "--no-cache"], ["inventory", ".", "--no-cache"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, command
        assert result.stderr.startswith("llmlint: internal error: TypeError: Object of type Severity")
        assert "Traceback" not in result.stderr
    assert len(_crash_reports(project)) == 2


def test_the_console_script_exits_2_without_a_traceback(project):
    """The real entry point (hard exit once the output is flushed), in a process of its own."""
    code = (
        "import sys, tempfile; tempfile.tempdir = sys.argv[1]\n"
        "from llmlint.rules.unbounded_output import UnboundedOutput\n"
        "def check(self, analysis): raise RuntimeError('rule failed')\n"
        "UnboundedOutput.check = check\n"
        "sys.argv = ['llmlint', 'check', '.', '--no-cache', '--exit-zero']\n"
        "from llmlint.cli import entry\n"
        "entry()\n"
    )
    crash_dir = project.parent / f"{project.name}-crash"
    result = subprocess.run([sys.executable, "-c", code, str(crash_dir)], capture_output=True, text=True, cwd=project)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("llmlint: internal error: RuntimeError: rule failed (please report it; traceback in ")
    assert len(_crash_reports(project)) == 1


def test_usage_errors_still_exit_2_with_their_own_message(project):
    result = CliRunner().invoke(main, ["check", "missing.py"])
    assert result.exit_code == 2
    assert "internal error" not in result.output
    assert _crash_reports(project) == []


# --- -j ---------------------------------------------------------------------------------------------------


def test_available_cores_follow_the_affinity_mask():
    cores = llmlint.engine.indexfiles.available_cores()
    if hasattr(os, "process_cpu_count"):
        assert cores == os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        assert cores == len(os.sched_getaffinity(0))
    else:
        assert cores == os.cpu_count()


@pytest.mark.parametrize(("jobs", "workers"), [(0, 2), (1, 1), (2, 2), (64, 2)])
def test_jobs_are_capped_at_the_cores_available(monkeypatch, jobs, workers):
    monkeypatch.setattr(llmlint.engine.indexfiles, "available_cores", lambda: 2)
    assert llmlint.engine.indexfiles.worker_count(jobs) == workers


def test_dash_j_64_starts_no_more_workers_than_cores(tmp_path, monkeypatch):
    started = []

    class InProcessPool:
        """Stands in for ProcessPoolExecutor: records how many workers were asked for, runs the chunks here."""

        def __init__(self, max_workers):
            started.append(max_workers)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def map(self, fn, items):
            return [fn(item) for item in items]

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", InProcessPool)  # (imported when a pool starts)
    monkeypatch.setattr(llmlint.engine.indexfiles, "available_cores", lambda: 2)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'bots'\n", encoding="utf-8")
    count = llmlint.engine.indexfiles.IN_PROCESS_LIMIT + 6
    for i in range(count):
        (tmp_path / f"bot{i}.py").write_text(CHAT.format(name=f"ask{i}"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", ".", "-j", "64", "--no-cache", "--select", "LLM102", "--fail-on", "note", "--format", "json"])
    assert result.exit_code == 1, result.output
    assert started == [2]
    assert len(json.loads(result.stdout)["findings"]) == count


# --- python -m llmlint ------------------------------------------------------------------------------------


def test_python_dash_m_does_not_import_the_analysed_folder_s_modules(tmp_path):
    marker = tmp_path / "imported.txt"
    (tmp_path / "click.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(99)\n", encoding="utf-8")
    (tmp_path / "app.py").write_text(CHAT.format(name="ask"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "llmlint", "check", ".", "--no-cache", "--select", "LLM102", "--fail-on", "note", "--output-format", "concise"],
        capture_output=True, text=True, cwd=tmp_path
    )
    assert not marker.exists()
    assert result.returncode == 1, result.stderr
    assert "app.py:7:13: note[LLM102] unbounded-output:" in result.stdout
