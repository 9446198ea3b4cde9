"""A small, picklable picture of Python expressions, built from libcst nodes by exprbuilder.py.

The index stores expressions in this form so that rules and the linker can reason about values
(prompt text, model names, clients, keyword arguments) without keeping or re-parsing syntax trees.
Anything this picture cannot express becomes `Unknown`, which every consumer treats as "don't know".
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Union


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


def parts(node) -> tuple:
    """The direct sub-expressions of `node` (an IfExp's condition included), for walks that must see them all."""
    get = _PARTS.get(type(node))
    return get(node) if get is not None else ()


_PARTS = {
    Attr: lambda node: (node.base,),
    Call: lambda node: (node.func, *node.args, *(v for _, v in node.kwargs)),
    FStr: lambda node: tuple(p for p in node.parts if not isinstance(p, str)),
    BinOp: lambda node: (node.left, node.right),
    Subscript: lambda node: (node.value, node.index),
    Slice: lambda node: tuple(p for p in (node.lower, node.upper) if p is not None),
    Seq: lambda node: node.elts,
    DictExpr: lambda node: tuple(x for k, v in node.items for x in (k, v) if x is not None),
    Comp: lambda node: (node.elt, *node.iters),
    Await: lambda node: (node.value,),
    Lambda: lambda node: (node.body,),
    IfExp: lambda node: (node.body, node.orelse) if node.test is None else (node.body, node.orelse, node.test),
    Compare: lambda node: (node.left, *node.comparators),
    Unknown: lambda node: node.children,
}


def with_parts(node, fn):
    """A copy of `node` with `fn` applied to each of its direct sub-expressions (the counterpart of `parts`)."""
    if isinstance(node, Attr):
        return Attr(fn(node.base), node.attr)
    if isinstance(node, Call):
        return Call(fn(node.func), tuple(fn(a) for a in node.args), tuple((k, fn(v)) for k, v in node.kwargs), node.line, node.col,
                    node.end_line, node.end_col, node.has_star)
    if isinstance(node, FStr):
        return FStr(tuple(p if isinstance(p, str) else fn(p) for p in node.parts))
    if isinstance(node, BinOp):
        return BinOp(node.op, fn(node.left), fn(node.right))
    if isinstance(node, Subscript):
        return Subscript(fn(node.value), fn(node.index))
    if isinstance(node, Slice):
        return Slice(None if node.lower is None else fn(node.lower), None if node.upper is None else fn(node.upper))
    if isinstance(node, Seq):
        return Seq(node.kind, tuple(fn(e) for e in node.elts))
    if isinstance(node, DictExpr):
        return DictExpr(tuple((None if k is None else fn(k), fn(v)) for k, v in node.items))
    if isinstance(node, Comp):
        return Comp(node.kind, fn(node.elt), tuple(fn(i) for i in node.iters), node.has_condition)
    if isinstance(node, Await):
        return Await(fn(node.value))
    if isinstance(node, Lambda):
        return Lambda(fn(node.body))
    if isinstance(node, IfExp):
        return IfExp(fn(node.body), fn(node.orelse), None if node.test is None else fn(node.test))
    if isinstance(node, Compare):
        return Compare(fn(node.left), node.ops, tuple(fn(c) for c in node.comparators))
    if isinstance(node, Unknown):
        return Unknown(node.kind, tuple(fn(c) for c in node.children))
    return node


def height(expr, known: dict | None = None) -> int:
    """The number of levels of `expr` (1 for a leaf), computed without recursion. `known` maps id(sub-expression) to
    (height, sub-expression) for sub-expressions measured before; it is filled in as the walk goes."""
    known = {} if known is None else known
    found = known.get(id(expr))
    if found is not None:
        return found[0]
    below = parts(expr)
    if all(id(p) in known for p in below):  # the common case: every part measured already
        level = 1 + max((known[id(p)][0] for p in below), default=0)
        known[id(expr)] = (level, expr)
        return level
    stack = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in known:
            continue
        below = parts(node)
        if ready:
            known[id(node)] = (1 + max((known[id(p)][0] for p in below), default=0), node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in below if id(p) not in known)
    return known[id(expr)][0]


def annotated_parts(annotation) -> tuple:
    """(type, metadata...) of `Annotated[OpenAI, Depends(get_client)]`, else ()."""
    if isinstance(annotation, Subscript) and (dotted(annotation.value) or "").rsplit(".", 1)[-1] == "Annotated" \
            and isinstance(annotation.index, Seq):
        return annotation.index.elts
    return ()


def annotated_dependency(annotation):
    """The `Depends(...)` call of `Annotated[OpenAI, Depends(get_client)]` (FastAPI's dependency declared in the
    annotation), else None."""
    for extra in annotated_parts(annotation)[1:]:
        if isinstance(extra, Call) and (dotted(extra.func) or "").rsplit(".", 1)[-1] == "Depends" and extra.args:
            return extra
    return None
