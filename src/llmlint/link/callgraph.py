"""A networkx call graph over the project's functions, built from the indexes only.

Nodes are `(path, qualname)` pairs (a module's top-level code is the node `(path, "<module>")`). An edge
`caller -> callee` carries the call sites (`sites`) that make it, and among them the ones that call the callee
(`called`, by position: see `calls`); functions passed as arguments (callbacks given to retry helpers,
`asyncio.to_thread(fn)`, `run_in_executor(None, fn)`) make an edge of kind "callback". A run of a LangGraph graph
(`app.stream(...)`) calls the functions added to its builder as nodes.

A call has an edge to every function it may run (dynamic dispatch): each value its callee may hold
(`Project.alternatives`: both arms of a conditional expression, every value of a dict of backends read with a key
not known, every assignment in `if`/`elif` arms, every class a factory may return), and, for a method called on an
instance of a project class, the overrides of that method in the class's project subclasses (class hierarchy
analysis: `backend.answer()` with `backend: Backend` runs `OpenAIBackend.answer`). At most MAX_TARGETS per call;
a call with more keeps its one resolved callee.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.link.alternatives import Alternatives
from llmlint.link.project import Project, is_something
from llmlint.link.values import Ctx, Func, Inst, Klass, Obj

# A LangGraph graph runs the functions added to it as nodes when it is invoked: `builder.add_node("agent", call_model)`,
# `app = builder.compile()`, then `app.stream(...)` calls `call_model`.
GRAPH_BUILDERS = ("StateGraph", "MessageGraph", "Graph")
GRAPH_RUNS = frozenset({"invoke", "ainvoke", "stream", "astream", "batch", "abatch", "stream_events", "astream_events"})
MAX_TARGETS = 16  # functions one call site may dispatch to; past that, only the one its callee resolves to


def build_callgraph(project: Project) -> nx.DiGraph:
    graph = nx.DiGraph()
    runs = []  # (caller, site, graph builder object) of every run of a LangGraph graph
    nodes: dict = {}  # graph builder object -> node functions
    descendants = class_descendants(project)
    may_hold = Alternatives(project).of  # (its own memo, dropped once the graph is built: the rules do not need it)
    for idx, fn in project.functions():
        caller = (idx.path, fn.qualname)
        graph.add_node(caller)
        ctx = Ctx(idx.path, fn.qualname)
        for site in fn.calls:
            callee = project.resolve(site.call.func, ctx, site.call.line)
            for target in _targets(project, may_hold, descendants, site.call.func, ctx, site.call.line):
                _add_edge(graph, caller, target, site, "call", called=True)
            builder = _graph_builder(callee)
            if builder is not None and callee.path == "add_node" and site.call.args:
                node = project.resolve(site.call.args[-1] if len(site.call.args) > 1 else site.call.args[0], ctx, site.call.line)
                if isinstance(node, Func):
                    nodes.setdefault(builder, []).append((node.path, node.qualname))
            elif is_graph_run(callee):
                runs.append((caller, site, builder))
            for arg in list(site.call.args) + [v for _, v in site.call.kwargs]:
                # `executor.submit(model.inference, ...)`: each method it may be. Asked only of a name or attribute
                # that resolves to a function, or of an attribute that does not resolve (`models[kind].answer`): most
                # arguments are data, and what else data may be costs time and memory to work out
                if _may_pass_function(project, arg, ctx, site.call.line):
                    for passed in may_hold(arg, ctx, site.call.line):
                        if isinstance(passed, Func):
                            _add_edge(graph, caller, (passed.path, passed.qualname), site, "callback")
    graph.graph["graph_runs"] = []
    for caller, site, builder in runs:
        for node in nodes.get(builder, ()):
            _add_edge(graph, caller, node, site, "call")
        graph.graph["graph_runs"].append(GraphRun(caller, site, tuple(nodes.get(builder, ()))))
    return graph


@dataclass(frozen=True)
class GraphRun:
    """A run of a compiled LangGraph graph (`app.stream(...)`) and the node functions it calls."""

    caller: tuple  # (path, qualname) of the function that runs the graph
    site: object  # its CallSite
    nodes: tuple  # ((path, qualname), ...) of the graph's node functions

    @property
    def method(self) -> str:
        func = self.site.call.func
        return func.attr if isinstance(func, E.Attr) else ""


def is_graph_run(value) -> bool:
    """Whether a resolved callee runs a compiled LangGraph graph (`app.stream(...)`): it calls the graph's node
    functions in line, and their errors come out of it."""
    builder = _graph_builder(value)
    return builder is not None and value.path.startswith("compile().") and value.path[len("compile()."):] in GRAPH_RUNS


def _graph_builder(value):
    """The LangGraph graph builder `value` is a method of (keyed by where it was constructed), else None."""
    if isinstance(value, Obj) and value.cls.startswith("langgraph") and value.cls.rsplit(".", 1)[-1] in GRAPH_BUILDERS:
        return (value.cls, value.ctor_ctx, getattr(value.ctor, "line", None), getattr(value.ctor, "col", None))
    return None


def _may_pass_function(project: Project, arg, ctx: Ctx, line: int) -> bool:
    if not isinstance(arg, (E.Name, E.Attr)):
        return False
    first = project.resolve(arg, ctx, line)
    return isinstance(first, Func) or (isinstance(arg, E.Attr) and not is_something(first))


def _function_of(project: Project, value):
    if isinstance(value, Func):
        return (value.path, value.qualname)
    if isinstance(value, Klass):
        init = f"{value.qualname}.__init__"
        idx = project.indexes.get(value.path)
        if idx is not None and init in idx.functions:
            return (value.path, init)
    if isinstance(value, Inst):
        call = f"{value.qualname}.__call__"
        idx = project.indexes.get(value.path)
        if idx is not None and call in idx.functions:
            return (value.path, call)
    return None


def _targets(project: Project, may_hold, descendants: dict, func, ctx: Ctx, line: int) -> list:
    """The project functions a call of `func` may run: those of each value it may hold, and the overrides in project
    subclasses of a method called on an instance; the one it resolves to alone when they are more than MAX_TARGETS."""
    values = may_hold(func, ctx, line)
    targets = [_function_of(project, value) for value in values]
    if isinstance(func, E.Attr):  # `backend.answer()`: a subclass of the receiver's class may override `answer`
        for receiver in may_hold(func.base, ctx, line):
            if isinstance(receiver, Inst):
                targets.extend(_overriding(project, descendants, receiver, func.attr, ctx.path))
    found = list(dict.fromkeys(t for t in targets if t is not None))
    if len(found) > MAX_TARGETS:
        return [targets[0]] if targets[0] is not None else []
    return found


def _overriding(project: Project, descendants: dict, receiver: Inst, name: str, caller_path: str) -> list:
    """The methods called `name` that the project subclasses of the receiver's class define (a test's doubles only
    for calls in tests)."""
    from llmlint.knowledge.handling import in_test_module

    found = []
    for path, cls in descendants.get((receiver.path, receiver.qualname), ()):
        if f"{cls}.{name}" in project.indexes[path].functions:
            found.append((path, f"{cls}.{name}"))
    if found and not in_test_module(project, caller_path):
        found = [node for node in found if not in_test_module(project, node[0])]
    return found


def calls(graph: nx.DiGraph, caller, callee, site) -> bool:
    """Whether `site` in `caller` calls `callee` (the function its callee resolves to, or one it may dispatch to),
    rather than passing it on as a callback or running it as a node of a LangGraph graph."""
    return graph.has_edge(caller, callee) and (site.call.line, site.call.col) in graph.edges[caller, callee]["called"]


def _add_edge(graph, caller, callee, site, kind, called: bool = False) -> None:
    if not graph.has_edge(caller, callee):
        graph.add_edge(caller, callee, sites=[], called=set(), kind=kind)
    data = graph.edges[caller, callee]
    if not data["sites"] or data["sites"][-1] is not site:  # (one site may call and pass the same function)
        data["sites"].append(site)
    if called:
        data["called"].add((site.call.line, site.call.col))


def reaching(graph: nx.DiGraph, targets) -> set:
    """The functions from which some node in `targets` can be reached (targets included)."""
    return _closed(graph, targets, graph.predecessors)


def reachable_from(graph: nx.DiGraph, sources) -> set:
    """The functions some node in `sources` can reach (sources included)."""
    return _closed(graph, sources, graph.successors)


def _closed(graph: nx.DiGraph, nodes, step) -> set:
    """`nodes` (those in the graph) and every node `step` leads to from them: one walk from all of them at once."""
    found = {node for node in nodes if node in graph}
    stack = list(found)
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in found:
                found.add(nxt)
                stack.append(nxt)
    return found


def sites_into(graph: nx.DiGraph, targets) -> dict:
    """{(path, line, col) of a call site: the callee in `targets` it calls (or passes as a callback)}."""
    found = {}
    targets = set(targets)
    for caller, callee, data in graph.edges(data=True):
        if callee in targets:
            for site in data["sites"]:
                found.setdefault((caller[0], site.call.line, site.call.col), callee)
    return found


def path_to(graph: nx.DiGraph, source, targets) -> list:
    """The shortest call path from `source` to a node in `targets` (both ends included), or []."""
    targets = set(targets)
    if source in targets:
        return [source]
    if source not in graph:
        return []
    parents = {source: None}
    frontier = [source]
    while frontier:
        nxt = []
        for node in frontier:
            for callee in graph.successors(node):
                if callee in parents:
                    continue
                parents[callee] = node
                if callee in targets:
                    path = [callee]
                    while parents[path[-1]] is not None:
                        path.append(parents[path[-1]])
                    return path[::-1]
                nxt.append(callee)
        frontier = nxt
    return []


def method_overrides(project: Project) -> dict:
    """{(path, qualname) of a method: the methods of project subclasses that override it}. A call the graph
    resolves to a base class's method may run any of these instead (`self.complete()` in the base class)."""
    methods: dict = {}
    for idx, fn in project.functions():
        if fn.cls is not None and fn.parent is None:
            methods.setdefault((idx.path, fn.cls), set()).add(fn.name)
    overrides: dict = {}
    for (path, cls), subclasses in class_descendants(project).items():
        for name in methods.get((path, cls), ()):
            for sub in subclasses:
                if name in methods.get(sub, ()):
                    overrides.setdefault((path, f"{cls}.{name}"), []).append((sub[0], f"{sub[1]}.{name}"))
    return overrides


def class_descendants(project: Project) -> dict:
    """{(path, qualname) of a project class: the project classes deriving from it, at any depth}."""
    found: dict = {}
    for idx in project.indexes.values():
        for qualname in idx.classes:
            for ancestor in _project_ancestors(project, idx.path, qualname):
                found.setdefault(ancestor, []).append((idx.path, qualname))
    return found


def _project_ancestors(project: Project, path: str, cls_qualname: str, limit: int = 20) -> list:
    found, frontier = [], [(path, cls_qualname)]
    while frontier and len(found) < limit:
        path, qualname = frontier.pop()
        cls = project.indexes[path].classes.get(qualname)
        for base in cls.bases if cls is not None else ():
            value = project.resolve(base, Ctx(path, MODULE_SCOPE))
            if isinstance(value, Klass) and (value.path, value.qualname) not in found:
                found.append((value.path, value.qualname))
                frontier.append((value.path, value.qualname))
    return found


def arguments_for(project: Project, graph: nx.DiGraph, node, param: str):
    """(caller, call site, argument expression) for every call of `node` that passes its parameter `param`:
    the functions callers hand to a helper such as `with_retries(fn, ...)`."""
    fn = project.function(Ctx(node[0], node[1]))
    if fn is None or param not in fn.params or node not in graph:
        return
    index = list(fn.params).index(param)
    if fn.cls and fn.params and fn.params[0] in ("self", "cls"):
        index -= 1  # called as a method: the instance is not among the call's arguments
    for caller in graph.predecessors(node):
        for site in graph.edges[caller, node]["sites"]:
            if not calls(graph, caller, node, site):
                continue  # `node` passed as a callback here, not called
            value = site.call.kwarg(param)
            if value is None and 0 <= index < len(site.call.args) and not site.call.has_star:
                value = site.call.args[index]
            if value is not None:
                yield caller, site, value
