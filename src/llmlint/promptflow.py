"""Does a value end up, whole, in the prompt of a model call?

`PromptFlow(analysis).sink(path, fn, start)` follows the value of the call `start` (a file read, a join of
documents) through the assignments of its function (names, f-strings, `+`, `.format`, lists and dicts,
comprehensions, `+=` and `.append`), into the prompt arguments of a model call there, into a project function
that reaches a model call, or out through `return` into the callers (two levels). A slice (`text[:4000]`), one
element (`pages[0]`), a call whose name says it bounds (`truncate`, `fit_to_budget`, `count_tokens`...), a condition that measures the
value (`if len(text) > LIMIT`), or an external call that does not keep text (`json.loads`, `len`) stops it.
"""

from __future__ import annotations

import re

from llmlint import exprs as E
from llmlint.index import MODULE_SCOPE
from llmlint.values import Ctx, Ext, Func, Inst, Klass, Obj

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


class PromptFlow:
    def __init__(self, analysis):
        self.analysis = analysis
        self.project = analysis.project

    def sink(self, path: str, fn, start: E.Call, depth: int = 0):
        """The model call (a ModelCall, or the CallSite of a project function that reaches one) whose prompt the
        value of `start` reaches unbounded, or None."""
        flow = _Flow(self, path, fn, start)
        if flow.measured():
            return None
        for site in fn.calls:
            if (site.call.line, site.call.col) == (start.line, start.col):
                continue
            key = (path, site.call.line, site.call.col)
            model_call = self.analysis.model_call_at.get(key)
            reached = model_call or self.analysis.model_reaching_sites.get(key)
            if reached is None:
                continue
            args = list(site.call.args) + [v for k, v in site.call.kwargs if k not in SETTINGS]
            if any(flow.carries(arg, site.call.line) for arg in args):
                return model_call or site
        if depth >= 2 or not any(value is not None and flow.carries(value, fn.span.end_line + 1) for value in fn.returns):
            return None
        node = (path, fn.qualname)
        graph = self.analysis.callgraph
        if node not in graph:
            return None
        for caller in graph.predecessors(node):
            data = graph.edges[caller, node]
            if data.get("kind") != "call" or caller == node:
                continue
            caller_fn = self.project.function(Ctx(caller[0], caller[1]))
            for site in data["sites"]:
                found = self.sink(caller[0], caller_fn, site.call, depth + 1) if caller_fn is not None else None
                if found is not None:
                    return found
        return None


class _Flow:
    """The names of one function that hold the value of `start`, line by line."""

    def __init__(self, owner: PromptFlow, path: str, fn, start: E.Call):
        self.owner = owner
        self.fn = fn
        self.ctx = Ctx(path, fn.qualname)
        self.start = (start.line, start.col)
        self._memo: dict = {}

    def carries(self, expr, line: int, depth: int = 0) -> bool:
        if depth > 12:
            return False
        for node in self._unbounded(expr):
            if isinstance(node, E.Call) and (node.line, node.col) == self.start:
                return True
            if isinstance(node, E.Name) and self._name_carries(node.id, line, depth):
                return True
        return False

    def _name_carries(self, name: str, line: int, depth: int) -> bool:
        key = (name, line)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = False
        found = any(self.carries(a.value, a.line, depth + 1) for a in self._definitions(name, line))
        self._memo[key] = found
        return found

    def _definitions(self, name: str, line: int) -> list:
        """The assignments of `name` that can reach `line`: the last plain one before it and the accumulations
        (`+=`, `.append`, `for`) after that."""
        before = [a for a in self.fn.assigns if a.target == name and a.line < line]
        plain = [a for a in before if a.op in ("=", "with")]
        last = max(plain, key=lambda a: a.line) if plain else None
        found = [last] if last is not None else []
        found += [a for a in before if a.op not in ("=", "with") and (last is None or a.line >= last.line)]
        return found

    def _unbounded(self, expr):
        """Sub-expressions of `expr` through which its text passes on whole."""
        stack = [expr]
        while stack:
            node = stack.pop()
            if node is None or isinstance(node, (str, int, float, bool, bytes)):
                continue
            yield node
            if isinstance(node, E.Subscript):
                index = node.index
                if not isinstance(index, E.Slice) and not (isinstance(index, E.Const) and isinstance(index.value, int)):
                    stack.append(node.value)  # a key (`result["text"]`) keeps the whole; a slice or one element (`pages[0]`) does not
            elif isinstance(node, E.Call):
                stack.extend(self._call_parts(node))
            elif isinstance(node, E.Attr):
                stack.append(node.base)
            elif isinstance(node, E.FStr):
                stack.extend(p for p in node.parts if not isinstance(p, str))
            elif isinstance(node, E.BinOp):
                stack.extend((node.left, node.right))
            elif isinstance(node, E.Seq):
                stack.extend(node.elts)
            elif isinstance(node, E.DictExpr):
                stack.extend(v for _, v in node.items)
            elif isinstance(node, E.Comp):
                stack.append(node.elt)
                stack.extend(node.iters)
            elif isinstance(node, (E.Await, E.IfExp)):
                stack.extend((node.value,) if isinstance(node, E.Await) else (node.body, node.orelse))
            elif isinstance(node, E.Unknown) and node.kind in ("for", "unpack", "Starred"):
                stack.extend(node.children)

    def _call_parts(self, call: E.Call) -> list:
        """The parts of a call its result carries text from: none for a bounding or non-text call."""
        name = E.dotted(call.func) or ""
        last = call.func.attr if isinstance(call.func, E.Attr) else name
        if BOUNDING.search(last):
            return []
        args = list(call.args) + [v for _, v in call.kwargs]
        if isinstance(call.func, E.Attr) and last in TEXT_METHODS:
            return [call.func.base] + args
        value = self.owner.project.resolve(call.func, self.ctx, call.line)
        if isinstance(value, (Func, Klass)) or name in TEXT_FUNCTIONS or last in TEXT_CLASSES:
            return args
        if isinstance(value, Ext) and value.name.rsplit(".", 1)[-1] in TEXT_CLASSES:
            return args
        if isinstance(value, (Obj, Inst)) and isinstance(call.func, E.Attr) and last not in ("json", "model_dump", "dict"):
            return [call.func.base] + args  # a method of an object built from the text (a prompt template, a document)
        return []

    def measured(self) -> bool:
        """A condition of the function measures a name that holds the value (`if len(text) > MAX_CHARS:`)."""
        for test in self.fn.tests:
            for node in E.walk(test):
                if isinstance(node, E.Call) and MEASURING.search(E.dotted(node.func) or ""):
                    if any(self.carries(arg, self.fn.span.end_line + 1) for arg in node.args):
                        return True
        return False


def is_dynamic(fn, expr, depth: int = 0) -> bool:
    """`expr` depends on the function's input: a parameter, a loop variable, `sys.argv`, `input()`."""
    if depth > 6:
        return False
    for node in E.walk(expr):
        if isinstance(node, E.Name) and fn.qualname != MODULE_SCOPE:
            if node.id in fn.params and node.id not in ("self", "cls"):
                return True
            for assign in fn.assigns:
                if assign.target == node.id and (assign.op == "for" or is_dynamic(fn, assign.value, depth + 1)):
                    return True
        elif isinstance(node, E.Attr) and E.dotted(node) == "sys.argv":
            return True
        elif isinstance(node, E.Call) and E.dotted(node.func) == "input":
            return True
    return False
