"""A small, picklable picture of Python expressions, built from libcst nodes.

The index stores expressions in this form so that rules and the linker can reason about values
(prompt text, model names, clients, keyword arguments) without keeping or re-parsing syntax trees.
Anything this picture cannot express becomes `Unknown`, which every consumer treats as "don't know".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import operator
import sys

import libcst as cst


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

_BINOPS = {
    cst.Add: "+",
    cst.Subtract: "-",
    cst.Multiply: "*",
    cst.Divide: "/",
    cst.FloorDivide: "//",
    cst.Modulo: "%",
    cst.Power: "**",
    cst.BitOr: "|",
    cst.BitAnd: "&",
    cst.BitXor: "^",
    cst.LeftShift: "<<",
    cst.RightShift: ">>",
    cst.MatrixMultiply: "@",
}


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


class ExprBuilder:
    """Turns libcst expressions into `Expr`, with positions for calls."""

    def __init__(self, positions):
        self._positions = positions  # libcst PositionProvider mapping
        self._built: dict = {}  # node -> Expr: each node is built once and its Expr shared (smaller pickles too)

    def build(self, node) -> Expr:
        built = self._built.get(node)
        if built is None:
            method = getattr(self, "_" + type(node).__name__, None)
            built = Unknown(type(node).__name__, tuple(self._children(node))) if method is None else method(node)
            self._built[node] = built
        return built

    def _children(self, node):
        for child in node.children:
            if isinstance(child, cst.BaseExpression):
                yield self.build(child)
            elif isinstance(child, (cst.Arg, cst.Element, cst.DictElement)):
                yield self.build(child.value)

    # names and attributes
    def _Name(self, node):
        if node.value in ("None", "True", "False"):
            return Const({"None": None, "True": True, "False": False}[node.value])
        return Name(sys.intern(node.value))  # one string per identifier: shared again when the index is unpickled

    def _Attribute(self, node):
        return Attr(self.build(node.value), sys.intern(node.attr.value))

    # constants
    def _SimpleString(self, node):
        try:
            return Const(node.evaluated_value)
        except Exception:
            return Unknown("SimpleString")

    def _ConcatenatedString(self, node):
        left, right = self.build(node.left), self.build(node.right)
        if isinstance(left, Const) and isinstance(right, Const) and type(left.value) is type(right.value):
            return Const(left.value + right.value)
        return FStr(_fparts(left) + _fparts(right))

    def _FormattedString(self, node):
        parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(_unescape_fstring_text(part.value, node.prefix))
            else:
                parts.append(self.build(part.expression))
        return FStr(tuple(parts))

    def _Integer(self, node):
        try:
            return Const(int(node.value.replace("_", ""), 0))
        except ValueError:
            return Unknown("Integer")

    def _Float(self, node):
        try:
            return Const(float(node.value.replace("_", "")))
        except ValueError:
            return Unknown("Float")

    def _UnaryOperation(self, node):
        operand = self.build(node.expression)
        if isinstance(node.operator, cst.Minus) and isinstance(operand, Const) and isinstance(operand.value, (int, float)):
            return Const(-operand.value)
        if isinstance(node.operator, cst.Not):
            return Unknown("Not", (operand,))
        return Unknown("UnaryOperation", (operand,))

    # operations
    def _BinaryOperation(self, node):
        op = _BINOPS.get(type(node.operator), "?")
        return BinOp(op, self.build(node.left), self.build(node.right))

    def _BooleanOperation(self, node):
        return Unknown("BooleanOperation", (self.build(node.left), self.build(node.right)))

    def _Comparison(self, node):
        ops = tuple(type(t.operator).__name__ for t in node.comparisons)
        return Compare(self.build(node.left), ops, tuple(self.build(t.comparator) for t in node.comparisons))

    def _IfExp(self, node):
        return IfExp(self.build(node.body), self.build(node.orelse), self.build(node.test))

    def _Await(self, node):
        return Await(self.build(node.expression))

    def _Lambda(self, node):
        return Lambda(self.build(node.body))

    def _Subscript(self, node):
        value = self.build(node.value)
        if len(node.slice) != 1:
            return Subscript(value, Unknown("Tuple"))
        index = node.slice[0].slice
        if isinstance(index, cst.Slice):
            built = Slice(
                self.build(index.lower) if index.lower is not None else None,
                self.build(index.upper) if index.upper is not None else None,
            )
        else:
            built = self.build(index.value)
        return Subscript(value, built)

    # containers
    def _List(self, node):
        return Seq("list", tuple(self.build(e.value) for e in node.elements))

    def _Tuple(self, node):
        return Seq("tuple", tuple(self.build(e.value) for e in node.elements))

    def _Set(self, node):
        return Seq("set", tuple(self.build(e.value) for e in node.elements))

    def _Dict(self, node):
        items = []
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                items.append((self.build(element.key), self.build(element.value)))
            else:
                items.append((None, self.build(element.value)))
        return DictExpr(tuple(items))

    def _comp(self, kind, node, elt):
        iters, has_condition = [], False
        clause = node.for_in
        while clause is not None:
            iters.append(self.build(clause.iter))
            has_condition = has_condition or bool(clause.ifs)
            clause = clause.inner_for_in
        return Comp(kind, elt, tuple(iters), has_condition)

    def _GeneratorExp(self, node):
        return self._comp("gen", node, self.build(node.elt))

    def _ListComp(self, node):
        return self._comp("list", node, self.build(node.elt))

    def _SetComp(self, node):
        return self._comp("set", node, self.build(node.elt))

    def _DictComp(self, node):
        return self._comp("dict", node, Seq("tuple", (self.build(node.key), self.build(node.value))))

    # calls
    def _Call(self, node):
        args, kwargs, has_star = [], [], False
        for arg in node.args:
            value = self.build(arg.value)
            if arg.keyword is not None:
                kwargs.append((arg.keyword.value, value))
            elif arg.star == "**":
                kwargs.append((None, value))
                has_star = True
            elif arg.star == "*":
                has_star = True
                args.append(Unknown("Starred", (value,)))
            else:
                args.append(value)
        pos = self._positions[node]
        return Call(
            self.build(node.func),
            tuple(args),
            tuple(kwargs),
            pos.start.line,
            pos.start.column + 1,
            pos.end.line,
            pos.end.column + 1,
            has_star,
        )

    def _NamedExpr(self, node):
        return self.build(node.value)


def _fparts(expr) -> tuple:
    if isinstance(expr, FStr):
        return expr.parts
    if isinstance(expr, Const) and isinstance(expr.value, str):
        return (expr.value,)
    return (expr,)


def _unescape_fstring_text(text: str, prefix: str) -> str:
    text = text.replace("{{", "{").replace("}}", "}")
    if "r" in prefix.lower() or "\\" not in text:
        return text
    try:
        return text.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return text
