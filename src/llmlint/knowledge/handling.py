"""Exception handling on a model call's path: which `except` clauses can stop a provider error, and which
functions let such an error escape, uncaught, out of an entry point of the project.

An `except` stops a provider error when it catches everything, `Exception`/`BaseException`, `OSError`-family or
timeout errors, any class of a provider SDK or HTTP/retry library (the base classes fully, narrow ones such as
`RateLimitError` partially: the rules stay silent either way) or something it cannot resolve; and it does not
just re-raise what it caught. A function is *exposed* when a chain of calls, none of them inside such a try,
leads to it from an entry point: a function nothing in the project calls (a web route, a CLI command, a bot
handler, module code). Functions that may be called in ways the call graph cannot see are not entry points:
methods (called on objects the linker cannot follow, or by a framework), closures, and functions stored in
tables or passed to other code. A call of a method also runs the subclass methods overriding it.
"""

from __future__ import annotations

import builtins
import dataclasses
import fnmatch
import os

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.flow.graph import chain, propagate
from llmlint.knowledge.entrypoints import is_framework_handler
from llmlint.knowledge.modelcalls import THREAD_HANDOFFS
from llmlint.link.callgraph import calls, is_graph_run
from llmlint.link.values import Ctx, Ext, Func, Klass, Lit

# Packages whose exception classes can be raised by a model call (SDKs, their HTTP layers, retry wrappers).
PROVIDER_ROOTS = (
    "openai", "anthropic", "httpx", "httpcore", "requests", "urllib3", "aiohttp", "litellm", "google", "vertexai",
    "cohere", "mistralai", "groq", "together", "botocore", "boto3", "aiobotocore", "ollama", "huggingface_hub",
    "langchain*", "llama_index", "tenacity", "backoff", "instructor", "replicate", "fireworks", "dspy",
    "pydantic_ai", "agents", "haystack", "zhipuai", "dashscope", "volcenginesdkarkruntime", "crewai", "agno",
)
TIMEOUT_CLASSES = {"asyncio.TimeoutError", "asyncio.exceptions.TimeoutError", "concurrent.futures.TimeoutError", "socket.timeout"}
BROAD_BUILTINS = {"Exception", "BaseException", "OSError", "IOError", "EnvironmentError", "ConnectionError", "TimeoutError"}
BUILTIN_NAMES = frozenset(dir(builtins))
# Framework hooks that turn exceptions raised in any route into responses (FastAPI/Starlette, Flask, Sanic...).
FRAMEWORK_HANDLER_HOOKS = {"exception_handler", "add_exception_handler", "errorhandler", "register_error_handler", "app_errorhandler"}
# Calls that register a function as a web route, a bot handler or an app callback: the function is an entry point.
REGISTRATIONS = {"path", "re_path", "url", "add_url_rule", "add_api_route", "add_api_websocket_route", "add_route",
                 "add_websocket_route", "add_handler", "CommandHandler", "MessageHandler", "add_command", "Interface",
                 "ChatInterface"}
# Calls that run a function given to them and re-raise its exception in the caller.
# (`typer.run(main)` and `fire.Fire(main)` run a CLI's function in line: its error ends the program.)
PROPAGATING_HANDOFFS = frozenset(THREAD_HANDOFFS) | {"map", "filter", "sorted", "min", "max", "typer.run", "fire.Fire"}
# Calls whose argument runs somewhere else: its error does not surface at this call.
DETACHING_CALLS = {"create_task", "ensure_future", "add_task", "start_soon", "run_coroutine_threadsafe", "spawn"}


def in_test_module(project, path: str) -> bool:
    """Is `path` a test module (test_*.py, *_test.py, conftest.py, or under a tests/ folder of its project)?"""
    return is_test_module(project.path_in_project(path))


def is_test_module(path: str) -> bool:
    name = os.path.basename(path)
    parts = path.replace("\\", "/").split("/")
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" or "tests" in parts[:-1] or "test" in parts[:-1]


def _detaches(call) -> bool:
    """A call that runs what it wraps detached from the caller's errors: `asyncio.create_task(...)`,
    `gather(..., return_exceptions=True)` and the like."""
    name = call.func.attr if isinstance(call.func, E.Attr) else getattr(call.func, "id", "")
    if name in DETACHING_CALLS:
        return True
    flag = call.kwarg("return_exceptions")
    return name == "gather" and not (isinstance(flag, E.Const) and not flag.value) and flag is not None


class Handling:
    """Built once per Analysis (`analysis.handling`)."""

    def __init__(self, analysis):
        self.analysis = analysis
        self.project = analysis.project
        self.graph = analysis.callgraph
        self._guarding_decorator: dict = {}
        self._guarded: dict = {}
        self._scopes: dict = {}  # id(FunctionIndex) -> (it, its tries by id, the calls in it that detach what they wrap)
        self._handled_roots = self._roots_with_framework_handlers()
        self._names, self._attrs, self._imported_values = self._indirect_references()
        self._overrides = analysis.method_overrides  # a method's node -> the nodes of the methods overriding it
        self.exposed = self._expose()  # node -> (entry node, next node towards the entry or None)

    # except clauses
    def catches_provider_errors(self, caught: tuple, ctx: Ctx) -> bool:
        """Can an `except <caught>` (dotted names; () for bare) stop an error raised by a model call?"""
        return not caught or any(self._class_may_catch(name, ctx) for name in caught)

    def _class_may_catch(self, name: str, ctx: Ctx, depth: int = 0) -> bool:
        if name == "?":
            return True
        parts = name.split(".")
        expr = E.Name(parts[0])
        for part in parts[1:]:
            expr = E.Attr(expr, part)
        value = self.project.resolve(expr, ctx)
        if value is None:
            return name in BROAD_BUILTINS if name in BUILTIN_NAMES else True
        if isinstance(value, Ext):
            root = value.name.split(".")[0]
            return any(fnmatch.fnmatchcase(root, r) for r in PROVIDER_ROOTS) or value.name in TIMEOUT_CLASSES
        if isinstance(value, Klass):
            return False  # a project exception class: a provider SDK never raises it
        if isinstance(value, Lit) and isinstance(value.expr, E.Seq) and depth < 3:  # ERRORS = (APIError, httpx.HTTPError)
            return any(self._class_may_catch(E.dotted(e) or "?", value.ctx, depth + 1) for e in value.expr.elts)
        return True

    def handler_stops(self, handler, ctx: Ctx) -> bool:
        return not handler.reraises_caught and self.catches_provider_errors(handler.caught, ctx)

    def is_covered(self, path: str, fn, site) -> bool:
        """Is the call `site` of `fn` inside a try whose handlers stop provider errors (or in a detached task)?"""
        ctx = Ctx(path, fn.qualname)
        tries = self._scope(fn)[1]
        for try_id in site.tries:
            info = tries.get(try_id)
            if info is not None and any(self.handler_stops(h, ctx) for h in info.handlers):
                return True
        return self._is_detached(fn, site)

    def _scope(self, fn) -> tuple:
        """(fn, its tries by id, its detaching calls), worked out once per function and not once per call in it."""
        found = self._scopes.get(id(fn))
        if found is None:
            found = self._scopes[id(fn)] = (fn, {t.id: t for t in fn.tries}, [other for other in fn.calls if _detaches(other.call)])
        return found

    def _is_detached(self, fn, site) -> bool:
        """Inside `asyncio.create_task(...)`, `gather(..., return_exceptions=True)` and the like."""
        at = (site.call.line, site.call.col)
        for other in self._scope(fn)[2]:
            call = other.call
            if other is not site and (call.line, call.col) < at <= (call.end_line, call.end_col):
                return True
        return False

    # the graph
    def is_guarded(self, node) -> bool:
        """Does a decorator of this function stop errors (a project decorator with a catching try, loguru's
        `@logger.catch`, tenacity's `retry_error_callback=`)?"""
        if node not in self._guarded:
            self._guarded[node] = self._decorators_catch(node)
        return self._guarded[node]

    def _decorators_catch(self, node) -> bool:
        path, qualname = node
        fn = self.project.indexes[path].functions[qualname]
        for decorator in fn.decorators:
            target = decorator.func if isinstance(decorator, E.Call) else decorator
            if isinstance(target, E.Attr) and target.attr == "catch" and not (isinstance(decorator, E.Call) and decorator.has_kwarg("reraise")):
                return True
            if isinstance(decorator, E.Call) and decorator.has_kwarg("retry_error_callback"):
                return True
            value = self.project.resolve(target, Ctx(path, fn.parent or MODULE_SCOPE))
            if isinstance(value, Func) and self._decorator_catches(value):
                return True
        return False

    def _decorator_catches(self, func: Func) -> bool:
        key = (func.path, func.qualname)
        if key not in self._guarding_decorator:
            idx = self.project.indexes[func.path]
            prefix = func.qualname + ".<locals>."
            self._guarding_decorator[key] = any(
                self.handler_stops(h, Ctx(func.path, fn.qualname))
                for fn in idx.functions.values()
                if fn.qualname == func.qualname or fn.qualname.startswith(prefix)
                for t in fn.tries
                for h in t.handlers
            )
        return self._guarding_decorator[key]

    def _propagates(self, caller, callee, site) -> bool:
        """Does an error raised in `callee` come out of `site` in `caller` uncaught?"""
        path, qualname = caller
        fn = self.project.indexes[path].functions[qualname]
        ctx = Ctx(path, qualname)
        func = self.project.resolve(site.call.func, ctx, site.call.line)
        if not calls(self.graph, caller, callee, site) and not is_graph_run(func):  # `callee` is passed here as a callback
            name = getattr(func, "name", None) or E.dotted(site.call.func) or ""
            if name not in PROPAGATING_HANDOFFS and not name.endswith("run_in_executor"):
                return False  # run in a thread, an executor or a framework: its error surfaces elsewhere
        return not self.is_covered(path, fn, site)

    def is_entry(self, node) -> bool:
        """A function the project never calls and nothing suggests is called from elsewhere."""
        path, qualname = node
        root = self.project.project_root(path)
        if in_test_module(self.project, path) or root in self._handled_roots:
            return False
        callers = [caller for caller in self.graph.predecessors(node) if caller != node]
        if callers:
            return all(self._is_registration(site) for caller in callers for site in self.graph.edges[caller, node]["sites"])
        if qualname == MODULE_SCOPE:
            return True
        fn = self.project.indexes[path].functions[qualname]
        if fn.parent is not None:  # a closure: an entry only when registered, like a route inside an app factory
            return any((E.dotted(d.func if isinstance(d, E.Call) else d) or "").rsplit(".", 1)[-1] != "wraps" for d in fn.decorators)
        if fn.name.startswith("__") and fn.name.endswith("__"):
            return False
        if fn.cls is not None:
            return False  # a method nothing calls: called on an object the linker cannot follow, by a framework, or API
        idx = self.project.indexes[path]
        if is_framework_handler(self.project, idx, fn):
            return True  # a route or bot handler: the framework calls it, whatever else names it
        if fn.name in self._names.get(path, ()) or f"{idx.module}.{fn.name}" in self._imported_values:
            return False
        return fn.name not in self._attrs.get(root, ())

    @staticmethod
    def _is_registration(site) -> bool:
        """`path("chat/", views.chat)`, `app.add_url_rule(..., view_func=chat)`: a framework will call it."""
        func = site.call.func
        name = func.attr if isinstance(func, E.Attr) else getattr(func, "id", "")
        return name in REGISTRATIONS

    def _expose(self) -> dict:
        entries = [node for node in self.graph.nodes if self.is_entry(node) and not self.is_guarded(node)]
        # a call of a method runs its overrides too
        return propagate(self.graph, entries, self._propagates, blocked=self.is_guarded, overrides=self._overrides)

    def escape_path(self, node) -> list:
        """The functions an error raised in `node` passes through to its entry point ([node, ..., entry]), or []."""
        return chain(self.exposed, node)

    # facts gathered once
    def _roots_with_framework_handlers(self) -> set:
        roots = set()
        for idx, fn in self.project.functions():
            for site in fn.calls:
                func = site.call.func
                caught = E.dotted(site.call.args[0]) if site.call.args else None
                if isinstance(func, E.Attr) and func.attr in FRAMEWORK_HANDLER_HOOKS and caught:
                    if self.catches_provider_errors((caught,), Ctx(idx.path, fn.qualname)):
                        roots.add(self.project.project_root(idx.path))
        return roots

    def _indirect_references(self):
        """Names used as values (per module), attribute names used as values (per project), and the qualified
        names of imported things used as values: functions that may be called from where the graph cannot see."""
        names, attrs = {}, {}
        for idx, fn in self.project.functions():
            used = set()
            root_attrs = attrs.setdefault(self.project.project_root(idx.path), set())
            for site in fn.calls:
                _value_names(site.call, used, root_attrs)
            for assign in fn.assigns:
                _value_names(assign.value, used, root_attrs)
            for value in fn.returns:
                _value_names(value, used, root_attrs)
            # a local of the same name (`with client.chat.completions.create(...) as stream:`) is not the function
            names.setdefault(idx.path, set()).update(used - _local_names(idx, fn))
        imported = set()
        for idx in self.project.indexes.values():
            used = names.get(idx.path, set())
            tables = [idx.imports] + [fn.imports for fn in idx.functions.values() if fn.imports]
            imported.update(q for table in tables for local, q in table.items() if local in used and isinstance(q, str))
        return names, attrs, imported


def _local_names(idx, fn) -> set:
    """The names `fn` and the functions around it bind locally (parameters, assignments, imports)."""
    local = set()
    while fn is not None and fn.qualname != MODULE_SCOPE:
        local.update(fn.params, fn.imports)
        local.update(a.target for a in fn.assigns if a.target and "." not in a.target and a.target not in fn.global_names)
        fn = idx.functions.get(fn.parent) if fn.parent else None
    return local


def _value_names(expr, names: set, attrs: set) -> None:
    """Names and attributes `expr` uses as values (not as the callee of a call)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, E.Call):
            stack.extend(node.args)
            stack.extend(v for _, v in node.kwargs)
            func = node.func
            while isinstance(func, E.Attr):
                func = func.base
            if not isinstance(func, E.Name):
                stack.append(func)
        elif isinstance(node, E.Name):
            names.add(node.id)
        elif isinstance(node, E.Attr):
            attrs.add(node.attr)
            stack.append(node.base)
        elif dataclasses.is_dataclass(node):
            for field in dataclasses.fields(node):
                stack.extend(_exprs_in(getattr(node, field.name)))


def _exprs_in(value):
    if isinstance(value, tuple):
        for item in value:
            yield from _exprs_in(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, E.Const):
        yield value
