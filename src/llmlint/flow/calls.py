"""Calls between the project's functions, as the value-flow core crosses them: which argument a call passes for a
parameter, which parameters receive some arguments, and the call sites that call a function."""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.link.callgraph import calls


def positional_parameters(fn) -> list:
    """The parameters a call's positional arguments fill: `self`/`cls` of a method left out."""
    params = list(fn.params)
    if fn.cls and params and params[0] in ("self", "cls") and not any(E.dotted(d) == "staticmethod" for d in fn.decorators):
        return params[1:]
    return params


def argument_for(call: E.Call, fn, name: str):
    """The argument `call` passes for parameter `name` of the project function `fn` (None when not visible)."""
    if fn is None:
        return None
    arg = call.kwarg(name)
    if arg is not None:
        return arg
    params = positional_parameters(fn)
    if name not in params or call.has_star:
        return None
    position = params.index(name)
    return call.args[position] if position < len(call.args) else None


def parameters_for(fn, call: E.Call, keys) -> tuple | None:
    """The parameters of `fn` that receive the arguments `keys` (positions or keywords) of `call`; None when
    `*args`/`**kwargs` take some of them."""
    params = positional_parameters(fn)
    names = []
    for key in keys:
        if isinstance(key, int):
            if call.has_star or key >= len(params):
                return None
            names.append(params[key])
        elif key in fn.params:
            names.append(key)
        else:
            return None
    return tuple(names)


def calls_into(analysis, node) -> list:
    """[(caller node, CallSite)] of the project's call sites that call the function `node` (not pass it on), those
    that may dispatch to it included. The constructions of a class (`Runner(code)` for `Runner.__init__`) are not
    followed."""
    graph = analysis.callgraph
    found = []
    if node[1].endswith((".__init__", ".__call__")):
        return found
    for caller in graph.predecessors(node) if node in graph else ():
        if caller == node:
            continue
        for site in graph.edges[caller, node]["sites"]:
            if calls(graph, caller, node, site):
                found.append((caller, site))
    return found
