"""Prompt assembly: the text each model call sends, as far as static analysis can know it.

For a model call, `requests_of` finds the arguments that carry the prompt (`messages=`, `system=`, `prompt=`,
`input=`, `contents=`, a LangChain chain's template, ...) and evaluates them into `PromptText`s: string literals,
f-strings, `+`/`+=`, `"".join([...])`, `.format(...)`, `%`, `textwrap.dedent`/`inspect.cleandoc`, module and class
constants, constants imported from other modules, prompt files read with `open(...).read()`/`Path.read_text()`
from a literal path, LangChain/LlamaIndex prompt templates and message classes, and messages lists of dicts
(appends included). A prompt passed into a helper as a parameter is followed to the helper's callers (through
`Analysis.callgraph`, a few levels deep), so `ask(BIG_PROMPT)` sends BIG_PROMPT.

What cannot be known stays unknown: an f-string hole, a template variable, a value from a database, a function
outside the project or a parameter with no visible caller becomes a `Hole` that names its source expression. A
hole counts as a few tokens; it is never guessed and never makes a prompt look bigger than what is written.
"""

from __future__ import annotations

import inspect
import os
import re
import string
import textwrap
from dataclasses import dataclass, replace

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import Span
from llmlint.flow.reaching import exclusive
from llmlint.link.bindings import NO_BINDING, Binding, binding_of
from llmlint.link.values import Ctx, Ext, Func, Obj

CHARS_PER_TOKEN = 4
HOLE_TOKENS = 3  # what an unknown value is counted as
MAX_FORKS = 3  # caller levels followed for a prompt passed as a parameter
MAX_DEPTH = 24  # nesting of evaluations (names, calls, returned values)
MAX_CALLER_SITES = 20
MAX_VARIANTS = 40  # distinct texts a parameter is followed to
MAX_FILE_BYTES = 1_000_000

ROLES = {"system": "system", "developer": "system", "user": "user", "human": "user", "assistant": "assistant",
         "ai": "assistant", "model": "assistant", "chatbot": "assistant", "tool": "tool", "function": "tool"}
# keyword -> role of the text it carries (None: a messages list whose items name their roles)
PROMPT_KWARGS = {
    "messages": None, "system": "system", "instructions": "system", "preamble": "system", "system_instruction": "system",
    "system_prompt": "system", "prompt": "user", "input": "user", "contents": "user", "message": "user",
}
# messages-like classes (last part of the qualified name) -> role
MESSAGE_CLASSES = {
    "SystemMessage": "system", "HumanMessage": "user", "AIMessage": "assistant", "ChatMessage": None,
    "SystemMessagePromptTemplate": "system", "HumanMessagePromptTemplate": "user", "AIMessagePromptTemplate": "assistant",
    "ChatMessagePromptTemplate": None,
}
TEMPLATE_CLASSES = ("PromptTemplate", "ChatPromptTemplate", "RichPromptTemplate", "BasePromptTemplate")
TEXT_METHODS = frozenset({"strip", "lstrip", "rstrip", "upper", "lower", "capitalize", "replace", "removeprefix",
                          "removesuffix", "encode", "decode", "expandtabs", "casefold", "title"})
BODY_KEYS = ("system", "messages", "prompt", "input", "inputText", "contents", "instructions")


@dataclass(frozen=True)
class Hole:
    """A value static analysis cannot know, named by its source expression."""

    source: str

    def __str__(self) -> str:
        return "{" + self.source + "}"


@dataclass(frozen=True)
class Definition:
    """Where a prompt is written: the assignment of its outermost constant or variable (`name`), the function
    that builds and returns it, or (`name == ""`) the argument it is written inline in."""

    path: str
    span: Span
    name: str


@dataclass(frozen=True)
class Via:
    """A call in the project that hands the prompt on toward the model call (`ask(BIG_PROMPT)`)."""

    path: str
    call: E.Call
    callee: str  # qualname of the function called


@dataclass(frozen=True)
class PromptText:
    pieces: tuple = ()  # str and Hole, adjacent strings merged
    role: str | None = None  # system / user / assistant when known
    definition: Definition | None = None
    sources: frozenset = frozenset()  # {(path, line)}: constants, assignments and files it is built from
    via: tuple = ()  # Via calls it came through, nearest to the model call first

    @property
    def text(self) -> str:
        """The prompt with each unknown value shown as `{source}`."""
        return "".join(str(p) for p in self.pieces)

    @property
    def known_chars(self) -> int:
        return sum(len(p) for p in self.pieces if isinstance(p, str))

    @property
    def holes(self) -> tuple:
        return tuple(p for p in self.pieces if isinstance(p, Hole))

    @property
    def tokens(self) -> int:
        return estimate_tokens(self)

    @property
    def is_known(self) -> bool:
        """Some of the text is known (not only holes)."""
        return any(isinstance(p, str) for p in self.pieces)


@dataclass
class Request:
    """What one model call sends on one path: its prompt parts (system, user, ... in order)."""

    call: object  # inventory.ModelCall
    parts: list
    via: tuple = ()

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.parts)


_BLANKS = re.compile(r"[ \t]{2,}")


def estimate_tokens(text) -> int:
    """Tokens of a str or PromptText: about one per four characters of known text (runs of blanks, such as the
    indentation of a triple-quoted string, count as one character), a few per unknown value."""
    if isinstance(text, str):
        return (len(_BLANKS.sub(" ", text)) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN
    known = sum(len(_BLANKS.sub(" ", p)) for p in text.pieces if isinstance(p, str))
    return (known + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN + HOLE_TOKENS * len(text.holes)


def assembly(analysis) -> "PromptAssembly":
    """The analysis' PromptAssembly (`Analysis.prompts`, built once per Analysis)."""
    return analysis.prompts


def requests_of(analysis, call) -> list[Request]:
    return assembly(analysis).requests(call)


def prompt_of(analysis, call) -> list[PromptText]:
    """Every prompt part `call` sends, on every path that reaches it (system and user parts, roles when known)."""
    return [part for request in requests_of(analysis, call) for part in request.parts]


def text_of(analysis, expr, ctx: Ctx, line: int | None = None) -> PromptText:
    """The text `expr` evaluates to in `ctx` (unknown values as holes; parameters are not followed)."""
    return assembly(analysis).text(expr, ctx, line, _Env(), 0)


# -- evaluation ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Env:
    """Arguments bound to parameters: `frames` maps a function (path, qualname) to ((param, expr, ctx, line, env), ...).
    `forks` is how many caller levels may still be followed for parameters that are not bound."""

    frames: tuple = ()
    forks: int = 0

    def bound(self, path: str, qualname: str, name: str):
        for key, params in self.frames:
            if key == (path, qualname):
                for item in params:
                    if item[0] == name:
                        return item
                return ()
        return None


def _norm(pieces) -> tuple:
    out: list = []
    for piece in pieces:
        if isinstance(piece, str):
            if not piece:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += piece
                continue
        out.append(piece)
    return tuple(out)


def concat(texts) -> PromptText:
    """The texts one after the other (sources merged; no definition of its own)."""
    texts = list(texts)
    pieces, sources = [], set()
    for t in texts:
        pieces.extend(t.pieces)
        sources |= t.sources
    return PromptText(_norm(pieces), sources=frozenset(sources))


def _hole(expr) -> PromptText:
    return PromptText((Hole(render(expr)),))


def render(expr, limit: int = 40) -> str:
    """A short source-like rendering of an expression, for naming holes."""
    text = _render(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _render(expr) -> str:
    if isinstance(expr, E.Name):
        return expr.id
    if isinstance(expr, E.Attr):
        return f"{_render(expr.base)}.{expr.attr}"
    if isinstance(expr, E.Call):
        return f"{_render(expr.func)}(...)"
    if isinstance(expr, E.Subscript):
        return f"{_render(expr.value)}[...]"
    if isinstance(expr, E.Await):
        return "await " + _render(expr.value)
    if isinstance(expr, E.Const):
        return repr(expr.value)[:20]
    if isinstance(expr, E.Unknown) and expr.kind == "Starred" and expr.children:
        return "*" + _render(expr.children[0])
    return "..." if expr is None else type(expr).__name__.lower()


class PromptAssembly:
    def __init__(self, analysis):
        self.analysis = analysis
        self.project = analysis.project
        self._memo: dict = {}
        self._requests: dict = {}
        self._files: dict = {}

    # public
    def requests(self, call) -> list[Request]:
        key = id(call)
        if key not in self._requests:
            self._requests[key] = self._build_requests(call)
        return self._requests[key]

    def text(self, expr, ctx: Ctx, line, env: _Env, depth: int) -> PromptText:
        """One text, never forking into callers: parameters not bound in `env` are holes."""
        return self.texts(expr, ctx, line, replace(env, forks=0), depth)[0]

    def texts(self, expr, ctx: Ctx, line, env: _Env, depth: int) -> list[PromptText]:
        """The texts `expr` may be (several only when it is a parameter followed to several callers)."""
        if expr is None:
            return [PromptText()]
        if depth > MAX_DEPTH:
            return [_hole(expr)]
        key = ("t", expr, ctx, line, env)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = [_hole(expr)]  # cycle guard
        result = self._texts(expr, ctx, line, env, depth + 1) or [_hole(expr)]
        self._memo[key] = result
        return result

    def parts(self, expr, ctx: Ctx, line, env: _Env, depth: int, role=None) -> list[PromptText]:
        """Prompt parts of a messages list, a template, a message object or a plain text (with `role`)."""
        if expr is None:
            return []
        if depth > MAX_DEPTH:
            return [replace(_hole(expr), role=role)]
        key = ("p", expr, ctx, line, env, role)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = [replace(_hole(expr), role=role)]
        result = self._parts(expr, ctx, line, env, depth + 1, role)
        self._memo[key] = result
        return result

    # requests
    def _build_requests(self, call) -> list[Request]:
        env = _Env(forks=MAX_FORKS)
        parts: list[PromptText] = []
        ctx, site = call.ctx, call.site
        for role, expr, key, where in _prompt_arguments(self, call):
            arg_ctx = ctx if where is None else where
            found = self.parts(expr, arg_ctx, call.call.line, env if where is None else _Env(), 0, role)
            anchor = _arg_definition(call.module.path, site, key)
            for part in found:
                if part.definition is None and anchor is not None:
                    part = replace(part, definition=anchor)
                parts.append(part)
        return _combine(call, parts)

    # messages, templates and message objects
    def _parts(self, expr, ctx, line, env, depth, role):
        if isinstance(expr, E.Seq):
            out = []
            for element in expr.elts:
                out.extend(self._message(element, ctx, line, env, depth, role))
            return out
        if isinstance(expr, E.DictExpr):
            return self._message(expr, ctx, line, env, depth, role)
        if isinstance(expr, E.Await):
            return self.parts(expr.value, ctx, line, env, depth, role)
        if isinstance(expr, E.BinOp) and expr.op == "+" and (self._is_list(expr.left, ctx, line) or self._is_list(expr.right, ctx, line)):
            return self.parts(expr.left, ctx, line, env, depth, role) + self.parts(expr.right, ctx, line, env, depth, role)
        if isinstance(expr, (E.Name, E.Attr, E.Subscript)):
            binding = self._lookup(expr, ctx, line)
            if binding.kind == "assign" and binding.assign.op in ("=", "with"):
                value, at = binding.assign.value, binding.assign.line - 1
                structured = self._is_list(value, binding.ctx, at) or isinstance(value, E.DictExpr) or self._template_call(value, binding.ctx)
                if structured or (isinstance(value, E.Call) and not binding.extra):
                    out = self.parts(value, binding.ctx, at, env, depth, role)
                    added = {}
                    for extra in binding.extra:
                        if extra.op in ("append", "insert"):
                            added[extra.line] = self._message(extra.value, binding.ctx, extra.line, env, depth, role)
                        elif extra.op in ("extend", "+="):
                            added[extra.line] = self.parts(extra.value, binding.ctx, extra.line, env, depth, role)
                    for extra in _one_path(binding.extra, lambda a: sum(p.known_chars for p in added.get(a.line, ()))):
                        out = out + added.get(extra.line, [])
                    return [_defined(p, binding) for p in out]
            if binding.kind == "param":
                forked = self._fork(binding, env, depth, lambda e, c, ln, en, d: self.parts(e, c, ln, en, d, role))
                if forked is not None:
                    return forked
        if isinstance(expr, E.Call):
            found = self._call_parts(expr, ctx, line, env, depth, role)
            if found is not None:
                return found
        return [replace(t, role=t.role or role) for t in self.texts(expr, ctx, line, env, depth)]

    def _message(self, expr, ctx, line, env, depth, role):
        """One element of a messages list."""
        if isinstance(expr, E.DictExpr):
            content = _first(expr, "content", "parts", "text")
            if content is None:
                return []
            given = expr.get("role")
            given_role = ROLES.get(given.value) if isinstance(given, E.Const) and isinstance(given.value, str) else None
            return self._content(content, ctx, line, env, depth, given_role or role)
        if isinstance(expr, E.Seq) and expr.kind == "tuple" and len(expr.elts) == 2 and isinstance(expr.elts[0], E.Const):
            given = ROLES.get(str(expr.elts[0].value).lower())
            if str(expr.elts[0].value) == "placeholder":
                return [PromptText((Hole(render(expr.elts[1])),))]
            return [replace(self._template_text(expr.elts[1], ctx, line, env, depth), role=given)]
        if isinstance(expr, E.Unknown) and expr.kind == "Starred":
            return [PromptText((Hole(render(expr)),), role=role)]
        if isinstance(expr, (E.Name, E.Attr, E.Call, E.Subscript)):
            return self.parts(expr, ctx, line, env, depth, role)
        return [replace(t, role=t.role or role) for t in self.texts(expr, ctx, line, env, depth)]

    def _content(self, content, ctx, line, env, depth, role):
        """A message's content: a text, or a list of content blocks ({"type": "text", "text": ...}, strings)."""
        if isinstance(content, E.Seq):
            texts = []
            for block in content.elts:
                if isinstance(block, E.DictExpr):
                    if block.get("text") is not None:
                        texts.append(self.text(block.get("text"), ctx, line, env, depth))
                elif not isinstance(block, E.Call):
                    texts.append(self.text(block, ctx, line, env, depth))
            return [replace(concat(texts), role=role)] if texts else []
        return [replace(t, role=role) for t in self.texts(content, ctx, line, env, depth)]

    def _call_parts(self, call: E.Call, ctx, line, env, depth, role):
        name = self._callee_name(call, ctx) or ""
        kind = _template_kind(name)
        if kind == "chat":
            messages = call.arg(0, "messages")
            return self.parts(messages, ctx, line, env, depth, role) if messages is not None else []
        if kind == "template":
            return [replace(self._template_text(call.arg(0, "template"), ctx, line, env, depth), role=role)]
        if kind == "file":
            path = self._path(call.arg(0, "template_file"), ctx, line, 0)
            found = self._read(path) if path else None
            return [replace(found, pieces=_template_holes(found.pieces), role=role)] if found else [replace(_hole(call), role=role)]
        if kind in ("message", "message-template"):
            cls = name.split(".")[-1] if kind == "message" else name.split(".")[-2]
            given = MESSAGE_CLASSES[cls] or _role_of(call.kwarg("role"))
            content = call.arg(0, "content", "template", "prompt")
            if content is None:
                return []
            text = self._template_text(content, ctx, line, env, depth) if kind == "message-template" else self.text(content, ctx, line, env, depth)
            return [replace(text, role=given or role)]
        if kind == "placeholder":
            return [PromptText((Hole(render(call.arg(0, "variable_name"))),), role=role)]
        if isinstance(call.func, E.Attr) and call.func.attr in ("format_messages", "format_prompt", "invoke", "to_messages", "partial"):
            if self._template_call(call.func.base, ctx):
                return self.parts(call.func.base, ctx, line, env, depth, role)
        func = self.project.resolve(call.func, ctx, call.line)
        if isinstance(func, Func):
            return self._returned(func, call, ctx, line, env, depth, lambda e, c, ln, en, d: self.parts(e, c, ln, en, d, role))
        return None

    def _template_call(self, expr, ctx) -> bool:
        """Whether `expr` is (bound to) a LangChain/LlamaIndex prompt template or message construction."""
        for _ in range(4):
            if isinstance(expr, E.Call):
                name = self._callee_name(expr, ctx) or ""
                if _template_kind(name) is not None:
                    return True
                if isinstance(expr.func, E.Attr) and expr.func.attr == "partial":
                    expr = expr.func.base
                    continue
                return False
            if isinstance(expr, (E.Name, E.Attr)):
                binding = self._lookup(expr, ctx, None)
                if binding.kind != "assign":
                    return False
                expr, ctx = binding.assign.value, binding.ctx
                continue
            return False
        return False

    def _is_list(self, expr, ctx, line) -> bool:
        for _ in range(4):
            if isinstance(expr, (E.Seq, E.Comp)) and getattr(expr, "kind", "") in ("list", "tuple"):
                return True
            if isinstance(expr, E.BinOp) and expr.op == "+":
                expr = expr.left
                continue
            if isinstance(expr, (E.Name, E.Attr)):
                binding = self._lookup(expr, ctx, line)
                if binding.kind != "assign" or binding.assign.op not in ("=", "with"):
                    return False
                expr, ctx, line = binding.assign.value, binding.ctx, binding.assign.line - 1
                continue
            return False
        return False

    # texts
    def _texts(self, expr, ctx, line, env, depth) -> list[PromptText]:
        if isinstance(expr, E.Const):
            if isinstance(expr.value, str):
                return [PromptText(_norm((expr.value,)))]
            return [_hole(expr)]
        if isinstance(expr, E.FStr):
            return [self._fstring(expr, ctx, line, env, depth)]
        if isinstance(expr, E.BinOp):
            return self._binop(expr, ctx, line, env, depth)
        if isinstance(expr, (E.Name, E.Attr, E.Subscript)):
            return self._named(expr, ctx, line, env, depth)
        if isinstance(expr, E.Call):
            return self._call_texts(expr, ctx, line, env, depth)
        if isinstance(expr, E.Await):
            return self.texts(expr.value, ctx, line, env, depth)
        if isinstance(expr, E.IfExp):
            options = [self.text(expr.body, ctx, line, env, depth), self.text(expr.orelse, ctx, line, env, depth)]
            return [min(options, key=lambda t: t.known_chars)]
        return [_hole(expr)]

    def _fstring(self, expr: E.FStr, ctx, line, env, depth) -> PromptText:
        literal = [p for p in expr.parts if isinstance(p, str)]
        holes = [p for p in expr.parts if not isinstance(p, str)]
        if not "".join(literal) and len(holes) == 1:
            return self.text(holes[0], ctx, line, env, depth)
        texts = []
        for part in expr.parts:
            if isinstance(part, str):
                texts.append(PromptText((part,)))
            else:
                inner = self.text(part, ctx, line, env, depth)
                texts.append(inner if inner.is_known else _hole(part))
        return concat(texts)

    def _binop(self, expr: E.BinOp, ctx, line, env, depth) -> list[PromptText]:
        if expr.op == "+":
            left, right = self.text(expr.left, ctx, line, env, depth), self.text(expr.right, ctx, line, env, depth)
            return [concat((left if left.is_known else _hole(expr.left), right if right.is_known else _hole(expr.right)))]
        if expr.op == "%":
            out = []
            for template in self.texts(expr.left, ctx, line, env, depth):
                if not template.is_known:
                    return [_hole(expr)]
                values = expr.right.elts if isinstance(expr.right, E.Seq) and expr.right.kind == "tuple" else None
                mapping = expr.right if isinstance(expr.right, E.DictExpr) else None
                args = [self.text(v, ctx, line, env, depth) for v in values] if values is not None else ([] if mapping else [self.text(expr.right, ctx, line, env, depth)])
                kwargs = {k.value: self.text(v, ctx, line, env, depth) for k, v in mapping.items if isinstance(k, E.Const)} if mapping else {}
                out.append(replace(template, pieces=_percent(template.pieces, args, kwargs)))
            return out
        return [_hole(expr)]

    def _named(self, expr, ctx, line, env, depth) -> list[PromptText]:
        binding = self._lookup(expr, ctx, line)
        if binding.kind == "param":
            forked = self._fork(binding, env, depth, self.texts)
            return forked if forked is not None else [_hole(expr)]
        if binding.kind != "assign" or binding.assign.op not in ("=", "with"):
            return [_hole(expr)]
        assign = binding.assign
        found = self.texts(assign.value, binding.ctx, assign.line - 1, env, depth)
        if binding.extra:
            added = {a.line: self.text(a.value, binding.ctx, a.line - 1, env, depth) for a in binding.extra if a.op == "+="}
            path = _one_path([a for a in binding.extra if a.op == "+="], lambda a: added[a.line].known_chars)
            extra = [added[a.line] for a in path]
            found = [concat([found[0]] + [t if t.is_known else PromptText((Hole("..."),)) for t in extra])]
        return [_defined(t, binding) for t in found]

    def _call_texts(self, call: E.Call, ctx, line, env, depth) -> list[PromptText]:
        func = call.func
        if isinstance(func, E.Attr):
            method = func.attr
            if method in ("format", "format_map"):
                out = []
                for template in self.texts(func.base, ctx, line, env, depth):
                    if not template.is_known:
                        return [_hole(call)]
                    out.append(replace(template, pieces=self._apply_format(template.pieces, call, ctx, line, env, depth)))
                return out
            if method == "join" and call.args:
                separator = self.text(func.base, ctx, line, env, depth)
                if not separator.holes:
                    return [self._join(separator, call.args[0], call, ctx, line, env, depth)]
                return [_hole(call)]
            if method in TEXT_METHODS:
                out = []
                for base in self.texts(func.base, ctx, line, env, depth):
                    if not base.is_known:
                        return [_hole(call)]
                    out.append(replace(base, pieces=_text_method(base.pieces, method)))
                return out
            if method in ("read", "read_text"):
                found = self._read_file(call, ctx, line)
                if found is not None:
                    return [found]
        name = self._callee_name(call, ctx)
        if name in ("textwrap.dedent", "inspect.cleandoc") and call.args:
            apply = textwrap.dedent if name == "textwrap.dedent" else inspect.cleandoc
            return [replace(t, pieces=_transform(t.pieces, apply)) for t in self.texts(call.args[0], ctx, line, env, depth)]
        if name in ("str",) and call.args:
            return self.texts(call.args[0], ctx, line, env, depth)
        if _template_kind(name or "") is not None or self._template_call(call, ctx):
            found = self._call_parts(call, ctx, line, env, depth, None)
            if found:
                return [replace(concat(_separated(found)), definition=found[0].definition if len(found) == 1 else None)]
        func_value = self.project.resolve(call.func, ctx, call.line)
        if isinstance(func_value, Func):
            found = self._returned(func_value, call, ctx, line, env, depth, self.texts)
            if found:
                return found
        return [_hole(call)]

    def _template_text(self, expr, ctx, line, env, depth) -> PromptText:
        text = self.text(expr, ctx, line, env, depth)
        return replace(text, pieces=_template_holes(text.pieces))

    def _apply_format(self, pieces, call: E.Call, ctx, line, env, depth):
        args = [self.text(a, ctx, line, env, depth) for a in call.args]
        kwargs = {k: self.text(v, ctx, line, env, depth) for k, v in call.kwargs if k is not None}
        if call.func.attr == "format_map" and call.args and isinstance(call.args[0], E.DictExpr):
            kwargs = {k.value: self.text(v, ctx, line, env, depth) for k, v in call.args[0].items if isinstance(k, E.Const)}
            args = []
        return _format(pieces, args, kwargs)

    def _join(self, separator: PromptText, iterable, call, ctx, line, env, depth) -> PromptText:
        items = self._list_items(iterable, ctx, line)
        if items is None:
            return _hole(call)
        texts = []
        for i, (item, item_ctx, item_line) in enumerate(items):
            if i:
                texts.append(separator)
            text = self.text(item, item_ctx, item_line, env, depth)
            texts.append(text if text.is_known else _hole(item))
        return concat(texts)

    def _list_items(self, expr, ctx, line):
        """The elements of a list built statically (a literal, or a name bound to one plus appends), else None."""
        if isinstance(expr, E.Seq):
            return [(e, ctx, line) for e in expr.elts]
        if isinstance(expr, (E.Name, E.Attr)):
            binding = self._lookup(expr, ctx, line)
            if binding.kind == "assign" and binding.assign.op == "=" and isinstance(binding.assign.value, E.Seq):
                items = [(e, binding.ctx, binding.assign.line - 1) for e in binding.assign.value.elts]
                for extra in _one_path(binding.extra, lambda a: 0):
                    if extra.op in ("append", "insert"):
                        items.append((extra.value, binding.ctx, extra.line))
                    elif extra.op in ("extend", "+=") and isinstance(extra.value, E.Seq):
                        items.extend((e, binding.ctx, extra.line) for e in extra.value.elts)
                    else:
                        return None
                return items
        return None

    def _returned(self, func: Func, call: E.Call, ctx, line, env, depth, evaluate):
        """What a project function returns when called with `call`'s arguments (bound to its parameters)."""
        fn = self.project.function(func)
        if fn is None or not fn.returns:
            return None
        frame = ((func.path, fn.qualname), tuple(_bind_arguments(fn, call, ctx, line, env)))
        callee_env = _Env(frames=(frame,), forks=0)
        results = []
        for value in fn.returns:
            if value is None:
                continue
            found = evaluate(value, Ctx(func.path, fn.qualname), None, callee_env, depth)
            if any(t.is_known for t in found):
                results.append(found)
        if not results:
            return None
        chosen = min(results, key=lambda texts: sum(t.known_chars for t in texts))
        where = Definition(func.path, Span(fn.span.line, fn.span.col, fn.span.line, fn.span.col + 3), fn.qualname + "()")
        return [t if t.definition is not None else replace(t, definition=where) for t in chosen]

    # parameters
    def _fork(self, binding: Binding, env: _Env, depth: int, evaluate):
        """A parameter's values: the argument bound in `env`, else the arguments of the function's callers."""
        fn, ctx = binding.fn, binding.ctx
        bound = env.bound(ctx.path, fn.qualname, binding.param)
        if bound:
            _, expr, arg_ctx, arg_line, arg_env = bound
            return evaluate(expr, arg_ctx, arg_line, arg_env, depth)
        if bound == () or env.forks <= 0:
            default = fn.defaults.get(binding.param)
            return evaluate(default, ctx, None, _Env(), depth) if default is not None and bound == () else None
        graph = self.analysis.callgraph
        node = (ctx.path, fn.qualname)
        if node not in graph:
            return None
        out, seen = [], set()
        for caller in graph.predecessors(node):
            edge = graph.edges[caller, node]
            if edge.get("kind") != "call":
                continue
            for site in edge["sites"][:MAX_CALLER_SITES]:
                arg, key = _argument(fn, binding.param, site.call)
                if arg is None:
                    continue
                caller_ctx = Ctx(caller[0], caller[1])
                if key is None:  # the default value
                    found = evaluate(arg, ctx, None, _Env(), depth)
                else:
                    found = evaluate(arg, caller_ctx, site.call.line, _Env(forks=env.forks - 1), depth)
                via = Via(caller[0], site.call, fn.qualname)
                anchor = _arg_definition(caller[0], site, key) if key is not None else None
                for text in found:
                    if text.definition is None and anchor is not None:
                        text = replace(text, definition=anchor)
                    identity = (text.pieces, text.definition, text.role)
                    if identity not in seen and len(out) < MAX_VARIANTS:
                        seen.add(identity)
                        out.append(replace(text, via=(via,) + text.via))
        return out or None

    # names
    def _lookup(self, expr, ctx: Ctx, line) -> Binding:
        key = ("b", expr, ctx, line)
        if key not in self._memo:
            self._memo[key] = NO_BINDING
            self._memo[key] = binding_of(self.project, expr, ctx, line)
        return self._memo[key]

    def _callee_name(self, call: E.Call, ctx) -> str | None:
        func = self.project.resolve(call.func, ctx, call.line)
        if isinstance(func, Ext):
            return func.name
        if isinstance(func, Obj) and func.path:
            return f"{func.cls}.{func.path}"
        if func is None and isinstance(call.func, E.Name) and self._lookup(call.func, ctx, call.line).kind == "none":
            return call.func.id  # a builtin: open, str
        return None

    # files
    def _read_file(self, call: E.Call, ctx, line) -> PromptText | None:
        base = call.func.base
        if call.func.attr == "read":
            for _ in range(3):
                if isinstance(base, E.Name):
                    binding = self._lookup(base, ctx, line)
                    if binding.kind != "assign":
                        return None
                    base, ctx = binding.assign.value, binding.ctx
                    continue
                break
            if not isinstance(base, E.Call) or self._callee_name(base, ctx) not in ("open", "io.open", "codecs.open"):
                return None
            mode = base.arg(1, "mode")
            if mode is not None and not (isinstance(mode, E.Const) and mode.value in ("r", "rt")):
                return None
            path = self._path(base.arg(0, "file", "filename"), ctx, line, 0)
        else:
            path = self._path(base, ctx, line, 0)
        return self._read(path) if path else None

    def _path(self, expr, ctx, line, depth) -> str | None:
        """The absolute path a path expression built from literals and `__file__` stands for, else None."""
        if expr is None or depth > 8:
            return None
        here = os.path.dirname(ctx.path)
        if isinstance(expr, E.Const) and isinstance(expr.value, str):
            return expr.value if os.path.isabs(expr.value) else os.path.join(here, expr.value) + "\0rel"
        if isinstance(expr, E.Name) and expr.id == "__file__":
            return ctx.path
        if isinstance(expr, E.Attr) and expr.attr == "parent":
            inner = self._path(expr.base, ctx, line, depth + 1)
            return os.path.dirname(_strip_rel(inner)) if inner else None
        if isinstance(expr, E.Subscript) and isinstance(expr.value, E.Attr) and expr.value.attr == "parents" and isinstance(expr.index, E.Const):
            inner = self._path(expr.value.base, ctx, line, depth + 1)
            if not inner or not isinstance(expr.index.value, int):
                return None
            inner = _strip_rel(inner)
            for _ in range(expr.index.value + 1):
                inner = os.path.dirname(inner)
            return inner
        if isinstance(expr, E.BinOp) and expr.op == "/":
            left = self._path(expr.left, ctx, line, depth + 1)
            right = self.project.const_str(expr.right, ctx)
            return _join_path(left, right) if left and right is not None else None
        if isinstance(expr, (E.Name, E.Attr)):
            binding = self._lookup(expr, ctx, line)
            if binding.kind == "assign" and binding.assign.op == "=":
                return self._path(binding.assign.value, binding.ctx, binding.assign.line - 1, depth + 1)
            return None
        if isinstance(expr, E.Call):
            name = self._callee_name(expr, ctx) or ""
            if name in ("os.path.join", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "Path"):
                parts = [self._path(expr.args[0], ctx, line, depth + 1)] if expr.args else []
                for arg in expr.args[1:]:
                    parts.append(_join_path(parts[-1], self.project.const_str(arg, ctx)))
                return parts[-1] if parts else None
            if name == "os.path.dirname" and expr.args:
                inner = self._path(expr.args[0], ctx, line, depth + 1)
                return os.path.dirname(_strip_rel(inner)) if inner else None
            if name in ("os.path.abspath", "os.path.realpath", "os.path.normpath") and expr.args:
                return self._path(expr.args[0], ctx, line, depth + 1)
            if isinstance(expr.func, E.Attr) and not name.startswith("os."):
                method = expr.func.attr
                inner = self._path(expr.func.base, ctx, line, depth + 1)
                if inner is None:
                    return None
                if method in ("resolve", "absolute", "expanduser"):
                    return inner
                if method == "with_name" and expr.args:
                    sibling = self.project.const_str(expr.args[0], ctx)
                    return os.path.join(os.path.dirname(_strip_rel(inner)), sibling) if sibling else None
                if method == "joinpath":
                    for arg in expr.args:
                        inner = _join_path(inner, self.project.const_str(arg, ctx))
                    return inner
        return None

    def _read(self, path: str) -> PromptText | None:
        """A prompt file in the checked project, read once."""
        relative = path.endswith("\0rel")
        path = _strip_rel(path)
        if path in self._files:
            return self._files[path]
        found = None
        candidates = [path]
        if relative:
            module_dir = os.path.dirname(path)
            candidates += [os.path.join(root, os.path.relpath(path, module_dir)) for root in self._roots_near(path)]
        for candidate in candidates:
            candidate = os.path.normpath(candidate)
            if self._inside_project(candidate) and os.path.isfile(candidate):
                try:
                    if os.path.getsize(candidate) > MAX_FILE_BYTES:
                        break
                    with open(candidate, encoding="utf-8", errors="replace") as handle:
                        found = PromptText(_norm((handle.read(),)), sources=frozenset({(candidate, 1)}))
                except OSError:
                    found = None
                break
        self._files[path] = found
        return found

    def _roots_near(self, path: str):
        roots = {r for r in self.project.roots.values() if r}
        return sorted(r for r in roots if path.startswith(r.rstrip(os.sep) + os.sep))

    def _inside_project(self, path: str) -> bool:
        roots = {r for r in self.project.roots.values() if r} or {os.path.dirname(p) for p in self.project.indexes}
        return any(path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


# -- the call's prompt arguments ------------------------------------------------------------------------------

POSITIONAL = (  # api prefix -> index of the positional argument that carries the prompt
    ("litellm.completion", 1), ("litellm.acompletion", 1), ("litellm.text_completion", 1), ("ollama.", 1),
    ("langchain.chain.", None), ("langchain.", 0), ("llama_index.", 0), ("google.generativeai", 0), ("vertexai", 0),
    ("huggingface.", 0), ("cohere.", None),
)


MAX_COMBINATIONS = 32


def _combine(call, parts) -> list[Request]:
    """Requests from parts: parts reached through parameters vary with the caller that passes them. Parts that
    came through the same function's callers are alternatives; those through different functions combine."""
    common = [p for p in parts if not p.via]
    dimensions: dict = {}
    for part in parts:
        if part.via:
            dimensions.setdefault(part.via[0].callee, {}).setdefault(part.via, []).append(part)
    combos = [((), [])]
    for options in dimensions.values():
        if len(combos) * len(options) > MAX_COMBINATIONS:
            return [Request(call, common + extra, via) for options in dimensions.values() for via, extra in options.items()]
        combos = [(via + other_via, extra + other) for via, extra in combos for other_via, other in options.items()]
    return [Request(call, common + extra, via) for via, extra in combos if common or extra]


def _prompt_arguments(assembly: PromptAssembly, call):
    """(role, expression, argument key, ctx or None for the call's own) for each argument that carries prompt text."""
    site = call.call
    found = []
    for key, expr in site.kwargs:
        if key in PROMPT_KWARGS:
            found.append((PROMPT_KWARGS[key], expr, key, None))
        elif key in ("config", "generation_config") and isinstance(expr, (E.Call, E.DictExpr)):
            inner = expr.kwarg("system_instruction") if isinstance(expr, E.Call) else expr.get("system_instruction")
            if inner is not None:
                found.append(("system", inner, None, None))
        elif key in ("body", "json", "data") and call.api.startswith(("bedrock.", "http.")):
            found.extend(_body_arguments(assembly, expr, call.ctx, site.line))
    index = next((i for prefix, i in POSITIONAL if call.api.startswith(prefix)), None)
    if index is not None and index < len(site.args) and not any(k in ("messages", "prompt", "input", "contents") for k, _ in site.kwargs):
        found.append((None if call.api.endswith(("chat", "chat_completion", "stream_chat", "achat")) else "user", site.args[index], index, None))
    client = call.client
    if client is not None and isinstance(client.ctor, E.Call) and client.ctor.kwarg("system_instruction") is not None:
        found.append(("system", client.ctor.kwarg("system_instruction"), None, client.ctor_ctx))
    if call.api.startswith("langchain.chain.") or (client is not None and client.parts):
        for expr, ctx in _chain_templates(assembly, site.func, call.ctx, site.line):
            found.append((None, expr, None, ctx))
    return found


def _body_arguments(assembly, expr, ctx, line):
    for _ in range(3):
        if isinstance(expr, E.Call) and expr.args and (assembly._callee_name(expr, ctx) or "").endswith("json.dumps"):
            expr = expr.args[0]
        if isinstance(expr, (E.Name, E.Attr)):
            binding = assembly._lookup(expr, ctx, line)
            if binding.kind != "assign":
                return []
            expr, ctx = binding.assign.value, binding.ctx
            continue
        break
    if not isinstance(expr, E.DictExpr):
        return []
    return [(PROMPT_KWARGS.get(key, "user"), expr.get(key), None, ctx) for key in BODY_KEYS if expr.get(key) is not None]


def _chain_templates(assembly: PromptAssembly, func, ctx, line):
    """The prompt templates inside the chain a chain call is made on (`prompt | llm`, `LLMChain(prompt=...)`)."""
    expr = func.base if isinstance(func, E.Attr) else func
    out = []
    for _ in range(6):
        if isinstance(expr, (E.Name, E.Attr)):
            binding = assembly._lookup(expr, ctx, line)
            if binding.kind != "assign" or binding.assign.op != "=":
                return out
            expr, ctx, line = binding.assign.value, binding.ctx, binding.assign.line - 1
            continue
        if isinstance(expr, E.Call) and isinstance(expr.func, E.Attr) and not assembly._template_call(expr, ctx):
            prompt = expr.kwarg("prompt")
            if prompt is None and isinstance(expr.kwarg("chain_type_kwargs"), E.DictExpr):
                prompt = expr.kwarg("chain_type_kwargs").get("prompt")
            if prompt is not None:
                return [(prompt, ctx)]
            expr = expr.func.base  # chain.with_retry(), chain.with_config(...)
            continue
        break
    members = []
    _pipe_members(expr, members)
    for member in members:
        if assembly._template_call(member, ctx):
            out.append((member, ctx))
    if isinstance(expr, E.Call) and expr.kwarg("prompt") is not None:
        out.append((expr.kwarg("prompt"), ctx))
    return out


def _pipe_members(expr, out):
    if isinstance(expr, E.BinOp) and expr.op == "|":
        _pipe_members(expr.left, out)
        _pipe_members(expr.right, out)
    else:
        out.append(expr)


def _arg_definition(path: str, site, key) -> Definition | None:
    for arg_key, span in getattr(site, "arg_spans", ()):
        if arg_key == key:
            return Definition(path, span, "")
    call = site.call
    return Definition(path, Span(call.line, call.col, call.end_line, call.end_col), "")


def _argument(fn, param: str, call: E.Call):
    """(the expression passed for `param` of `fn` at `call`, its argument key) - the default with key None."""
    value = call.kwarg(param)
    if value is not None:
        return value, param
    params = list(fn.params)
    is_static = any(E.dotted(d) == "staticmethod" for d in fn.decorators)
    if fn.cls and params and params[0] in ("self", "cls") and not is_static:
        params = params[1:]
    if param in params:
        position = params.index(param)
        starred = [i for i, a in enumerate(call.args) if isinstance(a, E.Unknown) and a.kind == "Starred"]
        if position < len(call.args) and not (starred and starred[0] <= position):
            return call.args[position], position
        if call.has_star:
            return None, None
    if param in fn.defaults:
        return fn.defaults[param], None
    return None, None


def _bind_arguments(fn, call: E.Call, ctx, line, env):
    for param in fn.params:
        arg, key = _argument(fn, param, call)
        if arg is not None and key is not None:
            yield (param, arg, ctx, line, env)


def _one_path(extras, size) -> list:
    """The additions (`+=`, appends) one run can make: of those in different arms of one `if`, the smallest."""
    chosen: list = []
    for extra in extras:
        clash = [c for c in chosen if exclusive(c, extra)]
        if not clash:
            chosen.append(extra)
        elif size(extra) < sum(size(c) for c in clash):
            chosen = [c for c in chosen if c not in clash] + [extra]
    return sorted(chosen, key=lambda a: a.line)


def _defined(text: PromptText, binding: Binding) -> PromptText:
    assign = binding.assign
    sources = text.sources | {(binding.ctx.path, assign.line)}
    if text.definition is not None or assign.span is None or not assign.target:
        return replace(text, sources=sources)
    return replace(text, definition=Definition(binding.ctx.path, assign.span, assign.target), sources=sources)


def _template_kind(name: str) -> str | None:
    """What a LangChain/LlamaIndex prompt constructor makes, from its qualified name."""
    parts = name.split(".")
    last = parts[-1]
    before = parts[-2] if len(parts) > 1 else ""
    if last == "from_messages" and before in TEMPLATE_CLASSES or last == "ChatPromptTemplate":
        return "chat"
    if last == "from_template" and before in MESSAGE_CLASSES:
        return "message-template"
    if last == "from_template" and before in TEMPLATE_CLASSES or last in ("PromptTemplate", "RichPromptTemplate"):
        return "template"
    if last == "from_file" and before in TEMPLATE_CLASSES:
        return "file"
    if last in MESSAGE_CLASSES and len(parts) > 1:
        return "message"
    if last == "MessagesPlaceholder":
        return "placeholder"
    return None


def _first(d: E.DictExpr, *keys):
    for key in keys:
        if d.get(key) is not None:
            return d.get(key)
    return None


def _role_of(expr) -> str | None:
    if isinstance(expr, E.Const) and isinstance(expr.value, str):
        return ROLES.get(expr.value.lower())
    if isinstance(expr, E.Attr):
        return ROLES.get(expr.attr.lower())
    return None


def _separated(parts):
    for i, part in enumerate(parts):
        if i:
            yield PromptText(("\n\n",))
        yield part


# -- text operations --------------------------------------------------------------------------------------------

_SENTINEL = "\ue000"


def _transform(pieces, apply):
    """Apply a str -> str function to pieces, keeping holes in place."""
    holes = [p for p in pieces if isinstance(p, Hole)]
    joined = "".join(p if isinstance(p, str) else _SENTINEL for p in pieces)
    done = apply(joined)
    out = []
    for i, chunk in enumerate(done.split(_SENTINEL)):
        if i:
            out.append(holes[i - 1] if i - 1 < len(holes) else Hole("..."))
        out.append(chunk)
    return _norm(out)


def _text_method(pieces, method):
    if method in ("strip", "lstrip", "rstrip"):
        return _transform(pieces, getattr(str, method))
    return pieces


def _format(pieces, args, kwargs):
    out, auto = [], 0
    for piece in pieces:
        if isinstance(piece, Hole):
            out.append(piece)
            continue
        try:
            parsed = list(string.Formatter().parse(piece))
        except ValueError:
            out.append(piece)
            continue
        for literal, field_name, spec, conversion in parsed:
            out.append(literal)
            if field_name is None:
                continue
            head = re.match(r"\w*", field_name).group(0)
            if head == "":
                key, auto = auto, auto + 1
            else:
                key = int(head) if head.isdigit() else head
            value = (args[key] if key < len(args) else None) if isinstance(key, int) else kwargs.get(key)
            if value is None or field_name[len(head):] or not value.is_known:
                out.append(Hole(field_name or str(key)))
            else:
                out.extend(value.pieces)
    return _norm(out)


_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[hlL]?([diouxXeEfFgGcrsa%])")


def _percent(pieces, args, kwargs):
    out, position = [], 0
    for piece in pieces:
        if isinstance(piece, Hole):
            out.append(piece)
            continue
        last = 0
        for match in _PERCENT.finditer(piece):
            out.append(piece[last:match.start()])
            last = match.end()
            if match.group(2) == "%":
                out.append("%")
                continue
            if match.group(1):
                value = kwargs.get(match.group(1))
            else:
                value = args[position] if position < len(args) else None
                position += 1
            out.extend(value.pieces if value is not None and value.pieces else (Hole(match.group(1) or "%s"),))
        out.append(piece[last:])
    return _norm(out)


_TEMPLATE_VAR = re.compile(r"\{\{|\}\}|\{([^{}\n]{1,60})\}")


def _template_holes(pieces):
    """A template's `{variable}`s as holes (`{{`/`}}` as braces)."""
    out = []
    for piece in pieces:
        if isinstance(piece, Hole):
            out.append(piece)
            continue
        last = 0
        for match in _TEMPLATE_VAR.finditer(piece):
            out.append(piece[last:match.start()])
            last = match.end()
            out.append(Hole(match.group(1).strip()) if match.group(1) is not None else match.group(0)[0])
        out.append(piece[last:])
    return _norm(out)


def _join_path(left, right):
    if left is None or right is None:
        return None
    relative = left.endswith("\0rel")
    joined = os.path.join(_strip_rel(left), right)
    return joined + "\0rel" if relative else joined


def _strip_rel(path):
    return path[:-4] if path and path.endswith("\0rel") else path


# -- jobs ---------------------------------------------------------------------------------------------------------

# Imperative verbs that ask for an output of their own, grouped when they ask for the same kind of output.
JOB_VERBS = {
    "answer": "answer", "respond": "answer", "reply": "answer",
    "summarize": "summarize", "summarise": "summarize",
    "translate": "translate",
    "classify": "classify", "categorize": "classify", "categorise": "classify", "label": "classify", "tag": "classify",
    "detect": "detect", "spot": "spot", "flag": "flag",
    "extract": "extract",
    "write": "write", "draft": "write", "compose": "write",
    "generate": "generate", "create": "generate",
    "rewrite": "rewrite", "rephrase": "rewrite", "paraphrase": "rewrite",
    "decide": "decide",
    "rate": "rate", "score": "rate", "grade": "rate",
    "evaluate": "evaluate", "assess": "evaluate",
    "recommend": "recommend", "suggest": "recommend", "propose": "recommend",
    "predict": "predict", "forecast": "predict", "estimate": "estimate",
    "calculate": "calculate", "compute": "calculate",
    "list": "list", "explain": "explain", "compare": "compare", "critique": "critique", "proofread": "proofread",
    "convert": "convert", "outline": "outline", "redact": "redact", "prioritize": "prioritize", "prioritise": "prioritize",
}
# After the verb, these make it a manner rule ("Answer in French", "Write concisely"), not a job.
_MANNER = frozenset({"in", "like", "with", "only", "as", "using", "without", "within", "under", "based", "at", "so", "to",
                     "and", "or", "for", "from", "on", "by", "if", "when", "always", "never", "exactly", "strictly"})
_LEADS = frozenset({"also", "then", "finally", "next", "additionally", "lastly", "afterwards", "moreover", "furthermore",
                    "and", "please", "now", "second", "third", "first"})
_CONDITIONS = frozenset({"if", "when", "unless", "where", "once", "after", "before", "whenever", "for"})
_NUMBERED = re.compile(r"^[ \t]*(?P<marker>\(?\d{1,2}[.)]|\(?[a-hA-H]\)|(?:Step|Task|Job)[ \t]+\d{1,2}[ \t]*[:.)-])[ \t]+(?P<body>.+)$", re.M)
_INLINE_NUMBERED = re.compile(r"(?:^|[\s:;,])\(?(\d{1,2})\)[ \t]+([^\n]+?)(?=[\s,;]+\(?\d{1,2}\)[ \t]|[.;]?$|\n)", re.M)
_BULLET = re.compile(r"^[ \t]*[-*\u2022][ \t]+(.+)$", re.M)
_CONNECTOR = re.compile(r"(?:^|(?<=[.!?:]\s)|(?<=\n))[ \t]*(?:Also|Additionally|In addition|Then|Next|Finally|Lastly|After that|Afterwards|Moreover|Furthermore)\b,?[ \t]+([^.\n]+)")
_TASK_INTRO = re.compile(r"(?i)\b(?:tasks?|jobs?|the following|you (?:must|will|should)|do all|responsibilit|goals?)\b")


def task_instructions(text: str) -> list[str]:
    """The distinct jobs a prompt asks for, as the verbs that ask for them (`classify`, `summarize`, ...).

    Counted: items of numbered or lettered lists, "Step N"/"Task N" items, bullet items under a line that introduces
    tasks ("Your tasks:", "Do the following:"), and sentences opened by "Also"/"Then"/"Finally"/..., when they start
    with an imperative verb that asks for an output (not a manner rule such as "Answer in French"). Jobs asking
    for the same kind of output (five "Extract ..." items) count once."""
    found = []
    for block in _numbered_blocks(text):
        jobs = [_job_of(item) for item in block]
        if 2 * sum(job is not None for job in jobs) >= len(block):  # a list of jobs, not a how-to with one verb in it
            found.extend(jobs)
    found += [_job_of(item) for item in _introduced_bullets(text)]
    found += [_job_of(m.group(1)) for m in _CONNECTOR.finditer(text)]
    jobs = []
    for job in found:
        if job is not None and job not in jobs:
            jobs.append(job)
    return jobs


def _numbered_blocks(text: str) -> list[list[str]]:
    """Numbered or lettered lists, each as its items' first lines; a list restarts at 1 (or a)."""
    blocks: list[list[str]] = []
    for match in _NUMBERED.finditer(text):
        marker = re.sub(r"\D", "", match.group("marker")) or match.group("marker").strip("()").lower()
        if not blocks or marker in ("1", "a"):
            blocks.append([])
        blocks[-1].append(match.group("body"))
    for line in text.splitlines():
        if not _NUMBERED.match(line):
            inline = [m.group(2) for m in _INLINE_NUMBERED.finditer(line)]
            if len(inline) > 1:
                blocks.append(inline)
    return blocks


def count_tasks(text: str) -> int:
    return len(task_instructions(text))


def _introduced_bullets(text: str) -> list[str]:
    """Bullet items under a line that introduces them as tasks (continuation lines of an item are skipped)."""
    out, intro, item_indent = [], "", None
    for line in text.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        match = _BULLET.match(line)
        if match:
            if _TASK_INTRO.search(intro):
                out.append(match.group(1))
            item_indent = indent if item_indent is None else min(item_indent, indent)
        elif item_indent is None or indent <= item_indent:
            intro, item_indent = line, None
    return out


def _job_of(item: str) -> str | None:
    item = item.replace("**", "").replace("__", "").lstrip()
    if item[:1] in "\"'\u201c\u2018`>":
        return None  # a quoted example of a request ("Summarize this email"), not an instruction
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", item)
    if words and words[0].lower() in _CONDITIONS and "," in item:
        words = re.findall(r"[A-Za-z][A-Za-z'-]*", item.split(",", 1)[1])
    while words and words[0].lower() in _LEADS:
        words = words[1:]
    if not words:
        return None
    verb = words[0].lower()
    job = JOB_VERBS.get(verb)
    if job is None:
        return None
    following = words[1].lower() if len(words) > 1 else ""
    if not following or following in _MANNER or following.endswith("ly"):
        return None
    return job
