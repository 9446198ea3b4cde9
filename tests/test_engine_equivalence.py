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
