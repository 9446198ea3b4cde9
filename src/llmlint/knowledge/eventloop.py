"""Which functions run on an event loop: every `async def`, and every plain function an `async def` calls
directly (not awaited, not inside a lambda, not handed to a thread with `asyncio.to_thread(fn)` and the like,
which the call graph records as a callback rather than a call), transitively."""

from __future__ import annotations

from llmlint.flow.graph import propagate
from llmlint.link.callgraph import calls, is_graph_run
from llmlint.link.values import Ctx


def event_loop_functions(analysis) -> dict:
    """{(path, qualname): (the async def it runs under, the function that calls it or None)}."""
    project, graph = analysis.project, analysis.callgraph
    seeds = [(idx.path, fn.qualname) for idx, fn in project.functions() if fn.is_async]
    return propagate(graph, seeds, lambda caller, callee, site: _runs_inline(project, graph, caller, callee, site),
                     blocked=lambda node: project.indexes[node[0]].functions[node[1]].is_async,
                     overrides=analysis.method_overrides)  # the base method may run an override


def _runs_inline(project, graph, caller, callee, site) -> bool:
    if site.awaited or site.in_lambda:
        return False
    value = project.resolve(site.call.func, Ctx(*caller), site.call.line)
    if is_graph_run(value):  # `app.stream(...)` runs the graph's nodes here; `app.astream(...)` on the loop's terms
        return not value.path.rsplit(".", 1)[-1].startswith("a")
    return calls(graph, caller, callee, site)  # the function, a class's __init__, an instance's __call__, an override
