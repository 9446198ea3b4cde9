"""Baselines: `check --write-baseline FILE`, `check --baseline FILE` and `baseline = "FILE"` in the configuration.

The acceptance test of issue 14 runs on a copy of fixtures/demo-app made a git work tree (so that reported paths,
and the baseline's, are relative to its top wherever llmlint runs from)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmlint.api import lint_paths
from llmlint.cli import main
from llmlint.engine.config import load_config
from llmlint.engine.sourcelines import SourceLines
from llmlint.results.baseline import load_baseline, statement_code
from llmlint.ruleset.registry import all_rules

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo-app"

NEW_CALL = '''

def classify_priority(ticket_text: str) -> str:
    try:
        response = get_client().chat.completions.create(
            model="gpt-4o-mini",
            max_tokens=5,
            messages=[{"role": "user", "content": "Priority (low, normal, high) of: " + ticket_text}],
        )
    except Exception:
        return "normal"
    return response.choices[0].message.content.strip().lower()
'''


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """A copy of the demo app as its own git work tree, the current directory."""
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.chdir(root)
    return root


def invoke(*args):
    return CliRunner().invoke(main, ["check", *args, "--no-cache"])


def findings(paths=(".",), baseline=None):
    """(rule, path, line) of what a run reports, with `baseline` (a file name) applied."""
    config = load_config(list(paths), None, all_rules())
    report = lint_paths(list(paths), config, use_cache=False, baseline=load_baseline(baseline) if baseline else None)
    return {(f.rule_id, f.location.path, f.location.line) for f in report.findings}


def test_demo_app_acceptance(demo):
    before = findings()
    assert len(before) > 20
    written = invoke("--write-baseline", "llmlint-baseline.json")
    assert written.exit_code == 0, written.output
    assert written.stdout == ""  # no report: the findings are recorded, not shown
    assert f"Wrote {len(before)} findings" in written.stderr

    clean = invoke("--baseline", "llmlint-baseline.json")
    assert (clean.exit_code, clean.stdout) == (0, "")
    assert f"{len(before)} findings in the baseline llmlint-baseline.json, not reported" in clean.stderr

    # move functions around and add blank lines: every finding moves to another line, and stays known
    for name in ("llm.py", "rag.py"):  # top-level blocks (imports, then functions) in reverse order
        path = demo / "app" / name
        imports, *functions = path.read_text().rstrip("\n").split("\n\n\n")
        path.write_text("\n\n\n".join([imports, *reversed(functions)]) + "\n")
    for name in ("api.py", "classify.py"):
        path = demo / "app" / name
        path.write_text("\n\n\n" + path.read_text().replace("\n\n", "\n\n\n\n"))
    moved = findings()
    assert {(r, p) for r, p, _ in moved} == {(r, p) for r, p, _ in before} and moved != before
    still_clean = invoke("--baseline", "llmlint-baseline.json")
    assert (still_clean.exit_code, still_clean.stdout) == (0, "")

    # one new model call without a timeout: exactly its findings
    classify = demo / "app" / "classify.py"
    classify.write_text(classify.read_text() + NEW_CALL)
    call_line = classify.read_text().splitlines().index("        response = get_client().chat.completions.create(") + 1
    new = findings(baseline="llmlint-baseline.json")
    everything = findings()
    assert new == {f for f in everything if f[1] == "app/classify.py" and f[2] == call_line}
    assert ("LLM101", "app/classify.py", call_line) in new
    result = invoke("--baseline", "llmlint-baseline.json", "--format", "json")
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["findings"]) == len(new)


def test_llm004_at_a_function_is_keyed_on_its_header_not_its_body(demo):
    """A finding reported at a function (its location spans the body) keeps its key when the body changes."""
    assert invoke("--write-baseline", "base.json").exit_code == 0
    api = demo / "app" / "api.py"
    api.write_text(api.read_text().replace('    answer = payload.get("answer", "")\n',
                                           '    answer = payload.get("answer", "")\n    answer = answer.strip()\n'))
    assert findings(baseline="base.json") == set()
    entries = json.loads(Path("base.json").read_text())["entries"]
    assert {"rule": "LLM004", "path": "app/api.py", "code": "async def chat(req: ChatRequest):", "count": 1} in entries


def test_writing_twice_gives_identical_bytes_with_no_key_and_no_line_number(demo):
    assert invoke("--write-baseline", "one.json").exit_code == 0
    assert CliRunner().invoke(main, ["check", "--write-baseline", "two.json", "-j", "1"]).exit_code == 0  # cache on
    assert CliRunner().invoke(main, ["check", "--write-baseline", "three.json", "-j", "1"]).exit_code == 0  # warm
    one = Path("one.json").read_bytes()
    assert one == Path("two.json").read_bytes() == Path("three.json").read_bytes()
    document = json.loads(one)
    assert (document["tool"], document["version"]) == ("llmlint", 1)
    entries = document["entries"]
    assert entries == sorted(entries, key=lambda e: (e["rule"], e["path"], e["code"]))
    assert all(set(entry) == {"rule", "path", "code", "count"} for entry in entries)
    [key] = re.findall(r'"(sk-[^"]+)"', (demo / "app" / "config.py").read_text())
    assert key not in one.decode() and key[:12] not in one.decode()
    [hardcoded] = [e for e in entries if e["rule"] == "LLM107"]
    assert "…(" in hardcoded["code"]  # shown redacted, as every report shows it


def test_fixed_findings_leave_silently_and_are_listed_on_request(demo):
    assert invoke("--write-baseline", "base.json").exit_code == 0
    rag = demo / "app" / "rag.py"
    rag.write_text(rag.read_text().replace('search_kwargs={"k": 40}', 'search_kwargs={"k": 4}'))
    quiet = invoke("--baseline", "base.json")
    assert quiet.exit_code == 0 and "unused baseline entry" not in quiet.stderr
    assert f"{len(findings())} findings in the baseline base.json, not reported" in quiet.stderr
    listed = invoke("--baseline", "base.json", "--report-unused-suppressions")
    assert listed.exit_code == 0
    stale = [line for line in listed.stderr.splitlines() if "unused baseline entry" in line]
    assert stale == [  # the retriever now asks for 4 documents, so joining them all is no firehose either
        'app/rag.py: unused baseline entry: LLM002 `context = "\\n\\n".join(d.page_content for d in docs)`',
        'app/rag.py: unused baseline entry: LLM002 `retriever = vs.as_retriever(search_kwargs={"k": 40})`',
    ]


def test_entries_of_files_outside_the_named_paths_are_not_stale(demo):
    assert invoke("--write-baseline", "base.json").exit_code == 0
    result = invoke("app/classify.py", "--baseline", "base.json", "--report-unused-suppressions")
    assert result.exit_code == 0
    assert "unused baseline entry" not in result.stderr


def test_occurrence_count_reports_only_the_extra_copy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q", "."], check=True)
    call = '        return client.chat.completions.create(model="gpt-4o-mini", max_tokens=50, messages=m)\n'
    head = "import openai\n\nclient = openai.OpenAI()\n\n\n"
    body = "".join(f"def ask_{n}(m):\n    try:\n{call}    except openai.APIError:\n        return None\n\n\n" for n in range(2))
    Path("jobs.py").write_text(head + body)
    assert invoke("--write-baseline", "base.json").exit_code == 0
    [entry] = [e for e in json.loads(Path("base.json").read_text())["entries"] if e["rule"] == "LLM101"]
    assert entry["count"] == 2
    Path("jobs.py").write_text(head + body + body.replace("ask_0", "ask_2").replace("ask_1", "ask_3"))
    new = findings(baseline="base.json")
    assert {rule for rule, _, _ in new} == {"LLM101", "LLM106"} and len({line for _, _, line in new}) == 2


def test_baseline_named_in_the_configuration_is_relative_to_it(demo, monkeypatch):
    (demo / "ci").mkdir()
    assert invoke("--write-baseline", "ci/llmlint-baseline.json").exit_code == 0
    with open(demo / "pyproject.toml", "a") as handle:
        handle.write('\n[tool.llmlint]\nbaseline = "ci/llmlint-baseline.json"\n')
    result = invoke()
    assert (result.exit_code, result.stdout) == (0, "")
    monkeypatch.chdir(demo / "app")  # from a subfolder: the same file, the same (repository-relative) paths
    assert invoke(".").exit_code == 0
    assert invoke(".", "--baseline", "../ci/llmlint-baseline.json").exit_code == 0  # on the command line: from here
    assert invoke(".", "--baseline", "ci/llmlint-baseline.json").exit_code == 2


def test_editing_a_flagged_statement_reports_its_findings_again(demo):
    """The code is the key: a statement that was edited is new code (as in a diff-aware scan)."""
    assert invoke("--write-baseline", "base.json").exit_code == 0
    classify = demo / "app" / "classify.py"
    classify.write_text(classify.read_text().replace("temperature=0,", "temperature=0.1,"))
    reported = findings(baseline="base.json")
    assert {rule for rule, _, _ in reported} == {"LLM005", "LLM101", "LLM103", "LLM106"}
    assert {(path, line) for _, path, line in reported} == {("app/classify.py", 15)}


def test_command_line_baseline_wins_over_the_configuration(demo):
    assert invoke("--write-baseline", "full.json").exit_code == 0
    Path("empty.json").write_text('{"tool": "llmlint", "version": 1, "entries": []}\n')
    with open(demo / "pyproject.toml", "a") as handle:
        handle.write('\n[tool.llmlint]\nbaseline = "full.json"\n')
    assert invoke().exit_code == 0
    assert invoke("--baseline", "empty.json").exit_code == 1


HOSTILE = {
    "missing file": None,
    "empty": b"",
    "not JSON": b"LLM101 app/api.py\n",
    "truncated": b'{"tool": "llmlint", "version": 1, "entries": [{"rule": "LLM1',
    "another tool": b'{"tool": "semgrep", "version": 1, "entries": []}',
    "a list": b"[]",
    "future version": b'{"tool": "llmlint", "version": 2, "entries": []}',
    "version as text": b'{"tool": "llmlint", "version": "1", "entries": []}',
    "entries not a list": b'{"tool": "llmlint", "version": 1, "entries": {}}',
    "entry missing count": b'{"tool": "llmlint", "version": 1, "entries": [{"rule": "LLM101", "path": "a.py", "code": ""}]}',
    "count negative": b'{"tool": "llmlint", "version": 1, "entries": [{"rule": "LLM101", "path": "a.py", "code": "", "count": -1}]}',
    "count true": b'{"tool": "llmlint", "version": 1, "entries": [{"rule": "LLM101", "path": "a.py", "code": "", "count": true}]}',
    "count NaN": b'{"tool": "llmlint", "version": 1, "entries": [{"rule": "LLM101", "path": "a.py", "code": "", "count": NaN}]}',
    "count of 5000 digits": b'{"tool": "llmlint", "version": 1, "entries": [{"rule": "LLM101", "path": "a.py", "code": "", "count": '
    + b"9" * 5000 + b"}]}",
    "path a number": b'{"tool": "llmlint", "version": 1, "entries": [{"rule": "LLM101", "path": 7, "code": "", "count": 1}]}',
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "not UTF-8": b'{"tool": "llmlint", "version": 1, "entries": [{"rule": "\xff", "path": "a.py", "code": "", "count": 1}]}',
    "terminal escape in a field": b'{"tool": "llmlint", "version": 1, "entries": [{"rule": "\\u001b[31m", "path": 7}]}',
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_corrupt_or_hostile_baseline_is_one_error_line(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("app.py").write_text("import openai\n\nclient = openai.OpenAI()\nclient.models.list()\n")
    if HOSTILE[case] is not None:
        Path("base.json").write_bytes(HOSTILE[case])
    result = invoke("--baseline", "base.json")
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: baseline base.json: ")
    assert "\x1b" not in line


def test_a_folder_given_as_baseline_is_one_error_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("base.json").mkdir()
    result = invoke("--baseline", "base.json")
    assert (result.exit_code, result.stderr.splitlines()) == (2, ["Error: baseline base.json: cannot read: Is a directory"])
    written = invoke("--write-baseline", "base.json")
    assert written.exit_code == 2 and written.stderr.startswith("Error: cannot write the baseline to base.json: ")
    missing = invoke("--write-baseline", "nowhere/base.json")
    assert missing.stderr.splitlines() == ["Error: cannot write the baseline to nowhere/base.json: folder nowhere does not exist"]


def test_corrupt_baseline_named_by_the_configuration_says_where_it_was_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("app.py").write_text("print('hello')\n")
    Path("pyproject.toml").write_text('[tool.llmlint]\nbaseline = "base.json"\n')
    Path("base.json").write_text("{")
    result = invoke()
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: baseline base.json: invalid JSON: Expecting property name enclosed in double quotes (line 1, column 2) "
        "(named by pyproject.toml: tool.llmlint.results.baseline)"
    ]


@pytest.mark.parametrize("value", ['""', "1", '["a.json"]'])
def test_baseline_key_must_be_a_path(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("llmlint.toml").write_text(f"baseline = {value}\n")
    result = invoke()
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: llmlint.toml: baseline: must be the path of a baseline file, not ")


# The code a finding is keyed on


def code_at(source: str, line: int, end_line: int = 0) -> str:
    return statement_code(SourceLines(source), line, end_line or line)


def test_code_is_the_statement_without_comments_and_with_whitespace_normalised():
    source = (
        "def ask(client, q):\n"
        "    answer = client.chat.completions.create(  # expect: LLM101\n"
        "        model='gpt-4o',    # the big one\n"
        "        messages=[{'role': 'user', 'content': q}],\n"
        "    )\n"
        "    return answer\n"
    )
    assert code_at(source, 2, 5) == (
        "answer = client.chat.completions.create( model='gpt-4o', messages=[{'role': 'user', 'content': q}], )"
    )
    assert code_at(source, 1, 6) == "def ask(client, q):"  # a function's header, not its body
    assert code_at(source, 3) == "model='gpt-4o',"  # inside brackets: the line
    assert code_at(source, 40) == ""


def test_long_code_is_cut_with_a_digest_of_the_whole():
    first = "PROMPT = '" + "a" * 300 + "'\n"
    second = "PROMPT = '" + "a" * 299 + "b'\n"
    one, two = code_at(first, 1), code_at(second, 1)
    assert len(one) < 200 and one != two and one.startswith("PROMPT = 'aaa") and " … sha256:" in one


def test_notebook_findings_are_keyed_on_their_cells_code(tmp_path, monkeypatch):
    """Cells added above and outputs stored (every JSON line and cell number moves): still clean; a new cell with
    a model call: exactly its findings, at its cell."""
    nbformat = pytest.importorskip("nbformat")
    root = tmp_path / "triage"
    shutil.copytree(DEMO.parent / "notebooks" / "support-triage", root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.chdir(root)
    notebook = root / "notebooks" / "explore_tickets.ipynb"
    assert invoke("--write-baseline", "base.json").exit_code == 0
    entries = [e for e in json.loads(Path("base.json").read_text())["entries"] if e["path"].endswith(".ipynb")]
    assert {"rule": "LLM101", "path": "notebooks/explore_tickets.ipynb", "code": "response = client.chat.completions.create( "
            'model="gpt-4o", messages=[ {"role": "system", "content": CLASSIFY_PROMPT}, {"role": "user", "content": body}, ], )',
            "count": 1} in entries

    nb = nbformat.read(notebook, as_version=4)
    nb.cells[0:0] = [nbformat.v4.new_markdown_cell("Owner: support tooling.\n\nRerun weekly."),
                     nbformat.v4.new_code_cell("import os\n\n\nprint(os.getcwd())")]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok\n" * 3)]
    nbformat.write(nb, notebook)
    result = invoke("--baseline", "base.json")
    assert (result.exit_code, result.stdout) == (0, "")

    nb.cells.append(nbformat.v4.new_code_cell(
        'reply = client.chat.completions.create(\n    model="gpt-4o-mini",\n    max_tokens=300,\n'
        '    messages=[{"role": "user", "content": "Draft a reply to: " + tickets["body"][0]}],\n)\nprint(reply)'))
    nbformat.write(nb, notebook)
    config = load_config(["."], None, all_rules())
    new = lint_paths(["."], config, use_cache=False, baseline=load_baseline("base.json")).findings
    assert {f.rule_id for f in new} >= {"LLM101"}
    assert {(f.location.path, f.location.cell.number, f.location.cell.line) for f in new} == {
        ("notebooks/explore_tickets.ipynb", len(nb.cells), 1)}
