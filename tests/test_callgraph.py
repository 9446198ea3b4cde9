"""The call graph's edges for dynamic dispatch: a call has an edge to every function it may run (link/callgraph.py,
link/alternatives.py), and the facts carried along the graph (errors escaping, the event loop) cross those edges."""

from __future__ import annotations

import textwrap

from llmlint.api import build_analysis
from llmlint.engine.config import Config
from llmlint.link.callgraph import MAX_TARGETS, calls

BACKENDS = """
    from anthropic import Anthropic
    from openai import OpenAI


    class Backend:
        def answer(self, prompt):
            raise NotImplementedError


    class ClaudeBackend(Backend):
        def __init__(self):
            self.client = Anthropic(timeout=30)

        def answer(self, prompt):
            return self.client.messages.create(model="claude-3-5-haiku-latest", max_tokens=100,
                                               messages=[{"role": "user", "content": prompt}]).content[0].text


    class OpenAIBackend(Backend):
        def __init__(self):
            self.client = OpenAI(timeout=30)

        def answer(self, prompt):
            return self.client.chat.completions.create(model="gpt-4o-mini", max_tokens=100,
                                                       messages=[{"role": "user", "content": prompt}]).choices[0].message.content
"""
CLAUDE, OPENAI, BASE = "ClaudeBackend.answer", "OpenAIBackend.answer", "Backend.answer"


def _analysis(tmp_path, code: str, backends: str = BACKENDS):
    (tmp_path / "backends.py").write_text(textwrap.dedent(backends), encoding="utf-8")
    (tmp_path / "app.py").write_text(textwrap.dedent(code), encoding="utf-8")
    analysis, problems, _ = build_analysis([str(tmp_path)], Config(root=str(tmp_path)), jobs=1, use_cache=False)
    assert not problems
    return analysis


def _callees(analysis, qualname: str, kind: str | None = None) -> set:
    """The qualnames app.py's function `qualname` has edges to (of `kind` only, when given)."""
    node = (str(next(p for p in analysis.project.indexes if p.endswith("app.py"))), qualname)
    graph = analysis.callgraph
    return {callee[1] for callee in graph.successors(node) if kind is None or graph.edges[node, callee]["kind"] == kind}


def test_both_arms_of_a_conditional_expression(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import ClaudeBackend, OpenAIBackend

        def ask(kind, prompt):
            backend = ClaudeBackend() if kind == "claude" else OpenAIBackend()
            return backend.answer(prompt)
    """)
    assert {CLAUDE, OPENAI} <= _callees(analysis, "ask")


def test_every_value_of_a_dict_of_instances_read_with_an_unknown_key_and_passed_to_an_executor(tmp_path):
    analysis = _analysis(tmp_path, """
        from concurrent.futures import ThreadPoolExecutor

        from backends import ClaudeBackend, OpenAIBackend

        pool = ThreadPoolExecutor()

        def ask(kind, prompt):
            models = {"CLAUDE": ClaudeBackend(), "OPENAI": OpenAIBackend()}
            model = models[kind]
            return pool.submit(model.answer, prompt).result()
    """)
    assert _callees(analysis, "ask", "callback") == {CLAUDE, OPENAI}


def test_a_factory_returning_a_class_from_a_registry(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import Backend, ClaudeBackend, OpenAIBackend

        REGISTRY = {"claude": ClaudeBackend, "openai": OpenAIBackend}

        def get_backend(name) -> Backend:
            return REGISTRY[name]()

        def ask(name, prompt):
            backend = get_backend(name)
            return backend.answer(prompt)
    """)
    assert {CLAUDE, OPENAI} <= _callees(analysis, "ask")


def test_assignments_in_if_elif_arms(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import ClaudeBackend, OpenAIBackend

        def ask(kind, prompt):
            if kind == "claude":
                backend = ClaudeBackend()
            elif kind == "openai":
                backend = OpenAIBackend()
            else:
                raise ValueError(kind)
            return backend.answer(prompt)
    """)
    assert {CLAUDE, OPENAI} <= _callees(analysis, "ask")


def test_an_if_without_else_keeps_the_binding_before_it_and_a_full_if_else_drops_it(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import ClaudeBackend, OpenAIBackend

        def maybe(kind, prompt):
            backend = OpenAIBackend()
            if kind == "claude":
                backend = ClaudeBackend()
            return backend.answer(prompt)

        def always(kind, prompt):
            backend = None
            if kind == "claude":
                backend = ClaudeBackend()
            else:
                backend = ClaudeBackend()
            return backend.answer(prompt)

        def overwritten(prompt):
            backend = OpenAIBackend()
            backend = ClaudeBackend()
            return backend.answer(prompt)
    """)
    assert {CLAUDE, OPENAI} <= _callees(analysis, "maybe")
    assert OPENAI not in _callees(analysis, "always")
    assert OPENAI not in _callees(analysis, "overwritten")


def test_an_attribute_set_to_different_backends(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import ClaudeBackend, OpenAIBackend

        class Assistant:
            def __init__(self, kind):
                self.backend = ClaudeBackend() if kind == "claude" else OpenAIBackend()

            def ask(self, prompt):
                return self.backend.answer(prompt)
    """)
    assert {CLAUDE, OPENAI} <= _callees(analysis, "Assistant.ask")


def test_a_method_of_an_annotated_base_class_dispatches_to_the_subclasses_overrides(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import Backend

        def ask(backend: Backend, prompt):
            return backend.answer(prompt)
    """)
    assert _callees(analysis, "ask") == {BASE, CLAUDE, OPENAI}


def test_a_factory_annotated_with_the_base_class_dispatches_to_every_subclass(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import Backend

        REGISTRY = {}

        def register(name):
            def decorator(cls):
                REGISTRY[name] = cls
                return cls
            return decorator

        def get_backend(name) -> Backend:
            return REGISTRY[name]()

        def ask(name, prompt):
            return get_backend(name).answer(prompt)
    """)
    assert _callees(analysis, "ask") == {"get_backend", BASE, CLAUDE, OPENAI}


def test_a_test_double_is_not_dispatched_to_from_the_application(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text(textwrap.dedent("""
        from app import ask
        from backends import Backend

        class FakeBackend(Backend):
            def answer(self, prompt):
                return "fake"

        def test_ask():
            assert ask(FakeBackend(), "hi") == "fake"
    """), encoding="utf-8")
    analysis = _analysis(tmp_path, """
        from backends import Backend, ClaudeBackend, OpenAIBackend

        def ask(backend: Backend, prompt):
            return backend.answer(prompt)

        def compare(prompt):
            return ask(ClaudeBackend(), prompt), ask(OpenAIBackend(), prompt)
    """)
    assert _callees(analysis, "ask") == {BASE, CLAUDE, OPENAI}


def test_a_single_valued_receiver_keeps_its_one_edge(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import Backend, ClaudeBackend

        def ask(prompt):
            return ClaudeBackend().answer(prompt)

        def base(prompt):
            return Backend.answer(ClaudeBackend(), prompt)
    """)
    assert _callees(analysis, "ask") == {"ClaudeBackend.__init__", CLAUDE}
    assert _callees(analysis, "base") == {"ClaudeBackend.__init__", BASE}  # called on the class: no dispatch


def test_a_site_that_may_dispatch_to_more_than_max_targets_keeps_its_resolved_callee(tmp_path):
    many = "\n".join(f"class Backend{i}(Backend):\n    def answer(self, prompt):\n        return complete(prompt)\n"
                     for i in range(MAX_TARGETS))
    analysis = _analysis(tmp_path, """
        from backends import Backend

        def ask(backend: Backend, prompt):
            return backend.answer(prompt)
    """, textwrap.dedent(BACKENDS) + "\n\ndef complete(prompt):\n    return OpenAIBackend().answer(prompt)\n\n\n" + many)
    assert _callees(analysis, "ask") == {BASE}  # (Backend, ClaudeBackend, OpenAIBackend and 16 more)


def test_dispatched_edges_are_calls_and_passed_methods_are_not(tmp_path):
    analysis = _analysis(tmp_path, """
        from concurrent.futures import ThreadPoolExecutor

        from backends import ClaudeBackend, OpenAIBackend

        def ask(kind, prompt):
            backend = ClaudeBackend() if kind == "claude" else OpenAIBackend()
            backend.answer(prompt)
            ThreadPoolExecutor().submit(backend.answer, prompt)
    """)
    graph = analysis.callgraph
    caller = next(node for node in graph.nodes if node[1] == "ask")
    for callee in (node for node in graph.successors(caller) if node[1] in (CLAUDE, OPENAI)):
        by_line = {site.call.line: calls(graph, caller, callee, site) for site in graph.edges[caller, callee]["sites"]}
        assert by_line == {8: True, 9: False}


def test_an_async_def_runs_the_dispatched_sync_method_on_its_event_loop(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import ClaudeBackend, OpenAIBackend

        async def ask(kind, prompt):
            backend = ClaudeBackend() if kind == "claude" else OpenAIBackend()
            return backend.answer(prompt)
    """)
    on_loop = {node[1] for node in analysis.event_loop}
    assert {CLAUDE, OPENAI} <= on_loop


def test_an_error_escapes_through_a_dispatched_call_unless_the_caller_catches_it(tmp_path):
    analysis = _analysis(tmp_path, """
        from backends import ClaudeBackend, OpenAIBackend

        def ask(kind, prompt):
            backend = ClaudeBackend() if kind == "claude" else OpenAIBackend()
            return backend.answer(prompt)

        def safe_ask(kind, prompt):
            backend = ClaudeBackend() if kind == "claude" else OpenAIBackend()
            try:
                return backend.answer(prompt)
            except Exception:
                return ""

        if __name__ == "__main__":
            print(ask("openai", "hi"), safe_ask("openai", "hi"))
    """)
    handling = analysis.handling
    openai = next(node for node in analysis.callgraph.nodes if node[1] == OPENAI)
    assert [node[1] for node in handling.escape_path(openai)][:2] == [OPENAI, "ask"]
