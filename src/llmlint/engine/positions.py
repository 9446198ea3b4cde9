"""Positions for libcst nodes, taken from the tree CPython's own parser already built for the file.

libcst's PositionProvider regenerates the code of every node to learn where it is, which costs two to three
times the parse itself. The `ast` tree of the same text (built anyway to vet nesting) carries every position at
no cost, so the indexer pairs its libcst statements with the `ast` statements, in order, and each statement's
calls with the `ast` calls, in source order. Every pair is checked (node kinds, callee names, argument shape);
on any disagreement `PositionMismatch` is raised and the caller falls back to PositionProvider for that file.

Lookups answer like PositionProvider: `positions[node].start.line`, 0-based `.start.column`, exclusive end.
Columns are counted in characters, as libcst does (the `ast` counts UTF-8 bytes).
"""

from __future__ import annotations

import ast
import dataclasses
import re
from typing import NamedTuple

import libcst as cst

from llmlint.engine.sourcelines import SourceLines


class PositionMismatch(Exception):
    """The two trees do not line up; use PositionProvider for this file."""


class Pos(NamedTuple):
    line: int
    column: int


class Range(NamedTuple):
    start: Pos
    end: Pos


_KIND = {  # libcst statement class -> the ast classes it may be
    "FunctionDef": ("FunctionDef", "AsyncFunctionDef"),
    "For": ("For", "AsyncFor"),
    "With": ("With", "AsyncWith"),
    "Expr": ("Expr",),
    "Del": ("Delete",),
}
# libcst keeps some fields out of source order; the calls of a statement are collected in source order
_SOURCE_ORDER = {
    cst.FunctionDef: ("decorators", "params", "returns"),
    cst.ClassDef: ("decorators", "bases", "keywords"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.Parameters: ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.ExceptHandler: ("type", "name"),
    cst.Param: ("annotation", "default"),
}
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.FormattedStringText)


class AstPositions(SourceLines):
    def __init__(self, text: str, tree: ast.Module, module: cst.Module):
        super().__init__(text)
        self.module = module
        self.statements = list(_ast_statements(tree.body))
        self.calls_by_statement = _ast_calls_by_statement(tree)
        self.next_statement = 0
        self.ranges: dict = {}
        self.stack: list = []  # (libcst statement, text offset where its source starts, decorators included)

    # lookups
    def __getitem__(self, node) -> Range:
        found = self.ranges.get(node)
        if found is None:
            if isinstance(node, _STRINGS):
                return self._find_string(node)
            raise PositionMismatch(f"no position for {type(node).__name__}")
        return found

    # pairing, driven by the indexer's walk
    def enter(self, node) -> None:
        """Called as the walk reaches a statement (small or compound) or a SimpleStatementLine."""
        if self.next_statement >= len(self.statements):
            raise PositionMismatch("more statements than the ast has")
        tree = self.statements[self.next_statement]
        if isinstance(node, cst.SimpleStatementLine):  # starts where its first small statement does
            self._set(node, tree)
            return
        self.next_statement += 1
        kind = type(node).__name__
        if type(tree).__name__ not in _KIND.get(kind, (kind,)):
            raise PositionMismatch(f"{kind} paired with {type(tree).__name__}")
        self._set(node, tree)
        self._statement_parts(node, tree)
        self._pair_calls(node, tree)
        decorators = getattr(tree, "decorator_list", None)
        first = decorators[0] if decorators else tree
        self.stack.append((node, self.offset(first.lineno, first.col_offset)))

    def leave(self, node) -> None:
        if self.stack and self.stack[-1][0] is node:
            self.stack.pop()

    def finish(self) -> None:
        if self.next_statement != len(self.statements):
            raise PositionMismatch("fewer statements than the ast has")

    # one statement
    def _statement_parts(self, node, tree) -> None:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            if len(node.decorators) != len(tree.decorator_list):
                raise PositionMismatch("decorators differ")
            for decorator, expr in zip(node.decorators, tree.decorator_list):
                self._set(decorator.decorator, expr)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            if len(node.handlers) != len(tree.handlers):
                raise PositionMismatch("handlers differ")
            for handler, expr in zip(node.handlers, tree.handlers):
                self._set(handler, expr)
            self._set_block(node.body, tree.body)
        elif isinstance(node, cst.If):
            self._set_block(node.body, tree.body)
        elif isinstance(node, cst.Assign):
            if len(node.targets) != len(tree.targets):
                raise PositionMismatch("targets differ")
            for target, expr in zip(node.targets, tree.targets):
                self._set_target(target.target, expr)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For)):
            self._set_target(node.target, tree.target)
        elif isinstance(node, cst.With):
            if len(node.items) != len(tree.items):
                raise PositionMismatch("with items differ")
            for item, expr in zip(node.items, tree.items):
                if item.asname is not None and expr.optional_vars is not None:
                    self._set_target(item.asname.name, expr.optional_vars)

    def _set_target(self, node, tree) -> None:
        self._set(node, tree)
        if isinstance(node, (cst.Tuple, cst.List)):
            if not isinstance(tree, (ast.Tuple, ast.List)) or len(node.elements) != len(tree.elts):
                raise PositionMismatch("unpacking differs")
            for element, expr in zip(node.elements, tree.elts):
                self._set_target(element.value, expr.value if isinstance(expr, ast.Starred) else expr)

    def _pair_calls(self, node, tree) -> None:
        mine = _own_calls(node)
        theirs = sorted(self.calls_by_statement.get(id(tree), ()), key=lambda c: (c.lineno, c.col_offset, -c.end_lineno, -c.end_col_offset))
        if len(mine) != len(theirs):
            raise PositionMismatch("calls differ")
        for call, expr in zip(mine, theirs):
            name = cst_dotted(call.func)
            if name != _ast_dotted(expr.func):
                raise PositionMismatch("callees differ")
            at = self.line_text(expr.lineno)[self.column(expr.lineno, expr.col_offset):].lstrip("( \t")
            if name and not at.startswith(name.split(".", 1)[0]):
                raise PositionMismatch("call position is off")
            self._set(call, expr)
            self._pair_args(call, expr)

    def _pair_args(self, call, expr) -> None:
        positional = [a for a in call.args if a.keyword is None and a.star != "**"]
        keywords = [a for a in call.args if a.keyword is not None or a.star == "**"]
        if len(positional) != len(expr.args) or len(keywords) != len(expr.keywords):
            raise PositionMismatch("arguments differ")
        for arg, value in zip(positional, expr.args):
            if (arg.star == "*") != isinstance(value, ast.Starred):
                raise PositionMismatch("arguments differ")
            self._set(arg.value, value.value if isinstance(value, ast.Starred) else value)
        for arg, keyword in zip(keywords, expr.keywords):
            if (arg.keyword.value if arg.keyword is not None else None) != keyword.arg:
                raise PositionMismatch("keywords differ")
            self._set(arg.value, keyword.value)

    # ranges
    def _set(self, node, tree) -> None:
        first = last = tree
        if isinstance(tree, ast.Tuple) and getattr(node, "lpar", None):  # ast counts a tuple's parentheses, libcst not
            if not tree.elts:
                self.ranges[node] = Range(*[Pos(tree.lineno, self.column(tree.lineno, tree.col_offset) + 1)] * 2)
                return
            first, last = tree.elts[0], tree.elts[-1]
            after = self._skip_space(self.offset(last.end_lineno, last.end_col_offset), 1)
            if self.text.startswith(",", after):  # `(x,)`, `(a, b,)`: libcst counts the trailing comma in
                self.ranges[node] = Range(self._start(first), self._pos(after + 1))
                return
        elif isinstance(tree, ast.GeneratorExp):  # and a generator's (its own or the call's it is the argument of)
            start = self._skip_space(self.offset(tree.lineno, tree.col_offset) + 1, 1)
            end = self._skip_space(self.offset(tree.end_lineno, tree.end_col_offset) - 1, -1)
            self.ranges[node] = Range(self._pos(start), self._pos(end))
            return
        self.ranges[node] = Range(self._start(first), self._end(last))

    def _set_block(self, suite, statements) -> None:
        self.ranges[suite] = Range(self._start(statements[0]), self._end(statements[-1]))

    def _start(self, tree) -> Pos:
        return Pos(tree.lineno, self.column(tree.lineno, tree.col_offset))

    def _end(self, tree) -> Pos:
        return Pos(tree.end_lineno, self.column(tree.end_lineno, tree.end_col_offset))

    def _pos(self, offset: int) -> Pos:
        line = self.line_of(offset)
        return Pos(line, offset - self.line_starts[line - 1])

    def _skip_space(self, offset: int, step: int) -> int:
        """From `offset`, past whitespace forwards (step 1), or back to the end of the code before it (step -1)."""
        text = self.text
        if step > 0:
            while offset < len(text) and text[offset] in " \t\r\n\f\\":
                offset += 1
        else:
            while offset > 0 and text[offset - 1] in " \t\r\n\f\\":
                offset -= 1
        return offset

    def _find_string(self, node) -> Range:
        """A string's place, found by its exact source text inside the statement being walked."""
        code = self.module.code_for_node(node)
        start_at = self.stack[-1][1] if self.stack else 0
        offset = self.text.find(code, start_at)
        if offset < 0:
            raise PositionMismatch("string not found")
        found = Range(self._pos(offset), self._pos(offset + len(code)))
        self.ranges[node] = found
        return found


def _ast_statements(body):
    """Every statement of `body`, nested ones included, in source order."""
    for statement in body:
        yield statement
        for name in ("body", "handlers", "orelse", "finalbody", "cases"):
            children = getattr(statement, name, None)
            if not children or not isinstance(children, list):
                continue
            for child in children:
                if isinstance(child, ast.stmt):
                    yield from _ast_statements([child])
                else:  # an except handler or a match case
                    yield from _ast_statements(child.body)


def _ast_calls_by_statement(tree: ast.Module) -> dict:
    """{id of a statement: the calls in it, not in the statements nested in it}, in one pass over the tree."""
    found: dict = {}
    _collect_ast_calls(tree, [], found)
    return found


def _collect_ast_calls(node, calls: list, found: dict) -> None:
    # (a module-level function, not a closure: a recursive closure is a reference cycle that keeps the tree alive)
    for name in node._fields:
        value = getattr(node, name, None)
        if type(value) is list:
            for item in value:
                if isinstance(item, ast.stmt):
                    own = found[id(item)] = []
                    _collect_ast_calls(item, own, found)
                elif isinstance(item, ast.AST):
                    if type(item) is ast.Call:
                        calls.append(item)
                    _collect_ast_calls(item, calls, found)
        elif isinstance(value, ast.AST):
            if type(value) is ast.Call:
                calls.append(value)
            _collect_ast_calls(value, calls, found)


_FIELDS: dict = {}


# libcst fields that hold only whitespace, comments and punctuation
TRIVIA_FIELD = re.compile(r"^header$|^footer$|whitespace|^lpar$|^rpar$|comma|semicolon|leading_lines|lines_after|^equal$|colon|^operator$|^dot$|bracket|brace|^asynchronous$")


def _fields(cls) -> tuple:
    """The fields of a libcst class that may hold a call, in source order."""
    names = _FIELDS.get(cls)
    if names is None:
        order = _SOURCE_ORDER.get(cls, ())
        names = order + tuple(f.name for f in dataclasses.fields(cls) if f.name not in order and not TRIVIA_FIELD.search(f.name))
        _FIELDS[cls] = names
    return names


_DESCEND: dict = {}  # type -> whether the calls of a statement may be inside a value of this type


def _descend(value) -> bool:
    kind = type(value)
    found = _DESCEND.get(kind)
    if found is None:
        found = _DESCEND[kind] = isinstance(value, cst.CSTNode) and not isinstance(value, (cst.BaseSuite, cst.BaseStatement))
    return found


def _own_calls(statement) -> list:
    """The libcst calls in `statement` itself (nested statements and blocks left out), in source order."""
    found: list = []
    _collect_calls(statement, found)
    return found


def _collect_calls(node, found: list) -> None:
    if type(node) is cst.Call:
        found.append(node)
    for name in _fields(type(node)):
        value = getattr(node, name)
        if type(value) is list or type(value) is tuple:
            for item in value:
                if _descend(item):
                    _collect_calls(item, found)
        elif _descend(value):
            _collect_calls(value, found)


def cst_dotted(node) -> str:
    """`a.b.c` for a libcst Name or Attribute chain; "" for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = cst_dotted(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


def _ast_dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""
