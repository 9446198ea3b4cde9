"""The resolver's answers do not depend on the order of the questions asked (tabling.py): a value worked out while the
resolver met itself is kept only once the question that started the cycle is done, and a value cut short by the depth
bound is not kept for a question asked with more budget. Fixture: fixtures/inventory/shared_client.py, a writer that
hands its own client to an editor it creates (`Writer(client, ...)` in a method that reads `self.client`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlint.api import build_analysis
from llmlint.engine.config import Config
from llmlint.link.project import MAX_DEPTH
from llmlint.link.tabling import Table
from llmlint.link.values import Ctx, Obj

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "inventory" / "shared_client.py"
DRAFT, REVIEW = 12, 20  # the lines of the two model calls: `self.client.chat...` in draft, `client.chat...` in review


def linked_project():
    analysis, problems, _ = build_analysis([str(FIXTURE)], Config(root=str(FIXTURE.parent)), use_cache=False)
    assert not problems
    return analysis.project


def model_call(project, line: int):
    """(the callee expression, its Ctx) of the call that starts on `line`."""
    for idx, fn in project.functions():
        for site in fn.calls:
            if site.call.line == line and site.call.func.__class__.__name__ == "Attr" and site.call.func.attr == "create":
                return site.call.func, Ctx(idx.path, fn.qualname)
    raise AssertionError(f"no model call on line {line}")


def callee_in_order(order: tuple[int, ...]) -> dict[int, object]:
    project = linked_project()
    answers = {}
    for line in order:
        func, ctx = model_call(project, line)
        answers[line] = project.resolve(func, ctx, line)
    return answers


@pytest.mark.parametrize("order", [(DRAFT, REVIEW), (REVIEW, DRAFT)], ids=["draft-first", "review-first"])
def test_both_calls_resolve_to_the_openai_client_whichever_is_asked_first(order):
    answers = callee_in_order(order)
    for line in (DRAFT, REVIEW):
        assert isinstance(answers[line], Obj), (line, answers[line])
        assert answers[line].cls == "openai.OpenAI"


def test_the_answers_are_the_same_in_either_order():
    assert callee_in_order((DRAFT, REVIEW)) == callee_in_order((REVIEW, DRAFT))


def test_an_answer_cut_short_by_the_depth_bound_is_not_kept_for_a_shallower_question():
    project = linked_project()
    func, ctx = model_call(project, REVIEW)
    assert project.resolve(func, ctx, REVIEW, depth=MAX_DEPTH - 1) is None  # too deep to follow the client
    found = project.resolve(func, ctx, REVIEW)
    assert isinstance(found, Obj) and found.cls == "openai.OpenAI"


# the table itself (tabling.py), on questions that ask each other

def asker(table: Table, rules: dict):
    def ask(question):
        return table.ask(question, 0, rules[question])
    return ask


@pytest.mark.parametrize("first", ["primary", "backup"])
def test_questions_that_ask_each_other_get_the_same_answers_in_either_order(first):
    table = Table()
    ask = asker(table, {
        "primary": lambda: ask("backup") or "client built here",  # `self.client = client or OpenAI()`
        "backup": lambda: ask("primary"),  # `Writer(self.client)`: what the class was given is its own client
    })
    ask(first)
    assert (ask("primary"), ask("backup")) == ("client built here", "client built here")
    assert table.done == {"primary": "client built here", "backup": "client built here"}


def test_a_value_that_grows_each_round_keeps_its_first_answer():
    table = Table()
    ask = asker(table, {"llm": lambda: (ask("llm") or ()) + ("bind",)})  # `llm = llm.bind(...)` read at its own line
    assert ask("llm") == ("bind",)
    assert ask("llm") == ("bind",)


def test_a_question_that_fails_leaves_nothing_provisional_behind():
    table = Table()
    calls = []

    def flaky():
        calls.append(1)
        ask("outer")  # a cycle, then a failure
        if len(calls) == 1:
            raise RecursionError
        return "answer"

    ask = asker(table, {"outer": lambda: ask("inner"), "inner": flaky})
    with pytest.raises(RecursionError):
        ask("outer")
    assert ask("outer") == "answer" and table.done["inner"] == "answer"
