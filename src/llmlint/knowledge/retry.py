"""Retry policies around model calls, and what bounds them.

`find_retries(analysis)` returns every retry of code that reaches a model call (analysis.reaches_model):
tenacity `@retry`/`retry(...)` (also through a decorator factory or a policy stored in a variable),
`Retrying`/`AsyncRetrying` loops and calls, backoff `on_exception`/`on_predicate`, retrying's `@retry`,
hand-written loops (`while True`, `while not done`, `for _ in itertools.count()`, `for attempt in range(n)`),
a function calling itself again from its own except handler, and SDK client retry settings (`max_retries=`,
litellm's `num_retries=`). Each `Retry` says where it is, whether a stop condition bounds it and, for loops,
whether anything waits between attempts. Built once per Analysis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE, FunctionIndex, ModuleIndex, Span
from llmlint.flow.calls import argument_for
from llmlint.knowledge.entrypoints import reads_terminal
from llmlint.knowledge.settings import UNKNOWN, number
from llmlint.link.values import Ctx, Ext, Func, Obj

# library -> (policy names, keywords that bound it, values of those keywords that do not)
POLICIES = {
    "tenacity": ({"retry", "Retrying", "AsyncRetrying", "TornadoRetrying"}, ("stop",), {"tenacity.stop_never"}),
    "backoff": ({"on_exception", "on_predicate"}, ("max_tries", "max_time"), set()),
    "retrying": ({"retry", "Retrying"}, ("stop_max_attempt_number", "stop_max_delay", "stop_func", "stop"), set()),
}
SLEEPS = {"time.sleep", "asyncio.sleep", "trio.sleep", "anyio.sleep", "gevent.sleep", "eventlet.sleep", "tornado.gen.sleep"}
ENDLESS_ITERATORS = {"itertools.count", "itertools.cycle"}
# Errors that say the model's answer was unusable: re-asking at once is fine, there is nothing to wait for.
VALIDATION_ERRORS = {
    "ValueError", "TypeError", "KeyError", "IndexError", "AttributeError", "AssertionError", "JSONDecodeError",
    "ValidationError", "OutputParserException", "ParseError", "ParserError", "ValidationException", "SchemaError",
    "YAMLError", "SyntaxError", "UnicodeDecodeError",
}
FAILURE_SIGNALS = {"status_code", "status", "ok", "is_success", "success", "error", "errors"}


@dataclass
class Retry:
    kind: str  # "decorator", "retrying" (a tenacity Retrying loop or call), "loop", "recursion", "client"
    library: str  # "tenacity", "backoff", "retrying"; "" for hand-written loops and recursion; the provider for "client"
    module: ModuleIndex
    function: FunctionIndex  # the function retried (decorator) or holding the retry
    span: Span  # where to report: the decorator, the loop header, the recursive call, the setting's value
    bounded: bool  # a stop condition (attempts, deadline, depth, an exit on failure) bounds it
    waits: bool | None = None  # loops: something waits between attempts (None: not judged)
    transient: bool = True  # loops: the failure path catches more than "the answer did not parse"
    endless: bool = False  # loops: `while True`-like (the loop itself never ends)
    policy: E.Call | None = None  # the call configuring a library policy (None for a bare `@retry`)
    policy_ctx: Ctx | None = None
    inline: bool = False  # the policy is written where it is reported, so an edit there is safe
    code: str = ""  # the decorator's source text
    stop: str = ""  # library policies: the unbounded stop given (`stop_never`, `max_tries=None`), "" when absent
    sites: tuple = ()  # call sites that reach the model (loops, recursion), the retrying call site
    value: float | None = None  # client settings: the number of retries (inf when unbounded)
    keyword: str = ""  # client settings: the keyword used
    reached: object = None  # loops: the ModelCall or the project function (path, qualname) the retried code reaches


def find_retries(analysis) -> list[Retry]:
    finder = _Finder(analysis)
    found = finder.decorators() + finder.loops() + finder.retrying_calls() + finder.recursion() + finder.client_settings()
    found.sort(key=lambda r: (r.module.path, r.span.line, r.span.col))
    return found


def importable(idx: ModuleIndex, module: str, name: str) -> str | None:
    """How module `idx` can spell `module.name` without a new import (`stop_after_attempt`, `tenacity.stop_after_attempt`)."""
    for local, qualified in idx.imports.items():
        if qualified == f"{module}.{name}":
            return local
    for local, qualified in idx.imports.items():
        if qualified == module and local != "*":
            return f"{local}.{name}"
    if module in idx.imports.get("*", ()):
        return name
    return None


class _Finder:
    def __init__(self, analysis):
        self.analysis = analysis
        self.project = analysis.project
        self.reaching = analysis.reaches_model
        self._sleepers = None

    # library policies
    def policy_of(self, value) -> tuple | None:
        """(library, policy call or None) when `value` is a retry policy of a known library."""
        name = value.name if isinstance(value, Ext) else value.cls if isinstance(value, Obj) and not value.path else None
        if not name:
            return None
        root, last = name.split(".", 1)[0], name.rsplit(".", 1)[-1]
        if root in POLICIES and last in POLICIES[root][0]:
            return root, value.ctor if isinstance(value, Obj) else None, value.ctor_ctx if isinstance(value, Obj) else None
        return None

    def judge_policy(self, library: str, call, ctx) -> tuple:
        """(bounded, unbounded stop text) for a policy call; bounded is None when it cannot be told (`**kwargs`)."""
        if call is None:
            return False, ""
        keywords, never = POLICIES[library][1], POLICIES[library][2]
        given = [(k, v) for k, v in call.kwargs if k in keywords]
        if not given:
            return (None, "") if call.has_star else (False, "")
        for key, value in given:
            if isinstance(value, E.Const) and value.value is None:
                continue
            resolved = self.project.resolve(value, ctx) if isinstance(value, (E.Name, E.Attr)) else None
            if isinstance(resolved, Ext) and resolved.name in never:
                continue
            return True, ""
        key, value = given[0]
        return False, f"{key}={E.dotted(value) or 'None'}"

    def decorators(self) -> list[Retry]:
        found = []
        for idx, fn in self.project.functions():
            if not fn.decorators or (idx.path, fn.qualname) not in self.reaching:
                continue
            ctx = Ctx(idx.path, fn.parent or MODULE_SCOPE)
            for i, decorator in enumerate(fn.decorators):
                value = self.project.resolve(decorator, ctx)
                policy = self.policy_of(value) if value is not None else None
                if policy is None:
                    continue
                library, call, call_ctx = policy
                bounded, stop = self.judge_policy(library, call, call_ctx)
                if bounded is None:
                    continue
                spans = fn.decorator_spans
                span = spans[i] if i < len(spans) else fn.span
                code = fn.decorator_code[i] if i < len(fn.decorator_code) else ""
                inline = call == decorator or (call is None and isinstance(decorator, (E.Name, E.Attr)))
                found.append(Retry("decorator", library, idx, fn, span, bounded, policy=call, policy_ctx=call_ctx,
                                   inline=inline, code=code, stop=stop))
        return found

    def retrying_calls(self) -> list[Retry]:
        """`Retrying(...)(fn, ...)`, `retryer(fn)`, `retry(...)(fn)`: a policy object called with model-reaching code."""
        found = []
        for idx, fn in self.project.functions():
            for site in fn.calls:
                if not isinstance(site.call.func, (E.Call, E.Name, E.Attr)) or not self.analysis.site_reaches_model(idx.path, site):
                    continue
                value = self.project.resolve(site.call.func, Ctx(idx.path, fn.qualname), site.call.line)
                policy = self.policy_of(value) if isinstance(value, Obj) else None
                if policy is None or policy[0] == "backoff" or policy[1] is None:
                    continue
                library, call, call_ctx = policy
                bounded, stop = self.judge_policy(library, call, call_ctx)
                if bounded is None:
                    continue
                span = Span(site.call.line, site.call.col, site.call.end_line, site.call.end_col)
                found.append(Retry("retrying", library, idx, fn, span, bounded, policy=call, policy_ctx=call_ctx,
                                   inline=call == site.call.func, stop=stop, sites=(site,)))
        return found

    # hand-written loops
    def loops(self) -> list[Retry]:
        found = []
        for idx, fn in self.project.functions():
            if not fn.loops:
                continue
            by_loop: dict = {}
            reached = {}
            for site in fn.calls:
                target = self.reached(idx, fn, site) if site.loops else None
                if target is not None:
                    by_loop.setdefault(site.loops[-1], []).append(site)
                    reached.setdefault(site.loops[-1], target)
            loops = {loop.id: loop for loop in fn.loops}
            for loop_id, sites in by_loop.items():
                retry = self._judge_loop(idx, fn, loops[loop_id], sites)
                if retry is not None:
                    retry.reached = reached[loop_id]
                    found.append(retry)
        return found

    def reached(self, idx, fn, site):
        """What a call site reaches: the ModelCall or the (path, qualname) of a project function that reaches one,
        also when the site calls a parameter its callers fill with such a function (`with_retries(ask, q)`)."""
        found = self.analysis.model_reaching_sites.get((idx.path, site.call.line, site.call.col))
        if found is not None or not isinstance(site.call.func, E.Name) or site.call.func.id not in fn.params:
            return found
        from llmlint.link.callgraph import arguments_for

        for caller, _, value in arguments_for(self.project, self.analysis.callgraph, (idx.path, fn.qualname), site.call.func.id):
            target = self._callback_target(caller, value)
            if target is not None:
                return target
        return None

    def _callback_target(self, caller, value):
        if isinstance(value, E.Call) and (E.dotted(value.func) or "").endswith("partial") and value.args:
            value = value.args[0]
        if isinstance(value, E.Lambda):
            for node in E.walk(value.body):
                if isinstance(node, E.Call):
                    found = self.analysis.model_reaching_sites.get((caller[0], node.line, node.col))
                    if found is not None:
                        return found
            return None
        if isinstance(value, (E.Name, E.Attr)):
            func = self.project.resolve(value, Ctx(caller[0], caller[1]))
            if isinstance(func, Func) and (func.path, func.qualname) in self.reaching:
                return (func.path, func.qualname)
        return None

    def _judge_loop(self, idx, fn, loop, sites) -> Retry | None:
        ctx = Ctx(idx.path, fn.qualname)
        if loop.kind == "for":
            value = self.project.resolve(loop.test, ctx, loop.span.line)
            if value is not None and self.policy_of(value) is not None:
                return self._retrying_loop(idx, fn, loop, sites, value)
        endless, flag = self._loop_shape(loop, ctx)
        if endless is None:
            return None  # iterates over data (documents, models to fall back on): not a retry
        if any(loop.id in site.loops and reads_terminal(self.project, ctx, site.call) for site in fn.calls) \
                or _ends_on_quit_word(fn, loop):
            return None  # a chat loop: each turn sends what the user said next, and the user ends it
        lines = (loop.span.line, loop.span.end_line)
        inner_loops = [other for other in fn.loops if other is not loop and _within(other.span, loop.span)]
        exits = [e for e in fn.exits if loop.id in e.loops and (e.kind in ("return", "raise") or e.loops[-1] == loop.id)]
        flags = [a for a in fn.assigns if flag and a.target == flag and lines[0] < a.line <= lines[1]]
        tries = [t for t in fn.tries if _within(t.span, loop.span) and not any(_within(t.span, o.span) for o in inner_loops)]
        verdicts = []  # (bounded, transient) of each handler that sends the loop round again
        for t in tries:
            if not any(s.call.line <= t.body.end_line for s in sites):
                continue  # guards only what comes before the model call (`queue.get`): the call itself is not retried
            body_reaches = any(t.body.contains(s.call.line, s.call.col) for s in sites)
            for handler in t.handlers:
                verdict = self._judge_handler(idx, fn, loop, t, handler, exits, flags)
                if verdict is not None:
                    verdicts.append((verdict or not endless, body_reaches and _catches_transient(handler.caught)))
        if verdicts:
            bounded = all(b for b, _ in verdicts)
            transient = any(tr for _, tr in verdicts)
            return Retry("loop", "", idx, fn, _header(loop), bounded, waits=self._waits(idx, fn, loop),
                         transient=transient, endless=endless, sites=tuple(sites))
        if endless and not tries and self._retries_on_result(idx, fn, loop, sites, exits):
            return Retry("loop", "", idx, fn, _header(loop), False, waits=self._waits(idx, fn, loop),
                         transient=False, endless=True, sites=tuple(sites))
        return None

    def _loop_shape(self, loop, ctx) -> tuple:
        """(endless, flag name): endless True for `while True`-like loops, False for counted ones (`range`,
        `while attempt < n`), None for loops over data. `flag` is the name of a `while not done` flag."""
        test = loop.test
        if loop.kind == "while":
            if isinstance(test, E.Const) and bool(test.value):
                return True, None
            if isinstance(test, E.Unknown) and test.kind == "Not" and len(test.children) == 1 and isinstance(test.children[0], E.Name):
                return True, test.children[0].id
            if isinstance(test, E.Compare) and test.ops == ("Is",) and isinstance(test.left, E.Name) and test.comparators == (E.Const(None),):
                return True, test.left.id
            return False, None
        if isinstance(test, E.Call):
            if E.dotted(test.func) == "range":
                return False, None
            if E.dotted(test.func) == "iter" and len(test.args) == 2:
                return True, None
            value = self.project.resolve(test.func, ctx)
            if isinstance(value, Ext) and (value.name in ENDLESS_ITERATORS or value.name == "itertools.repeat" and len(test.args) == 1):
                return True, None
        return None, None

    def _judge_handler(self, idx, fn, loop, t, handler, exits, flags):
        """None when the handler does not send the loop round again (it raises, returns or breaks) or there is no
        success exit; else whether something bounds the failure path (an attempt counter, a deadline, a flag)."""
        h = handler.span
        in_handler = [e for e in exits if e.handler_of == t.id and h.contains(e.line, e.col)]
        if any(e.kind != "continue" and not _inner_guards(e, h) for e in in_handler):
            return None  # always leaves the loop on this failure
        explicit = any(e.kind == "continue" and not _inner_guards(e, h) for e in in_handler)
        after_try = [e for e in exits if not _within_lines(e.line, t.span)]
        success = [e for e in exits if e.kind in ("return", "break") and (t.id in e.tries or _in_else(e, t))]
        success += [a for a in flags if t.body.line <= a.line <= t.body.end_line]
        if explicit:
            success += [e for e in after_try if e.kind in ("return", "break") and e.line > t.span.end_line]
        if not success:
            return None  # the loop does not stop when the call succeeds: a consumer or event loop, not a retry
        failure = [e for e in in_handler if e.kind != "continue"]
        if not explicit:
            failure += [e for e in after_try if e.kind != "continue"]
        bound_flags = [a for a in flags if h.line <= a.line <= h.end_line or (not explicit and not _within_lines(a.line, t.span))]
        return bool(bound_flags) or any(_is_bound(idx, e, loop.span, handler.name) for e in failure) \
            or self._counted_by_helper(idx, fn, h)

    def _counted_by_helper(self, idx, fn, h: Span) -> bool:
        """The handler hands its attempt counter to a project helper that raises once the counter is past a limit
        (`attempt = _count_or_raise(err, attempt, limit)`, or `attempt, delay = ...` with the next delay): the
        helper's `raise`, under an `if` that reads the parameter the counter is passed for, bounds the loop."""
        ctx = Ctx(idx.path, fn.qualname)
        for assign in fn.assigns:
            call = assign.value
            if isinstance(call, E.Unknown) and call.kind == "unpack" and call.children:  # `attempt, delay = helper(...)`
                call = call.children[0]
            if not (h.line <= assign.line <= h.end_line and isinstance(call, E.Call) and assign.target):
                continue
            callee = self.project.resolve(call.func, ctx, call.line)
            helper = self.project.function(callee) if isinstance(callee, Func) else None
            if helper is None:
                continue
            counted = {p for p in helper.params if argument_for(call, helper, p) == E.Name(assign.target)}
            raises = [e for e in helper.exits if e.kind == "raise" and e.guards]
            if any(counted & _state_names(self.project.indexes[callee.path], test) for e in raises for _, test in e.guards):
                return True
        return False

    def _retries_on_result(self, idx, fn, loop, sites, exits) -> bool:
        """`while True: r = post(...); if r.status_code == 200: return r.json()`: the loop leaves only when the
        result looks good, and nothing else (a counter, a deadline) stops it."""
        first = min(s.call.line for s in sites)
        results = {a.target for a in fn.assigns if first <= a.line <= loop.span.end_line and a.target and "." not in a.target}
        if not results or not exits:
            return False
        checks = 0
        for exit in exits:
            guards = [test for line, test in exit.guards if loop.span.line <= line <= loop.span.end_line]
            names = set().union(*(_state_names(idx, g) for g in guards)) if guards else set()
            if not names or names - results:
                return False  # an unconditional exit, or one on something else: bounded or not a retry
            if exit.kind in ("return", "break") and any(_failure_signal(g) for g in guards):
                checks += 1
        return checks > 0

    def _waits(self, idx, fn, loop) -> bool:
        """Something in the loop waits: a sleep, `event.wait(t)`, or a project function that sleeps."""
        sleepers = self.sleepers()
        ctx = Ctx(idx.path, fn.qualname)
        for site in fn.calls:
            if loop.id not in site.loops:
                continue
            last = _last_name(site.call.func)
            if last == "wait" and (site.call.args or site.call.kwargs):
                return True
            value = self.project.resolve(site.call.func, ctx, site.call.line)
            if isinstance(value, Ext) and value.name in SLEEPS:
                return True
            if isinstance(value, Func) and (value.path, value.qualname) in sleepers:
                return True
            if value is None and ("sleep" in last or "backoff" in last.lower()):
                return True  # a helper we cannot see, named for waiting
        return False

    def sleepers(self) -> set:
        """Project functions that sleep, directly or through calls."""
        if self._sleepers is None:
            from llmlint.link.callgraph import reaching

            direct = set()
            for idx, fn in self.project.functions():
                for site in fn.calls:
                    if _last_name(site.call.func) == "sleep":
                        value = self.project.resolve(site.call.func, Ctx(idx.path, fn.qualname), site.call.line)
                        if isinstance(value, Ext) and value.name in SLEEPS:
                            direct.add((idx.path, fn.qualname))
            self._sleepers = reaching(self.analysis.callgraph, direct)
        return self._sleepers

    def _retrying_loop(self, idx, fn, loop, sites, value) -> Retry | None:
        library, call, call_ctx = self.policy_of(value)
        if library == "backoff":
            return None
        bounded, stop = self.judge_policy(library, call, call_ctx)
        if bounded is None:
            return None
        return Retry("retrying", library, idx, fn, _header(loop), bounded, policy=call, policy_ctx=call_ctx,
                     inline=call == loop.test, stop=stop, sites=tuple(sites))

    # recursion from an except handler
    def recursion(self) -> list[Retry]:
        graph = self.analysis.callgraph
        found = []
        for node in list(graph.nodes):
            if not graph.has_edge(node, node) or not self._reaches_past_itself(node):
                continue
            idx = self.project.indexes[node[0]]
            fn = idx.functions[node[1]]
            for site in graph.edges[node, node]["sites"]:
                if site.handler_of is None:
                    continue
                span = Span(site.call.line, site.call.col, site.call.end_line, site.call.end_col)
                found.append(Retry("recursion", "", idx, fn, span, _depth_bounded(fn, site.call), sites=(site,)))
        return found

    def _reaches_past_itself(self, node) -> bool:
        if node in self.analysis.model_call_functions:
            return True
        return any(callee != node and callee in self.reaching for callee in self.analysis.callgraph.successors(node))

    # SDK client settings
    def client_settings(self) -> list[Retry]:
        found, seen = [], set()
        for call in self.analysis.model_calls:
            setting = call.settings.get("max_retries")
            if setting is None:
                continue
            value = _retry_count(self.project, setting.expr, setting.ctx)
            if value is None:
                continue
            site, keyword = self._setting_site(call, setting)
            if site is None:
                continue
            span = next((s for key, s in site.arg_spans if key == keyword), None)
            span = span or Span(site.call.line, site.call.col, site.call.end_line, site.call.end_col)
            key = (setting.ctx.path, span.line, span.col)
            if key in seen:
                continue
            seen.add(key)
            idx = self.project.indexes[setting.ctx.path]
            fn = idx.functions.get(setting.ctx.function) or call.function
            found.append(Retry("client", call.family.provider, idx, fn, span, True, value=value, keyword=keyword, sites=(call,)))
        return found

    def _setting_site(self, call, setting) -> tuple:
        idx = self.project.indexes.get(setting.ctx.path)
        fn = idx.functions.get(setting.ctx.function) if idx else None
        if fn is None:
            return None, ""
        for site in fn.calls:
            if site.call.line != setting.line:
                continue
            for keyword in call.family.retry_args:
                value = site.call.kwarg(keyword)
                if value is not None and value == setting.expr:
                    return site, keyword
        return None, ""


def _retry_count(project, expr, ctx) -> float | None:
    """The number of retries a setting asks for: a number, inf for `float("inf")`/`math.inf`/`sys.maxsize`, else None."""
    if isinstance(expr, E.Call) and E.dotted(expr.func) == "float" and expr.args and isinstance(expr.args[0], E.Const):
        return math.inf if str(expr.args[0].value).lower() in ("inf", "infinity") else None
    if isinstance(expr, E.Attr):
        value = project.resolve(expr, ctx)
        if isinstance(value, Ext) and value.name in ("math.inf", "sys.maxsize", "numpy.inf"):
            return math.inf
    value = number(project, expr, ctx)
    return None if value is UNKNOWN or value is None else value


def _depth_bounded(fn: FunctionIndex, call: E.Call) -> bool:
    """The recursive call changes a parameter (`attempt + 1`, `retries - 1`, `fallback=True`) the function tests, or
    the function counts something it tests (`self.attempts += 1`)."""
    params = set(fn.params) - {"self", "cls"}
    tested = set()
    for test in fn.tests:
        tested |= {E.dotted(node) for node in E.walk(test) if isinstance(node, (E.Name, E.Attr))}
    for key, value in list(enumerate(call.args)) + list(call.kwargs):
        if isinstance(value, E.Name):
            continue
        names = {n.id for n in E.walk(value) if isinstance(n, E.Name)}
        if names & params:
            return True
        if isinstance(value, E.Const) and isinstance(key, str) and key in tested:
            return True
    counted = {a.target for a in fn.assigns if a.op in ("+=", "op=")}
    return bool(counted & tested)


def _catches_transient(caught: tuple) -> bool:
    return not caught or any(name.rsplit(".", 1)[-1] not in VALIDATION_ERRORS for name in caught)


def _is_bound(idx, exit, area: Span, error_name) -> bool:
    """A failure-path exit bounds the retry unless its condition only inspects the caught error (`if not retryable(e): raise`)."""
    guards = [test for line, test in exit.guards if area.line <= line <= area.end_line]
    if not guards:
        return True
    names = set().union(*(_state_names(idx, test) for test in guards))
    return bool(names - {error_name})


def _state_names(idx, test) -> set:
    """Variables a condition reads: not called functions, imported modules, classes or constants (CamelCase, UPPER_CASE)."""
    called = {id(node.func) for node in E.walk(test) if isinstance(node, E.Call)}
    return {
        node.id
        for node in E.walk(test)
        if isinstance(node, E.Name) and id(node) not in called and not node.id[:1].isupper() and node.id not in idx.imports
    }


def _last_name(func) -> str:
    return func.attr if isinstance(func, E.Attr) else func.id if isinstance(func, E.Name) else ""


def _failure_signal(test) -> bool:
    for node in E.walk(test):
        if isinstance(node, E.Attr) and node.attr in FAILURE_SIGNALS:
            return True
        if isinstance(node, E.Compare) and E.Const(None) in node.comparators:
            return True
        if isinstance(node, E.Call) and "valid" in (E.dotted(node.func) or "").lower():
            return True
    return False


def _inner_guards(exit, area: Span) -> list:
    return [test for line, test in exit.guards if area.line <= line <= area.end_line]


# What a user says to end a conversation: a loop that stops on one of these is a chat loop (typed, spoken, sent).
QUIT_WORDS = frozenset({"exit", "quit", "bye", "goodbye", "q", ":q", "/exit", "/quit", "/bye"})  # (not "stop": a finish_reason)


def _ends_on_quit_word(fn: FunctionIndex, loop) -> bool:
    """The loop is left by a `break` or `return` under an `if` that compares something with a quit word
    (`if text.lower() in ["exit", "quit"]: break`)."""
    for exit_ in fn.exits:
        if exit_.kind not in ("break", "return") or not exit_.loops or exit_.loops[-1] != loop.id:
            continue
        for _, test in exit_.guards:
            if any(isinstance(node, E.Compare) and any(
                    isinstance(c, E.Const) and isinstance(c.value, str) and c.value.strip().lower() in QUIT_WORDS
                    for c in E.walk(node)) for node in E.walk(test)):
                return True
    return False


def _within(inner: Span, outer: Span) -> bool:
    return inner is not outer and outer.contains(inner.line, inner.col) and (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col)


def _within_lines(line: int, span: Span) -> bool:
    return span.line <= line <= span.end_line


def _in_else(exit, t) -> bool:
    """In the try's `else` clause (or `finally`): inside the try statement, outside its body and handlers."""
    if not t.span.contains(exit.line, exit.col) or t.body.contains(exit.line, exit.col):
        return False
    return not any(h.span.contains(exit.line, exit.col) for h in t.handlers)


def _header(loop) -> Span:
    return Span(loop.span.line, loop.span.col, loop.span.line, loop.span.col + (5 if loop.kind == "while" else 3))
