"""The engine parts behind LLM103/LLM106/LLM108: which excepts stop provider errors, how errors escape up the call
graph to an entry point, which projects are instrumented, which functions run on the event loop."""

from __future__ import annotations

import textwrap

import pytest

from llmlint.api import build_analysis
from llmlint.engine.config import Config
from llmlint.link.values import Ctx

SERVICE = """
    import openai
    from fastapi import HTTPException
    from openai import OpenAI, RateLimitError

    client = OpenAI(timeout=30)
    RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError)


    class QuotaExceeded(Exception):
        pass


    def complete(prompt):
        return client.chat.completions.create(model="gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": prompt}])


    def summarize(text):
        return complete(f"Summarize: {text}")
"""
ROUTES = """
    import asyncio

    from fastapi import FastAPI

    from shop.service import complete, summarize

    app = FastAPI()


    @app.post("/summary")
    async def summary(text: str):
        return {"summary": summarize(text)}


    @app.post("/safe")
    async def safe(text: str):
        try:
            return {"summary": await asyncio.to_thread(complete, text)}
        except Exception:
            return {"summary": None}
"""


@pytest.fixture
def analysis(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n", encoding="utf-8")
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "service.py").write_text(textwrap.dedent(SERVICE), encoding="utf-8")
    (package / "routes.py").write_text(textwrap.dedent(ROUTES), encoding="utf-8")
    result, problems, _ = build_analysis([str(tmp_path)], Config(root=str(tmp_path)), jobs=1, use_cache=False)
    assert not problems
    return result


def _node(analysis, module_suffix, qualname):
    path = next(p for p in analysis.project.indexes if p.endswith(module_suffix))
    return path, qualname


@pytest.mark.parametrize(
    "caught, stops",
    [
        ((), True),
        (("Exception",), True),
        (("BaseException",), True),
        (("TimeoutError",), True),
        (("openai.APIError",), True),
        (("RateLimitError",), True),  # narrow: partial handling, not reported either way
        (("RETRYABLE",), True),
        (("ValueError", "KeyError"), False),
        (("HTTPException",), False),
        (("QuotaExceeded",), False),
    ],
)
def test_which_excepts_stop_provider_errors(analysis, caught, stops):
    path, _ = _node(analysis, "service.py", "complete")
    assert analysis.handling.catches_provider_errors(caught, Ctx(path, "complete")) is stops


def test_error_escapes_through_callers_to_the_route(analysis):
    chain = analysis.handling.escape_path(_node(analysis, "service.py", "complete"))
    assert [q for _, q in chain] == ["complete", "summarize", "summary"]


def test_to_thread_inside_a_try_is_covered(analysis):
    handling = analysis.handling
    caller = _node(analysis, "routes.py", "safe")
    fn = analysis.project.indexes[caller[0]].functions["safe"]
    handoff = next(s for s in fn.calls if getattr(s.call.func, "attr", "") == "to_thread")
    assert handling.is_covered(caller[0], fn, handoff)
    assert not handling._propagates(caller, _node(analysis, "service.py", "complete"), handoff)


def test_project_without_instrumentation_and_unobserved_calls(analysis):
    path, _ = _node(analysis, "service.py", "complete")
    assert not analysis.observability.is_instrumented(path)
    assert not analysis.observability.is_observed(path, "complete")


def test_sync_helpers_called_from_async_run_on_the_event_loop(analysis):
    on_loop = analysis.event_loop
    assert on_loop[_node(analysis, "service.py", "complete")][0] == _node(analysis, "routes.py", "summary")
    assert _node(analysis, "service.py", "summarize") in on_loop


def test_llm103_says_when_a_try_lets_the_error_out(tmp_path):
    """A start-up self-test inside `try: ... except: log; raise` is reported as a try that lets the error out, not as
    a call outside any try/except."""
    from llmlint.api import lint_paths

    (tmp_path / "selftest.py").write_text(textwrap.dedent('''
        import logging

        from openai import OpenAI

        log = logging.getLogger(__name__)
        client = OpenAI(timeout=20)
        try:
            client.chat.completions.create(model="gpt-4o-mini", max_tokens=5, messages=[{"role": "user", "content": "ping"}])
        except Exception:
            log.error("model self-test failed")
            raise
        client.chat.completions.create(model="gpt-4o-mini", max_tokens=5, messages=[{"role": "user", "content": "pong"}])
    '''), encoding="utf-8")
    report = lint_paths([str(tmp_path)], Config(root=str(tmp_path), select=("LLM103",)), jobs=1, use_cache=False)
    messages = {f.location.line: f.message for f in report.findings}
    assert sorted(messages) == [9, 13]
    assert "in a try/except that lets its error out" in messages[9]
    assert "is not in a try/except" in messages[13]
