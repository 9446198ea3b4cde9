"""Hostile input: llmlint ends, in time and memory proportional to the input, on any import graph and any nesting,
and every file is analysed or named as skipped; no exception escapes."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import hypothesis
import hypothesmith
import pytest

from llmlint.api import build_analysis, lint_paths
from llmlint.engine.config import Config
from llmlint.engine.indexfiles import index_digest
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.engine.source import parse_and_index

CALL = 'client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}])'


def write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def lint(root: Path, select=("ALL",), jobs: int = 1):
    return lint_paths([str(root)], Config(root=str(root), select=select), jobs=jobs, use_cache=False)


def flagged(report, rule: str = "LLM101") -> set:
    return {(Path(f.location.path).name, f.location.line) for f in report.findings if f.rule_id == rule}


def analysed_or_named(report, root: Path) -> None:
    """Every Python file under `root` was checked, and a skipped one is named with a reason."""
    assert report.files_checked == sum(1 for _ in root.rglob("*.py"))
    for problem in report.problems:
        assert str(problem).count(": skipped: ") == 1 and problem.reason
        assert not problem.reason.startswith("internal error"), problem


# import cycles ---------------------------------------------------------------------------------------------------

def test_modules_importing_from_each_other(tmp_path):
    write(tmp_path, {
        # MODEL: a name neither module defines, each taking it from the other
        "app.py": "import openai\nfrom helpers import ask, MODEL\n\nclient = openai.OpenAI()\n\n\ndef main():\n    return ask('hi')\n",
        "helpers.py": f"from app import client, MODEL\n\n\n\ndef ask(question):\n    return {CALL.replace('gpt-4o', 'gpt-4o-mini')}\n"
                      "\n\ndef ask_again(question):\n    return client.chat.completions.create(model=MODEL, messages=[])\n",
    })
    report = lint(tmp_path, select=("LLM101",))
    assert flagged(report) == {("helpers.py", 6), ("helpers.py", 10)}
    analysed_or_named(report, tmp_path)


def test_package_star_reexport_cycle(tmp_path):
    write(tmp_path, {
        "pkg/__init__.py": "from .core import *\nfrom .llm import ask\n",
        "pkg/core.py": "from pkg import DEFAULT_MODEL, client\n",  # the package re-exports this module's own names
        "pkg/llm.py": "import openai\nfrom pkg import client, DEFAULT_MODEL\n\n\ndef ask(question):\n"
                      f"    return {CALL.replace('gpt-4o', 'gpt-4o-mini')}\n",
        "main.py": "from pkg import *\nfrom pkg.core import *\n\nprint(ask('hi'))\n",
    })
    report = lint(tmp_path)
    assert report.problems == []
    analysed_or_named(report, tmp_path)


def test_module_named_like_the_stdlib_module_it_imports_from(tmp_path):
    # util/ is not a package: util/re.py is module `re`, and `from re import compile` names itself
    write(tmp_path, {
        "util/re.py": "import openai\nfrom re import compile\n\nPATTERN = compile(r'\\d+')\n"
                      "openai.OpenAI().chat.completions.create(model='gpt-4o', messages=[])\n",
        "util/json.py": "from json import loads, dumps as dumps\nfrom json import *\n",
        "tools/__init__.py": "",
        "tools/logging.py": "import logging\nfrom logging import getLogger\nfrom tools.logging import getLogger as get\n",
    })
    report = lint(tmp_path, select=("LLM101",))
    assert flagged(report) == {("re.py", 5)}
    analysed_or_named(report, tmp_path)


def test_cycle_laden_package(tmp_path):
    """50 modules importing each other in cycles, star imports both ways, stdlib-named modules, re-exports
    through `__init__`, and a model call in each module whose client and model come through those cycles."""
    n = 50
    stdlib = ["re", "json", "typing", "os", "logging"]
    files = {"pkg/__init__.py": "".join(f"from .m{i} import *\n" for i in range(0, n, 5)) + "from .m0 import client as client\n"}
    for i in range(n):
        name = stdlib[i // 10] if i % 10 == 9 else f"m{i}"
        a, b = (i + 1) % n, (i * 7 + 3) % n
        files[f"pkg/{name}.py"] = (
            "import openai\n"
            f"from pkg import *\nfrom pkg.m{a} import *\nfrom .m{b} import MODEL{b}\nfrom . import m{(i + 11) % n}\n"
            f"from {stdlib[i % 5]} import *\nimport {stdlib[(i + 1) % 5]}\nfrom pkg import client\nfrom .m{a} import USER\n"
            + ("client = openai.OpenAI()\n" if i == 0 else "") + f"MODEL{i} = MODEL{b}\n"
            f"\n\ndef ask{i}(question):\n"
            f"    return client.chat.completions.create(model=MODEL{i}, messages=[question], user=USER, max_tokens=LIMIT)\n"
        )
    write(tmp_path, files)
    start = time.monotonic()
    report = lint(tmp_path)
    assert time.monotonic() - start < 60
    assert report.problems == []
    analysed_or_named(report, tmp_path)
    assert len(flagged(report)) == n


def test_star_imports_that_fan_out_and_meet_again(tmp_path):
    """40 layers of two modules, each star-importing both modules of the next layer: a name none defines has 2**40
    paths to search (22 layers took 37 s before each module was searched once per lookup)."""
    layers = 40
    files = {"pkg/__init__.py": ""}
    for i in range(layers):
        below = f"from pkg.l{i + 1}a import *\nfrom pkg.l{i + 1}b import *\n" if i < layers - 1 else ""
        for side in "ab":
            files[f"pkg/l{i}{side}.py"] = below + f"NAME_{i}{side} = 'value'\n"
    files["pkg/l5b.py"] += "MODEL = 'gpt-4o-mini'\n"  # five imports down: names are followed that far
    files["app.py"] = ("import openai\nfrom pkg.l0a import *\n\n"
                       "openai.OpenAI().chat.completions.create(model=MODEL, messages=[], timeout=TIMEOUT)\n"
                       "openai.OpenAI().chat.completions.create(model=MODEL, messages=[])\n")
    write(tmp_path, files)
    start = time.monotonic()
    report = lint_paths([str(tmp_path)], Config(root=str(tmp_path), select=("LLM101",)), jobs=1, use_cache=False, prefilter=False)
    assert time.monotonic() - start < 30
    assert flagged(report) == {("app.py", 5)}  # TIMEOUT is nowhere: unknown, not flagged
    calls = {c.call.line: c.model for c in build_analysis([str(tmp_path)], Config(root=str(tmp_path)), jobs=1, use_cache=False,
                                                           prefilter=False)[0].model_calls}
    assert calls == {4: "gpt-4o-mini", 5: "gpt-4o-mini"}


def test_long_chains_of_names(tmp_path):
    """A name re-exported through 400 modules, a prompt built over 3,000 assignments and 3,000 `+=`: bounded, and
    the model call at the end of each is still analysed."""
    files = {f"r{i}.py": f"from r{i + 1} import MODEL\n" for i in range(399)}
    files["r399.py"] = "MODEL = 'gpt-4o'\n"
    head = "import openai\n\nclient = openai.OpenAI()\n"
    files["reexport.py"] = head + "from r0 import MODEL\n" + CALL.replace('"gpt-4o"', "MODEL").replace("question", "'hi'") + "\n"
    files["names.py"] = head + "p0 = 'Answer briefly.'\n" + "".join(f"p{i} = p{i - 1} + ' Rule {i}.'\n" for i in range(1, 3000)) + \
        CALL.replace("question", "p2999") + "\n"
    files["augmented.py"] = head + "\n\ndef ask(question):\n" + "".join(f"    question += ' rule {i}'\n" for i in range(3000)) + \
        f"    return {CALL}\n"
    write(tmp_path, files)
    start = time.monotonic()
    report = lint_paths([str(tmp_path)], Config(root=str(tmp_path)), jobs=1, use_cache=False, prefilter=False)
    assert time.monotonic() - start < 30
    assert report.problems == []
    assert flagged(report) == {("reexport.py", 5), ("names.py", 3004), ("augmented.py", 3007)}


# deep expressions ------------------------------------------------------------------------------------------------

DEPTH = 500
DEEP = {
    "string concatenation": "prompt = " + " + ".join(f'"line {i}\\n"' for i in range(DEPTH)),
    "concatenation of names": "prompt = " + " + ".join(f"part{i % 7}" for i in range(DEPTH)),
    "implicit concatenation": "prompt = (" + " ".join(f'"line {i}\\n"' for i in range(4 * DEPTH)) + ")",
    "attribute chain": "value = config" + ".section" * DEPTH,
    "method chain": "value = builder" + ".add(1)" * DEPTH,
    "subscript chain": "value = table" + "[0]" * DEPTH,
    "conditional expressions": "value = " + " ".join(f"{i} if flag{i} else" for i in range(DEPTH)) + " None",
    "lambdas": "value = " + "lambda: " * DEPTH + "None",
    "boolean chain": "value = " + " or ".join(f"option{i}" for i in range(DEPTH)),
    "pipe": "value = " + " | ".join(f"step{i}" for i in range(DEPTH)),
    "unary chain": "value = " + "not " * DEPTH + "flag",
    "comparison": "value = " + " < ".join(f"x{i}" for i in range(DEPTH)),
    "nested lists": "value = " + "[" * 150 + "]" * 150,
    "nested unpacking": "(" * 150 + "a, b" + ")" * 150 + " = pairs",
}


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_deeply_nested_expression(tmp_path, kind):
    source = f"import openai\n\nclient = openai.OpenAI()\n{DEEP[kind]}\nquestion = 'hi'\n{CALL}\n"
    write(tmp_path, {"deep.py": source})
    start = time.monotonic()
    report = lint(tmp_path)  # every rule walks these expressions
    assert time.monotonic() - start < 30
    assert report.problems == []
    assert flagged(report) == {("deep.py", 6)}
    index, problem = parse_and_index(source, "deep.py", "deep.py", "deep", False)
    assert problem is None
    assert pickle.loads(pickle.dumps(index)).functions.keys() == index.functions.keys()
    assert index_digest(index)
    hash(index.functions[MODULE_SCOPE].assigns[-1].value)


def test_long_string_concatenation_is_one_text():
    source = "prompt = " + " + ".join(f'"line {i}\\n"' for i in range(DEPTH)) + "\n"
    index, _ = parse_and_index(source, "p.py", "p.py", "p", False)
    value = index.functions[MODULE_SCOPE].assigns[0].value
    assert value.value == "".join(f"line {i}\n" for i in range(DEPTH))


def test_long_concatenation_keeps_every_piece():
    source = "prompt = " + " + ".join(f'"line {i}\\n" + part{i}' for i in range(DEPTH)) + "\n"
    index, _ = parse_and_index(source, "p.py", "p.py", "p", False)
    parts = index.functions[MODULE_SCOPE].assigns[0].value.parts
    assert [p for p in parts if isinstance(p, str)] == [f"line {i}\n" for i in range(DEPTH)]
    assert [p.id for p in parts if not isinstance(p, str)] == [f"part{i}" for i in range(DEPTH)]


# size ------------------------------------------------------------------------------------------------------------

MANY = 10_000
MODEL_CALL = 'client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Say hi"}])'


@pytest.mark.parametrize("scope", ["function", "module"])
def test_ten_thousand_model_calls_in_one_scope(tmp_path, scope):
    """Work per model call does not grow with the number of calls beside it (10,000 took over 600 s)."""
    head = "import openai\n\nclient = openai.OpenAI()\n"
    if scope == "function":
        write(tmp_path, {"calls.py": head + "\n\ndef main():\n" + f"    {MODEL_CALL}\n" * MANY})
        first = 7
    else:
        write(tmp_path, {"calls.py": head + f"{MODEL_CALL}\n" * MANY})
        first = 4
    start = time.monotonic()
    report = lint(tmp_path, select=("LLM101", "LLM103"))
    assert time.monotonic() - start < 60
    assert report.problems == []
    assert flagged(report) == {("calls.py", line) for line in range(first, first + MANY)}
    assert len(flagged(report, "LLM103")) == MANY


PEAK = """
import resource, sys
from llmlint.api import build_analysis, lint_paths
from llmlint.engine.config import Config
report = lint_paths([sys.argv[1]], Config(root=sys.argv[1]), jobs=1, use_cache=False)
try:  # this process's own peak: Linux keeps ru_maxrss across exec, so it would count the forking pytest worker's
    with open("/proc/self/status") as status:
        print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) // 1024)
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 * 1024 if sys.platform == "darwin" else 1024))
for problem in report.problems:
    print(problem)
"""


@pytest.mark.parametrize("size, reason", [
    (4_900_000, "file is larger than 1 MiB"),  # took 125 s and 8.8 GB
    (1_000_000, "file is too large to analyse: 666,667 syntax nodes (the limit is 250,000)"),  # 1.8 GB
])
def test_large_file_is_named_as_skipped_quickly_and_in_little_memory(tmp_path, size, reason):
    write(tmp_path, {"data.py": "import openai\n" + "x = 1\n" * (size // 6)})
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", PEAK, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert time.monotonic() - start < 30
    peak_mb, *problems = run.stdout.splitlines()
    assert problems == [f"{tmp_path / 'data.py'}: skipped: {reason}"]
    assert int(peak_mb) < 500


def test_large_hand_written_module_is_analysed(tmp_path):
    """300 KB of functions with docstrings (under the node limit) is analysed, not skipped."""
    body = "".join(f'''

def ask_{i}(question: str) -> str:
    """Answer `question` for the {i}th tenant: a docstring as long as those of real modules, which makes up much of
    their size but little of their syntax, so that such modules stay well under the node limit of llmlint."""
    return client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": question}}])
''' for i in range(900))
    write(tmp_path, {"tenants.py": "import openai\n\nclient = openai.OpenAI()\n" + body})
    assert (tmp_path / "tenants.py").stat().st_size > 300_000
    report = lint(tmp_path, select=("LLM101",))
    assert report.problems == []
    assert len(flagged(report)) == 900


# fuzz ------------------------------------------------------------------------------------------------------------

FUZZ_HEAD = "import openai\nclient = openai.OpenAI()\n"
FUZZ_TAIL = "\nclient.chat.completions.create(model='gpt-4o', messages=[{'role': 'user', 'content': str(client)}])\n"


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles what it generates
@hypothesis.settings(max_examples=300, derandomize=True, deadline=None, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(source=hypothesmith.from_grammar())
def test_fuzzed_programs_are_analysed_or_named(source):
    """Valid Python of every shape (hypothesmith), between an SDK client and a model call: linting it through the
    API raises nothing, and the file is either analysed (its model call found) or named with a reason."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "fuzzed.py")
        path.write_text(FUZZ_HEAD + source + FUZZ_TAIL, encoding="utf-8")
        report = lint_paths([folder], Config(root=folder), jobs=1, use_cache=False, prefilter=False)
    assert report.files_checked == 1
    if report.problems:
        assert [str(p).split(": skipped: ")[0] for p in report.problems] == [str(path)]
        assert not report.problems[0].reason.startswith("internal error"), report.problems[0]
    else:
        assert any(f.rule_id == "LLM101" for f in report.findings) or "client" in source


# a real dependency tree --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_installed_dependency_tree():
    """The running interpreter's site-packages (thousands of real modules, with their import cycles, star
    re-exports and stdlib-named modules), checked in place with the pre-filter off so that every module is parsed
    and linked, and nothing written there: no traceback, and every file analysed or named with a reason."""
    root = sysconfig.get_paths()["purelib"]
    start = time.monotonic()
    report = lint_paths([root], Config(root=root), jobs=0, use_cache=False, prefilter=False)
    assert time.monotonic() - start < 300
    assert report.files_checked > 500
    for problem in report.problems:  # (shown relative to the checkout when the environment lives inside it, as in CI)
        assert os.path.abspath(problem.path).startswith(root) and problem.reason, problem
        assert not problem.reason.startswith("internal error"), problem
    assert not Path(root, ".llmlint_cache").exists()
