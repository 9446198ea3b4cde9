"""Reading the numeric value of a setting (timeouts, caps) from its expression."""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.knowledge.modelcalls import UNBOUNDED
from llmlint.link.project import Project
from llmlint.link.values import Ctx, Lit, Obj

UNKNOWN = object()  # set to something the analysis cannot evaluate: treated as deliberately set


def number(project: Project, expr, ctx: Ctx, depth: int = 0):
    """A number, None for an explicit `None`, or UNKNOWN."""
    if depth > 8:
        return UNKNOWN
    if isinstance(expr, E.Const):
        if expr.value is None:
            return None
        if isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool):
            return float(expr.value)
        return UNKNOWN
    if isinstance(expr, (E.Name, E.Attr)):
        value = project.resolve(expr, ctx)
        if isinstance(value, Lit):
            return number(project, value.expr, value.ctx, depth + 1)
        return UNKNOWN
    if isinstance(expr, E.BinOp) and expr.op in ("*", "+"):
        left, right = number(project, expr.left, ctx, depth + 1), number(project, expr.right, ctx, depth + 1)
        if isinstance(left, float) and isinstance(right, float):
            return left * right if expr.op == "*" else left + right
    return UNKNOWN


def timeout_seconds(project: Project, expr, ctx: Ctx):
    """Seconds a timeout expression allows: a number, UNBOUNDED for None, or UNKNOWN.

    Understands `httpx.Timeout(30, connect=5)`, `Timeout(read=60)`, `(5, 30)` tuples (requests) and
    `http_client=httpx.Client(timeout=...)`."""
    if isinstance(expr, E.Seq) and expr.kind == "tuple" and expr.elts:
        values = [number(project, e, ctx) for e in expr.elts]
        if any(v is UNKNOWN for v in values):
            return UNKNOWN
        return UNBOUNDED if any(v is None for v in values) else max(values)
    if isinstance(expr, E.Call):
        value = project.resolve(expr.func, ctx)
        name = value.name if hasattr(value, "name") else ""
        if name.endswith("Timeout"):
            read = expr.kwarg("read")
            main = read if read is not None else expr.arg(0, "timeout")
            if main is None:
                return UNKNOWN
            return _bounded(number(project, main, ctx))
        return UNKNOWN
    resolved = project.resolve(expr, ctx) if isinstance(expr, (E.Name, E.Attr)) else None
    if isinstance(resolved, Obj) and isinstance(resolved.ctor, E.Call) and not resolved.path:
        return timeout_seconds(project, resolved.ctor, resolved.ctor_ctx)
    return _bounded(number(project, expr, ctx))


def http_client_timeout(project: Project, expr, ctx: Ctx):
    """The timeout of an `http_client=httpx.Client(timeout=...)` argument, or UNKNOWN."""
    value = project.resolve(expr, ctx) if not isinstance(expr, E.Call) else project.resolve(expr, ctx)
    if isinstance(value, Obj) and isinstance(value.ctor, E.Call) and value.ctor.kwarg("timeout") is not None:
        return timeout_seconds(project, value.ctor.kwarg("timeout"), value.ctor_ctx)
    return UNKNOWN


def _bounded(value):
    if value is None:
        return UNBOUNDED
    return value
