"""Does a value end up, whole, in the prompt of a model call?

A query of the value-flow core (`flow/`). `PromptFlow(analysis).sink(path, fn, start)` asks, of each call of `fn`
that is a model call or reaches one, whether its prompt arguments hold the value of the call `start` (a file read,
a join of documents) as `PromptText` lets it pass: through names, f-strings, `+`, `.format`, lists and dicts,
comprehensions, `+=` and `.append`, and the project's functions (their summaries). It follows the value into a
project function that reaches a model call (as its parameters), or out through `return` into the callers (two
levels). A slice (`text[:4000]`), one element (`pages[0]`), a call whose name says it bounds (`truncate`,
`fit_to_budget`, `count_tokens`...), a condition that measures the value (`if len(text) > LIMIT`), or an external
call that does not keep text (`json.loads`, `len`) stops it. `is_dynamic` (query `ProgramInput`) tells whether a
value depends on what the function is given.
"""

from __future__ import annotations

import re

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.flow.calls import calls_into, parameters_for
from llmlint.flow.core import Flow, Query, ValueFlow
from llmlint.link.values import Ctx, Ext, Func, Inst, Klass, Obj

BOUNDING = re.compile(r"(?i)truncat|trim|shorten|clip|budget|limit|fit|token|crop|summar|compress|rerank|select|top_?n|head|tail|sample|chunk|split|cap_")
MEASURING = re.compile(r"(?i)^len$|token|count|size")
# external functions and methods that keep the text they are given
TEXT_FUNCTIONS = {"str", "dict", "list", "tuple", "sorted", "reversed", "textwrap.dedent", "textwrap.indent", "inspect.cleandoc"}
TEXT_METHODS = {
    "format", "format_map", "join", "strip", "lstrip", "rstrip", "replace", "decode", "encode", "lower", "upper",
    "format_messages", "format_prompt", "substitute", "safe_substitute", "render", "invoke", "partial", "copy",
}
TEXT_CLASSES = {"HumanMessage", "SystemMessage", "AIMessage", "ChatMessage", "Document", "ChatPromptTemplate", "PromptTemplate", "Template"}
# keyword arguments of a model call that are settings, not prompt
SETTINGS = {
    "model", "model_name", "temperature", "top_p", "top_k", "max_tokens", "max_completion_tokens", "max_output_tokens",
    "timeout", "stream", "response_format", "tools", "tool_choice", "functions", "function_call", "n", "stop", "seed",
    "user", "metadata", "extra_headers", "extra_body", "api_key", "base_url", "config", "callbacks", "generation_config",
    "safety_settings", "num_retries", "stream_options", "logprobs", "presence_penalty", "frequency_penalty",
}


class PromptText(Query):
    """The value-flow query for text going into a prompt: the source is one call (`start`), and the text passes on
    whole through f-strings, `+`, text methods and templates, keys, and the project's functions (their summaries);
    a slice, one element, a bounding call or any other external call stops it. `loose`: anything built from the
    value carries it (bounded or not)."""

    caller_depth = 0

    def __init__(self, start: tuple, loose: bool):
        self.start = start  # (path, line, col) of the call whose value is followed
        self.loose = loose

    def source(self, walk, expr, ctx):
        if isinstance(expr, E.Call) and (ctx.path, expr.line, expr.col) == self.start:
            return frozenset({Flow(self.start)})
        return None

    def through_field(self, flows, key, subscript, index=None):
        if subscript and not self.loose and (isinstance(index, E.Slice) or isinstance(index, E.Const) and isinstance(index.value, int)):
            return set()  # a key (`result["text"]`) keeps the whole; a slice or one element (`pages[0]`) does not
        return set(flows)

    def through_call(self, walk, call, ctx, line, depth):
        base = [call.func.base] if isinstance(call.func, E.Attr) else []
        args = list(call.args) + [v for _, v in call.kwargs]
        if self.loose:
            return walk.union(base + args, ctx, line, depth)
        name = E.dotted(call.func) or ""
        last = call.func.attr if isinstance(call.func, E.Attr) else name
        if BOUNDING.search(last):
            return set()
        if base and last in TEXT_METHODS:
            return walk.union(base + args, ctx, line, depth)
        value = walk.project.resolve(call.func, ctx, call.line)
        if isinstance(value, Func):
            return walk.apply(call, value, ctx, line, depth)
        if isinstance(value, Klass) or name in TEXT_FUNCTIONS or last in TEXT_CLASSES:
            return walk.union(args, ctx, line, depth)
        if isinstance(value, Ext) and value.name.rsplit(".", 1)[-1] in TEXT_CLASSES:
            return walk.union(args, ctx, line, depth)
        if isinstance(value, (Obj, Inst)) and base and last not in ("json", "model_dump", "dict"):
            return walk.union(base + args, ctx, line, depth)  # a method of an object built from the text (a template)
        return set()


class PromptFlow:
    def __init__(self, analysis):
        self.analysis = analysis
        self.project = analysis.project

    def sink(self, path: str, fn, start: E.Call, depth: int = 0, loose: bool = False):
        """The model call (a ModelCall, or the CallSite of a project function that reaches one) whose prompt the
        value of `start` reaches unbounded, or None. `loose`: reaches at all, bounded or not (through any call)."""
        walk = ValueFlow(self.analysis, PromptText((path, start.line, start.col), loose), self.analysis.flow_tables)
        found = self._sink(walk, path, fn, (), depth)
        ctx = Ctx(path, fn.qualname)
        if found is not None or depth >= 2 or not any(_carries(walk, value, ctx, fn.span.end_line + 1, ()) for value in fn.returns):
            return found
        for caller, site in calls_into(self.analysis, (path, fn.qualname)):  # returned: follow the callers
            found = self.sink(caller[0], self.project.function(Ctx(*caller)), site.call, depth + 1, loose)
            if found is not None:
                return found
        return None

    def _sink(self, walk, path: str, fn, params: tuple, depth: int):
        """The first call of `fn` that takes the value (the source, or the parameters `params`) into a prompt."""
        ctx = Ctx(path, fn.qualname)
        if not walk.query.loose and _measured(walk, fn, ctx, params):
            return None
        for site in fn.calls:
            key = (path, site.call.line, site.call.col)
            if key == walk.query.start:
                continue
            model_call = self.analysis.model_call_at.get(key)
            reached = model_call or self.analysis.model_reaching_sites.get(key)
            if reached is None:
                continue
            carrying = [k for k, arg in _arguments(site.call) if _carries(walk, arg, ctx, site.call.line, params)]
            if not carrying:
                continue
            if model_call is not None:
                return model_call
            callee = self.project.resolve(site.call.func, ctx, site.call.line)
            callee_fn = self.project.function(callee) if isinstance(callee, Func) and depth < 3 else None
            names = parameters_for(callee_fn, site.call, carrying) if callee_fn is not None else None
            if names is None:
                return site  # a helper we cannot follow the argument into: it reaches a model with it
            if self._sink(walk, callee.path, callee_fn, names, depth + 1) is not None:
                return site
        return None


def _carries(walk, expr, ctx: Ctx, line: int, params: tuple) -> bool:
    """`expr` holds the followed value: the source's, or one of the parameters `params` of the function `ctx`."""
    if expr is None:
        return False
    start = walk.query.start
    return any(f.origin == start or f.is_param and f.origin[1] in params for f in walk.taint(expr, ctx, line, 0))


def _measured(walk, fn, ctx: Ctx, params: tuple) -> bool:
    """A condition of the function measures a name that holds the value (`if len(text) > MAX_CHARS:`)."""
    for test in fn.tests:
        for node in E.walk(test):
            if isinstance(node, E.Call) and MEASURING.search(E.dotted(node.func) or ""):
                if any(_carries(walk, arg, ctx, fn.span.end_line + 1, params) for arg in node.args):
                    return True
    return False


def _arguments(call: E.Call):
    """(position or keyword, expression) of the arguments that can carry prompt text."""
    yield from enumerate(call.args)
    yield from ((k, v) for k, v in call.kwargs if k not in SETTINGS)


class ProgramInput(Query):
    """The value-flow query for what a function is given: its parameters, `input()`, `sys.argv` and loop variables
    (a file name from a folder listing), through anything built from them."""

    caller_depth = 0

    def source(self, walk, expr, ctx):
        if isinstance(expr, E.Call) and E.dotted(expr.func) == "input" or isinstance(expr, E.Attr) and E.dotted(expr) == "sys.argv":
            return frozenset({Flow(("input",))})
        if isinstance(expr, E.Unknown) and expr.kind == "for":
            return frozenset({Flow(("input",))})
        return None

    def through_call(self, walk, call, ctx, line, depth):
        base = [call.func.base] if isinstance(call.func, E.Attr) else []
        return walk.union(base + list(call.args) + [v for _, v in call.kwargs], ctx, line, depth)


def is_dynamic(analysis, ctx: Ctx, expr, line: int) -> bool:
    """`expr` (used at `line` of the function `ctx`) depends on the function's input: a parameter (not `self`),
    `sys.argv`, `input()`, a loop variable."""
    walk = ValueFlow(analysis, ProgramInput(), analysis.flow_tables)
    return any(f.origin == ("input",) or f.is_param and f.origin[1] not in ("self", "cls") for f in walk.taint(expr, ctx, line, 0))
