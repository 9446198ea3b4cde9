"""A small, picklable picture of Python expressions, built from libcst nodes by exprbuilder.py.

The index stores expressions in this form so that rules and the linker can reason about values
(prompt text, model names, clients, keyword arguments) without keeping or re-parsing syntax trees.
Anything this picture cannot express becomes `Unknown`, which every consumer treats as "don't know".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import operator


def compact(cls):
    """Make a slots dataclass pickle as `cls(*fields)`: half the bytes and about three times faster to load than
    pickle's default for slots (and than dataclasses' own for frozen ones), which matters when thousands of
    indexes come back from the worker processes or out of the cache. Not frozen for the same reason; nothing
    changes an Expr once built (hashing and equality are by fields, as for a frozen dataclass)."""
    names = cls.__slots__
    if len(names) == 1:
        name = names[0]
        cls.__reduce__ = lambda self: (cls, (getattr(self, name),))
    else:
        get = operator.attrgetter(*names)
        cls.__reduce__ = lambda self: (cls, get(self))
    return cls


@compact
@dataclass(unsafe_hash=True, slots=True)
class Const:
    value: object  # str, bytes, int, float, bool, None


@compact
@dataclass(unsafe_hash=True, slots=True)
class Name:
    id: str


@compact
@dataclass(unsafe_hash=True, slots=True)
class Attr:
    base: "Expr"
    attr: str


@compact
@dataclass(unsafe_hash=True, slots=True)
class Call:
    func: "Expr"
    args: tuple
    kwargs: tuple  # ((name, Expr), ...); name None for **mapping
    line: int
    col: int  # 1-based
    end_line: int
    end_col: int
    has_star: bool = False

    def kwarg(self, *names: str):
        """The first keyword argument among `names`, or None."""
        for key, value in self.kwargs:
            if key in names:
                return value
        return None

    def has_kwarg(self, *names: str) -> bool:
        return any(key in names for key, _ in self.kwargs)

    def arg(self, index: int, *names: str):
        """Positional argument `index`, else the first keyword among `names`."""
        if index < len(self.args):
            return self.args[index]
        return self.kwarg(*names)


@compact
@dataclass(unsafe_hash=True, slots=True)
class FStr:
    parts: tuple  # str pieces and Expr holes


@compact
@dataclass(unsafe_hash=True, slots=True)
class BinOp:
    op: str
    left: "Expr"
    right: "Expr"


@compact
@dataclass(unsafe_hash=True, slots=True)
class Subscript:
    value: "Expr"
    index: "Expr"


@compact
@dataclass(unsafe_hash=True, slots=True)
class Slice:
    lower: "Expr | None"
    upper: "Expr | None"


@compact
@dataclass(unsafe_hash=True, slots=True)
class Seq:
    kind: str  # list, tuple, set
    elts: tuple


@compact
@dataclass(unsafe_hash=True, slots=True)
class DictExpr:
    items: tuple  # ((key Expr or None for **, value Expr), ...)

    def get(self, key: str):
        for k, v in self.items:
            if isinstance(k, Const) and k.value == key:
                return v
        return None


@compact
@dataclass(unsafe_hash=True, slots=True)
class Comp:
    kind: str  # gen, list, set, dict
    elt: "Expr"
    iters: tuple  # the iterables of the for-clauses
    has_condition: bool = False


@compact
@dataclass(unsafe_hash=True, slots=True)
class Await:
    value: "Expr"


@compact
@dataclass(unsafe_hash=True, slots=True)
class Lambda:
    body: "Expr"


@compact
@dataclass(unsafe_hash=True, slots=True)
class IfExp:
    body: "Expr"
    orelse: "Expr"
    test: "Expr | None" = None  # the condition; not a sub-expression of the value, so `walk` leaves it out


@compact
@dataclass(unsafe_hash=True, slots=True)
class Compare:
    left: "Expr"
    ops: tuple
    comparators: tuple


@compact
@dataclass(unsafe_hash=True, slots=True)
class Unknown:
    kind: str  # the libcst node type, for messages and debugging
    children: tuple = ()  # sub-expressions worth following (operands, arguments)


Expr = Union[Const, Name, Attr, Call, FStr, BinOp, Subscript, Slice, Seq, DictExpr, Comp, Await, Lambda, IfExp, Compare, Unknown]

def dotted(expr) -> str | None:
    """`a.b.c` for a Name/Attr chain, else None."""
    parts = []
    while isinstance(expr, Attr):
        parts.append(expr.attr)
        expr = expr.base
    if isinstance(expr, Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


def literal_str(expr) -> str | None:
    """The value of a plain string constant, else None."""
    if isinstance(expr, Const) and isinstance(expr.value, str):
        return expr.value
    return None


def walk(expr):
    """Every sub-expression of `expr`, itself included, depth first."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if node is None or isinstance(node, (str, int, float, bool, bytes)):
            continue
        yield node
        if isinstance(node, Attr):
            stack.append(node.base)
        elif isinstance(node, Call):
            stack.append(node.func)
            stack.extend(node.args)
            stack.extend(v for _, v in node.kwargs)
        elif isinstance(node, FStr):
            stack.extend(p for p in node.parts if not isinstance(p, str))
        elif isinstance(node, BinOp):
            stack.extend((node.left, node.right))
        elif isinstance(node, Subscript):
            stack.extend((node.value, node.index))
        elif isinstance(node, Slice):
            stack.extend((node.lower, node.upper))
        elif isinstance(node, Seq):
            stack.extend(node.elts)
        elif isinstance(node, DictExpr):
            for k, v in node.items:
                stack.extend((k, v))
        elif isinstance(node, Comp):
            stack.append(node.elt)
            stack.extend(node.iters)
        elif isinstance(node, (Await, Lambda)):
            stack.append(node.value if isinstance(node, Await) else node.body)
        elif isinstance(node, IfExp):
            stack.extend((node.body, node.orelse))
        elif isinstance(node, Compare):
            stack.append(node.left)
            stack.extend(node.comparators)
        elif isinstance(node, Unknown):
            stack.extend(node.children)
