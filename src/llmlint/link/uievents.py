"""Gradio event wiring: what a handler's parameters hold.

`gr.Button("Ask").click(ask, inputs=[question, chain_state], outputs=answer)` calls `ask` with the values of its
input components, in order. A `gr.State` among them holds what the handler that names it in its `outputs` returned
(`.click(build_chain, inputs=notes, outputs=chain_state)`): the chain a visitor built, kept between events.
"""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.link.values import Ctx, Func, Obj

STATE_CLASSES = ("gradio.State", "gradio.components.State")


def events(project) -> list:
    """(Ctx, Call) of every call in a module importing gradio that wires a handler (`inputs=` or `outputs=`)."""
    found = []
    for idx, fn in project.functions():
        if not any(isinstance(q, str) and q.split(".", 1)[0] == "gradio" for q in idx.imports.values()):
            continue
        for site in fn.calls:
            call = site.call
            if (call.args or call.kwarg("fn") is not None) and (call.kwarg("inputs") is not None or call.kwarg("outputs") is not None):
                found.append((Ctx(idx.path, fn.qualname), call))
    return found


def state_input(project, handler: Func, position: int, depth: int):
    """What the handler's parameter at `position` holds when an event passes it a `gr.State` that another
    handler's return value fills; else None."""
    for ctx, call in project.ui_events():
        if project.resolve(_handler(call), ctx, call.line, depth) != handler:
            continue
        components = _components(call.kwarg("inputs") if call.kwarg("inputs") is not None else call.arg(1))
        if position >= len(components):
            continue
        state = components[position]
        held = project.resolve(state, ctx, call.line, depth)
        if not (isinstance(held, Obj) and held.cls in STATE_CLASSES and not held.path):
            continue
        found = _filled_by(project, state, ctx, depth)
        if found is not None:
            return found
    return None


def _filled_by(project, state, ctx: Ctx, depth: int):
    """What a handler returns into `state` (named among its event's `outputs`, in the same scope)."""
    for where, call in project.ui_events():
        outputs = _components(call.kwarg("outputs") if call.kwarg("outputs") is not None else call.arg(2))
        if where != ctx or state not in outputs:
            continue
        producer = project.resolve(_handler(call), where, call.line, depth)
        fn = project.function(producer) if isinstance(producer, Func) else None
        for value in fn.returns if fn is not None else ():
            if len(outputs) > 1:  # several outputs: the handler returns a tuple, one value each
                if not (isinstance(value, E.Seq) and len(value.elts) == len(outputs)):
                    continue
                value = value.elts[outputs.index(state)]
            found = project.resolve(value, Ctx(producer.path, fn.qualname), None, depth)
            if found is not None:
                return found
    return None


def _handler(call: E.Call):
    return call.kwarg("fn") if call.kwarg("fn") is not None else call.arg(0)


def _components(expr) -> list:
    if expr is None:
        return []
    return list(expr.elts) if isinstance(expr, E.Seq) else [expr]
