"""`llmlint inventory` finds every model call of the per-SDK fixtures, with its api and model (`# call:` markers)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmlint.cli import main

INVENTORY = Path(__file__).resolve().parent.parent / "fixtures" / "inventory"
MARKER = re.compile(r"#\s*call:\s*(\S+)\s+(\S+)")


def marked_calls(root: Path) -> set[tuple[str, int, str, str | None]]:
    calls = set()
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = MARKER.search(line)
            if match:
                model = None if match.group(2) == "None" else match.group(2)
                calls.add((path.relative_to(root).as_posix(), number, match.group(1), model))
    return calls


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    out = tmp_path_factory.mktemp("inventory") / "calls.json"
    result = CliRunner().invoke(main, ["inventory", str(INVENTORY), "--format", "json", "-o", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def found_calls(document) -> set[tuple[str, int, str, str | None]]:
    return {
        (Path(c["path"]).resolve().relative_to(INVENTORY).as_posix(), c["line"], c["api"], c["model"])
        for c in document["calls"]
    }


def test_inventory_document_shape(inventory):
    assert inventory["version"] == 1
    for call in inventory["calls"]:
        assert set(call) == {"path", "line", "end_line", "column", "provider", "api", "model", "settings"}
        assert not Path(call["path"]).is_absolute()


def test_inventory_finds_every_marked_call_and_nothing_else(inventory):
    expected = marked_calls(INVENTORY)
    found = found_calls(inventory)
    assert {(p, line) for p, line, _, _ in found} == {(p, line) for p, line, _, _ in expected}


def test_inventory_names_api_and_model(inventory):
    assert found_calls(inventory) == marked_calls(INVENTORY)


def test_inventory_reports_settings(inventory):
    by_place = {(Path(c["path"]).name, c["line"]): c for c in inventory["calls"]}
    timed = [c for c in by_place.values() if "timeout" in c["settings"]]
    assert timed, "some fixture calls set a timeout on the client or the call"
    assert all(isinstance(c["settings"]["timeout"], (int, float, str)) or c["settings"]["timeout"] is None for c in timed)


UNRESOLVED_APP = '''\
from openai import OpenAI

from .settings import make_client


class Agent:
    def run(self, task):
        return task


class Service:
    def __init__(self, chain_factory):
        self.chain = chain_factory()
        self.client = OpenAI(timeout=30)

    def answer(self, question):
        return self.chain.run(question)

    def title(self, text):
        return self.client.chat.completions.create(model="gpt-4o-mini", max_tokens=20, messages=[])


def reply(llm, question):
    return llm.invoke(question)


def summarize(text, db, worker):
    client = make()
    agent = Agent()
    agent.run(text)
    db.query("SELECT 1")
    worker.run()
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
'''


def test_unresolved_lists_model_like_calls_the_linker_could_not_resolve(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "service.py").write_text(UNRESOLVED_APP, encoding="utf-8")
    out = tmp_path / "inventory.json"
    result = CliRunner().invoke(main, ["inventory", str(tmp_path), "--unresolved", "--format", "json", "-o", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [(c["line"], c["api"]) for c in document["calls"]] == [(20, "openai.chat.completions.create")]
    listed = {(u["line"], u["callee"], u["stopped_at"]) for u in document["unresolved"]}
    assert listed == {
        (17, "self.chain.run", "self.chain"),
        (24, "llm.invoke", "llm"),
        (33, "client.chat.completions.create", "client"),
    }
    reasons = {u["callee"]: u["reason"] for u in document["unresolved"]}
    assert "parameter of `reply()`" in reasons["llm.invoke"]


REGISTRY_APP = '''
from openai import OpenAI

BACKENDS: dict[str, type] = {}


def backend(name):
    def register(cls):
        BACKENDS[name] = cls
        return cls
    return register


class ChatBackend:
    def chat(self, messages):
        raise NotImplementedError


@backend("openai")
class OpenAIBackend(ChatBackend):
    def __init__(self, cfg):
        self.client = OpenAI(timeout=20)

    def chat(self, messages):
        return self.client.chat.completions.create(model="gpt-4o-mini", max_tokens=100, messages=messages)


def make_backend(cfg: dict) -> ChatBackend:
    return BACKENDS[cfg["type"]](cfg)


def make_anything(cfg: dict):
    return BACKENDS[cfg["type"]](cfg)


def reply(text):
    llm = make_backend({"type": "openai"})
    return llm.chat([{"role": "user", "content": text}])


def reply_unannotated(text):
    llm = make_anything({"type": "openai"})
    return llm.chat([{"role": "user", "content": text}])
'''


def test_a_factory_whose_return_annotation_names_a_project_class_gives_an_instance_of_it(tmp_path):
    """`make_backend(cfg) -> ChatBackend` returns a registry's class: its `chat` is project code, not an unresolved
    candidate; the same factory with no annotation stays unresolved."""
    (tmp_path / "registry.py").write_text(REGISTRY_APP, encoding="utf-8")
    out = tmp_path / "inventory.json"
    result = CliRunner().invoke(main, ["inventory", str(tmp_path), "--unresolved", "--format", "json", "-o", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [(c["line"], c["api"]) for c in document["calls"]] == [(25, "openai.chat.completions.create")]
    assert [(u["line"], u["callee"]) for u in document["unresolved"]] == [(43, "llm.chat")]


def test_inventory_lists_unresolved_calls_only_when_asked(inventory):
    assert "unresolved" not in inventory
