"""Model-output flow (llmlint.knowledge.modeloutput): which model call's output reaches an expression, and what stops it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from llmlint.api import build_analysis
from llmlint.engine.config import Config
from llmlint.knowledge.modeloutput import JSON_MODE, PARSED, TOOL, model_output
from llmlint.link.values import Ctx


def analyse(tmp_path: Path, files: dict[str, str]):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'example'\n", encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    analysis, problems, _ = build_analysis([str(tmp_path)], Config(root=str(tmp_path)), use_cache=False)
    assert not problems
    return analysis


def first_arg_of(analysis, filename: str, function: str, callee: str):
    """(argument 0 of the call of `callee` in `function`, its Ctx, the statement line)."""
    for idx, fn in analysis.project.functions():
        if idx.path.endswith(filename) and fn.name == function:
            for site in fn.calls:
                if getattr(site.call.func, "id", getattr(site.call.func, "attr", None)) == callee:
                    return site.call.args[0], Ctx(idx.path, fn.qualname), site.stmt_line
    raise AssertionError(f"no call of {callee} in {function}")


def flows_at(analysis, filename, function, callee):
    expr, ctx, line = first_arg_of(analysis, filename, function, callee)
    return analysis.output_flow.flows(expr, ctx, line)


LLM = """\
from openai import OpenAI

client = OpenAI(timeout=30)


def ask(question: str) -> str:
    response = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    return response.choices[0].message.content
"""


def test_a_helper_returning_model_text_makes_its_callers_results_model_text(tmp_path):
    analysis = analyse(tmp_path, {"llm.py": LLM, "tools.py": """\
        from llm import ask


        def calc(q):
            expression = ask(q).strip()
            return eval(f"({expression})")


        def constant():
            return eval("1 + 1")
        """})
    expr, ctx, line = first_arg_of(analysis, "tools.py", "calc", "eval")
    source = model_output(analysis, expr, ctx, line)
    assert source is not None and source.module.path.endswith("llm.py") and source.api == "openai.chat.completions.create"
    assert not flows_at(analysis, "tools.py", "constant", "eval")


def test_metadata_validation_and_allow_lists_stop_the_flow(tmp_path):
    analysis = analyse(tmp_path, {"llm.py": LLM, "app.py": """\
        from pydantic import BaseModel

        from llm import ask, client

        ALLOWED = {"uptime", "df -h"}


        class Plan(BaseModel):
            command: str


        def usage(q):
            response = client.chat.completions.create(model="gpt-4o-mini", messages=[])
            return print(response.usage.total_tokens)


        def checked(q):
            command = ask(q)
            if command not in ALLOWED:
                raise ValueError(command)
            return print(command)


        def validated(q):
            plan = Plan.model_validate_json(ask(q))
            return print(plan.command)


        def label(q):
            answer = ask(q).lower()
            return print(answer if answer in ALLOWED else "uptime")
        """})
    for function in ("usage", "checked", "validated", "label"):
        assert not flows_at(analysis, "app.py", function, "print"), function


def test_tags_record_parsing_tool_arguments_and_json_mode(tmp_path):
    analysis = analyse(tmp_path, {"app.py": """\
        import json

        from openai import OpenAI

        client = OpenAI(timeout=30)


        def parsed(q):
            response = client.chat.completions.create(model="m", messages=[], response_format={"type": "json_object"})
            data = json.loads(response.choices[0].message.content)
            return print(data["answer"])


        def tool(q):
            response = client.chat.completions.create(model="m", messages=[], tools=[])
            return print(response.choices[0].message.tool_calls[0].function.arguments)
        """})
    (flow,) = flows_at(analysis, "app.py", "parsed", "print")
    assert {PARSED, JSON_MODE} <= flow.tags
    (flow,) = flows_at(analysis, "app.py", "tool", "print")
    assert TOOL in flow.tags


def test_a_parameter_is_followed_back_to_the_callers_arguments(tmp_path):
    analysis = analyse(tmp_path, {"llm.py": LLM, "db.py": """\
        import sqlite3

        conn = sqlite3.connect("x.db")


        def run(sql, params=()):
            return conn.execute(sql, params)
        """, "app.py": """\
        from db import run
        from llm import ask


        def answer(q):
            return run(ask(q))


        def fixed(q):
            return run("SELECT 1 WHERE x = ?", (ask(q),))
        """})
    flows = flows_at(analysis, "db.py", "run", "execute")
    assert len(flows) == 1
    assert not analysis.output_flow.flows(*first_arg_of(analysis, "db.py", "run", "execute")[:2], callers=False)
