"""Speed features never change results: the pre-filter, the cache and the process pool give the same findings."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import time
from pathlib import Path

import pytest

from llmlint.api import lint_paths
from llmlint.engine import indexfiles as indexing
from llmlint.engine import prefilter
from llmlint.engine.config import Config
from llmlint.engine.discovery import SourceFile

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


def test_what_the_pool_caches_serves_a_later_run(tmp_path, monkeypatch):
    """Workers hand back pickled outcomes that go into the cache as they are: a run that must link again reads
    them back, and finds the same."""
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    expected = findings_of(lint_paths([str(root)], Config(root=str(root)), jobs=1, use_cache=False))
    monkeypatch.setattr(indexing, "IN_PROCESS_LIMIT", 0)
    pooled = lint_paths([str(root)], Config(root=str(root)), jobs=2, use_cache=True)
    records = list((root / ".llmlint_cache").rglob("run-*"))
    assert records
    for record in records:
        record.unlink()  # so that the next run links the cached indexes again
    monkeypatch.setattr(indexing, "parse_and_index", lambda *args: (_ for _ in ()).throw(AssertionError("parsed again")))
    relinked = lint_paths([str(root)], Config(root=str(root)), jobs=2, use_cache=True)
    assert len(expected) > 50
    assert findings_of(pooled) == findings_of(relinked) == expected


DIGEST = """\
import sys
from llmlint.engine.indexfiles import _index_one
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

    real_closure = prefilter.relevant_closure
    monkeypatch.setattr(prefilter, "relevant_closure", closure_must_not_run)
    assert lint_paths([str(tmp_path)], config, jobs=1).findings == []
    monkeypatch.setattr(prefilter, "relevant_closure", real_closure)
    (tmp_path / "summary.py").write_text(
        "from clients import client\n\n\ndef summarise(text):\n"
        "    return client.chat.completions.create(model=\"gpt-4o-mini\", messages=[{\"role\": \"user\", \"content\": text}])\n",
        encoding="utf-8",
    )
    report = lint_paths([str(tmp_path)], config, jobs=1)
    assert ("LLM101", "summary.py", 5) in {(f.rule_id, Path(f.location.path).name, f.location.line) for f in report.findings}


def comment_variants(data: bytes):
    yield data + b"\n# touched\n"
    yield data.replace(b"\n", b"  # note\n", 1) if data.startswith(b"import") else data + b"\n\n\n"
    yield re.sub(rb"(?m)^([ \t]*)# [^\n\r]*", rb"\1# reworded", data)


def test_a_comment_change_reuses_the_index_as_a_full_reindex_would_build_it():
    """When only comments (or blank lines at the end) change, the earlier index is reused with the new comments:
    on every fixture file it equals the index built from scratch, and any change to code is seen as one."""
    reused = 0
    for path in sorted(FIXTURES.rglob("*.py")):
        data = path.read_bytes()
        job = (str(path), str(path), "pkg.mod", False, data)
        before = indexing._index_one(job)
        if before[0] is None:
            continue
        cache = MemoryCache({"old": before})
        facts = {"old": before[1:]}
        source = SourceFile(str(path), str(path), "pkg.mod", False, str(FIXTURES))
        for changed in comment_variants(data):
            if changed == data:
                continue
            rebuilt = indexing._index_one((*job[:4], changed))
            quick = indexing.reindex_comments(indexing.FileState(source, key="new", data=changed, previous="old"), facts, cache)
            if quick is None:  # a `#` inside a string changed, which is code; then the digests must differ
                assert rebuilt[2] != before[2] or rebuilt[0].comments != before[0].comments, path
                continue
            reused += 1
            assert quick[0] == rebuilt[0], path
            assert quick[2:] == rebuilt[2:] == before[2:], path
        code_change = data + b"\nADDED_AT_THE_END = 1\n"
        assert indexing.reindex_comments(indexing.FileState(source, key="new", data=code_change, previous="old"), facts, cache) is None
    assert reused > 300


class MemoryCache:
    def __init__(self, entries: dict):
        self.entries = {key: pickle.dumps(value) for key, value in entries.items()}

    def get(self, key):
        return pickle.loads(self.entries[key]) if key in self.entries else None


def test_a_new_suppression_comment_applies_without_parsing_again(tmp_path, monkeypatch):
    app = tmp_path / "app.py"
    app.write_text(
        "from openai import OpenAI\n\nclient = OpenAI()\n\n\ndef answer(question):\n"
        "    return client.chat.completions.create(model=\"gpt-4o-mini\", messages=[{\"role\": \"user\", \"content\": question}])\n",
        encoding="utf-8",
    )
    config = Config(root=str(tmp_path))
    first = lint_paths([str(tmp_path)], config, jobs=1)
    assert ("LLM101", 7) in {(f.rule_id, f.location.line) for f in first.findings}

    def must_not_parse(*args, **kwargs):
        raise AssertionError("a comment-only change was parsed again")

    monkeypatch.setattr(indexing, "parse_and_index", must_not_parse)
    text = app.read_text(encoding="utf-8").replace("question}])\n", "question}])  # llmlint: ignore[LLM101] timeout set by the gateway\n")
    app.write_text(text, encoding="utf-8")
    os.utime(app, ns=(time.time_ns() - 5_000_000_000,) * 2)  # out of the survey's one-second doubt window
    second = lint_paths([str(tmp_path)], config, jobs=1)
    assert ("LLM101", 7) not in {(f.rule_id, f.location.line) for f in second.findings}
    assert {(f.rule_id, f.location.line) for f in second.findings} == {(f.rule_id, f.location.line) for f in first.findings} - {("LLM101", 7)}


def _signed_table(path: Path) -> dict:
    from llmlint.engine.cache import MAGIC, TAG_BYTES

    return pickle.loads(path.read_bytes()[len(MAGIC) + TAG_BYTES:])


def test_an_edit_is_recorded_beside_the_manifest_until_there_are_many(tmp_path):
    """The survey's record of an edited file goes to a small table beside the manifest, so that one edit does not
    rewrite the record of every file (10,000 on a large project); later runs read both, and once the changes are
    many they are folded into the manifest. The findings are those of a run without the cache throughout."""
    root = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo-app", root)
    time.sleep(1.1)  # older than the racy-file second: the survey trusts what it recorded of the files not edited
    config = Config(root=str(root))

    def check() -> list:
        warm = findings_of(lint_paths([str(root)], config, jobs=1))
        assert warm == findings_of(lint_paths([str(root)], config, jobs=1, use_cache=False))
        return warm

    before = check()
    tables = next((root / ".llmlint_cache").glob("v*"))
    manifest = (tables / "manifest").read_bytes()
    llm = root / "app" / "llm.py"
    llm.write_text(llm.read_text(encoding="utf-8").replace("OpenAI(api_key=OPENAI_API_KEY)",
                                                           "OpenAI(api_key=OPENAI_API_KEY, timeout=20)"), encoding="utf-8")
    after = check()
    in_llm = [f for f in before if f[0] == "LLM101" and f[1].endswith("app/llm.py")]
    assert in_llm and not [f for f in after if f in in_llm]
    assert (tables / "manifest").read_bytes() == manifest  # not rewritten for one file
    changes = _signed_table(tables / "manifest-changes")
    assert {path for path in changes if path != "__saved__"} == {str(llm)}
    assert check() == after
    for name in ("rag.py", "summarize.py", "prompts.py"):
        (root / "app" / name).write_text((root / "app" / name).read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    assert check() == after
    assert (tables / "manifest").read_bytes() != manifest
    folded = _signed_table(tables / "manifest")
    assert {path for path in _signed_table(tables / "manifest-changes") if path != "__saved__"} == set()
    assert all(str(root / "app" / name) in folded for name in ("llm.py", "rag.py", "summarize.py", "prompts.py"))


def test_a_function_added_to_a_model_calling_module_keeps_the_closure_unless_a_file_calls_it_unbound(tmp_path, monkeypatch):
    """A marked module's top-level functions only serve to link files that call them without binding them (a
    registry injects them), so a function added that no file calls that way leaves the pre-filter's answer as it
    was and the closure is not worked out again; one that a file calls unbound brings that file in."""
    (tmp_path / "clients.py").write_text(
        "from openai import OpenAI\n\nclient = OpenAI()\n\n\ndef ask(question):\n"
        "    return client.chat.completions.create(model=\"gpt-4o-mini\", messages=[{\"role\": \"user\", \"content\": question}])\n",
        encoding="utf-8")
    (tmp_path / "planning.py").write_text(  # a registered tool: the registry puts gpt_call into its module
        "from toolbox import tool\n\n\n@tool(uses=[\"gpt_call\"])\ndef plan(goal):\n"
        "    return gpt_call(f\"Plan the steps for: {goal}\")\n", encoding="utf-8")
    config = Config(root=str(tmp_path))
    runs = []

    def counted(entries):
        runs.append(len(entries))
        return real_closure(entries)

    real_closure = prefilter.relevant_closure
    monkeypatch.setattr(prefilter, "relevant_closure", counted)

    def check():
        warm = findings_of(lint_paths([str(tmp_path)], config, jobs=1))
        assert warm == findings_of(lint_paths([str(tmp_path)], config, jobs=1, use_cache=False))
        return warm

    check()
    cached = len(runs)
    clients = tmp_path / "clients.py"
    clients.write_text(clients.read_text(encoding="utf-8") + "\n\ndef word_count(text):\n    return len(text.split())\n",
                       encoding="utf-8")
    check()
    assert len(runs) == cached + 1  # the run without the cache only
    clients.write_text(clients.read_text(encoding="utf-8") + "\n\ndef gpt_call(prompt):\n    return ask(prompt)\n",
                       encoding="utf-8")
    check()
    assert len(runs) == cached + 3  # worked out again: planning.py calls gpt_call without binding it
    tables = next((tmp_path / ".llmlint_cache").glob("v*"))
    assert str(tmp_path / "planning.py") in _signed_table(tables / "closure")["paths"]
