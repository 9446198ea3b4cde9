"""Code edits after a cached run: an edit no rule can see keeps the last run's results without linking the project
again; every other edit relinks. Either way the findings equal a cold run's on the same code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import llmlint.api as api
from llmlint.engine.incremental import referenced_names
from llmlint.engine.moduleindex import ModuleIndex

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo-app"


@pytest.fixture
def linked(monkeypatch):
    """Counts how often a run links the project."""
    calls = []
    original = api._analysis

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(api, "_analysis", counting)
    return calls


def _findings(report) -> list:
    return sorted((f.rule_id, f.location.path, f.location.line, f.location.column, f.message) for f in report.findings)


def _incremental_equals_cold(root: Path, linked: list) -> bool:
    """Run with the cache, then cold; assert equal findings; return whether the cached run linked the project."""
    before = len(linked)
    warm = api.lint_paths([str(root)])
    relinked = len(linked) > before
    cold = api.lint_paths([str(root)], use_cache=False)
    assert _findings(warm) == _findings(cold)
    return relinked


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_sequence_of_edits_to_the_demo_app_gives_the_cold_findings(tmp_path, monkeypatch, linked):
    root = tmp_path / "demo-app"
    shutil.copytree(DEMO, root)
    monkeypatch.chdir(root)
    llm, rag, api_py, classify = (root / "app" / name for name in ("llm.py", "rag.py", "api.py", "classify.py"))
    assert _incremental_equals_cold(root, linked)  # the first run links

    _append(llm, "\n\ndef _warm_up_budget():\n    budget = 2\n    return budget\n")
    assert not _incremental_equals_cold(root, linked)  # a new function nothing mentions and that calls nothing

    _replace(llm, "budget = 2", "budget = 3  # seconds")
    _append(rag, "\n\ndef _chunk_overlap(size):\n    overlap = size // 10\n    return overlap\n")
    assert not _incremental_equals_cold(root, linked)  # two files, both edits invisible

    _replace(llm, "return budget\n", "return complete('ping', 'answer pong')\n")
    assert _incremental_equals_cold(root, linked)  # it calls the model now: linked again

    _replace(llm, "return complete('ping', 'answer pong')\n", "return budget\n")
    _append(api_py, "\nHEALTH_CHECK = '_warm_up_budget'\n")
    assert _incremental_equals_cold(root, linked)  # module code changed

    _replace(llm, "budget = 3", "budget = 4")
    assert _incremental_equals_cold(root, linked)  # api.py mentions it now: it may be looked up by name

    _replace(classify, "\n\n", "\n\ndef _unused_label_count():\n    count = 4\n    return count\n\n", )
    assert _incremental_equals_cold(root, linked)  # inserted above other code: every position after it moved


def _project(root: Path, files: dict) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'svc'\n", encoding="utf-8")
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")


def test_a_helper_the_model_call_uses_is_never_carried_over(tmp_path, monkeypatch, linked):
    _project(tmp_path, {
        "llm.py": "from openai import OpenAI\n\nclient = OpenAI(timeout=20)\n",
        "settings.py": "def reply_cap():\n    cap = 256\n    return cap\n",
        "service.py": (
            "from llm import client\nfrom settings import reply_cap\n\n\n"
            "def answer(question: str) -> str:\n"
            "    try:\n"
            "        response = client.chat.completions.create(\n"
            "            model='gpt-4o-mini', max_tokens=reply_cap(),\n"
            "            messages=[{'role': 'user', 'content': question}],\n"
            "        )\n"
            "    except Exception:\n"
            "        return ''\n"
            "    return response.choices[0].message.content\n"
        ),
    })
    monkeypatch.chdir(tmp_path)
    assert _incremental_equals_cold(tmp_path, linked)
    _replace(tmp_path / "settings.py", "cap = 256", "cap = None")  # calls nothing, but service.py names it
    assert _incremental_equals_cold(tmp_path, linked)


def test_methods_called_implicitly_and_attribute_writes_are_never_carried_over(tmp_path, monkeypatch, linked):
    _project(tmp_path, {
        "bot.py": (
            "from openai import OpenAI\n\n\n"
            "class Bot:\n"
            "    def ask(self, text):\n"
            "        return OpenAI().chat.completions.create(model='gpt-4o', messages=[{'role': 'user', 'content': text}])\n"
        ),
    })
    monkeypatch.chdir(tmp_path)
    bot = tmp_path / "bot.py"
    assert _incremental_equals_cold(tmp_path, linked)
    _append(bot, "\n    def __repr__(self):\n        label = 'bot'\n        return label\n")
    assert _incremental_equals_cold(tmp_path, linked)  # a dunder: Python calls it without naming it
    _append(bot, "\n    def _reset(self):\n        self.history = []\n")
    assert _incremental_equals_cold(tmp_path, linked)  # sets an attribute other methods may read


def test_mentions_are_identifiers_in_code_and_strings_but_not_definitions():
    names = referenced_names("def probe():\n    return getattr(obj, 'helper')\nclass Store: pass\n")
    crc = lambda text: next(iter(referenced_names(text)))  # noqa: E731
    assert crc("helper") in names and crc("getattr") in names and crc("obj") in names
    assert crc("probe") not in names and crc("Store") not in names
    assert ModuleIndex("m.py", "m", False, 1).names == frozenset()
