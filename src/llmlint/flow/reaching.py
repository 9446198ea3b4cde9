"""Local bindings of one function, and the ones that can reach a use: the last plain binding (`=`, `with`, `for`)
before it and the additions made after that (`+=`, `.append`, item assignment), leaving out additions in the
other arm of an `if` the plain binding is in. `alternatives` gives every plain binding that may be the one a use
reads (`if`/`elif` arms), for the objects a call may dispatch to (link/alternatives.py)."""

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


def alternatives(assigns, line: int | None) -> list:
    """The plain bindings among `assigns` (one name's, in source order) any of which a use before `line` (None: the
    end of the function) may read: the last one, the ones before it in other arms of the `if`s it is in
    (`if kind == "claude": backend = Claude()` / `else: backend = OpenAI()`), and the binding before those when
    their arms leave a way around them (an `if` with no `else`). In source order."""
    before = [a for a in assigns if a.op in PLAIN and (line is None or a.line < line)]
    found = before[-1:]
    for assign in reversed(before[:-1]):
        if all(exclusive(assign, other) for other in found):
            found.append(assign)
            continue
        if not _covered([other.arms for other in found], _common(assign.arms, found)):
            found.append(assign)
        break
    return found[::-1]


def _common(arms: tuple, assigns) -> tuple:
    """The arms `arms` shares with every one of `assigns` (the `if`s around them all)."""
    depth = 0
    while depth < len(arms) and all(len(a.arms) > depth and a.arms[depth] == arms[depth] for a in assigns):
        depth += 1
    return arms[:depth]


def _covered(arms_list, prefix: tuple) -> bool:
    """Whether bindings in the arms `arms_list` (each starting with `prefix`) run on every way through `prefix`: one
    is directly in it, or both arms of one `if` in it are covered."""
    inner = [arms[len(prefix):] for arms in arms_list if arms[:len(prefix)] == prefix]
    if any(not rest for rest in inner):
        return True
    for start in {rest[0][0] for rest in inner}:
        if all(_covered([arms for arms in arms_list if arms[len(prefix):][:1] == ((start, arm),)], prefix + ((start, arm),))
               for arm in (0, 1)):
            return True
    return False


def exclusive(a, b) -> bool:
    """Assignments in different arms of the same `if` (never both run)."""
    arms = dict(getattr(a, "arms", ()))
    return any(line in arms and arms[line] != arm for line, arm in getattr(b, "arms", ()))
