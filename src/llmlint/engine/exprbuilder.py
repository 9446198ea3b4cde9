"""Builds `exprs.Expr` values from libcst expression nodes (imported only where files are parsed).

String constants are kept with every key-like run redacted, and a literal key given to an `api_key`-like name
(`api_key="..."`, `{"api_key": "..."}`, `OPENAI_API_KEY = "..."`) redacted whole: no index, and so no cache file,
holds a provider key (see redact.py)."""

from __future__ import annotations

import sys

import libcst as cst

from llmlint.engine.exprs import (
    Attr,
    Await,
    BinOp,
    Call,
    Comp,
    Compare,
    Const,
    DictExpr,
    Expr,
    FStr,
    IfExp,
    Lambda,
    Name,
    Seq,
    Slice,
    Subscript,
    Unknown,
    height,
    with_parts,
)
from llmlint.engine.redact import KEY_NAME, is_key, redact, redact_key

MAX_HEIGHT = 48  # levels an Expr keeps: deeper sub-expressions become Unknown("TooDeep"), so that pickling, hashing and
# every walk over an index stay far from Python's recursion limit whatever the source's nesting (real code stays under 20)
FLAT_CONCAT = 16  # a `+` chain of more operands than this, one of them a string, is one FStr (a prompt built of 500 pieces)

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


class ExprBuilder:
    """Turns libcst expressions into `Expr`, with positions for calls."""

    def __init__(self, positions):
        self._positions = positions  # libcst PositionProvider mapping
        self._built: dict = {}  # node -> Expr: each node is built once and its Expr shared (smaller pickles too)
        self._heights: dict = {}  # id(Expr) -> (height, Expr) of every Expr built or bounded so far

    def build(self, node) -> Expr:
        built = self._built.get(node)
        if built is None:
            method = getattr(self, "_" + type(node).__name__, None)
            built = Unknown(type(node).__name__, tuple(self._children(node))) if method is None else method(node)
            built = self._built[node] = self.bounded(built)
        return built

    def bounded(self, expr) -> Expr:
        """`expr`, or when it has more than MAX_HEIGHT levels a copy whose sub-expressions below that depth are
        Unknown("TooDeep"). Sub-expressions built here are bounded already, so this costs one level per Expr."""
        if expr is None or height(expr, self._heights) <= MAX_HEIGHT:
            return expr
        clipped = self._clip(expr, MAX_HEIGHT)
        height(clipped, self._heights)
        return clipped

    def _clip(self, expr, levels: int):
        if height(expr, self._heights) <= levels:
            return expr
        if levels <= 1:
            return Unknown("TooDeep")
        return with_parts(expr, lambda part: self._clip(part, levels - 1))

    def build_named(self, name: str, node) -> Expr:
        """The Expr of `node` given to `name` (a keyword, a dict key, an assignment target): a string literal that is
        a key given to a key's name is redacted whole, even when it has no provider's format."""
        value = self.build(node)
        if isinstance(value, Const) and isinstance(value.value, str) and name and KEY_NAME.search(name):
            raw = literal_text(node)
            if raw is not None and is_key(raw, named=True):
                value = self._built[node] = Const(redact_key(raw))
        return value

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
            return Const(redact(_plain_string(node) or node.evaluated_value))
        except Exception:
            return Unknown("SimpleString")

    def _ConcatenatedString(self, node):
        # `"a" "b" f"{c}" ...` nests to the right; read without recursion: the constant tail is one Const, and when
        # anything precedes it, the whole is one FStr of every piece's parts (as pairwise folding gives)
        pieces = []
        while isinstance(node, cst.ConcatenatedString):
            pieces.append(self.build(node.left))
            node = node.right
        pieces.append(self.build(node))
        tail = pieces.pop()
        while pieces and isinstance(tail, Const) and isinstance(pieces[-1], Const) and type(pieces[-1].value) is type(tail.value):
            tail = Const(redact(pieces.pop().value + tail.value))  # a key may be split over the parts
        if not pieces:
            return tail
        return FStr(tuple(part for piece in (*pieces, tail) for part in _fparts(piece)))

    def _FormattedString(self, node):
        parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(redact(_unescape_fstring_text(part.value, node.prefix)))
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
        if op != "+":
            return BinOp(op, self.build(node.left), self.build(node.right))
        operands = []  # the `+` chain, read without recursion: `a + b + c` nests to the left
        while isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            operands.append(node.right)
            node = node.left
        operands.append(node)
        built = [self.build(operand) for operand in reversed(operands)]
        if len(built) > FLAT_CONCAT and any(isinstance(b, FStr) or isinstance(b, Const) and isinstance(b.value, str) for b in built):
            return _concat(built)
        value = built[0]
        for operand in built[1:]:
            value = self.bounded(BinOp("+", value, operand))
        return value

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
        if len(node.slice) != 1:  # `Annotated[OpenAI, Depends(get_client)]`, `grid[i, j]`: a tuple index
            if any(isinstance(element.slice, cst.Slice) for element in node.slice):
                return Subscript(value, Unknown("Tuple"))
            return Subscript(value, Seq("tuple", tuple(self.build(element.slice.value) for element in node.slice)))
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
                key = self.build(element.key)
                name = key.value if isinstance(key, Const) and isinstance(key.value, str) else ""
                items.append((key, self.build_named(name, element.value)))
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
            value = self.build(arg.value) if arg.keyword is None else self.build_named(arg.keyword.value, arg.value)
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


def _concat(pieces) -> Expr:
    """One FStr (or Const) for the concatenation of `pieces`, adjacent strings joined."""
    out: list = []
    for piece in pieces:
        for part in _fparts(piece):
            if isinstance(part, str) and out and isinstance(out[-1], str):
                out[-1] += part
            else:
                out.append(part)
    out = [redact(part) if isinstance(part, str) else part for part in out]  # a key may be split over the pieces
    if len(out) == 1 and isinstance(out[0], str):
        return Const(out[0])
    return FStr(tuple(out))


def literal_text(node) -> str | None:
    """The text of a string literal (plain or implicitly concatenated) as written, or None (bytes, f-strings, errors)."""
    pieces = []
    while isinstance(node, cst.ConcatenatedString):  # nests to the right
        pieces.append(node.left)
        node = node.right
    pieces.append(node)
    texts = []
    for piece in pieces:
        if not isinstance(piece, cst.SimpleString):
            return None
        try:
            value = piece.evaluated_value
        except Exception:
            return None
        if not isinstance(value, str):
            return None
        texts.append(value)
    return "".join(texts)


def _plain_string(node) -> str | None:
    """The value of a str literal with no backslash escape and no carriage return inside, read off its text
    (evaluated_value compiles each literal: a tenth of the index time of a file of 10,000 model calls); None (or "")
    for any other literal."""
    prefix = node.prefix
    if prefix not in ("", "r", "u", "R", "U"):
        return None
    raw = node.value[len(prefix) + len(node.quote):-len(node.quote)]
    if "\r" in raw or "\\" in raw and prefix not in ("r", "R"):
        return None
    return raw


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
