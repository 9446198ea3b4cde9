"""The linked project: module tables across files and the resolution of expressions to values.

Resolution is deliberately bounded (depth and memo) and answers None whenever it is not sure, so that rules
built on it stay precise.
"""

from __future__ import annotations

import os
from collections import defaultdict

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE, FunctionIndex, ModuleIndex
from llmlint.link import uievents
from llmlint.link.bindings import last_assign, scope_lookup
from llmlint.link.dictfills import SPREAD
from llmlint.link.dictfills import UNKNOWN as UNKNOWN_FILLS
from llmlint.link.dictfills import dict_fills, with_fills
from llmlint.link.sourceroots import ModuleSuffixes
from llmlint.link.stores import (
    STORE_PACKAGES,
    holds_keys_as_attributes,
    read_methods,
    store_of,
    write_methods,
)
from llmlint.link.tabling import MISSING, Table
from llmlint.link.values import Ctx, Ext, Func, Inst, Klass, Lit, Mod, Obj

MAX_DEPTH = 12
# Calls that return the function they are given, to be called later (maybe in a thread, maybe with bound arguments).
SAME_FUNCTION_WRAPPERS = frozenset({
    "chainlit.make_async", "asyncer.asyncify", "asgiref.sync.sync_to_async", "functools.partial", "functools.wraps",
    "functools.lru_cache", "functools.cache",
})  # (not the thread hand-offs, modelcalls.THREAD_HANDOFFS: they run the function and give its result)
BINDING_WRAPPERS = frozenset({"functools.partial"})  # ... whose keyword arguments go with every call
# Calls that return the client they are given, patched for structured output or traced: the result is that client.
SAME_CLIENT_WRAPPERS = frozenset({
    "instructor.from_openai", "instructor.from_anthropic", "instructor.from_groq", "instructor.from_mistral",
    "instructor.from_cohere", "instructor.from_gemini", "instructor.from_genai", "instructor.patch", "instructor.apatch",
    "langsmith.wrappers.wrap_openai", "langsmith.wrappers.wrap_anthropic", "braintrust.wrap_openai",
    "braintrust.wrap_anthropic", "opik.integrations.openai.track_openai", "opik.integrations.anthropic.track_anthropic",
})
IMPORT_MODULE = Ext("importlib.import_module")
LITERALS = (E.Const, E.FStr, E.BinOp, E.Seq, E.DictExpr)  # what resolves to itself (`Lit`), but a LangChain pipe
CONTEXT_MANAGERS = (Ext("contextlib.contextmanager"), Ext("contextlib.asynccontextmanager"))
INJECTOR = Ext("fastapi.Depends")  # (fastapi.params.Depends is what `from fastapi import Depends` names too)
MAX_CALLER_SITES = 24  # calls of one name weighed to learn what a parameter holds
PROPERTY_DECORATORS = frozenset({"property", "cached_property"})
STORE_WRITES = frozenset({"=", "+=", "append", "extend", "insert"})  # a value put under a key, or added to one
MAX_LINK_DEPTH = 48  # a top-level name followed through this many imports and re-exports is "don't know" (real code: < 6)


def is_foreign_sdk(imported: str, importer: str) -> bool:
    """Whether `imported` belongs to a model SDK or framework other than the package `importer` is part of."""
    from llmlint.engine.prefilter import is_sdk_module

    return is_sdk_module(imported) and imported.split(".", 1)[0] != importer.split(".", 1)[0]


class Project:
    def __init__(self, indexes: list[ModuleIndex], project_roots: dict[str, str] | None = None):
        self.indexes: dict[str, ModuleIndex] = {idx.path: idx for idx in indexes}
        self.roots = project_roots or {}
        self._by_name: dict[str, list[ModuleIndex]] = defaultdict(list)
        for idx in indexes:
            self._by_name[idx.module].append(idx)
        self._answers = Table()  # resolve, top-level names and what callers pass, memoised whatever the order asked
        self._memo = self._answers.done
        self._assign_tables: dict = {}
        self._stores: dict | None = None
        self._dict_fill_tables: dict = {}
        self._sites_by_name: dict | None = None
        self._in_project: dict[str, str] = {}
        self._top_level_functions: dict | None = None  # name -> paths of the modules defining a function of that name
        self._ui_events: list | None = None
        self._suffixes: ModuleSuffixes | None = None
        self._alternatives = None  # link/alternatives.Alternatives, made on first use

    # modules and functions
    def module_named(self, name: str, near: str | None = None) -> ModuleIndex | None:
        candidates = self._by_name.get(name)
        if not candidates:
            if self._suffixes is None:
                self._suffixes = ModuleSuffixes(self._by_name, ((idx.module, idx.path) for idx in self.indexes.values()))
            rooted = self._suffixes.unique(name)  # `functionz.core.framework` for babyagi/functionz/core/framework.py
            candidates = self._by_name.get(rooted) if rooted else None
            if not candidates:
                return None
        if near is not None:
            root = self.roots.get(near)
            for idx in candidates:
                if self.roots.get(idx.path) == root:
                    return idx
            # another project's plain module (its `app/streamlit.py`) is not what this project's `import streamlit` names;
            # another project's package may be shared code
            candidates = [idx for idx in candidates if idx.is_package or "." in idx.module]
            if not candidates:
                return None
        return candidates[0]

    def function(self, ctx_or_func) -> FunctionIndex | None:
        path, qualname = (ctx_or_func.path, ctx_or_func.function if isinstance(ctx_or_func, Ctx) else ctx_or_func.qualname)
        idx = self.indexes.get(path)
        return idx.functions.get(qualname) if idx else None

    def functions(self):
        """Every (ModuleIndex, FunctionIndex) of the project, module scopes included."""
        for idx in self.indexes.values():
            for fn in idx.functions.values():
                yield idx, fn

    def project_root(self, path: str) -> str:
        return self.roots.get(path, "")

    def path_in_project(self, path: str) -> str:
        """`path` relative to its project's root (itself where the root is not known), worked out once a path."""
        found = self._in_project.get(path)
        if found is None:
            root = self.project_root(path)
            found = self._in_project[path] = os.path.relpath(path, root) if root else path
        return found

    # resolution
    def resolve(self, expr, ctx: Ctx, at_line: int | None = None, depth: int = 0):
        if expr is None:
            return None
        if depth > MAX_DEPTH:
            self._answers.cut_short()
            return None
        if isinstance(expr, LITERALS) and not (isinstance(expr, E.BinOp) and expr.op == "|"):
            return Lit(expr, ctx)  # (answered at once: not kept, the memo would hold every literal asked about)
        key = (expr, ctx, at_line)
        value = self._memo.get(key, MISSING)
        if value is not MISSING:
            return value
        return self._answers.ask(key, depth, self._resolve, expr, ctx, at_line, depth + 1)

    def _resolve(self, expr, ctx, at_line, depth):
        if isinstance(expr, E.Name):
            return self.resolve_name(expr.id, ctx, at_line, depth)
        if isinstance(expr, E.Attr):
            return self._resolve_attr(expr, ctx, at_line, depth)
        if isinstance(expr, E.Call):
            return self._resolve_call(expr, ctx, depth)
        if isinstance(expr, E.Await):
            return self.resolve(expr.value, ctx, at_line, depth)
        if isinstance(expr, E.BinOp) and expr.op == "|":
            return self._resolve_pipe(expr, ctx, at_line, depth)
        if isinstance(expr, E.Subscript):  # st.session_state["chain"]
            read = self.store_read(expr, ctx, at_line, depth)
            if read is not None:
                return self.stored_value(*read, ctx, depth)
            return self._item(expr, ctx, at_line, depth)
        if isinstance(expr, E.IfExp):  # `Async() if is_async else Sync()`: the first arm that resolves
            return self._first_known((expr.body, expr.orelse), ctx, at_line, depth)
        if isinstance(expr, E.Unknown) and expr.kind == "BooleanOperation":  # `client or OpenAI()`
            return self._first_known(expr.children, ctx, at_line, depth)
        if isinstance(expr, E.Unknown) and expr.kind == "unpack" and len(expr.children) == 2:
            return self._unpacked(expr.children[0], expr.children[1].value, ctx, at_line, depth)
        return None

    def _item(self, expr: E.Subscript, ctx: Ctx, at_line, depth: int):
        """`CLIENTS["openai"]`, `self.clients["openai"]`: the value under a literal key of a dict built by the project
        (literal, `dict(...)`, filled in place), or an element of a literal list or tuple at a literal position."""
        key = expr.index.value if isinstance(expr.index, E.Const) else None
        if isinstance(key, str):
            found = self._dict_items(expr.value, ctx, at_line, 0)
            matches = [(value, where) for item_key, value, where in (found[0] if found else ()) if item_key == key]
            return self.resolve(matches[-1][0], matches[-1][1], None, depth) if matches else None  # the last one set
        if isinstance(key, int) and not isinstance(key, bool):
            return self._element(expr.value, key, ctx, at_line, depth)
        if key is None:
            return self._any_value(expr.value, ctx, at_line, depth) or self._stored_under_computed_key(expr, ctx, depth)
        return None

    def _any_value(self, mapping, ctx: Ctx, at_line, depth: int):
        """`SPECIALISTS[kind]` (or `.get(kind)`) of a dict the project builds whose values are all objects of one
        class (agents or clients of one SDK, one per use): the first of them; else None."""
        found = self._dict_items(mapping, ctx, at_line, 0)
        if found is None or found[1] or not found[0]:
            return None
        values = [self.resolve(value, where, None, depth) for _, value, where in found[0]]
        if not all(isinstance(v, (Obj, Inst)) for v in values) or len({getattr(v, "cls", None) or (v.path, v.qualname)
                                                                       for v in values}) != 1:
            return None
        return values[0]

    def _stored_under_computed_key(self, expr: E.Subscript, ctx: Ctx, depth: int):
        """`self._clients[key]` of a cache the module fills under keys known at run time
        (`self._clients[key] = AsyncOpenAI(api_key=key)`): the first value stored that way that resolves."""
        name = E.dotted(expr.value)
        if name is None:
            return None
        for fn in self.indexes[ctx.path].functions.values():
            for assign in fn.assigns:
                target = assign.target_expr
                if (assign.op == "=" and isinstance(target, E.Subscript) and not isinstance(target.index, E.Const)
                        and E.dotted(target.value) == name):
                    value = self.resolve(assign.value, Ctx(ctx.path, fn.qualname), None, depth + 1)
                    if is_something(value):
                        return value
        return None

    def _element(self, source, position: int, ctx: Ctx, at_line, depth: int):
        """Element `position` of the literal list or tuple `source` holds, else None."""
        held = self.resolve(source, ctx, at_line, depth)
        if isinstance(held, Lit) and isinstance(held.expr, E.Seq) and -len(held.expr.elts) <= position < len(held.expr.elts):
            return self.resolve(held.expr.elts[position], held.ctx, None, depth)
        return None

    def _iterated(self, value, ctx: Ctx, line: int, depth: int):
        """What the target of `for client in PROVIDERS:` holds: the first item that resolves of the literal list or
        tuple iterated (fallback loops over clients, one per provider), else unknown."""
        if not (isinstance(value, E.Unknown) and value.kind == "for" and value.children):
            return None
        held = self.resolve(value.children[0], ctx, line, depth)
        if isinstance(held, Lit) and isinstance(held.expr, E.Seq):
            return self._first_known(held.expr.elts, held.ctx, None, depth)
        return None

    def _unpacked(self, source, position: int, ctx, at_line, depth):
        """Element `position` of what `source` holds when it is unpacked: a tuple or list the project function it
        calls returns (`client, model = load_llm()`; when its returns give different values, as a helper choosing
        between providers does, unknown), or a literal one it names."""
        if isinstance(source, E.Call):
            func = self.resolve(source.func, ctx, at_line, depth)
            fn = self.function(func) if isinstance(func, Func) else None
            found = {self.resolve(value.elts[position], Ctx(func.path, fn.qualname), None, depth)
                     for value in (fn.returns if fn is not None else ())
                     if isinstance(value, E.Seq) and len(value.elts) > position}
            found = {value for value in found if is_something(value)}  # (`return None, None` when setup failed)
            return found.pop() if len(found) == 1 else None
        return self._element(source, position, ctx, at_line, depth)

    def alternatives(self, expr, ctx: Ctx, at_line: int | None = None) -> tuple:
        """Every value `expr` may hold, resolve's answer first (link/alternatives.py): what a call may dispatch to."""
        if self._alternatives is None:
            from llmlint.link.alternatives import Alternatives

            self._alternatives = Alternatives(self)
        return self._alternatives.of(expr, ctx, at_line)

    def _first_known(self, options, ctx, at_line, depth):
        """The value of the first of `options` that resolves to something other than `None` (an unset parameter or
        a `None` default falls through to the object built beside it)."""
        typed_only = None  # an object known only by a parameter's type: an object built beside it says more
        for option in options:
            value = self.resolve(option, ctx, at_line, depth)
            if isinstance(value, Obj) and value.ctor is None and not value.chain and not value.parts:
                typed_only = typed_only or value
            elif is_something(value):
                return value
        return typed_only

    def resolve_name(self, name: str, ctx: Ctx, at_line=None, depth=0):
        how, fn, what = scope_lookup(self, name, ctx, at_line)
        idx = self.indexes[ctx.path]
        if how == "import":
            return self._resolve_import(what, idx, depth)
        if how == "assign":
            chosen, assigns = what
            if chosen.op == "for":
                return self._iterated(chosen.value, Ctx(ctx.path, fn.qualname), chosen.line, depth)
            value = self._assigned_value(chosen, assigns, Ctx(ctx.path, fn.qualname), depth)
            if is_something(value) or fn.qualname != MODULE_SCOPE or name not in idx.imports:
                return value
            return self._resolve_import(idx.imports[name], idx, depth)  # `except ImportError: Agent = None`
        if how == "param":
            return self._resolve_param(fn, name, Ctx(ctx.path, fn.qualname), depth)
        if how == "def":
            return what
        value = self._resolve_global(idx, name, depth)
        if value is None and not _binds(idx, name):
            return self._injected(idx, name)
        return value

    def _injected(self, idx: ModuleIndex, name: str):
        """A name the module uses but never binds, and that is no builtin: it exists at run time only because something
        put it into the module's namespace (a plugin registry that `exec`s registered functions with their
        dependencies, `globals().update(...)`). An SDK's top-level name is that SDK (`litellm.completion(...)`), and
        the project's only top-level function of that name is that function (`gpt_call(prompt)`); else unknown.
        A module that star-imports from outside the project may have the name from there: unknown."""
        from llmlint.engine.prefilter import BUILTIN_NAMES, is_sdk_module

        if name in BUILTIN_NAMES or any(self.module_named(star, idx.path) is None for star in idx.imports.get("*", ())):
            return None
        if is_sdk_module(name):
            return Ext(name)
        if self._top_level_functions is None:
            self._top_level_functions = defaultdict(list)
            for other in self.indexes.values():
                for qualname in other.functions:
                    if "." not in qualname and qualname != MODULE_SCOPE:
                        self._top_level_functions[qualname].append(other.path)
        root = self.project_root(idx.path)
        defined = [path for path in self._top_level_functions.get(name, ()) if self.project_root(path) == root]
        return Func(defined[0], name) if len(defined) == 1 and defined[0] != idx.path else None

    def _assigned_value(self, chosen, assigns, ctx: Ctx, depth: int):
        """The value of the assignment `chosen`; when that is a bare `None` (`client = None` in an except, a lazy
        global) or unknown (the other arm of a try/except or if/else builds it from something unseen), the value of
        the nearest other assignment that is something."""
        value = self.resolve(chosen.value, ctx, chosen.line - 1, depth)
        if is_something(value):
            return value
        for other in reversed(assigns):
            if other is chosen or other.op == "for" or (value is None and other.line > chosen.line):
                continue  # an unknown value is replaced only by what was assigned before it (the other arm)
            found = self.resolve(other.value, ctx, other.line - 1, depth)
            if is_something(found):
                return found
        return value

    def plain_assigns(self, path: str, fn: FunctionIndex, name: str) -> list:
        """The plain assignments (`=`, `with`, `for`) to `name` in `fn`, in source order (indexed once per function)."""
        key = (path, fn.qualname)
        table = self._assign_tables.get(key)
        if table is None:
            table = {}
            for assign in fn.assigns:
                if assign.op in ("=", "with", "for") and assign.target:
                    table.setdefault(assign.target, []).append(assign)
            self._assign_tables[key] = table
        return table.get(name, ())

    def _resolve_global(self, idx: ModuleIndex, name: str, depth: int):
        """The value of the top-level `name` of module `idx`. Imports may form any graph (two modules taking a name
        from each other, an `__init__` star-importing a module that imports the package, a module named like the
        stdlib one it imports from): a name met again while it is being resolved is worked out as a cycle (tabling.py),
        one too far down is unknown; each is looked for once (star imports that fan out and meet again would otherwise
        be searched once per path, exponentially many)."""
        if depth > MAX_LINK_DEPTH:
            self._answers.cut_short()
            return None
        return self._answers.ask(("global", idx.path, name), depth, self._global, idx, name, depth)

    def _global(self, idx: ModuleIndex, name: str, depth: int):
        if name in idx.functions and name != MODULE_SCOPE:
            return Func(idx.path, name)
        if name in idx.classes:
            return Klass(idx.path, name)
        module_fn = idx.functions[MODULE_SCOPE]
        assigns = self.plain_assigns(idx.path, module_fn, name)
        assign = last_assign(assigns, None)
        if assign is not None and assign.op != "for":
            value = self._assigned_value(assign, assigns, Ctx(idx.path, MODULE_SCOPE), depth)
            if is_something(value) or name not in idx.imports:
                return value  # (`try: from chat import Agent` / `except ImportError: Agent = None` is the import)
        if name in idx.imports:
            return self._resolve_import(idx.imports[name], idx, depth)
        for star in idx.imports.get("*", ()):
            target = self.module_named(star, idx.path)
            if target is not None and target is not idx:
                found = self._symbol(target, name, depth)
                if found is not None:
                    return found
        return None

    def _resolve_import(self, qualified: str, idx: ModuleIndex, depth: int):
        if is_foreign_sdk(qualified, idx.module):
            return Ext(qualified)  # an SDK's own sources in the checked tree are still the SDK to its users
        target = self.module_named(qualified, idx.path)
        if target is not None:
            return Mod(target.path)
        module, _, attr = qualified.rpartition(".")
        owner = self.module_named(module, idx.path) if module else None
        if owner is not None:
            found = self._symbol(owner, attr, depth)
            return found if found is not None else None
        return Ext(qualified)

    def _symbol(self, idx: ModuleIndex, name: str, depth: int):
        """A top-level name of a project module (re-exports through imports included)."""
        return self._resolve_global(idx, name, depth + 1)

    def _resolve_param(self, fn: FunctionIndex, name: str, ctx: Ctx, depth: int):
        if name == "self" and fn.cls:
            return Inst(ctx.path, fn.cls)
        if name == "cls" and fn.cls:  # a classmethod's class: `cls(llm)` builds an instance
            return Klass(ctx.path, fn.cls)
        passed = self._passed_by_callers(fn, name, ctx, depth)
        if passed is not None:
            return passed
        if self.ui_events():  # a Gradio handler's parameter fed by a gr.State another handler fills
            wired = uievents.state_input(self, Func(ctx.path, fn.qualname), list(fn.params).index(name), depth)
            if wired is not None:
                return wired
        default = fn.defaults.get(name)
        if default is None and fn.annotations.get(name):  # `client: ClientDep`, `ClientDep = Annotated[OpenAI, Depends(...)]`
            default = self._aliased_dependency(fn.annotations[name], ctx)
        if isinstance(default, E.Call) and default.args and self.resolve(default.func, ctx, None, depth) == INJECTOR:
            # FastAPI dependency injection: `client: OpenAI = Depends(get_client)` holds what get_client returns
            # (or yields: a dependency written as a generator hands over what it yields)
            provider = self.resolve(default.args[0], ctx, None, depth)
            if isinstance(provider, Func) and (fn_of := self.function(provider)) is not None and fn_of.yields \
                    and not any(r is not None for r in fn_of.returns):
                return self.yielded_value(provider, depth)
            return self._resolve_call(E.Call(default.args[0], (), (), default.line, default.col, default.end_line,
                                             default.end_col), ctx, depth)
        annotation = fn.annotations.get(name)
        if annotation:
            cls = self.resolve(_dotted_expr(annotation), ctx, None, depth)
            if isinstance(cls, Ext):
                return Obj(cls.name)
            if isinstance(cls, Klass):
                return Inst(cls.path, cls.qualname)
        if name in fn.defaults:
            # a default only tells what the parameter holds when callers pass nothing: trust it for objects
            # (a client), never for constants (a model name callers may override)
            value = self.resolve(default, ctx, None, depth)
            return value if not isinstance(value, Lit) else None
        return None

    def ui_events(self) -> list:
        """Gradio event wiring calls of the project (uievents.events), gathered once."""
        if self._ui_events is None:
            self._ui_events = uievents.events(self)
        return self._ui_events

    def _aliased_dependency(self, alias: str, ctx: Ctx):
        """The `Depends(...)` of a type alias `ClientDep = Annotated[OpenAI, Depends(get_client)]`, as a Call whose
        callee is written where it is used: None when `alias` is not such a module-level alias."""
        if "." in alias:
            return None
        how, fn, what = scope_lookup(self, alias, Ctx(ctx.path, MODULE_SCOPE), None)
        if how != "assign" or fn.qualname != MODULE_SCOPE:
            return None
        return E.annotated_dependency(what[0].value)

    def _passed_by_callers(self, fn: FunctionIndex, name: str, ctx: Ctx, depth: int):
        """The object every call of `fn` in the project passes for its parameter `name` (`Service(client)` for
        `__init__(self, client)`, `reply(llm, text)`), when they all pass one and the same constructed object;
        else None. A Lit is never taken from callers (a model name is each caller's own)."""
        if fn.qualname == MODULE_SCOPE or fn.name.startswith("<"):
            return None
        params = list(fn.params)
        index = params.index(name) - (1 if fn.cls and params and params[0] in ("self", "cls") else 0)
        owner = fn.cls if fn.name == "__init__" else None
        wanted = Klass(ctx.path, owner) if owner else Func(ctx.path, fn.qualname)
        return self._passed_to(wanted, owner.rsplit(".", 1)[-1] if owner else fn.name, name, index, depth)

    def _passed_to(self, wanted, called_as: str, name: str, index: int, depth: int):
        """The one object every call of `wanted` (a Func, or a Klass constructed) passes as keyword `name` or at
        position `index` (-1: by keyword only); None when a call passes nothing there, or they differ."""
        return self._answers.ask(("passed", wanted, name), depth, self._passed_to_uncached, wanted, called_as, name, index,
                                 depth)  # (a call cycle asks again while this is worked out: see tabling.py)

    def _passed_to_uncached(self, wanted, called_as: str, name: str, index: int, depth: int):
        found = None
        sites = self._sites_named(called_as)
        if len(sites) > MAX_CALLER_SITES:
            return None  # a name called all over the project (`get`, `run`): too many sites to weigh, and rarely one object
        if isinstance(wanted, Klass):  # factories: `return cls(llm, ...)` in a classmethod
            sites = [*sites, *(s for s in self._sites_named("cls") if s[0] == wanted.path)]
        from llmlint.knowledge.handling import in_test_module

        shipped = [s for s in sites if not in_test_module(self, s[0])]
        if shipped:  # a test that builds the object with a fake says nothing about what the application passes
            sites = shipped
        for path, caller, site in sites:
            where = Ctx(path, caller)
            if self.resolve(site.call.func, where, site.call.line, depth) != wanted:
                continue
            arg = site.call.kwarg(name)
            if arg is None and 0 <= index < len(site.call.args) and not site.call.has_star:
                arg = site.call.args[index]
            if arg is None:
                return None  # this caller leaves the default, or passes it in a way not followed
            value = self.resolve(arg, where, site.call.line, depth)
            if not isinstance(value, (Obj, Inst)) or (found is not None and value != found):
                return None
            found = value
        return found

    def _sites_named(self, name: str) -> list:
        """(path, function qualname, CallSite) of every call whose callee's last name is `name`."""
        if self._sites_by_name is None:
            table = {}
            for idx in self.indexes.values():
                for fn in idx.functions.values():
                    for site in fn.calls:
                        func = site.call.func
                        last = func.attr if isinstance(func, E.Attr) else func.id if isinstance(func, E.Name) else None
                        if last is not None:
                            table.setdefault(last, []).append((idx.path, fn.qualname, site))
            self._sites_by_name = table
        return self._sites_by_name.get(name, ())

    def _resolve_attr(self, expr: E.Attr, ctx, at_line, depth):
        base = self.resolve(expr.base, ctx, at_line, depth)
        if base is None:
            return None
        read = self.store_read(expr, ctx, at_line, depth)
        if read is not None:
            found = self.stored_value(*read, ctx, depth)  # st.session_state.chain, app.state.llm
            if found is not None:
                return found
        return self.member(base, expr.attr, depth)

    def member(self, base, attr: str, depth: int = 0):
        if isinstance(base, Ext):
            return Ext(f"{base.name}.{attr}")
        if isinstance(base, Obj):
            return base.attr(attr)
        if isinstance(base, Mod):
            return self._symbol(self.indexes[base.path], attr, depth)
        if isinstance(base, (Inst, Klass)):
            return self._class_member(base.path, base.qualname, attr, depth)
        return None

    def _class_member(self, path: str, cls_qualname: str, attr: str, depth: int, seen=None):
        seen = seen or set()
        if (path, cls_qualname) in seen:
            return None
        seen.add((path, cls_qualname))
        idx = self.indexes[path]
        method = f"{cls_qualname}.{attr}"
        if method in idx.functions:
            fn = idx.functions[method]
            if any((E.dotted(d) or "").rsplit(".", 1)[-1] in PROPERTY_DECORATORS for d in fn.decorators):
                return self.returned_value(Func(path, method), depth)  # `self.client` of `@property def client`
            return Func(path, method)
        cls = idx.classes.get(cls_qualname)
        if cls is None:
            return None
        if attr in cls.fields:  # a dataclass or pydantic field: what the class is built with, else its type
            found = self._field_value(path, cls, attr, depth)
            if found is not None:
                return found
        placeholder = None  # a class attribute set to None (`_client = None`) that a method fills in later
        for assign in reversed(cls.attrs):
            if assign.target == attr:
                value = self.resolve(_field_default(assign.value), Ctx(path, MODULE_SCOPE), None, depth)
                if is_something(value):
                    return value
                placeholder = value
                break
        for fn in idx.functions.values():
            if fn.cls == cls_qualname:
                for assign in fn.assigns:  # `self.client = ...` in a method, `cls.client = ...` in a classmethod
                    if assign.target in (f"self.{attr}", f"cls.{attr}") and assign.op in ("=", "with"):
                        value = self.resolve(assign.value, Ctx(path, fn.qualname), assign.line, depth)
                        if is_something(value):
                            return value
                        if value is not None and placeholder is None:
                            placeholder = value  # `self.model = None` in __init__, the model loaded later
        external = sdk_base = None
        for base in cls.bases:
            resolved = self.resolve(base, Ctx(path, MODULE_SCOPE), None, depth)
            if isinstance(resolved, Klass):
                found = self._class_member(resolved.path, resolved.qualname, attr, depth, seen)
                if found is not None:
                    return found
            elif isinstance(resolved, Ext):
                external = resolved
                sdk_base = sdk_base or (resolved if is_foreign_sdk(resolved.name, self.indexes[path].module) else None)
        found = self._given_to_base(path, cls_qualname, attr, depth) if external else None
        if found is None:
            found = self._forwarded(path, cls_qualname, attr, depth)
        if found is None and placeholder is not None and attr in cls.fields:
            # `llm: Optional[BaseLlm] = None`, filled in by whoever builds the object: an object of the annotated class
            found = self._annotated_object(path, cls, attr, depth)
        if found is None and placeholder is None and sdk_base is not None:
            found = self._inherited_from_sdk(path, cls, attr, sdk_base, depth)
        return found if found is not None else placeholder

    def _inherited_from_sdk(self, path: str, cls, attr: str, base: Ext, depth: int):
        """A member a subclass of an SDK class inherits (`class TaggedOpenAI(OpenAI)` has the client's `chat`), of
        the SDK object built with what the subclass's `__init__` hands `super().__init__(...)`, or, when it has no
        `__init__`, with what the one construction of the class in the project passes; else unknown."""
        init = self.indexes[path].functions.get(f"{cls.qualname}.__init__")
        if init is not None:
            site = _super_init(init)
            return Obj(base.name, site.call, Ctx(path, init.qualname)).attr(attr) if site is not None else None
        this = Klass(path, cls.qualname)
        built = [(Ctx(where, qualname), site) for where, qualname, site in self._sites_named(cls.name)
                 if self.resolve(site.call.func, Ctx(where, qualname), site.call.line, depth + 1) == this]
        if len(built) != 1:
            return None
        ctx, site = built[0]
        return Obj(base.name, site.call, ctx).attr(attr)

    def _forwarded(self, path: str, cls_qualname: str, attr: str, depth: int):
        """A member of a proxy: a class whose `__getattr__(self, name)` returns `getattr(target, name)` (a lazy
        module loader, a wrapper) has, for any name it does not define, the target's member of that name."""
        fn = self.indexes[path].functions.get(f"{cls_qualname}.__getattr__")
        if fn is None or len(fn.params) != 2:
            return None
        for value in fn.returns:
            if isinstance(value, E.Call) and E.dotted(value.func) == "getattr" and len(value.args) == 2 \
                    and value.args[1] == E.Name(fn.params[1]):
                target = self.resolve(value.args[0], Ctx(path, fn.qualname), None, depth + 1)
                if target is not None and not isinstance(target, (Inst, Klass)):
                    return self.member(target, attr, depth + 1)
        return None

    def _field_value(self, path: str, cls, attr: str, depth: int):
        """A field's value: the object every construction of the class passes for it (`Tagger(OpenAI())`,
        `Summarizer(client=OpenAI())`), else, when it has no default, an object of its annotated class."""
        is_dataclass = any((E.dotted(d.func if isinstance(d, E.Call) else d) or "").endswith("dataclass")
                           for d in cls.decorators)
        position = list(cls.fields).index(attr) if is_dataclass else -1  # pydantic fields are keyword-only
        passed = self._passed_to(Klass(path, cls.qualname), cls.name, attr, position, depth)
        if passed is not None:
            return passed
        if any(assign.target == attr for assign in cls.attrs):
            return None  # a default: the class attribute says what it is
        return self._annotated_object(path, cls, attr, depth)

    def _annotated_object(self, path: str, cls, attr: str, depth: int):
        """An object of the class a field is annotated with (`Optional[X]` and `X | None` are X), else None."""
        if not cls.fields[attr]:
            return None
        annotated = self.resolve(_dotted_expr(cls.fields[attr]), Ctx(path, MODULE_SCOPE), None, depth)
        if isinstance(annotated, Ext):
            return Obj(annotated.name)
        if isinstance(annotated, Klass):
            return Inst(annotated.path, annotated.qualname)
        return None

    def _given_to_base(self, path: str, cls_qualname: str, attr: str, depth: int):
        """`self.llm` or `self._llm` of a subclass of a framework class, set by the base's own `__init__` from
        `super().__init__(llm=...)` (pydantic models and LlamaIndex/LangChain components keep their keyword
        arguments as attributes of that name, or with a leading underscore)."""
        init = self.indexes[path].functions.get(f"{cls_qualname}.__init__")
        if init is None:
            return None
        site = _super_init(init)
        value = site.call.kwarg(attr.lstrip("_")) if site is not None else None
        return self.resolve(value, Ctx(path, init.qualname), site.call.line, depth) if value is not None else None

    def _resolve_call(self, call: E.Call, ctx, depth):
        func = self.resolve(call.func, ctx, call.line, depth)
        if func is None and isinstance(call.func, E.Subscript):  # a generic class instantiated: Agent[Deps, Out](...)
            generic = self.resolve(call.func.value, ctx, call.line, depth)
            func = generic if isinstance(generic, (Ext, Klass)) else None
        if isinstance(func, Ext) and func.name in SAME_CLIENT_WRAPPERS and call.arg(0, "client") is not None:
            wrapped = self.resolve(call.arg(0, "client"), ctx, call.line, depth)  # instructor.from_openai(OpenAI())
            if isinstance(wrapped, Obj):
                return wrapped
        if isinstance(func, Ext) and func.name in SAME_FUNCTION_WRAPPERS and call.args:
            wrapped = self.resolve(call.args[0], ctx, call.line, depth)  # cl.make_async(chain.invoke) is chain.invoke
            if isinstance(wrapped, Obj) and func.name in BINDING_WRAPPERS:  # partial(client.create, model=...)
                return Obj(wrapped.cls, wrapped.ctor, wrapped.ctor_ctx, wrapped.path, wrapped.chain + ((call, ctx),), wrapped.parts)
            return wrapped
        if func == IMPORT_MODULE and isinstance(call.arg(0, "name"), E.Const) and isinstance(call.arg(0, "name").value, str):
            return self._resolve_import(call.arg(0, "name").value, self.indexes[ctx.path], depth)  # a deferred import
        if func is None and isinstance(call.func, E.Attr) and call.func.attr == "get" and call.args \
                and not isinstance(call.args[0], E.Const):  # SPECIALISTS.get(kind)
            return self._any_value(call.func.base, ctx, call.line, depth)
        read = self.store_read(call, ctx, call.line, depth) if isinstance(func, Ext) else None
        if read is not None:  # cl.user_session.get("chain")
            return self.stored_value(*read, ctx, depth)
        if isinstance(func, Ext):
            return Obj(func.name, call, ctx)
        if isinstance(func, Obj):
            # a method call on an external object: keep the object, remember the call (options, engines)
            return Obj(func.cls, func.ctor, func.ctor_ctx, func.path + "()", func.chain + ((call, ctx),), func.parts)
        if isinstance(func, Klass):
            return Inst(func.path, func.qualname)
        if isinstance(func, Func):
            return self.returned_value(func, depth)
        return None

    def returned_value(self, func: Func, depth: int = 0):
        fn = self.function(func)
        if fn is None:
            return None
        if fn.yields and self._is_context_manager(fn, Ctx(func.path, fn.qualname), depth):
            return self.yielded_value(func, depth)  # `with model_client(name) as client:` holds what it yields
        returned = self._first_resolved(fn.returns, Ctx(func.path, fn.qualname), depth)
        # `def make_llm(cfg) -> BaseLLM: return REGISTRY[cfg["type"]](cfg)`: a BaseLLM
        return returned if returned is not None else self.annotated_instance(func, depth)

    def annotated_instance(self, func: Func, depth: int = 0):
        """An instance of the project class the return annotation of `func` names (`-> Backend`), else None (an SDK
        class named there says nothing of its settings)."""
        fn = self.function(func)
        if fn is None or not fn.returns_type:
            return None
        annotated = self.resolve(_dotted_expr(fn.returns_type), Ctx(func.path, fn.qualname), None, depth)
        return Inst(annotated.path, annotated.qualname) if isinstance(annotated, Klass) else None

    def yielded_value(self, func: Func, depth: int = 0):
        """What a generator function yields (the first value that resolves): the object a `@contextmanager` or a
        FastAPI dependency written as a generator hands to its user."""
        fn = self.function(func)
        return self._first_resolved(fn.yields, Ctx(func.path, fn.qualname), depth) if fn is not None else None

    def _first_resolved(self, values, ctx: Ctx, depth: int):
        """The value of the first of `values` (a function's returns or yields) that resolves at all, else None."""
        for value in values:
            resolved = self.resolve(value, ctx, None, depth)
            if resolved is not None:
                return resolved
        return None

    def _is_context_manager(self, fn: FunctionIndex, ctx: Ctx, depth: int) -> bool:
        outer = Ctx(ctx.path, fn.parent or MODULE_SCOPE)
        return any(self.resolve(d, outer, None, depth) in CONTEXT_MANAGERS for d in fn.decorators)

    def _resolve_pipe(self, expr: E.BinOp, ctx, at_line, depth):
        parts = []
        for side in (expr.left, expr.right):
            value = self.resolve(side, ctx, at_line, depth)
            if isinstance(value, Obj) and value.parts:
                parts.extend(value.parts)
            else:
                parts.append(value)
        return Obj("langchain_core.runnables.RunnableSequence", None, ctx, "", (), tuple(parts))

    # keyword arguments
    def keywords(self, call: E.Call, ctx: Ctx) -> tuple[tuple, bool]:
        """((name, value Expr, Ctx), ...) of `call`'s keyword arguments with every `**mapping` spread opened where
        the mapping is a dict this module builds and never changes (`**settings` of `settings = {"model": ...}`,
        `**dict(model=...)`), and whether any argument stays unknown (an unresolved spread or `*args`)."""
        items, opaque = [], any(isinstance(a, E.Unknown) and a.kind == "Starred" for a in call.args)
        for name, value in call.kwargs:
            if name is not None:
                items.append((name, value, ctx))
                continue
            spread = self._dict_items(value, ctx, call.line, 0)
            if spread is None:
                opaque = True
            else:
                spread_items, spread_opaque = spread
                items.extend(spread_items)
                opaque = opaque or spread_opaque
        return tuple(items), opaque

    def dict_items(self, expr, ctx: Ctx, at_line=None):
        """((key, value Expr, Ctx), ...), opaque) of a mapping expression (a literal, `dict(...)`, a name holding
        one, with the keys stored into it later), or None when its keys cannot be known."""
        return self._dict_items(expr, ctx, at_line, 0)

    def _dict_items(self, expr, ctx: Ctx, at_line, depth: int):
        """(items, opaque) of a mapping expression, or None when it is not a dict literal or `dict(...)` call this
        project builds in view and leaves unchanged."""
        if depth > 4:
            return None
        if isinstance(expr, E.Call) and not _is_dict_call(expr):
            # a helper that returns a dict literal (`**self._params()`); one that returns a dict it built and may
            # have filled in (`params = {...}; params["timeout"] = t; return params`) is not followed
            # (a helper with several returns, `{"max_tokens": n}` or `{"max_completion_tokens": n}`, may set every key
            # any of them has)
            func = self.resolve(expr.func, ctx, at_line)
            fn = self.function(func) if isinstance(func, Func) else None
            if fn is None or not fn.returns or not all(isinstance(r, E.DictExpr) for r in fn.returns):
                return None
            items, opaque = [], False
            for returned in fn.returns:
                opened = self._dict_items(returned, Ctx(func.path, fn.qualname), None, depth + 1)
                if opened is None:
                    return None
                items.extend(item for item in opened[0] if item[0] not in {k for k, _, _ in items})
                opaque = opaque or opened[1]
            return items, opaque
        if isinstance(expr, (E.Name, E.Attr)):
            # a name or `self.options`, with the keys this module (and the one defining it) stores into it later
            name = E.dotted(expr)
            fills = self._dict_fills(name, ctx) if name is not None else ()
            if fills is UNKNOWN_FILLS:
                return None
            value = self.resolve(expr, ctx, at_line)
            if isinstance(value, Lit) and value.ctx.path != ctx.path:
                more = self._dict_fills(name, value.ctx)
                if more is UNKNOWN_FILLS:
                    return None
                fills = (*fills, *more)
            if isinstance(value, Lit) and isinstance(value.expr, E.DictExpr):
                built = self._dict_items(value.expr, value.ctx, None, depth + 1)
            else:
                assigned = self._assigned_call(expr.id, ctx, at_line) if isinstance(expr, E.Name) else None
                built = self._dict_items(assigned[0], assigned[1], None, depth + 1) if assigned is not None else None
            if built is None:
                return None
            items, opaque = with_fills(built[0], tuple(f for f in fills if f[0] != SPREAD), ctx), built[1]
            for key, spread in fills:
                if key == SPREAD:  # request.update(token_budget(model, 300))
                    opened = self._dict_items(spread, ctx, None, depth + 1)
                    if opened is None:
                        return None
                    items.extend(opened[0])
                    opaque = opaque or opened[1]
            return items, opaque
        if isinstance(expr, E.DictExpr):
            items, opaque = [], False
            for key, value in expr.items:
                if key is None:
                    inner = self._dict_items(value, ctx, at_line, depth + 1)
                    if inner is None:
                        opaque = True
                    else:
                        items.extend(inner[0])
                        opaque = opaque or inner[1]
                elif isinstance(key, E.Const) and isinstance(key.value, str):
                    items.append((key.value, value, ctx))
                else:
                    opaque = True
            return items, opaque
        if _is_dict_call(expr):
            items, opaque = self.keywords(expr, ctx)
            return list(items), opaque
        return None

    def _assigned_call(self, name: str, ctx: Ctx, at_line):
        """(value, ctx) of the `dict(...)` call last assigned to `name` in view, if that is what it holds."""
        how, fn, what = scope_lookup(self, name, ctx, at_line)
        if how != "assign" or not (_is_dict_call(what[0].value) and what[0].op == "="):
            return None
        return what[0].value, Ctx(ctx.path, fn.qualname)

    def _dict_fills(self, name: str, ctx: Ctx):
        """The keys module `ctx.path` stores into the dict named `name` after building it (dictfills.py), or
        UNKNOWN_FILLS when it changes that dict in a way not followed."""
        table = self._dict_fill_tables.get(ctx.path)
        if table is None:
            table = self._dict_fill_tables[ctx.path] = dict_fills(self.indexes[ctx.path])
        return table.get(name, ())

    # framework state stores
    def store_read(self, expr, ctx: Ctx, at_line=None, depth: int = 0) -> tuple | None:
        """(store, key) when `expr` reads a key of a framework state store: `st.session_state.chain`,
        `st.session_state["chain"]`, `cl.user_session.get("chain")`; else None. The one place reads are told."""
        if isinstance(expr, E.Attr):
            store = store_of(self.resolve(expr.base, ctx, at_line, depth))
            if store is not None and holds_keys_as_attributes(store) and expr.attr not in read_methods(store) + write_methods(store):
                return store, expr.attr
        elif isinstance(expr, E.Subscript) and isinstance(expr.index, E.Const) and isinstance(expr.index.value, str):
            store = store_of(self.resolve(expr.value, ctx, at_line, depth))
            if store is not None:
                return store, expr.index.value
        elif isinstance(expr, E.Call) and isinstance(expr.func, E.Attr) and isinstance(expr.arg(0), E.Const) \
                and isinstance(expr.arg(0).value, str):
            store = store_of(self.resolve(expr.func.base, ctx, at_line, depth))
            if store is not None and expr.func.attr in read_methods(store):
                return store, expr.arg(0).value
        return None

    def store_writes(self, store: str, key: str, ctx: Ctx) -> tuple:
        """((value Expr, Ctx, line, op), ...) of every write under `key` in `store` in `ctx`'s project: `=`, or an
        item added to what is stored there (`append`, `+=`)."""
        return tuple(self._store_writes().get((self.project_root(ctx.path), store, key), ()))

    def stored_value(self, store: str, key: str, ctx: Ctx, depth: int):
        """What the project writes under `key` in `store` (the first write that resolves), in `ctx`'s project."""
        for value, where, _, op in self.store_writes(store, key, ctx):
            found = self.resolve(value, where, None, depth) if op == "=" else None
            if is_something(found):  # `st.session_state.chain = None` before the real one is built
                return found
        return None

    def _store_writes(self) -> dict:
        """(project root, store, key) -> [(value Expr, Ctx, line, op)]: every write into a framework state store, by
        assignment (`st.session_state.chain = ...`, `app.state.llm = ...`) or method (`cl.user_session.set(k, v)`)."""
        if self._stores is not None:
            return self._stores
        self._stores = table = {}
        for idx in self.indexes.values():
            if not _imports_any(idx, STORE_PACKAGES):
                continue
            root = self.project_root(idx.path)
            for fn in idx.functions.values():
                ctx = Ctx(idx.path, fn.qualname)
                for assign in fn.assigns:
                    target = assign.target_expr or (_dotted_expr(assign.target) if assign.target else None)
                    if assign.op not in STORE_WRITES or not isinstance(target, (E.Attr, E.Subscript)):
                        continue
                    if isinstance(target, E.Attr):
                        base, key = target.base, target.attr
                    elif isinstance(target.index, E.Const) and isinstance(target.index.value, str):
                        base, key = target.value, target.index.value
                    else:
                        continue
                    store = store_of(self.resolve(base, ctx, assign.line, depth=MAX_DEPTH // 2))
                    if store is not None and (isinstance(target, E.Subscript) or holds_keys_as_attributes(store)):
                        table.setdefault((root, store, key), []).append((assign.value, ctx, assign.line, assign.op))
                for site in fn.calls:
                    call = site.call
                    if not (isinstance(call.func, E.Attr) and len(call.args) >= 2 and isinstance(call.args[0], E.Const)):
                        continue
                    store = store_of(self.resolve(call.func.base, ctx, call.line, depth=MAX_DEPTH // 2))
                    if store is not None and call.func.attr in write_methods(store) and isinstance(call.args[0].value, str):
                        table.setdefault((root, store, call.args[0].value), []).append((call.args[1], ctx, call.line, "="))
        return table

    # strings
    def const_str(self, expr, ctx: Ctx, depth: int = 0) -> str | None:
        """The string `expr` surely evaluates to, following names, constants and `os.getenv` defaults."""
        if expr is None:
            return None
        if depth > MAX_DEPTH:
            self._answers.cut_short()
            return None
        if isinstance(expr, E.Const):
            return expr.value if isinstance(expr.value, str) else None
        if isinstance(expr, E.Call):
            func = self.resolve(expr.func, ctx, expr.line, depth)
            if isinstance(func, Ext) and func.name in ("os.getenv", "os.environ.get") and len(expr.args) >= 2:
                return self.const_str(expr.args[1], ctx, depth + 1)
            if isinstance(func, Ext) and func.name == "os.getenv" and expr.kwarg("default") is not None:
                return self.const_str(expr.kwarg("default"), ctx, depth + 1)
            return None
        if isinstance(expr, (E.Name, E.Attr)):
            value = self.resolve(expr, ctx, None, depth)
            if isinstance(value, Lit):
                return self.const_str(value.expr, value.ctx, depth + 1)
            if isinstance(value, Obj) and value.ctor is not None and not value.path:
                return self.const_str(value.ctor, value.ctor_ctx, depth + 1)
        return None


def _binds(idx: ModuleIndex, name: str) -> bool:
    """Whether module `idx` binds `name` at its top level: a function, a class, an import, any assignment (those
    of functions that declare the name `global` included)."""
    if name in idx.functions or name in idx.classes or name in idx.imports:
        return True
    return any(assign.target == name for assign in idx.functions[MODULE_SCOPE].assigns)


def _super_init(init: FunctionIndex):
    """The `super().__init__(...)` call site of an `__init__`, else None."""
    for site in init.calls:
        func = site.call.func
        if isinstance(func, E.Attr) and func.attr == "__init__" and isinstance(func.base, E.Call) \
                and E.dotted(func.base.func) == "super":
            return site
    return None


def _field_default(value):
    """What a dataclass or pydantic field declared with `field(default=...)`/`Field(default_factory=...)` starts
    as: the default, the body of a lambda factory, or a call of a named factory; else `value` itself."""
    if not (isinstance(value, E.Call) and (E.dotted(value.func) or "").rsplit(".", 1)[-1] in ("field", "Field")):
        return value
    default = value.kwarg("default")
    if default is not None:
        return default
    factory = value.kwarg("default_factory")
    if isinstance(factory, E.Lambda):
        return factory.body
    if factory is not None:
        return E.Call(factory, (), (), value.line, value.col, value.end_line, value.end_col)
    return value


def _is_dict_call(expr) -> bool:
    return isinstance(expr, E.Call) and isinstance(expr.func, E.Name) and expr.func.id == "dict" and not expr.args


def is_something(value) -> bool:
    """A resolved value that is not unknown and not the constant `None`."""
    return value is not None and not (isinstance(value, Lit) and isinstance(value.expr, E.Const) and value.expr.value is None)


def _imports_any(idx: ModuleIndex, packages) -> bool:
    """Whether the module (or one of its functions) imports from one of `packages`."""
    tables = [idx.imports] + [fn.imports for fn in idx.functions.values() if fn.imports]
    for table in tables:
        for qualified in table.values():
            for name in (qualified if isinstance(qualified, (list, tuple)) else (qualified,)):
                if isinstance(name, str) and name.split(".", 1)[0] in packages:
                    return True
    return False


def _dotted_expr(text: str):
    parts = text.split(".")
    expr = E.Name(parts[0])
    for part in parts[1:]:
        expr = E.Attr(expr, part)
    return expr
