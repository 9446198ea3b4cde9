"""Local bindings of one function, and the ones that can reach a use: the last plain binding (`=`, `with`, `for`)
before it and the additions made after that (`+=`, `.append`, item assignment)."""

from __future__ import annotations

from llmlint import exprs as E

PLAIN = frozenset({"=", "with", "for"})


def bindings_table(fn) -> dict:
    """{target: [(line, op, value Expr)]} of `fn` in source order; `d[k] = v` is an "item" binding of `d`."""
    table: dict = {}
    if fn is None:
        return table
    for assign in sorted(fn.assigns, key=lambda a: a.line):
        target, op = assign.target, assign.op
        if not target and isinstance(assign.target_expr, E.Subscript):
            target, op = E.dotted(assign.target_expr.value) or "", "item"
        if target:
            table.setdefault(target, []).append((assign.line, op, assign.value))
    return table


def reaching(bindings, line: int | None) -> tuple[list, bool]:
    """(the bindings that may reach a use before `line` (None: the end of the function), whether a plain one is
    among them): the last plain binding and the additions after it."""
    before = [b for b in bindings if line is None or b[0] < line]
    out = []
    for binding in reversed(before):
        out.append(binding)
        if binding[1] in PLAIN:
            return out, True
    return out, False
