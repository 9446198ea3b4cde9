"""Speed features never change results: the pre-filter, the cache and the process pool give the same findings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llmlint import indexing
from llmlint.api import lint_paths
from llmlint.config import Config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def findings_of(report):
    return sorted((f.rule_id, f.location.path, f.location.line, f.location.column, f.message) for f in report.findings)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every fixture, copied so that a cache can be written next to it."""
    root = tmp_path_factory.mktemp("corpus") / "fixtures"
    shutil.copytree(FIXTURES, root)
    return root


@pytest.fixture(scope="module")
def baseline(corpus):
    return findings_of(lint_paths([str(corpus)], Config(root=str(corpus)), jobs=1, use_cache=False, prefilter=False))


def test_baseline_is_not_empty(baseline):
    assert len(baseline) > 50


def test_prefilter_changes_nothing(corpus, baseline):
    report = lint_paths([str(corpus)], Config(root=str(corpus)), jobs=1, use_cache=False, prefilter=True)
    assert findings_of(report) == baseline


def test_cache_changes_nothing(corpus, baseline):
    cold = lint_paths([str(corpus)], Config(root=str(corpus)), jobs=1, use_cache=True)
    assert (corpus / ".llmlint_cache").is_dir()
    warm = lint_paths([str(corpus)], Config(root=str(corpus)), jobs=1, use_cache=True)
    assert findings_of(cold) == baseline
    assert findings_of(warm) == baseline


def test_indexes_gone_from_the_cache_are_built_again(corpus, baseline):
    """A warm run knows each file's digest without loading its index; if linking must run again and an index is
    no longer in the cache, the file is indexed again instead of dropping out of the analysis."""
    lint_paths([str(corpus)], Config(root=str(corpus)), jobs=1, use_cache=True)
    kept = {"manifest", "facts"}
    removed = 0
    for path in (corpus / ".llmlint_cache").rglob("*"):
        if path.is_file() and path.name not in kept and path.name not in (".gitignore", "CACHEDIR.TAG"):
            path.unlink()
            removed += 1
    assert removed > 100
    report = lint_paths([str(corpus)], Config(root=str(corpus)), jobs=1, use_cache=True)
    assert findings_of(report) == baseline


def test_process_pool_changes_nothing(corpus, baseline, monkeypatch):
    monkeypatch.setattr(indexing, "IN_PROCESS_LIMIT", 0)
    report = lint_paths([str(corpus)], Config(root=str(corpus)), jobs=2, use_cache=False)
    assert findings_of(report) == baseline


DIGEST = """\
import sys
from llmlint.indexing import _index_one
path = sys.argv[1]
data = open(path, "rb").read()
print(_index_one((path, path, "app.llm", False, data))[2], _index_one((path, path, "app.llm", False, data + b"\\n# touched\\n"))[2])
"""


def test_index_digest_ignores_trailing_comments_and_hash_seed():
    import os
    import subprocess
    import sys

    path = str(FIXTURES / "demo-app" / "app" / "llm.py")
    outputs = [
        tuple(subprocess.run([sys.executable, "-c", DIGEST, path], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout.split())
        for seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == outputs[0][1]


def test_closure_is_reused_only_while_the_survey_finds_the_same(tmp_path, monkeypatch):
    """The pre-filter's answer is kept in the cache for a run whose survey finds what the last one found; a file
    that starts to import a model client must still join the analysis on the next run."""
    (tmp_path / "clients.py").write_text("from openai import OpenAI\n\nclient = OpenAI()\n", encoding="utf-8")
    (tmp_path / "summary.py").write_text("def summarise(text):\n    return text[:100]\n", encoding="utf-8")
    config = Config(root=str(tmp_path))
    assert lint_paths([str(tmp_path)], config, jobs=1).findings == []

    def closure_must_not_run(entries):
        raise AssertionError("the closure ran again although no file changed")

    real_closure = indexing.relevant_closure
    monkeypatch.setattr(indexing, "relevant_closure", closure_must_not_run)
    assert lint_paths([str(tmp_path)], config, jobs=1).findings == []
    monkeypatch.setattr(indexing, "relevant_closure", real_closure)
    (tmp_path / "summary.py").write_text(
        "from clients import client\n\n\ndef summarise(text):\n"
        "    return client.chat.completions.create(model=\"gpt-4o-mini\", messages=[{\"role\": \"user\", \"content\": text}])\n",
        encoding="utf-8",
    )
    report = lint_paths([str(tmp_path)], config, jobs=1)
    assert ("LLM101", "summary.py", 5) in {(f.rule_id, Path(f.location.path).name, f.location.line) for f in report.findings}
