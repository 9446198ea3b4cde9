"""The one backward walk of the value-flow core (see the package docstring), configured by a `Query`.

`ValueFlow.flows(expr, ctx, line)` is the set of `Flow`s that reach `expr` as evaluated before `line` in the function
`ctx`. A flow's origin is the key a query gave its source (a model call's `(path, line, col)`), or `("param", name)`
while it is still a parameter of the function being walked. A function's summary is the flows of its return values:
its own sources' and its parameters' (Pysa's per-function summary); a call of it puts the argument's flows in place
of each parameter. Summaries are memoised per walk, a function met again while its summary is being made counts as
returning nothing, and every walk is bounded by depth, so it ends on any program.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.flow.calls import argument_for, calls_into
from llmlint.flow.reaching import bindings_table, reaching
from llmlint.link.bindings import scope_lookup
from llmlint.link.values import Ctx, Ext, Func

MAX_DEPTH = 40
TRANSPARENT = ("BooleanOperation", "unpack", "for", "Starred", "with")  # Unknown kinds whose children are the value


@dataclass(frozen=True)
class Flow:
    """A source's value reaching an expression: `origin` is the source's key, or ("param", name) inside a function
    summary; `tags` what happened to it on the way."""

    origin: tuple
    tags: frozenset = frozenset()

    @property
    def is_param(self) -> bool:
        return self.origin[0] == "param"

    def tagged(self, *tags) -> "Flow":
        return Flow(self.origin, self.tags | {t for t in tags if t})

    def without(self, tag) -> "Flow":
        return Flow(self.origin, self.tags - {tag}) if tag in self.tags else self


def element_tag(index: int) -> str:
    """The tag of a flow a function returns as element `index` of a tuple or list it builds in its `return`."""
    return f"element:{index}"


def in_element(flows, index: int) -> set:
    """The flows element `index` of an unpacked value holds (`text, score = answer_with_score(q)`): those the
    function returned in that place, and those returned whole (not in a literal tuple), which may be anywhere."""
    tag = element_tag(index)
    out = set()
    for flow in flows:
        if tag in flow.tags:
            out.add(flow.without(tag))
        elif not any(t.startswith("element:") for t in flow.tags if isinstance(t, str)):
            out.add(flow)
    return out


class Query:
    """One configuration of the walk: its sources, its barriers and how a value passes through calls and fields.
    The defaults pass a value through an attribute or a subscript and through nothing else."""

    caller_depth = 3  # how far a parameter still open at the asked expression is followed back through callers

    def source(self, walk: "ValueFlow", expr, ctx: Ctx):
        """The flows an expression starts (an empty set: a source whose value is already clean), or None: not a
        source. Names are not asked: their bindings are."""
        return None

    def through_call(self, walk: "ValueFlow", call: E.Call, ctx: Ctx, line, depth: int) -> set:
        """The flows the result of a call that is not a source carries."""
        return set()

    def through_field(self, flows, key: str | None, subscript: bool, index=None) -> set:
        """The flows `value.key` (or `value[index]`, `key` its string constant) carries, given `value`'s."""
        return set(flows)

    def is_barrier(self, walk: "ValueFlow", name: str, ctx: Ctx) -> bool:
        """A (dotted) name of the function `ctx` whose value is cleaned wherever it is used."""
        return False

    def checks(self, walk: "ValueFlow", test, value, ctx: Ctx) -> bool:
        """`test` of `value if test else other` cleans `value`."""
        return False

    def follows_caller(self, walk: "ValueFlow", caller) -> bool:
        """Whether to look for a parameter's flows among the arguments the function `caller` passes."""
        return True


class ValueFlow:
    def __init__(self, analysis, query: Query, tables: dict | None = None):
        self.analysis = analysis
        self.project = analysis.project
        self.query = query
        self._tables = tables if tables is not None else {}  # (path, qualname) -> bindings_table, shared by walks
        self._memo: dict = {}
        self._summaries: dict = {}
        self._attrs: dict = {}

    # questions
    def flows(self, expr, ctx: Ctx, line: int | None = None, callers: bool = True) -> frozenset:
        """The flows reaching `expr`. With `callers`, a parameter of the function that carries `expr` is followed back
        to the arguments the project's call sites pass."""
        raw = self.taint(expr, ctx, line, 0)
        out = {f for f in raw if not f.is_param}
        params = {f for f in raw if f.is_param}
        if params and callers:
            out |= self._from_callers(ctx, params, 0, set())
        return frozenset(out)

    def summary(self, func: Func, depth: int = 0) -> frozenset:
        """The flows a project function returns: its sources' and ("param", name) for the parameters it returns."""
        key = (func.path, func.qualname)
        if key in self._summaries:
            return self._summaries[key]
        self._summaries[key] = frozenset()  # recursion: assume nothing
        fn = self.project.function(func)
        out = set()
        if fn is not None:
            ctx = Ctx(func.path, fn.qualname)
            for value in fn.returns:
                if isinstance(value, E.Seq) and not any(isinstance(e, E.Unknown) and e.kind == "Starred" for e in value.elts):
                    for i, element in enumerate(value.elts):  # `return text, score`: each flow marked with its place
                        out |= {f.tagged(element_tag(i)) for f in self.taint(element, ctx, None, depth)}
                else:
                    out |= self.taint(value, ctx, None, depth)
        self._summaries[key] = frozenset(out)
        return self._summaries[key]

    def bindings(self, ctx: Ctx) -> dict:
        key = (ctx.path, ctx.function)
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = bindings_table(self.project.function(ctx))
        return table

    def callee(self, call: E.Call, ctx: Ctx):
        """What `call` calls: Project.resolve's answer, or `Ext("eval")` for a builtin nothing shadows."""
        callee = self.project.resolve(call.func, ctx, call.line)
        if callee is None and isinstance(call.func, E.Name) and self._is_builtin(call.func.id, ctx):
            callee = Ext(call.func.id)
        return callee

    # the walk
    def taint(self, expr, ctx: Ctx, line, depth: int) -> frozenset:
        if expr is None or depth > MAX_DEPTH or isinstance(expr, (E.Const, E.Compare, E.Lambda, E.Slice)):
            return frozenset()
        key = (expr, ctx, line)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = frozenset()  # cycle guard
        result = frozenset(self._taint(expr, ctx, line, depth + 1))
        self._memo[key] = result
        return result

    def union(self, exprs, ctx: Ctx, line, depth: int) -> set:
        out = set()
        for expr in exprs:
            out |= self.taint(expr, ctx, line, depth)
        return out

    def _taint(self, expr, ctx, line, depth):
        if isinstance(expr, E.Name):
            return self._name(expr.id, ctx, line, depth)
        started = self.query.source(self, expr, ctx)
        if started is not None:
            return set(started)
        if isinstance(expr, E.Attr):
            return self._attr(expr, ctx, line, depth)
        if isinstance(expr, E.Subscript):
            stored = self._stored(expr, ctx, line, depth)
            if stored is not None:
                return stored
            index = expr.index
            key = index.value if isinstance(index, E.Const) and isinstance(index.value, str) else None
            return self.query.through_field(self.taint(expr.value, ctx, line, depth), key, True, index)
        if isinstance(expr, E.Call):
            return self._call(expr, ctx, line, depth)
        if isinstance(expr, E.FStr):
            return self.union((p for p in expr.parts if not isinstance(p, str)), ctx, line, depth)
        if isinstance(expr, E.BinOp):
            return self.union((expr.left, expr.right), ctx, line, depth) if expr.op in ("+", "%") else set()
        if isinstance(expr, E.Seq):
            return self.union(expr.elts, ctx, line, depth)
        if isinstance(expr, E.DictExpr):
            return self.union((v for _, v in expr.items), ctx, line, depth)
        if isinstance(expr, E.Comp):
            return self.union(expr.iters + (expr.elt,), ctx, line, depth)
        if isinstance(expr, E.Await):
            return self.taint(expr.value, ctx, line, depth)
        if isinstance(expr, E.IfExp):
            body = set() if self.query.checks(self, expr.test, expr.body, ctx) else self.taint(expr.body, ctx, line, depth)
            return body | self.taint(expr.orelse, ctx, line, depth)
        if isinstance(expr, E.Unknown) and expr.kind == "unpack" and len(expr.children) == 2:
            return in_element(self.taint(expr.children[0], ctx, line, depth), expr.children[1].value)
        if isinstance(expr, E.Unknown) and expr.kind in TRANSPARENT:
            return self.union(expr.children, ctx, line, depth)
        return set()

    def _name(self, name, ctx, line, depth, dotted=False):
        if self.query.is_barrier(self, name, ctx):
            return set()
        found, plain = reaching(self.bindings(ctx).get(name, ()), line)
        out = set()
        for assign in found:
            out |= self.taint(assign.value, ctx, assign.line, depth)
        if plain:
            return out
        if dotted:
            return out or None
        fn = self.project.function(ctx)
        if fn is not None and fn.qualname != MODULE_SCOPE and name in fn.params:
            return out | {Flow(("param", name))}
        how, scope, _ = scope_lookup(self.project, name, ctx, line)  # the scope whose binding the additions extend
        if how == "assign" and scope.qualname != ctx.function:  # an enclosing function's or the module's
            return out | self._name(name, Ctx(ctx.path, scope.qualname), None, depth)
        return out

    def _attr(self, expr, ctx, line, depth):
        stored = self._stored(expr, ctx, line, depth)
        if stored is not None:
            return stored
        dotted = E.dotted(expr)
        if dotted is not None:
            found = self._name(dotted, ctx, line, depth, dotted=True)
            if found is not None:
                return found
            if dotted.count(".") == 1 and dotted.startswith("self."):
                found = self._self_attr(ctx, expr.attr, depth)
                if found is not None:
                    return found
        return self.query.through_field(self.taint(expr.base, ctx, line, depth), expr.attr, False)

    def _self_attr(self, ctx, attr, depth):
        """What `self.attr` holds in a method: the values any method of the class binds it to (None: none does)."""
        fn = self.project.function(ctx)
        if fn is None or not fn.cls:
            return None
        key = (ctx.path, fn.cls, attr)
        if key not in self._attrs:
            self._attrs[key] = None  # recursion guard
            out, seen = set(), False
            for method in self.project.indexes[ctx.path].functions.values():
                if method.cls != fn.cls:
                    continue
                mctx = Ctx(ctx.path, method.qualname)
                for assign in self.bindings(mctx).get(f"self.{attr}", ()):
                    seen = True
                    out |= self.taint(assign.value, mctx, assign.line, depth)
            self._attrs[key] = out if seen else None
        return self._attrs[key]

    def _stored(self, expr, ctx, line, depth):
        """What `expr` reads from a framework state store (`st.session_state.history`, `cl.user_session.get("h")`):
        every value the project writes under that key; None when `expr` reads no store."""
        read = self.project.store_read(expr, ctx, line)
        if read is None:
            return None
        out = set()
        for value, where, written, _ in self.project.store_writes(*read, ctx):
            out |= self.taint(value, where, written, depth)
        return out

    def _call(self, call, ctx, line, depth):
        stored = self._stored(call, ctx, line, depth)  # cl.user_session.get("history")
        if stored is not None:
            return stored
        return self.query.through_call(self, call, ctx, line, depth)

    def apply(self, call: E.Call, func: Func, ctx: Ctx, line, depth: int) -> set:
        """The flows the result of `call` (of the project function `func`) carries: its summary, each parameter's
        flow replaced by the flows of the argument given for it."""
        summary = self.summary(func, depth)
        if not summary:
            return set()
        fn = self.project.function(func)
        out = set()
        for flow in summary:
            if not flow.is_param:
                out.add(flow)
                continue
            arg = argument_for(call, fn, flow.origin[1])
            out |= {f.tagged(*flow.tags) for f in self.taint(arg, ctx, line, depth)}
        return out

    def _from_callers(self, ctx, params, depth, seen) -> set:
        """The flows the project's callers pass into `params` (("param", name) flows of the function `ctx`)."""
        node = (ctx.path, ctx.function)
        if depth >= self.query.caller_depth or node in seen:
            return set()
        seen.add(node)
        fn = self.project.function(ctx)
        out = set()
        for caller, site in calls_into(self.analysis, node):
            if not self.query.follows_caller(self, caller):
                continue
            caller_ctx = Ctx(*caller)
            for param in params:
                arg = argument_for(site.call, fn, param.origin[1])
                found = self.taint(arg, caller_ctx, site.stmt_line, 0) if arg is not None else ()
                out |= {f.tagged(*param.tags) for f in found if not f.is_param}
                upstream = {f.tagged(*param.tags) for f in found if f.is_param}
                if upstream:
                    out |= self._from_callers(caller_ctx, upstream, depth + 1, seen)
        return out

    def _is_builtin(self, name, ctx):
        fn = self.project.function(ctx)
        while fn is not None:
            if name in fn.params or name in fn.imports or name in self.bindings(Ctx(ctx.path, fn.qualname)):
                return False
            fn = self.project.function(Ctx(ctx.path, fn.parent)) if fn.parent else None
        idx = self.project.indexes.get(ctx.path)
        if idx is None or name in idx.functions or name in idx.classes or name in idx.imports or "*" in idx.imports:
            return False
        return name not in self.bindings(Ctx(ctx.path, MODULE_SCOPE))
