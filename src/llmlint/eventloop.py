"""Which functions run on an event loop: every `async def`, and every plain function an `async def` calls
directly (not awaited, not inside a lambda, not handed to a thread with `asyncio.to_thread(fn)` and the like,
which the call graph records as a callback rather than a call), transitively."""

from __future__ import annotations

from collections import deque

from llmlint.callgraph import is_graph_run
from llmlint.values import Ctx, Func, Inst, Klass


def event_loop_functions(analysis) -> dict:
    """{(path, qualname): (the async def it runs under, the function that calls it or None)}."""
    project, graph = analysis.project, analysis.callgraph
    found, queue = {}, deque()
    for idx, fn in project.functions():
        if fn.is_async:
            node = (idx.path, fn.qualname)
            found[node] = (node, None)
            queue.append(node)
    while queue:
        caller = queue.popleft()
        for callee in graph.successors(caller):
            if callee in found:
                continue
            fn = project.indexes[callee[0]].functions[callee[1]]
            if fn.is_async:
                continue
            if any(_runs_inline(project, caller, callee, site) for site in graph.edges[caller, callee]["sites"]):
                found[callee] = (found[caller][0], caller)
                queue.append(callee)
        for override in analysis.method_overrides.get(caller, ()):  # the base method may run an override
            if override not in found and not project.indexes[override[0]].functions[override[1]].is_async:
                found[override] = (found[caller][0], caller)
                queue.append(override)
    return found


def _runs_inline(project, caller, callee, site) -> bool:
    if site.awaited or site.in_lambda:
        return False
    value = project.resolve(site.call.func, Ctx(*caller), site.call.line)
    if is_graph_run(value):  # `app.stream(...)` runs the graph's nodes here; `app.astream(...)` on the loop's terms
        return not value.path.rsplit(".", 1)[-1].startswith("a")
    if isinstance(value, Func):
        return (value.path, value.qualname) == callee
    if isinstance(value, Klass):
        return (value.path, f"{value.qualname}.__init__") == callee
    if isinstance(value, Inst):
        return (value.path, f"{value.qualname}.__call__") == callee
    return False


def loop_chain(found: dict, node) -> list:
    """[node, its caller, ..., the async def] for a function in `found`."""
    chain = []
    while node is not None:
        chain.append(node)
        node = found[node][1]
    return chain
