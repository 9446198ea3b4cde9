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

    def sink(self, path: str, fn, start: E.Call, depth: int = 0, loose: bool = False):
        """The model call (a ModelCall, or the CallSite of a project function that reaches one) whose prompt the
        value of `start` reaches unbounded, or None. `loose`: reaches at all, bounded or not (through any call)."""
        flow = _Flow(self, path, fn, (start.line, start.col), (), loose)
        found = self._sink(path, fn, flow, depth)
        if found is not None or depth >= 2 or not any(v is not None and flow.carries(v, fn.span.end_line + 1) for v in fn.returns):
            return found
        node = (path, fn.qualname)  # returned: follow the callers
        graph = self.analysis.callgraph
        for caller in graph.predecessors(node) if node in graph else ():
            caller_fn = self.project.function(Ctx(caller[0], caller[1]))
            for site in graph.edges[caller, node]["sites"] if caller != node and caller_fn is not None else ():
                if self._callee(caller, site) == node:
                    found = self.sink(caller[0], caller_fn, site.call, depth + 1, loose)
                    if found is not None:
                        return found
        return None

    def _sink(self, path: str, fn, flow, depth: int):
        if not flow.loose and flow.measured():
            return None
        for site in fn.calls:
            if flow.start == (site.call.line, site.call.col):
                continue
            key = (path, site.call.line, site.call.col)
            model_call = self.analysis.model_call_at.get(key)
            reached = model_call or self.analysis.model_reaching_sites.get(key)
            if reached is None:
                continue
            carrying = [key for key, arg in _arguments(site.call) if flow.carries(arg, site.call.line)]
            if not carrying:
                continue
            if model_call is not None:
                return model_call
            callee = self._callee((path, fn.qualname), site)
            callee_fn = self.project.function(Ctx(*callee)) if callee is not None and depth < 3 else None
            params = _parameters(callee_fn, site.call, carrying) if callee_fn is not None else None
            if params is None:
                return site  # a helper we cannot follow the argument into: it reaches a model with it
            if self._sink(callee[0], callee_fn, _Flow(self, callee[0], callee_fn, None, params, flow.loose), depth + 1) is not None:
                return site
        return None

    def _callee(self, caller, site):
        value = self.project.resolve(site.call.func, Ctx(caller[0], caller[1]), site.call.line)
        return (value.path, value.qualname) if isinstance(value, Func) else None


def _arguments(call: E.Call):
    """(position or keyword, expression) of the arguments that can carry prompt text."""
    yield from enumerate(call.args)
    yield from ((k, v) for k, v in call.kwargs if k not in SETTINGS)


def _parameters(fn, call: E.Call, keys) -> tuple | None:
    """The parameters of `fn` that receive the arguments `keys` of `call`; None when `*args`/`**kwargs` take them."""
    params = list(fn.params)
    offset = 1 if fn.cls and params and params[0] in ("self", "cls") else 0
    names = []
    for key in keys:
        if isinstance(key, int):
            if call.has_star or key + offset >= len(params):
                return None
            names.append(params[key + offset])
        elif key in params:
            names.append(key)
        else:
            return None
    return tuple(names)


class _Flow:
    """The names of one function that hold the value of `start`, line by line."""

    def __init__(self, owner: PromptFlow, path: str, fn, start: tuple | None, names: tuple = (), loose: bool = False):
        self.owner = owner
        self.loose = loose
        self.fn = fn
        self.ctx = Ctx(path, fn.qualname)
        self.start = start  # (line, col) of the call whose value is followed
        self.names = set(names)  # or the parameters that hold it on entry
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
        definitions = self._definitions(name, line)
        found = any(self.carries(a.value, a.line, depth + 1) for a in definitions)
        if not found and name in self.names and not any(a.op in ("=", "with") for a in definitions):
            found = True  # the parameter, not reassigned before `line`
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
                if self.loose or not isinstance(index, E.Slice) and not (isinstance(index, E.Const) and isinstance(index.value, int)):
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
        if self.loose:
            return [call.func.base] + list(call.args) + [v for _, v in call.kwargs] if isinstance(call.func, E.Attr) else list(call.args) + [v for _, v in call.kwargs]
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
