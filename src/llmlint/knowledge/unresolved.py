"""Call sites that look like model calls but that resolution could not tie to an SDK (`llmlint inventory --unresolved`).

A call looks like a model call when its callee ends with a method path of the SDK table (`chat.completions.create`,
`messages.create`, `models.generate_content`, ...), or with one of the table's one-word methods (`invoke`, `chat`,
`query`, `run`, ...) on a receiver named like a model, chain, agent or engine (`llm`, `qa_chain`, `query_engine`).
It is *unresolved* when the linker answers "don't know" for its callee; a callee that resolves to something else (a
project function, a project class's method, another library) is not a model call and is not listed. For each one the
listing names the innermost part of the callee that did not resolve and why: this is how much of a project the rules
could see, and where resolution should learn next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.knowledge.modelcalls import load_table
from llmlint.link.values import Ctx

MODEL_LIKE_RECEIVER = re.compile(r"(?i)(llm|chain|agent|model|engine|bot|assistant|gpt|claude|gemini|chat|client|graph|runnable)")


@dataclass(frozen=True)
class Unresolved:
    path: str  # the module's path (shown through Analysis.display)
    line: int
    col: int
    callee: str  # the callee as written, `self.llm.invoke`
    stopped_at: str  # the innermost part that did not resolve, `self.llm`
    reason: str


def _method_paths() -> tuple[frozenset, frozenset]:
    """(method paths of two or more parts, one-word methods) of the SDK table."""
    long, short = set(), set()
    for family in load_table()[0]:
        if family.is_http:
            continue  # `client.post(...)` is a model call only by what it posts, which an unresolved call does not show
        for method in family.methods:
            parts = [p.removesuffix("()") for p in method.split(".")]
            (long if len(parts) > 1 else short).add(".".join(parts))
    return frozenset(long), frozenset(short - {"__call__"})


def looks_like_model_call(callee: str) -> bool:
    long, short = _method_paths()
    parts = callee.split(".")
    if len(parts) < 2:
        return False
    for size in range(len(parts) - 1, 1, -1):
        if ".".join(parts[-size:]) in long:
            return True
    return parts[-1] in short and MODEL_LIKE_RECEIVER.search(parts[-2]) is not None


def unresolved_calls(analysis) -> list[Unresolved]:
    project = analysis.project
    matched = {(call.module.path, call.call.line, call.call.col) for call in analysis.model_calls}
    found = []
    for idx, fn in project.functions():
        ctx = Ctx(idx.path, fn.qualname)
        for site in fn.calls:
            call = site.call
            callee = E.dotted(call.func)
            if callee is None or (idx.path, call.line, call.col) in matched or not looks_like_model_call(callee):
                continue
            if project.resolve(call.func, ctx, call.line) is not None:
                continue  # a project function or method, or another library's: not a model call
            stopped_at, reason = _stop_point(project, fn, call.func, ctx, call.line)
            found.append(Unresolved(idx.path, call.line, call.col, callee, stopped_at, reason))
    found.sort(key=lambda u: (u.path, u.line, u.col))
    return found


def _stop_point(project, fn, func, ctx: Ctx, line: int) -> tuple[str, str]:
    """The innermost prefix of the callee `a.b.c.m` that does not resolve, and why."""
    chain = []
    expr = func.base if isinstance(func, E.Attr) else func
    while isinstance(expr, E.Attr):
        chain.append(expr)
        expr = expr.base
    chain.append(expr)
    for part in reversed(chain):  # from the innermost name outwards
        if project.resolve(part, ctx, line) is None:
            return E.dotted(part) or "?", _why(project, fn, part, ctx)
    method = func.attr if isinstance(func, E.Attr) else "?"
    return E.dotted(func.base) if isinstance(func, E.Attr) else "?", f"an object whose `{method}` is not in the SDK table"


def _why(project, fn, part, ctx: Ctx) -> str:
    if isinstance(part, E.Name):
        if part.id in fn.params and fn.qualname != MODULE_SCOPE:
            note = f" annotated `{fn.annotations[part.id]}`" if part.id in fn.annotations else " without an annotation"
            return f"a parameter of `{fn.qualname}()`{note}: its value comes from the callers"
        if any(a.target == part.id for a in fn.assigns) or any(
            a.target == part.id for a in project.indexes[ctx.path].functions[MODULE_SCOPE].assigns
        ):
            return "assigned from something that does not resolve"
        return "a name not defined or imported in this module"
    if isinstance(part, E.Attr):
        if E.dotted(part.base) in ("self", "cls"):
            return f"attribute `{part.attr}` is never assigned a known value in the class or its bases"
        return f"attribute `{part.attr}` of a value that resolves, but not to something with that attribute"
    if isinstance(part, E.Call):
        return "the result of a call that does not resolve"
    if isinstance(part, E.Subscript):
        return "an item of a container"
    return "an expression the linker does not follow"
