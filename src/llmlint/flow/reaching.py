"""Local bindings of one function, and the ones that can reach a use: the last plain binding (`=`, `with`, `for`)
before it and the additions made after that (`+=`, `.append`, item assignment), leaving out additions in the
other arm of an `if` the plain binding is in."""

from __future__ import annotations

from dataclasses import replace

from llmlint.engine import exprs as E

PLAIN = frozenset({"=", "with", "for"})  # bindings that give a name a new value


def bindings_table(fn) -> dict:
    """{target: [Assign]} of `fn` in source order; `d[k] = v` is an Assign of `d` with op "item"."""
    table: dict = {}
    if fn is None:
        return table
    for assign in sorted(fn.assigns, key=lambda a: a.line):
        if not assign.target and isinstance(assign.target_expr, E.Subscript):
            target = E.dotted(assign.target_expr.value)
            assign = replace(assign, target=target, op="item") if target else assign
        if assign.target:
            table.setdefault(assign.target, []).append(assign)
    return table


def reaching(assigns, line: int | None) -> tuple[list, bool]:
    """(the bindings among `assigns` (one name's, in source order) that may reach a use before `line` (None: the end
    of the function), whether a plain one is among them): the last plain binding and the additions after it."""
    before = [a for a in assigns if line is None or a.line < line]
    base = next((a for a in reversed(before) if a.op in PLAIN), None)
    found = additions(before, base)
    return ([base] + found if base is not None else found), base is not None


def additions(assigns, base, ops=None) -> list:
    """The additions among `assigns` (in source order) made after the plain binding `base` (from the first one when
    None: `assigns` then holds no plain binding) and before the next plain one, whose op is in `ops` (any but a plain one when None), leaving out those in the
    other arm of an `if` that `base` is in."""
    found, after = [], base is None
    for assign in assigns:
        if assign is base:
            after = True
        elif after:
            if assign.op in PLAIN:
                break
            if (ops is None or assign.op in ops) and (base is None or not exclusive(assign, base)):
                found.append(assign)
    return found


def exclusive(a, b) -> bool:
    """Assignments in different arms of the same `if` (never both run)."""
    arms = dict(getattr(a, "arms", ()))
    return any(line in arms and arms[line] != arm for line, arm in getattr(b, "arms", ()))
