"""Jupyter notebooks are checked like modules (notebook.py): code cells in order, IPython syntax replaced by Python of
the same shape, positions reported by cell and line, and mapped to the notebook file's own lines in SARIF and JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from llmlint import reporters
from llmlint.api import lint_paths
from llmlint.engine.notebook import NotebookError, python_lines, python_source
from llmlint.ruleset.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "fixtures" / "notebooks" / "support-triage"
NOTEBOOK = "fixtures/notebooks/support-triage/notebooks/explore_tickets.ipynb"
SUMMARIZE = "fixtures/notebooks/support-triage/triage/summarize.py"

CHAT = '''\
from openai import OpenAI

client = OpenAI(timeout=20)


def answer(question: str) -> str:
    response = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}], max_tokens=100)
    return response.choices[0].message.content
'''


def notebook(*cells, language: str = "python") -> str:
    """A notebook as Jupyter saves it: strings are markdown cells, tuples (source,) code cells."""
    nb = new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"},
                   "language_info": {"name": language}}
    nb.cells = [new_code_cell(cell[0]) if isinstance(cell, tuple) else new_markdown_cell(cell) for cell in cells]
    return nbformat.writes(nb)


def where(finding) -> tuple:
    loc = finding.location
    cell = loc.cell
    return (finding.rule_id, loc.path, cell.number, cell.line, cell.column) if cell else (finding.rule_id, loc.path, loc.line, loc.column)


def file_text_at(path: Path, line: int, column: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[line - 1][column - 1 :]


@pytest.fixture()
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


# --- the fixture: a data scientist's notebook in a project -----------------------------------------------------


def test_client_in_one_cell_and_calls_in_another_give_findings_at_their_cell_and_line(at_root):
    report = lint_paths([str(PROJECT)], use_cache=False)
    assert report.problems == []
    assert sorted(where(f) for f in report.findings) == sorted([
        # cell 6 makes the client, cell 8 (after `%%time`) calls it in a loop and parses the answers
        ("LLM101", NOTEBOOK, 8, 4, 16),
        ("LLM102", NOTEBOOK, 8, 4, 16),
        ("LLM103", NOTEBOOK, 8, 4, 16),
        ("LLM106", NOTEBOOK, 8, 4, 16),
        ("LLM105", NOTEBOOK, 8, 11, 19),
        # the project's helper is given the notebook's client: one program
        ("LLM103", SUMMARIZE, 7, 16),
        ("LLM106", SUMMARIZE, 7, 16),
    ])
    timeout = next(f for f in report.findings if f.rule_id == "LLM101")
    client = [r.location for r in timeout.related]
    assert [(loc.path, loc.cell.number, loc.cell.line, loc.cell.column) for loc in client] == [(NOTEBOOK, 6, 1, 10)]
    # the rule names the client's line of the code cells' text (`nb.ipynb:12` or `line 12`): shown as cell and line
    assert re.search(r"explore_tickets.ipynb:cell 6:1\b|\(cell 6, line 1\)", timeout.fix), timeout.fix


def test_a_notebook_location_is_the_notebook_files_own_line_and_column(at_root):
    report = lint_paths([str(PROJECT)], use_cache=False)
    path = ROOT / NOTEBOOK
    for finding in report.findings:
        loc = finding.location
        if loc.path != NOTEBOOK:
            continue
        at = file_text_at(path, loc.line, loc.column)
        expected = {"LLM105": "json.loads(response"}.get(finding.rule_id, "client.chat.completions.create(")
        assert at.startswith(expected), (finding.rule_id, at)
        end = file_text_at(path, loc.end_line, loc.end_column)
        if finding.rule_id == "LLM105":  # `json.loads(response.choices[0].message.content)` ends before `[\"label\"]`
            assert (loc.end_line, loc.cell.end_line, loc.cell.end_column) == (loc.line, 11, 66) and end.startswith('[\\"label')
        else:  # the call's `)` on cell line 10
            assert (loc.end_line, loc.cell.end_line, loc.cell.end_column) == (loc.line + 6, 10, 6) and end.startswith('\\n",')



def test_without_the_notebook_the_helper_is_not_a_model_call(tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "support-triage"
    shutil.copytree(PROJECT, copy)
    (copy / "notebooks" / "explore_tickets.ipynb").unlink()
    monkeypatch.chdir(tmp_path)
    assert lint_paths(["support-triage"], use_cache=False).findings == []


def test_sarif_of_the_notebook_validates_and_points_at_the_code_in_the_file(at_root, sarif_multitool, tmp_path):
    rules = all_rules()
    report = lint_paths([str(PROJECT)], use_cache=False)
    out = tmp_path / "notebook.sarif"
    out.write_text(reporters.render("sarif", report, rules, category="llmlint"), encoding="utf-8")
    results = json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]
    in_notebook = [r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".ipynb")]
    assert len(in_notebook) == 5
    for result in in_notebook:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert file_text_at(ROOT / NOTEBOOK, region["startLine"], region["startColumn"]).startswith(("client.chat", "json.loads"))
    validation = tmp_path / "validation.sarif"
    run = sarif_multitool.run("validate", "--rule-kind", "Sarif;Gh", "--output", str(validation), str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    problems = json.loads(validation.read_text(encoding="utf-8-sig"))["runs"][0]["results"]
    assert [p["ruleId"] for p in problems if p.get("level", "warning") == "error"] == [], run.stdout


def test_a_notebook_location_is_shown_by_cell_line_and_column_as_ruff_does(at_root):
    report = lint_paths([str(PROJECT)], use_cache=False)
    assert sorted({f.location.label() for f in report.findings}) == [
        f"{NOTEBOOK}:cell 8:11:19", f"{NOTEBOOK}:cell 8:4:16", f"{SUMMARIZE}:7:16"]


def test_json_gives_the_cell_beside_the_file_position(at_root):
    report = lint_paths([str(PROJECT)], use_cache=False)
    document = json.loads(reporters.render("json", report, all_rules()))
    parse = next(f for f in document["findings"] if f["rule_id"] == "LLM105")
    assert parse["cell"] == {"number": 8, "line": 11, "column": 19, "end_line": 11, "end_column": 66}
    assert file_text_at(ROOT / NOTEBOOK, parse["line"], parse["column"]).startswith("json.loads(")
    assert parse["related"][0]["cell"]["number"] == 8 and parse["related"][0]["cell"]["line"] == 4
    helper = next(f for f in document["findings"] if f["path"] == SUMMARIZE)
    assert "cell" not in helper


# --- IPython syntax ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lines", "expected"), [
    (["%pip install -q openai", "import openai"], ["pass", "import openai"]),
    (["!ls data", "!!pwd", "files = !ls", "env = %env"], ["pass", "pass", "pass", "pass"]),
    (["df.head?", "?df", "df.groupby??", "%pinfo df"], ["pass", "pass", "pass", "pass"]),
    (["for x in xs:", "    !echo $x", "    print(x)"], ["for x in xs:", "    pass", "    print(x)"]),
    (["%time r = f(x)", "%timeit  g()"], ["pass; r = f(x)", "pass;    g()"]),
    (["%pip install openai \\", "    anthropic", "x = 1"], ["pass", "", "x = 1"]),
    (["pip install openai", "cd ..", "pip = 3", "time.sleep(1)"], ["pass", "pass", "pip = 3", "time.sleep(1)"]),
    (["%%time", "r = f()"], ["", "r = f()"]),
    (["", "%%bash", "echo hi", "ls"], ["", "", "", ""]),
    (["from __future__ import annotations"], ["pass"]),
    # `%env NAME=value` keeps its value as a string literal where it was written (a pasted key is LLM107's)
    (["%env OPENAI_API_KEY=sk-x", "%set_env A v", "%env", "%env X=\"q\""], ['OPENAI_API_KEY=     "sk-x"', 'A=         "v"', "pass", "pass"]),
    # not IPython: inside strings and brackets, `%` and `?` are Python's or the prompt's
    (['PROMPT = """You are a helpful assistant.', "!Important: answer briefly", "What is the capital?", '%s"""'],
     ['PROMPT = """You are a helpful assistant.', "!Important: answer briefly", "What is the capital?", '%s"""']),
    (['msg = ("hello %s"', "       % name)", "x = a % b"], ['msg = ("hello %s"', "       % name)", "x = a % b"]),
    (["s = 'it''s'  # why?", "y = x if ok else z"], ["s = 'it''s'  # why?", "y = x if ok else z"]),
])
def test_ipython_syntax_becomes_python_of_the_same_shape(lines, expected):
    assert python_lines(lines) == expected


def test_code_cells_are_one_text_line_for_line_and_markdown_and_outputs_are_left_out():
    text = notebook("# Title\n\n`import openai` in markdown", ("%pip install openai",), ("import openai\nclient = openai.OpenAI()",),
                    ("",), ("%%writefile app.py\nimport os",), ("client.chat.completions.create(model='gpt-4o-mini', messages=[])",))
    assert python_source(text.encode()).decode() == "pass\nimport openai\nclient = openai.OpenAI()\n\n\nclient.chat.completions.create(model='gpt-4o-mini', messages=[])\n"


# --- notebooks that cannot be checked ------------------------------------------------------------------------


def _v3_notebook() -> str:
    return json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]})


HOSTILE = {
    "invalid_json.ipynb": (b'{"cells": [\n  {"cell_type": "code" "source": []}\n]}',
                           "not a valid notebook: invalid JSON: Expecting ',' delimiter (line 2, column 24)"),
    "version3.ipynb": (_v3_notebook().encode(),
                       "not a valid notebook: nbformat version 3; llmlint reads version 4 "
                       "(`jupyter nbconvert --to notebook` upgrades it)"),
    "version99.ipynb": (b'{"nbformat": 99, "nbformat_minor": 0, "cells": []}',
                        "not a valid notebook: Unsupported nbformat version 99"),
    "binary.ipynb": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (contains NUL bytes)"),
    "latin1.ipynb": ('{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {"author": "Zoë"}}'.encode("latin-1"),
                     "not a valid notebook: not UTF-8 text (byte 76)"),
    "list.ipynb": (b"[1, 2, 3]", "not a valid notebook: its JSON is not a notebook (an object with `cells`)"),
    "deep.ipynb": (b"[" * 100_000 + b"]" * 100_000, "not a valid notebook: nested too deeply"),
    "r_kernel.ipynb": (notebook(("library(ggplot2)",), language="R").encode(), "not a Python notebook (its kernel's language is r)"),
    "broken_cell.ipynb": (notebook(("import openai",), "text", ("for x in range(3)\n    print(x)",)).encode(),
                          "syntax error in cell 3 at line 1, column 18: expected ':'"),
    "source_number.ipynb": (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 7, '
                            b'"metadata": {}, "outputs": [], "execution_count": null}]}',
                            "not a valid notebook: the source of cell 1 is not text"),
}


def test_each_hostile_notebook_is_one_skipped_line_and_the_run_goes_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, (data, _) in HOSTILE.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "chat.py").write_text(CHAT, encoding="utf-8")
    report = lint_paths(["."], use_cache=False)
    assert {p.path: p.reason for p in report.problems} == {name: reason for name, (_, reason) in HOSTILE.items()}
    assert [(f.rule_id, f.location.path, f.location.line) for f in report.findings] == [("LLM103", "chat.py", 7), ("LLM106", "chat.py", 7)]


def test_a_huge_notebook_is_skipped_and_huge_outputs_are_not(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = nbformat.reads(notebook(("from openai import OpenAI\nclient = OpenAI()\nclient.chat.completions.create(model='gpt-4o-mini', messages=[])",)), as_version=4)
    plot = new_output("display_data", data={"image/png": "iVBORw0KGgo" * 400_000})  # a 4.4 MB plot
    nb.cells[0].outputs = [plot]
    (tmp_path / "plots.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    nb.cells[0].outputs = [plot] * 8  # 35 MB
    (tmp_path / "huge.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    report = lint_paths(["."], use_cache=False)
    assert [str(p) for p in report.problems] == ["huge.ipynb: skipped: notebook is larger than 32 MiB"]
    assert {where(f)[:3] for f in report.findings} == {(rule, "plots.ipynb", 1) for rule in ("LLM101", "LLM102", "LLM103", "LLM106")}


def test_nothing_in_a_notebook_is_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "side_effects.ipynb").write_text(notebook(
        ("import openai\nopen('ran.txt', 'w').write('code ran')",), ("!touch shell-ran.txt",), ("%%bash\ntouch bash-ran.txt",),
    ), encoding="utf-8")
    report = lint_paths(["."], use_cache=False)
    assert report.problems == [] and report.files_checked == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["side_effects.ipynb"]


def test_python_source_raises_one_reason():
    with pytest.raises(NotebookError) as raised:
        python_source(b"not json")
    assert raised.value.reason == "not a valid notebook: invalid JSON: Expecting value (line 1, column 1)"


# --- suppressions, cache, pre-filter, standard input -------------------------------------------------------


CALLS = ("from openai import OpenAI\nclient = OpenAI(timeout=10)",
         "# llmlint: ignore\nreply = client.chat.completions.create(model='gpt-4o-mini', messages=[], max_tokens=5)"
         "  # llmlint: ignore[LLM106] notebook, looked at by hand\nprint(reply)  # noqa: LLM101")


def test_suppression_comments_work_in_cells_and_their_notices_name_the_cell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.ipynb").write_text(notebook("# Try", (CALLS[0],), "calls:", (CALLS[1],)), encoding="utf-8")
    report = lint_paths(["nb.ipynb"], use_cache=False)
    assert [where(f) for f in report.findings] == [("LLM103", "nb.ipynb", 4, 2, 9)]
    assert [str(u) for u in report.unused_suppressions] == ["nb.ipynb:cell 4:3: unused suppression: LLM101"]
    assert [n.split(": bare")[0] for n in report.notices] == ["nb.ipynb:cell 4:1"]


def test_the_cache_keys_on_the_code_and_positions_follow_the_notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    cells = [("from openai import OpenAI\nclient = OpenAI()",), "## Ask", ("client.chat.completions.create(model='gpt-4o-mini', messages=[])",)]
    (tmp_path / "nb.ipynb").write_text(notebook(*cells), encoding="utf-8")
    first = lint_paths(["."])
    assert {where(f)[2:4] for f in first.findings} == {(3, 1)}
    # a markdown cell above and an output: the code is the same, so the index is reused, and positions move
    nb = nbformat.reads(notebook("# Intro\n\nWhat the models say.", *cells), as_version=4)
    nb.cells[3].outputs = [new_output("stream", name="stdout", text="ok\n")]
    (tmp_path / "nb.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    from llmlint.engine.config import load_config
    from llmlint.engine.discovery import discover
    from llmlint.engine.indexfiles import index_files

    indexed = index_files(discover(["."], load_config(["."], None, all_rules())).files, str(tmp_path))
    assert indexed.parsed == 0
    second = lint_paths(["."])
    assert {where(f)[2:4] for f in second.findings} == {(4, 1)}
    assert {f.rule_id for f in second.findings} == {f.rule_id for f in first.findings}
    assert all(file_text_at(tmp_path / "nb.ipynb", f.location.line, f.location.column).startswith("client.chat")
               for f in second.findings)


def test_the_prefilter_reads_code_cells_only(tmp_path):
    from llmlint.engine.prefilter import scan

    in_markdown = notebook("We call `import openai` here later.", ("import pandas as pd",))
    in_code = notebook("Setup", ("import pandas as pd\nimport openai",))
    assert scan(python_source(in_markdown.encode()), "nb", False)[0] is False
    assert scan(python_source(in_code.encode()), "nb", False)[0] is True


def test_a_notebook_buffer_from_standard_input_is_judged_by_cell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.ipynb").write_text(notebook(("x = 1",)), encoding="utf-8")
    buffer = notebook("# Draft", ("from openai import OpenAI\nclient = OpenAI()",), ("client.chat.completions.create(model='gpt-4o-mini', messages=[])",))
    report = lint_paths(["nb.ipynb"], use_cache=False, buffers={str(tmp_path / "nb.ipynb"): buffer.encode()})
    assert {where(f)[2:4] for f in report.findings} == {(3, 1)}


def test_notebooks_are_discovered_and_checkpoints_are_not(tmp_path, monkeypatch):
    from llmlint.engine.config import load_config
    from llmlint.engine.discovery import discover

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.ipynb").write_text(notebook(("x = 1",)), encoding="utf-8")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text(notebook(("x = 1",)), encoding="utf-8")
    found = discover(["."], load_config(["."], None, all_rules()))
    assert [(f.display, f.module, f.is_package) for f in found.files] == [("a.ipynb", "a", False)]


def test_the_inventory_gives_a_notebooks_model_calls_by_cell(at_root):
    from llmlint.api import build_analysis
    from llmlint.engine.config import load_config
    from llmlint.reporters.inventory import render_inventory

    paths = [str(PROJECT)]
    analysis, problems, _ = build_analysis(paths, load_config(paths, None, all_rules()), use_cache=False)
    assert problems == []
    assert render_inventory(analysis, "text").splitlines()[0] == f"{NOTEBOOK}:cell 8:4:16: openai.chat.completions.create model=gpt-4o"
    call = json.loads(render_inventory(analysis, "json"))["calls"][0]
    assert call["cell"] == {"number": 8, "line": 4, "column": 16}
    assert file_text_at(ROOT / NOTEBOOK, call["line"], call["column"]).startswith("client.chat.completions.create(")


@pytest.mark.parametrize("layout", ["jupyter", "minified ascii", "one string per cell", "crlf"])
def test_positions_in_the_file_whatever_its_layout_and_escapes(tmp_path, monkeypatch, layout):
    monkeypatch.chdir(tmp_path)
    code = ('from openai import OpenAI\nclient = OpenAI()\n\n'
            'label = "caf\\u00e9 \U0001F600 \\"quoted\\""; reply = client.chat.completions.create(model="gpt-4o-mini", messages=[])')
    text = notebook("# Émojis 😀", (code,))
    document = json.loads(text)
    if layout == "minified ascii":
        text = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    elif layout == "one string per cell":
        for cell in document["cells"]:
            cell["source"] = "".join(cell["source"])
        text = json.dumps(document, ensure_ascii=False, indent=2)
    elif layout == "crlf":
        text = text.replace("\n", "\r\n")
    (tmp_path / "nb.ipynb").write_bytes(text.encode("utf-8"))
    report = lint_paths(["nb.ipynb"], use_cache=False)
    assert {where(f)[2:] for f in report.findings} == {(2, 4, 43)}  # after a non-BMP character and escaped quotes
    loc = report.findings[0].location
    raw = (tmp_path / "nb.ipynb").read_text(encoding="utf-8").splitlines()[loc.line - 1]
    assert raw[loc.column - 1 :].startswith("client.chat.completions.create(")
    assert raw[loc.end_column - 1 - 1] == ")"  # the span ends after the call's `)`


@pytest.mark.parametrize(("language", "reason"), [
    ("python", None), ("Python3", None), ("pyspark", None),
    ("julia", "not a Python notebook (its kernel's language is julia)"),
])
def test_the_kernel_language_decides_whether_cells_are_python(language, reason):
    text = notebook(("x = 1",), language=language).encode()
    if reason is None:
        assert python_source(text) == b"x = 1\n"
    else:
        with pytest.raises(NotebookError, match=re.escape(reason)):
            python_source(text)


def test_the_command_line_names_a_broken_notebook_on_one_line_and_reports_the_rest(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from llmlint.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.ipynb").write_text('{"cells": [}', encoding="utf-8")
    (tmp_path / "explore.ipynb").write_text(notebook("# Try", ("from openai import OpenAI\nclient = OpenAI()",),
                                                      ("reply = client.chat.completions.create(model='gpt-4o-mini', messages=[])",)),
                                            encoding="utf-8")
    result = CliRunner().invoke(main, ["check", ".", "--no-cache", "--select", "LLM101"])
    assert result.exit_code == 1, result.output
    assert re.search(r"explore\.ipynb:cell 3:1:9\b", result.stdout), result.stdout
    skipped = [line for line in result.stderr.splitlines() if "broken.ipynb" in line]
    assert skipped == ["broken.ipynb: skipped: not a valid notebook: invalid JSON: Expecting value (line 1, column 12)"]


def test_a_key_pasted_into_a_percent_env_magic_is_a_hardcoded_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    key = "sk-proj-" + "Q3v8ZxT1mN4bR7kW2yH6pL9sD0fJ5gA8cE1uI3oP7qV2"
    (tmp_path / "nb.ipynb").write_text(notebook("# Setup", (f"%env OPENAI_API_KEY={key}\nfrom openai import OpenAI",)), encoding="utf-8")
    report = lint_paths(["nb.ipynb"], use_cache=False)
    assert [where(f) for f in report.findings] == [("LLM107", "nb.ipynb", 2, 1, 21)]
    assert key not in json.dumps(json.loads(reporters.render("json", report, all_rules())))


def test_the_pre_commit_hook_is_given_notebooks():
    yaml = pytest.importorskip("yaml")  # (pre-commit's own dependencies, in the test extra)
    identify = pytest.importorskip("identify.identify")
    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]
    assert set(hook["types_or"]) & identify.tags_from_path(str(ROOT / NOTEBOOK))  # pre-commit tags .ipynb `jupyter`


def test_the_full_text_format_shows_the_cell_with_the_key_redacted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    key = "sk-proj-" + "Q3v8ZxT1mN4bR7kW2yH6pL9sD0fJ5gA8cE1uI3oP7qV2"
    (tmp_path / "nb.ipynb").write_text(notebook("# Setup", (f"import os\n%env OPENAI_API_KEY={key}\nfrom openai import OpenAI",)),
                                       encoding="utf-8")
    report = lint_paths(["nb.ipynb"], use_cache=False)
    from llmlint.reporters.text import read_source_lines

    text = reporters.render("text", report, all_rules(), source_lines=read_source_lines(str(tmp_path)))
    assert "--> nb.ipynb:cell 2:2:21" in text
    assert "  2 | %env OPENAI_API_KEY=" in text  # the cell's own line, numbered in the cell, as written
    assert key not in text and key[:12] not in text


def test_the_readiness_report_names_notebook_call_sites_by_cell(at_root):
    from llmlint.engine.config import load_config
    from llmlint.report import build_report, render_report
    from llmlint.report.costs import Assumptions

    paths = [str(PROJECT)]
    document, problems = build_report(paths, load_config(paths, None, all_rules()), Assumptions(), use_cache=False)
    text = render_report(document, "markdown")
    assert problems == []
    assert f"`{NOTEBOOK}:cell 8:4`" in text and "where the client is created (cell 6, line 1)" in text
    assert not re.search(re.escape(NOTEBOOK) + r":\d", text)  # no line of the concatenated code cells


def test_github_annotations_point_at_the_notebook_file_and_name_the_cell(at_root):
    report = lint_paths([str(PROJECT)], use_cache=False)
    commands = reporters.render("github", report, all_rules()).splitlines()
    timeout = next(c for c in commands if "title=LLM101" in c)
    properties = dict(part.split("=", 1) for part in timeout.split("::")[1].split(" ", 1)[1].split(","))
    assert properties["file"] == NOTEBOOK and properties["title"] == "LLM101 missing-timeout (cell 8%2C line 4)"
    assert file_text_at(ROOT / NOTEBOOK, int(properties["line"]), int(properties["col"])).startswith("client.chat.completions")
