"""Worst-case latency per entry point: how long one request can take when every model call it can reach runs
once, one after another, and each waits out its effective timeout on every attempt.

A call's worst case is attempts × timeout + the waits between attempts. Its timeout is the effective one LLM101
reads (the call's, else the client's, else the SDK default); its attempts are the SDK's own retries (`max_retries`,
else the SDK's default) times those of every retry policy LLM003 finds on the path from the entry point to it
(tenacity `stop_after_attempt`, backoff `max_tries`, `for attempt in range(n)`), with their waits (`wait_fixed`,
`wait_exponential`, `time.sleep(2)`). A policy with no bound makes the entry point unbounded; a number llmlint
cannot read makes that part unknown, never guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.knowledge.modelcalls import UNBOUNDED
from llmlint.knowledge.settings import UNKNOWN, number
from llmlint.link.values import Ctx, Ext

# Retries an SDK makes by itself when `max_retries` is not set, and its backoff between them (initial, cap in s).
SDK_RETRIES = {"openai": (2, 0.5, 8.0), "anthropic": (2, 0.5, 8.0)}
# LangChain's OpenAI and Anthropic models pass their own max_retries (2) to the SDK.
LANGCHAIN_SDK = {"langchain_openai": "openai", "langchain_anthropic": "anthropic"}
SLEEPS = {"time.sleep", "asyncio.sleep", "trio.sleep", "anyio.sleep"}


@dataclass
class Part:
    """A number of seconds, or unbounded, or (partly) unknown, with the reasons."""

    seconds: float = 0.0
    unbounded: bool = False
    unknown: list = field(default_factory=list)  # what could not be read

    def add(self, other: "Part") -> "Part":
        unknown = self.unknown + [u for u in other.unknown if u not in self.unknown]
        return Part(self.seconds + other.seconds, self.unbounded or other.unbounded, unknown)


@dataclass
class CallLatency:
    call: object  # inventory.ModelCall
    timeout: float | None  # None: unknown; inf: none
    timeout_source: str  # "call", "client", "SDK default", "unknown"
    attempts: float | None  # None: unknown; inf: unbounded
    policies: list  # descriptions of the retry policies on the path
    waits: float | None
    blocking: bool  # a synchronous call on an event loop
    worst: Part = field(default_factory=Part)


@dataclass
class EntryLatency:
    path: str
    qualname: str
    label: str
    calls: list  # CallLatency, in path and line order
    worst: Part


def entry_points(analysis) -> list[tuple[str, str, str]]:
    """(path, qualname, label) of every entry point that reaches a model call: the framework entry points
    entrypoints.py recognises (routes, handlers, chat apps, CLI loops; conversational or not), then each function
    or module that reaches one and that nothing in the project calls."""
    from llmlint.knowledge import entrypoints as ep

    project, reaching = analysis.project, analysis.reaches_model
    found: dict = {}
    for idx, fn in project.functions():
        entries = list(ep._decorated(project, idx, fn)) if fn.qualname != MODULE_SCOPE else []
        entries += [*ep._registered(project, idx, fn), *ep._scripts(project, idx, fn)]
        for entry in entries:
            found.setdefault((entry.path, entry.qualname), entry.label)
    for idx in project.indexes.values():
        for entry in ep._view_methods(project, idx):
            found.setdefault((entry.path, entry.qualname), entry.label)
    entries = {node: label for node, label in found.items() if node in reaching}
    graph = analysis.callgraph
    covered = set()
    for node in entries:
        covered |= _reached(graph, node)
    for node in sorted(reaching):
        if node in covered or node in entries or (node in graph and graph.in_degree(node)):
            continue
        fn = project.function(Ctx(*node))
        if fn is None or fn.name.startswith("test"):
            continue
        label = (f"module code of {analysis.display(node[0])}" if node[1] == MODULE_SCOPE
                 else f"`{node[1]}()` (called by nothing in the project)")
        entries[node] = label
    return sorted(((p, q, label) for (p, q), label in entries.items()), key=lambda e: (analysis.display(e[0]), _line(project, e)))


def _line(project, entry) -> int:
    fn = project.function(Ctx(entry[0], entry[1]))
    return fn.span.line if fn is not None else 0


def _reached(graph, node) -> set:
    import networkx as nx

    return ({node} | nx.descendants(graph, node)) if node in graph else {node}


def latency_by_entry(analysis) -> list[EntryLatency]:
    from llmlint.knowledge.retry import find_retries

    retries = [r for r in find_retries(analysis) if r.kind != "client"]
    graph = analysis.callgraph
    global_roots = _global_timeout_roots(analysis)
    found = []
    for path, qualname, label in entry_points(analysis):
        reached = _reached(graph, (path, qualname))
        calls = [c for c in analysis.model_calls if (c.module.path, c.function.qualname) in reached]
        rows = [call_latency(analysis, c, [r for r in retries if _wraps(graph, reached, r, c)], global_roots) for c in calls]
        total = Part()
        for row in rows:
            total = total.add(row.worst)
        found.append(EntryLatency(path, qualname, label, rows, total))
    return found


def _wraps(graph, reached: set, retry, call) -> bool:
    """The retry policy is on a path from the entry point to `call`."""
    node = (retry.module.path, retry.function.qualname)
    if node not in reached:
        return False
    target = (call.module.path, call.function.qualname)
    if retry.kind in ("loop", "recursion", "retrying"):  # retries what its own call sites reach
        sites = [s for s in retry.sites if hasattr(s, "call")]
        return any(target == node and s.call.line == call.call.line for s in sites) or any(
            target in _reached(graph, callee) for callee in _site_callees(graph, node, sites))
    return target in _reached(graph, node)


def _site_callees(graph, node, sites) -> list:
    lines = {(s.call.line, s.call.col) for s in sites}
    if node not in graph:
        return []
    return [callee for callee in graph.successors(node)
            if any((s.call.line, s.call.col) in lines for s in graph.edges[node, callee]["sites"])]


def _global_timeout_roots(analysis) -> set:
    from llmlint.rules.missing_timeout import MissingTimeout

    return MissingTimeout._roots_with_global_timeout(None, analysis)  # the rule's own reading, not a copy of it


def call_latency(analysis, call, policies, global_roots) -> CallLatency:
    from llmlint.rules.missing_timeout import MissingTimeout

    family = call.model_family or call.family
    seconds, setting = MissingTimeout._effective_timeout(None, analysis, call)
    if analysis.project.project_root(call.module.path) in global_roots:
        timeout, source = None, "set globally (value not read)"
    elif seconds is UNKNOWN:
        timeout, source = None, "unknown"
    elif seconds is None:
        timeout, source = family.default_timeout, "SDK default"
        if timeout is None:
            source = "SDK default unknown"
    else:
        timeout, source = seconds, setting.where if setting is not None else "http client"
    sdk_retries, sdk_waits = _sdk_retries(analysis, call)
    worst = Part()
    if timeout is None:
        worst.unknown.append(f"timeout at {analysis.display(call.module.path)}:{call.call.line} ({source})")
    elif timeout == UNBOUNDED:
        worst.unbounded = True
    if sdk_retries is None:
        worst.unknown.append(f"retries of the {family.provider} client at {analysis.display(call.module.path)}:{call.call.line}")
        attempts = 1.0
    else:
        attempts = 1.0 + sdk_retries
    one = Part((timeout or 0.0) * attempts if timeout not in (None, UNBOUNDED) else 0.0, worst.unbounded, worst.unknown)
    one.seconds += sdk_waits
    descriptions = []
    for policy in policies:
        tries, waits, text = policy_bounds(analysis, policy)
        descriptions.append(text)
        if tries == math.inf:
            one.unbounded = True
            continue
        if tries is None:
            one.unknown.append(text)
            continue
        one = Part(one.seconds * tries + (waits or 0.0), one.unbounded, one.unknown + ([text] if waits is None else []))
        attempts *= tries
    blocking = (call.module.path, call.function.qualname) in analysis.event_loop and not call.is_async_api
    return CallLatency(call, timeout, source, math.inf if one.unbounded else attempts, descriptions, None, blocking, one)


def _sdk_retries(analysis, call) -> tuple:
    """(retries the SDK makes by itself or None when unknown, the longest total wait between them)."""
    from llmlint.knowledge.retry import _retry_count

    setting = call.settings.get("max_retries")
    family = call.model_family or call.family
    provider = family.provider
    if provider == "langchain" and call.model_obj is not None:
        provider = LANGCHAIN_SDK.get(call.model_obj.cls.split(".")[0], provider)
    backoff = SDK_RETRIES.get(provider)
    if setting is not None:
        count = _retry_count(analysis.project, setting.expr, setting.ctx)
        if count is None:
            return None, 0.0
    elif backoff is not None:
        count = backoff[0]
    else:
        return None, 0.0
    if backoff is None or count == math.inf:
        return count, 0.0
    return count, sum(min(backoff[1] * 2 ** i, backoff[2]) for i in range(int(count)))


def policy_bounds(analysis, retry) -> tuple:
    """(attempts or None when unknown or inf when unbounded, total waits or None, a description)."""
    where = f"{analysis.display(retry.module.path)}:{retry.span.line}"
    if retry.bounded is False:
        return math.inf, 0.0, f"unbounded retry at {where}"
    if retry.kind in ("decorator", "retrying") and retry.policy is not None:
        reader = _TENACITY if retry.library == "tenacity" else _BACKOFF if retry.library == "backoff" else None
        if reader is not None:
            tries, waits = reader(analysis, retry.policy, retry.policy_ctx)
            shown = "?" if tries is None else f"{tries:g}"
            return tries, waits, f"{retry.library} retry at {where}: {shown} attempts"
    if retry.kind == "loop":
        tries, waits = _loop_bounds(analysis, retry)
        shown = "?" if tries is None else f"{tries:g}"
        return tries, waits, f"retry loop at {where}: {shown} attempts"
    return None, None, f"{retry.kind} retry at {where}: attempts not read"


def _num(analysis, expr, ctx, default=None):
    if expr is None:
        return default
    value = number(analysis.project, expr, ctx)
    return value if isinstance(value, float) else None


def _name(analysis, call, ctx) -> str:
    value = analysis.project.resolve(call.func, ctx) if isinstance(call, E.Call) else None
    return value.name.rsplit(".", 1)[-1] if isinstance(value, Ext) else ""


def _tenacity(analysis, policy, ctx) -> tuple:
    stop, wait = policy.kwarg("stop"), policy.kwarg("wait")
    tries = deadline = None
    for part in _alternatives(stop):
        name = _name(analysis, part, ctx)
        if name == "stop_after_attempt":
            tries = _min(tries, _num(analysis, part.arg(0, "max_attempt_number"), ctx))
        elif name == "stop_after_delay":
            deadline = _min(deadline, _num(analysis, part.arg(0, "max_delay"), ctx))
    if tries is None:
        return None, None
    gaps = [_tenacity_wait(analysis, wait, ctx, i) for i in range(int(tries) - 1)]
    waits = None if any(g is None for g in gaps) else sum(gaps)
    if deadline is not None and waits is not None:
        waits = min(waits, deadline)
    return tries, waits


def _tenacity_wait(analysis, wait, ctx, i: int):
    if wait is None:
        return 0.0
    if isinstance(wait, E.BinOp) and wait.op == "+":
        left, right = _tenacity_wait(analysis, wait.left, ctx, i), _tenacity_wait(analysis, wait.right, ctx, i)
        return None if left is None or right is None else left + right
    if not isinstance(wait, E.Call):
        return None
    name = _name(analysis, wait, ctx)
    if name == "wait_fixed":
        return _num(analysis, wait.arg(0, "wait"), ctx)
    if name == "wait_random":
        return _num(analysis, wait.arg(1, "max"), ctx, 1.0)
    if name in ("wait_exponential", "wait_random_exponential", "wait_exponential_jitter"):
        multiplier = _num(analysis, wait.kwarg("multiplier", "initial"), ctx, 1.0)
        base = _num(analysis, wait.kwarg("exp_base"), ctx, 2.0)
        cap = _num(analysis, wait.kwarg("max"), ctx, math.inf)
        low = _num(analysis, wait.kwarg("min"), ctx, 0.0)
        if None in (multiplier, base, cap, low):
            return None
        return max(low, min(cap, multiplier * base ** (i + (0 if name == "wait_exponential_jitter" else 1))))
    return None


def _backoff(analysis, policy, ctx) -> tuple:
    tries = _num(analysis, policy.kwarg("max_tries"), ctx)
    deadline = _num(analysis, policy.kwarg("max_time"), ctx)
    if tries is None and deadline is None:
        return None, None
    generator = policy.arg(0, "wait_gen")
    name = E.dotted(generator) or ""
    if tries is None:
        return None, deadline
    cap = _num(analysis, policy.kwarg("max_value"), ctx, math.inf)
    if name.endswith("expo"):
        factor = _num(analysis, policy.kwarg("factor"), ctx, 1.0)
        gaps = [min(cap, (factor or 1.0) * 2 ** i) for i in range(int(tries) - 1)]
    elif name.endswith("constant"):
        interval = _num(analysis, policy.kwarg("interval"), ctx, 1.0)
        gaps = [interval] * (int(tries) - 1) if interval is not None else None
    else:
        gaps = None
    waits = sum(gaps) if gaps is not None else None
    if deadline is not None and waits is not None:
        waits = min(waits, deadline)
    return tries, waits


_TENACITY, _BACKOFF = _tenacity, _backoff


def _alternatives(stop):
    """`stop_after_attempt(3) | stop_after_delay(10)` -> both calls."""
    if isinstance(stop, E.BinOp) and stop.op == "|":
        return [*_alternatives(stop.left), *_alternatives(stop.right)]
    return [stop] if isinstance(stop, E.Call) else []


def _min(a, b):
    if b is None:
        return a
    return b if a is None else min(a, b)


def _loop_bounds(analysis, retry) -> tuple:
    """`for attempt in range(n)` with `time.sleep(s)` inside: (n, (n - 1) × s)."""
    fn, idx = retry.function, retry.module
    ctx = Ctx(idx.path, fn.qualname)
    loop = next((lp for lp in fn.loops if lp.span.line == retry.span.line), None)
    if loop is None or loop.kind != "for" or not isinstance(loop.test, E.Call) or E.dotted(loop.test.func) != "range":
        return None, None
    args = loop.test.args
    stop = _num(analysis, args[1] if len(args) > 1 else args[0] if args else None, ctx)
    start = _num(analysis, args[0], ctx) if len(args) > 1 else 0.0
    if stop is None or start is None:
        return None, None
    tries = max(0.0, stop - start)
    sleeps = []
    for site in fn.calls:
        if loop.span.line <= site.call.line <= loop.span.end_line:
            value = analysis.project.resolve(site.call.func, ctx, site.call.line)
            if isinstance(value, Ext) and value.name in SLEEPS:
                sleeps.append(_num(analysis, site.call.arg(0, "secs"), ctx))
    if any(s is None for s in sleeps):
        return tries, None
    return tries, max(0.0, tries - 1) * sum(sleeps)
