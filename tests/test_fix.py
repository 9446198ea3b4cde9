"""`check --fix`, `--diff` and `--unsafe-fixes`: each fix parses, imports what it uses (ruff F821/F401), keeps the
layout, comments, encoding and newlines, makes its finding go away, and a second run changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from llmlint.api import lint_paths
from llmlint.cli import main
from llmlint.engine.config import Config
from llmlint.fixes.apply import FileFix, plan_fixes, write_fix

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo-app"
LLM003 = ROOT / "fixtures" / "rules" / "LLM003"


def _lint(folder: Path, select=("ALL",)):
    return lint_paths([str(folder)], Config(root=str(folder), select=select), jobs=1, use_cache=False)


def _fix(folder: Path, select=("ALL",), unsafe=False):
    """Apply the fixes as `--fix` does; (the report before, the plan)."""
    report = _lint(folder, select)
    plan = plan_fixes(report, unsafe=unsafe)
    for file_fix in plan.files:
        assert write_fix(file_fix) is None
    return report, plan


def _project(tmp_path: Path, source: str, name: str = "app.py") -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n', encoding="utf-8")
    (tmp_path / name).write_text(source, encoding="utf-8")
    return tmp_path / name


def _ruff(folder: Path) -> Counter:
    """ruff's F821 (undefined name) and F401 (unused import) findings, by file, code and message."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "F821,F401", "--output-format", "json", "."],
        cwd=folder, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    return Counter((os.path.relpath(d["filename"], folder), d["code"], d["message"]) for d in json.loads(result.stdout))


def _assert_fixed(path: Path, rule: str, select=("ALL",), unsafe=False) -> str:
    """Fix the project holding `path`; its `rule` findings are gone, it parses, ruff F821/F401 say nothing new, and a
    second fix changes nothing. The fixed text."""
    folder = path.parent
    before_ruff = _ruff(folder)
    before, plan = _fix(folder, select, unsafe)
    assert any(f.rule_id == rule for ff in plan.files for f in ff.fixed)
    text = path.read_text(encoding="utf-8")
    cst.parse_module(text)
    compile(text, str(path), "exec")
    assert not (_ruff(folder) - before_ruff)
    after = _lint(folder, select)
    fixed = {(f.rule_id, f.location.path) for ff in plan.files for f in ff.fixed}
    assert not [f for f in after.findings if f.rule_id == rule and (f.rule_id, f.location.path) in fixed and f.autofixes]
    assert plan_fixes(after, unsafe=unsafe).files == []  # idempotent: nothing left to change
    return text


# The acceptance test of issue 14


def test_fix_on_a_copy_of_the_demo_app(tmp_path, monkeypatch):
    app = tmp_path / "demo-app"
    shutil.copytree(DEMO, app)
    monkeypatch.chdir(app)
    before_ruff = _ruff(app)
    runner = CliRunner()
    before = _lint(app)
    fixable = Counter((f.rule_id, f.location.path) for f in before.findings if f.autofixes and f.autofixes[0].safe)
    assert fixable == {("LLM101", "app/api.py"): 1, ("LLM101", "app/classify.py"): 1, ("LLM101", "app/llm.py"): 2,
                       ("LLM101", "app/rag.py"): 1, ("LLM003", "app/llm.py"): 1}
    result = runner.invoke(main, ["check", ".", "--fix", "--no-cache"])
    assert result.exit_code == 1  # findings that have no fix remain
    assert "Fixed 6 findings in 2 files." in result.stderr
    for path in app.rglob("*.py"):
        cst.parse_module(path.read_text(encoding="utf-8"))
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    assert not (_ruff(app) - before_ruff)
    after = _lint(app)
    counts = Counter((f.rule_id, f.location.path) for f in after.findings)
    for (rule, path), n in Counter((f.rule_id, f.location.path) for f in before.findings).items():
        assert counts[(rule, path)] == n - fixable[(rule, path)]
    assert not [f for f in after.findings if f.rule_id == "LLM101"]
    snapshot = {p: p.read_bytes() for p in app.rglob("*.py")}
    again = runner.invoke(main, ["check", ".", "--fix", "--no-cache"])
    assert "Fixed" not in again.stderr
    assert {p: p.read_bytes() for p in app.rglob("*.py")} == snapshot
    llm = (app / "app" / "llm.py").read_text(encoding="utf-8")
    assert "    return OpenAI(api_key=OPENAI_API_KEY, timeout=30)\n" in llm
    assert "from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential\n" in llm
    assert "APIConnectionError)), stop=stop_after_attempt(5))  # expect: LLM003\n" in llm
    assert "llm = ChatOpenAI(model=MODEL, temperature=0, api_key=OPENAI_API_KEY, timeout=30)\n" in (app / "app" / "rag.py").read_text(encoding="utf-8")


# One test per fix


def test_timeout_on_the_client_fixes_every_call_of_it(tmp_path):
    path = _project(tmp_path, (
        "from openai import OpenAI\n\n"
        "client = OpenAI(\n"
        "    api_key='sk-test',  # from the vault in production\n"
        "    max_retries=3,\n"
        ")\n\n\n"
        "def answer(q):\n"
        "    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=200, messages=[{'role': 'user', 'content': q}])\n\n\n"
        "def summary(text):\n"
        "    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=200, messages=[{'role': 'user', 'content': text}])\n"
    ))
    report = _lint(tmp_path, ("LLM101",))
    assert [f.location.line for f in report.findings] == [10, 14]
    assert report.findings[0].fix.endswith("[*] `--fix` can add `timeout=30` to the client")
    text = _assert_fixed(path, "LLM101", ("LLM101",))
    assert "client = OpenAI(\n    api_key='sk-test',  # from the vault in production\n    max_retries=3,\n    timeout=30,\n)\n" in text
    assert _lint(tmp_path, ("LLM101",)).findings == []


def test_timeout_on_the_call_when_the_client_is_not_in_view(tmp_path):
    path = _project(tmp_path, (
        "import litellm\n\n\n"
        "def answer(q):\n"
        "    return litellm.completion(model='gpt-4o-mini', max_tokens=200, messages=[{'role': 'user', 'content': q}])\n"
    ))
    text = _assert_fixed(path, "LLM101", ("LLM101",))
    assert "litellm.completion(model='gpt-4o-mini', max_tokens=200, messages=[{'role': 'user', 'content': q}], timeout=30)\n" in text


def test_timeout_respects_a_lower_max_seconds(tmp_path):
    path = _project(tmp_path, "import litellm\n\nreply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[])\n")
    (tmp_path / "pyproject.toml").write_text('[tool.llmlint.rules.missing-timeout]\nmax-seconds = 10\n', encoding="utf-8")
    report = lint_paths([str(tmp_path)], None, jobs=1, use_cache=False)
    (finding,) = [f for f in report.findings if f.rule_id == "LLM101"]
    assert finding.autofixes[0].title == "add `timeout=10` to the call"
    assert path.read_text(encoding="utf-8").count("timeout") == 0


@pytest.mark.parametrize(
    "call, keyword",
    [
        ("client.chat.completions.create(model='gpt-4o', messages=m)", "max_tokens"),
        ("client.chat.completions.create(model='o3-mini', messages=m)", "max_completion_tokens"),
        ("client.responses.create(model='gpt-4.1', input='hi')", "max_output_tokens"),
    ],
)
def test_output_cap_uses_the_apis_keyword_and_is_unsafe(tmp_path, call, keyword):
    path = _project(tmp_path, f"from openai import OpenAI\n\nclient = OpenAI(timeout=30)\nm = [{{'role': 'user', 'content': 'hi'}}]\nreply = {call}\n")
    (finding,) = _lint(tmp_path, ("LLM102",)).findings
    assert finding.fix.endswith(f"[*] `--fix --unsafe-fixes` can add `{keyword}=512` to the call")
    _, plan = _fix(tmp_path, ("LLM102",))
    assert plan.files == [] and plan.unsafe_left == 1  # not without --unsafe-fixes
    text = _assert_fixed(path, "LLM102", ("LLM102",), unsafe=True)
    assert f"reply = {call[:-1]}, {keyword}=512)\n" in text


def test_langchain_chat_model_gets_its_timeout_and_cap(tmp_path):
    path = _project(tmp_path, (
        "from langchain_anthropic import ChatAnthropic\n"
        "from langchain_core.prompts import ChatPromptTemplate\n\n"
        "llm = ChatAnthropic(model='claude-3-5-sonnet-latest')\n"
        "chain = ChatPromptTemplate.from_template('Summarise: {text}') | llm\n\n\n"
        "def summarise(text):\n"
        "    return chain.invoke({'text': text})\n"
    ))
    rules = ("LLM101", "LLM102")
    assert {f.rule_id: f.autofixes[0].title for f in _lint(tmp_path, rules).findings} == {
        "LLM101": "add `timeout=30` to the client", "LLM102": "add `max_tokens=512` to the chat model"}
    text = _assert_fixed(path, "LLM101", rules, unsafe=True)
    assert "llm = ChatAnthropic(model='claude-3-5-sonnet-latest', timeout=30, max_tokens=512)\n" in text
    assert _lint(tmp_path, rules).findings == []


def test_tenacity_stop_comes_with_its_import(tmp_path):
    path = _project(tmp_path, (
        "from openai import OpenAI\n"
        "from tenacity import retry, wait_exponential\n\n"
        "client = OpenAI(timeout=30)\n\n\n"
        "@retry(\n    wait=wait_exponential(max=30),  # rate limits clear within a minute\n)\n"
        "def ask(q):\n"
        "    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=100, messages=[{'role': 'user', 'content': q}])\n"
    ))
    (finding,) = _lint(tmp_path, ("LLM003",)).findings
    assert finding.fix.endswith("[*] `--fix` can add `stop=stop_after_attempt(5)` with `from tenacity import stop_after_attempt`")
    text = _assert_fixed(path, "LLM003", ("LLM003",))
    assert text.startswith("from openai import OpenAI\nfrom tenacity import retry, stop_after_attempt, wait_exponential\n")
    assert "@retry(\n    wait=wait_exponential(max=30),  # rate limits clear within a minute\n    stop=stop_after_attempt(5),\n)\n" in text


def test_tenacity_fixture_decorators_and_retrying_loops(tmp_path):
    target = tmp_path / "tickets.py"
    shutil.copy(LLM003 / "flagged_tenacity_no_stop.py", target)
    before = _lint(tmp_path, ("LLM003",)).findings
    assert {f.location.line for f in before if f.autofixes} == {28, 55, 76, 90}
    text = _assert_fixed(target, "LLM003", ("LLM003",))
    assert "@tenacity.retry(stop=tenacity.stop_after_attempt(5))  # expect: LLM003\n" in text
    assert "    for attempt in Retrying(wait=wait_exponential(max=10), retry=retry_if_exception_type(APITimeoutError), stop=tenacity.stop_after_attempt(5)):" in text
    assert "    async for attempt in AsyncRetrying(wait=wait_random_exponential(max=30), stop=tenacity.stop_after_attempt(5)):" in text
    after = _lint(tmp_path, ("LLM003",)).findings
    assert sorted(f.message for f in after) == sorted(f.message for f in before if not f.autofixes)


def test_empty_retrying_call_gets_a_stop(tmp_path):
    path = _project(tmp_path, (
        "import tenacity\nfrom openai import OpenAI\n\nclient = OpenAI(timeout=30)\n\n\n"
        "def ask(q):\n"
        "    for attempt in tenacity.Retrying():\n"
        "        with attempt:\n"
        "            return client.chat.completions.create(model='gpt-4o-mini', max_tokens=100, messages=[{'role': 'user', 'content': q}])\n"
    ))
    text = _assert_fixed(path, "LLM003", ("LLM003",))
    assert "    for attempt in tenacity.Retrying(stop=tenacity.stop_after_attempt(5)):\n" in text


def test_backoff_gets_max_tries(tmp_path):
    target = tmp_path / "worker.py"
    shutil.copy(LLM003 / "flagged_backoff.py", target)
    text = _assert_fixed(target, "LLM003", ("LLM003",))
    assert "@backoff.on_exception(backoff.expo, (RateLimitError, ServiceUnavailableError), max_tries=5)  # expect: LLM003\n" in text


def test_unbounded_client_retries_are_bounded(tmp_path):
    path = _project(tmp_path, (
        "from openai import OpenAI\n\n"
        "client = OpenAI(timeout=30, max_retries=float('inf'))  # never give up\n"
        "reply = client.chat.completions.create(model='gpt-4o-mini', max_tokens=9, messages=[])\n"
    ))
    (finding,) = _lint(tmp_path, ("LLM003",)).findings
    assert finding.autofixes[0].safe
    text = _assert_fixed(path, "LLM003", ("LLM003",))
    assert "client = OpenAI(timeout=30, max_retries=5)  # never give up\n" in text
    assert _lint(tmp_path, ("LLM003",)).findings == []


# Files: encoding, newlines, links, changes since the check


def test_crlf_and_a_latin1_coding_are_kept(tmp_path):
    source = ("# -*- coding: latin-1 -*-\r\n# Réponses du modèle\r\nimport litellm\r\n\r\n"
              "reply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[])\r\n")
    (tmp_path / "app.py").write_bytes(source.encode("latin-1"))
    _fix(tmp_path, ("LLM101",))
    data = (tmp_path / "app.py").read_bytes()
    assert data == source.replace("messages=[])", "messages=[], timeout=30)").encode("latin-1")


def test_a_file_changed_since_the_check_is_not_touched(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _project(tmp_path, "import litellm\n\nreply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[])\n")
    report = _lint(tmp_path, ("LLM101",))
    path.write_text("import litellm\n\n\nreply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[])\n", encoding="utf-8")
    plan = plan_fixes(report)
    assert plan.files == [] and plan.skipped == ["app.py: not fixed: it changed since it was checked"]


def test_a_file_changed_while_fixing_is_not_overwritten(tmp_path):
    path = _project(tmp_path, "import litellm\n\nreply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[])\n")
    (file_fix,) = plan_fixes(_lint(tmp_path, ("LLM101",))).files
    path.write_text("edited = True\n", encoding="utf-8")
    assert write_fix(file_fix) == "it changed while it was being fixed"
    assert path.read_text(encoding="utf-8") == "edited = True\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".llmlint-fix-")] == []


def test_never_writes_through_a_symlink(tmp_path):
    real = tmp_path / "real.py"
    real.write_text("x = 1\n", encoding="utf-8")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    fix = FileFix("link.py", str(link), b"x = 1\n", "x = 1\n", "x = 2\n")
    assert write_fix(fix) == "it is a symlink (llmlint does not write through links)"
    assert real.read_text(encoding="utf-8") == "x = 1\n" and link.is_symlink()


def test_only_checked_files_are_edited(tmp_path):
    """A client made in another file of the project is fixed there only when that file is checked too."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n', encoding="utf-8")
    (tmp_path / "llm.py").write_text("from openai import OpenAI\n\nclient = OpenAI()\n", encoding="utf-8")
    (tmp_path / "service.py").write_text(
        "from llm import client\n\n\ndef ask(q):\n"
        "    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=9, messages=[{'role': 'user', 'content': q}])\n",
        encoding="utf-8")
    report = lint_paths([str(tmp_path / "service.py")], Config(root=str(tmp_path), select=("LLM101",)), jobs=1, use_cache=False)
    (file_fix,) = plan_fixes(report).files
    assert file_fix.display.endswith("service.py")
    assert "messages=[{'role': 'user', 'content': q}], timeout=30)" in file_fix.after


# The command line


def test_diff_prints_and_writes_nothing(tmp_path):
    path = _project(tmp_path, "import litellm\n\nreply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[])\n")
    before = path.read_bytes()
    result = CliRunner().invoke(main, ["check", str(path), "--diff", "--no-cache", "--select", "LLM101"])
    assert result.exit_code == 1
    assert "-reply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[])\n" in result.stdout
    assert "+reply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[], timeout=30)\n" in result.stdout
    assert "Would fix 1 finding in 1 file." in result.stderr
    assert path.read_bytes() == before
    clean = CliRunner().invoke(main, ["check", str(path), "--diff", "--no-cache", "--select", "LLM107"])
    assert clean.exit_code == 0 and clean.stdout == ""


def test_unsafe_fixes_from_the_configuration(tmp_path):
    path = _project(tmp_path, "import litellm\n\nreply = litellm.completion(model='gpt-4o-mini', timeout=30, messages=[])\n")
    runner = CliRunner()
    result = runner.invoke(main, ["check", str(path), "--fix", "--no-cache", "--select", "LLM102"])
    assert "1 more finding fixable with --fix --unsafe-fixes." in result.stderr
    assert "max_tokens" not in path.read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.llmlint]\nunsafe-fixes = true\n', encoding="utf-8")
    result = runner.invoke(main, ["check", str(path), "--fix", "--no-cache", "--select", "LLM102"])
    assert result.exit_code == 0 and "Fixed 1 finding in 1 file." in result.stderr
    assert "messages=[], max_tokens=512)\n" in path.read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.llmlint]\nunsafe-fixes = "yes"\n', encoding="utf-8")
    result = runner.invoke(main, ["check", str(path), "--fix", "--no-cache"])
    assert result.exit_code == 2 and "unsafe-fixes: must be true or false" in result.stderr


def test_fix_refuses_standard_input(tmp_path):
    path = _project(tmp_path, "x = 1\n")
    result = CliRunner().invoke(main, ["check", "--stdin-filename", str(path), "-", "--fix"], input="x = 2\n")
    assert result.exit_code == 2 and "--fix and --diff work on files" in result.stderr
    assert path.read_text(encoding="utf-8") == "x = 1\n"


def test_json_and_sarif_carry_the_fix_as_replacements(tmp_path):
    path = _project(tmp_path, "import litellm\n\nreply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[])\n")
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json", "--no-cache", "--select", "LLM101"])
    (finding,) = json.loads(result.stdout)["findings"]
    (edit,) = finding["edits"]
    assert edit["replacement"] == ", timeout=30"
    assert (edit["line"], edit["column"], edit["end_line"], edit["end_column"]) == (3, 74, 3, 74)  # before the `)`
    result = CliRunner().invoke(main, ["check", str(path), "--format", "sarif", "--no-cache", "--select", "LLM101"])
    (fix,) = json.loads(result.stdout)["runs"][0]["results"][0]["fixes"]
    (replacement,) = fix["artifactChanges"][0]["replacements"]
    assert replacement["insertedContent"]["text"] == ", timeout=30"
    assert replacement["deletedRegion"]["startLine"] == 3 and replacement["deletedRegion"]["startColumn"] == 74
    assert path.read_text(encoding="utf-8").count("timeout") == 0  # reporting a fix writes nothing


ASYNC_ROUTES = (
    "from fastapi import FastAPI\n"
    "from openai import OpenAI\n\n"
    "app = FastAPI()\n"
    "client = OpenAI(timeout=30)\n\n\n"
    "@app.post('/summarise')\n"
    "async def summarise(text: str) -> str:\n"
    "    reply = client.chat.completions.create(model='gpt-4o-mini', max_tokens=300, messages=[{'role': 'user', 'content': text}])\n"
    "    return reply.choices[0].message.content\n\n\n"
    "@app.post('/title')\n"
    "async def title(text: str) -> str:\n"
    "    return client.chat.completions.create(\n"
    "        model='gpt-4o-mini',\n"
    "        max_tokens=20,  # six words\n"
    "        messages=[{'role': 'user', 'content': text}],\n"
    "    ).choices[0].message.content\n"
)


def test_async_client_when_every_call_is_in_async_code(tmp_path):
    path = _project(tmp_path, ASYNC_ROUTES)
    findings = _lint(tmp_path, ("LLM108",)).findings
    assert [f.location.line for f in findings] == [10, 16]
    assert all(not f.autofixes[0].safe for f in findings)
    text = _assert_fixed(path, "LLM108", ("LLM108",), unsafe=True)
    assert text.startswith("from fastapi import FastAPI\nfrom openai import AsyncOpenAI\n\napp = FastAPI()\nclient = AsyncOpenAI(timeout=30)\n")
    assert "    reply = await client.chat.completions.create(model='gpt-4o-mini', max_tokens=300," in text
    assert "    return (await client.chat.completions.create(\n        model='gpt-4o-mini',\n        max_tokens=20,  # six words\n" in text
    assert "    )).choices[0].message.content\n" in text
    assert _lint(tmp_path, ("LLM108",)).findings == []


@pytest.mark.parametrize(
    "more",
    [
        "\n\ndef nightly(text):\n    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=9, messages=[])\n",
        "\n\ndef models():\n    return client.models.list()\n",
        "\n\ndef register(registry):\n    registry.add('openai', client)\n",
    ],
    ids=["sync-call", "other-method", "passed-on"],
)
def test_no_async_client_fix_unless_it_can_be_made_whole(tmp_path, more):
    _project(tmp_path, ASYNC_ROUTES + more)
    findings = _lint(tmp_path, ("LLM108",)).findings
    assert findings and all(not f.autofixes for f in findings)


def test_notebooks_are_checked_but_not_fixed(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from nbformat.v4 import new_code_cell, new_notebook

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "nb"\n', encoding="utf-8")
    cells = [new_code_cell("import litellm"), new_code_cell("reply = litellm.completion(model='gpt-4o-mini', max_tokens=9, messages=[])")]
    path = tmp_path / "explore.ipynb"
    path.write_text(nbformat.writes(new_notebook(cells=cells)), encoding="utf-8")
    before = path.read_bytes()
    report = _lint(tmp_path, ("LLM101",))
    (finding,) = report.findings
    assert finding.autofixes == () and "[*]" not in finding.fix
    assert plan_fixes(report, unsafe=True).files == []
    assert path.read_bytes() == before


def test_json_edits_of_a_fix_that_adds_an_import(tmp_path):
    path = _project(tmp_path, (
        "from openai import OpenAI\r\n"
        "from tenacity import retry, wait_exponential\r\n\r\n"
        "client = OpenAI(timeout=30)\r\n\r\n\r\n"
        "@retry(wait=wait_exponential(max=30))\r\n"
        "def ask(q):\r\n"
        "    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=100, messages=[{'role': 'user', 'content': q}])\r\n"
    ))
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json", "--no-cache", "--select", "LLM003"])
    (finding,) = json.loads(result.stdout)["findings"]
    edits = [(e["line"], e["column"], e["end_line"], e["end_column"], e["replacement"]) for e in finding["edits"]]
    assert edits == [(2, 29, 2, 29, "stop_after_attempt, "), (7, 37, 7, 37, ", stop=stop_after_attempt(5)")]


def test_json_edits_come_from_the_cache_once_worked_out(tmp_path, monkeypatch):
    """A warm run gives the same edits without parsing the file again (kept by the file's content and the fixes)."""
    monkeypatch.chdir(tmp_path)
    path = _project(tmp_path, (
        "from openai import OpenAI\n\nclient = OpenAI()\n\n\n"
        "def ask(q):\n"
        "    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=100, messages=[{'role': 'user', 'content': q}])\n"
    ))
    runs = [CliRunner().invoke(main, ["check", str(path), "--format", "json", "--select", "LLM101"]) for _ in range(2)]
    first, second = (json.loads(run.stdout)["findings"] for run in runs)
    assert first == second and first[0]["edits"]
    assert list(tmp_path.rglob("edits-*"))
