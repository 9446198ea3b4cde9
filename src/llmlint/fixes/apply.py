"""Applying autofixes: each file is read and parsed again with libcst, the node each Change names is found by its
position (and callee), transformed, the imports the new code needs are added (AddImportsVisitor), and the result
must parse before it is shown (`--diff`) or written (`--fix`).

Writes are atomic (a temporary file in the same folder, then os.replace), keep the file's encoding, BOM, newline
style and permissions, never go through a symlink, touch only files that were checked in this run, and skip a file
whose bytes are no longer those that were checked."""

from __future__ import annotations

import ast
import bisect
import codecs
import difflib
import io
import os
import re
import stat
import tempfile
import tokenize
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from llmlint.engine.cache import cache_key
from llmlint.engine.redact import safe_text
from llmlint.fixes.edits import chosen_fix
from llmlint.results.finding import Autofix, Change, Edit, Location, Report


@dataclass
class FileFix:
    display: str
    path: str
    data: bytes  # the bytes read (and checked)
    before: str
    after: str
    fixed: list = field(default_factory=list)  # the findings this file's edits fix

    def diff(self) -> str:
        lines = difflib.unified_diff(_lines(self.before), _lines(self.after),
                                     fromfile=self.display, tofile=self.display)
        return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


@dataclass
class FixPlan:
    files: list = field(default_factory=list)  # FileFix, by display path
    skipped: list = field(default_factory=list)  # one line each: `path: not fixed: reason`
    unsafe_left: int = 0  # findings with only an unsafe fix, not applied

    @property
    def fixed(self) -> list:
        return [f for ff in self.files for f in ff.fixed]


def plan_fixes(report: Report, *, unsafe: bool = False) -> FixPlan:
    """What `--fix` would change: one FileFix per file with an applicable edit."""
    plan = FixPlan()
    by_file: dict[str, list] = {}
    for finding in report.findings:
        fix = chosen_fix(finding, report, unsafe)
        if fix is None:
            if not unsafe and chosen_fix(finding, report, True) is not None:
                plan.unsafe_left += 1
            continue
        by_file.setdefault(fix.changes[0].target.path, []).append((finding, fix))
    for display in sorted(by_file):
        path, key, module, is_package = report.sources[display]
        data, reason = _read(path, key, module, is_package)
        if reason is None:
            file_fix, reason = _fix_file(display, path, data, by_file[display])
            if file_fix is not None:
                plan.files.append(file_fix)
        if reason:
            plan.skipped.append(f"{safe_text(display)}: not fixed: {reason}")
    return plan


def file_edits(display: str, path: str, key, module: str, is_package: bool, wanted: list) -> list | None:
    """The textual edits each of `wanted` (finding, fix) makes in one file, for JSON and SARIF (whose readers apply
    replacements, not transforms): None for a fix that does not apply here; None instead of the list when the file
    cannot be read as checked or parsed. The file is parsed once; a fix's edit is its node's code before and after
    the transform, cut down to the characters that differ (a fix that adds an import is worked out on the whole
    module). `fixes.edits.with_edits` calls this for the files whose edits the cache does not hold."""
    data, reason = _read(path, key, module, is_package)
    text = _decode(data)[1] if reason is None else None
    if text is None:
        return None
    try:
        tree = cst.parse_module(text)
        wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    finder = _Finder(positions, [c for _, fix in wanted for c in fix.changes])
    tree.visit(finder)
    starts = _line_starts(text)
    found = []
    for finding, fix in wanted:
        if not all(c in finder.nodes for c in fix.changes):
            found.append(None)
            continue
        edits = None if any(c.imports for c in fix.changes) else _node_edits(display, text, starts, tree, positions, finder, fix)
        if edits is None:  # an import to add, or a node whose code is not where its position says
            file_fix, _ = _fix_file(display, path, data, [(finding, fix)])
            edits = _edits(display, file_fix.before, file_fix.after) if file_fix is not None else []
        found.append(tuple(edits))
    return found


def _node_edits(display: str, text: str, starts: list, tree, positions, finder, fix: Autofix) -> list | None:
    edits = []
    for change in fix.changes:
        node = finder.nodes[change]
        where = positions[node]
        begin = starts[where.start.line - 1] + where.start.column
        end = starts[where.end.line - 1] + where.end.column
        old = tree.code_for_node(node)
        if text[begin:end] != old:
            return None
        new = tree.code_for_node(_apply(change, node, id(node) in finder.trailed))
        prefix = len(os.path.commonprefix([old, new]))
        suffix = len(os.path.commonprefix([old[prefix:][::-1], new[prefix:][::-1]]))
        a, b = begin + prefix, end - suffix
        edits.append(Edit(Location(display, *_line_column(starts, a), *_line_column(starts, b)), new[prefix: len(new) - suffix]))
    return edits


def _line_column(starts: list, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset, given the offsets where lines start."""
    line = bisect.bisect_right(starts, offset) - 1
    line = min(line, len(starts) - 2) if len(starts) > 1 else 0
    return line + 1, offset - starts[line] + 1


def _edits(display: str, before: str, after: str) -> list:
    """The replacements that turn `before` into `after`, each as small as the texts allow."""
    old, new = _lines(before), _lines(after)
    starts = _line_starts(before)
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        prefix = len(os.path.commonprefix([removed, added]))
        suffix = len(os.path.commonprefix([removed[prefix:][::-1], added[prefix:][::-1]]))
        a, b = starts[i1] + prefix, starts[i1] + len(removed) - suffix
        edits.append(Edit(Location(display, *_line_column(starts, a), *_line_column(starts, b)), added[prefix: len(added) - suffix]))
    return edits


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(text: str) -> list:
    """Lines with their ends, split where Python (and libcst) end a line: not at form feeds or other separators."""
    return _LINE.findall(text)


def _line_starts(text: str) -> list:
    starts = [0]
    for line in _lines(text):
        starts.append(starts[-1] + len(line))
    return starts


def _read(path: str, key, module: str, is_package: bool) -> tuple[bytes | None, str | None]:
    problem = _unsafe_path(path)
    if problem:
        return None, problem
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return None, f"cannot read it: {error.strerror or error}"
    if key is None or cache_key(data, module, is_package) != key:
        return None, "it changed since it was checked"
    return data, None


def _unsafe_path(path: str) -> str | None:
    try:
        st = os.lstat(path)
    except OSError as error:
        return f"cannot read it: {error.strerror or error}"
    if stat.S_ISLNK(st.st_mode):
        return "it is a symlink (llmlint does not write through links)"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if os.path.realpath(path) != os.path.abspath(path):
        return "it is reached through a symlinked folder (llmlint does not write through links)"
    return None


def _fix_file(display: str, path: str, data: bytes, wanted: list) -> tuple[FileFix | None, str | None]:
    encoding, text, bom = _decode(data)
    if text is None:
        return None, "cannot decode it"
    try:
        module = cst.parse_module(text)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
    except (cst.ParserSyntaxError, RecursionError):
        return None, "libcst cannot parse it"
    finder = _Finder(positions, [c for _, fix in wanted for c in fix.changes])
    wrapper.module.visit(finder)
    applicable = [(finding, fix) for finding, fix in wanted if all(c in finder.nodes for c in fix.changes)]
    if not applicable:
        return None, None  # the nodes are not where the findings say (a stale or odd position): leave the file
    changes = list(dict.fromkeys(c for _, fix in applicable for c in fix.changes))  # a fix shared by findings, once
    new = wrapper.module.visit(_Transformer(finder.nodes, changes, finder.trailed))
    imports = {(module_name, name) for c in changes for module_name, name in c.imports}
    if imports or any(c.action == "async-client" and c.imports for c in changes):
        # (libcst's codemods take half a second to import: only when a fix edits imports)
        from libcst.codemod import CodemodContext
        from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
    if imports:
        context = CodemodContext()
        for module_name, name in sorted(imports):
            AddImportsVisitor.add_needed_import(context, module_name, name)
        new = AddImportsVisitor(context).transform_module(new).visit(_SortAdded(imports))
    replaced = [(c.imports[0][0], c.callee) for c in changes if c.action == "async-client" and c.imports]
    if replaced:  # `from openai import OpenAI` that nothing uses any more
        context = CodemodContext()
        for module_name, name in replaced:
            RemoveImportsVisitor.remove_unused_import(context, module_name, name)
        new = RemoveImportsVisitor(context).transform_module(new)
    after = new.code
    if after == text:
        return None, None
    try:
        cst.parse_module(after)
        ast.parse(after)
    except (cst.ParserSyntaxError, SyntaxError, ValueError):  # a bug of ours: never write code that does not parse
        return None, "the fixed code would not parse (please report it)"
    try:
        (bom + after).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return None, f"the fixed code cannot be written as {encoding}"
    return FileFix(display, path, data, text, after, [finding for finding, _ in applicable]), None


def _decode(data: bytes) -> tuple[str, str | None, str]:
    """(encoding, text without BOM, BOM) as source.py decodes it, so the text written back keeps the same bytes."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return "utf-8", None, ""
    if encoding == "utf-8-sig" or text.startswith("\ufeff"):
        return "utf-8", text.lstrip("\ufeff") if text.startswith("\ufeff") else text, "\ufeff" if data.startswith(codecs.BOM_UTF8) else ""
    return encoding, text, ""


class _Finder(cst.CSTVisitor):
    """The node each Change targets: a call (its callee's last name checked), a bare decorator name, a keyword's value."""

    def __init__(self, positions, changes):
        self.positions = positions
        self.wanted: dict = {}
        for change in changes:
            self.wanted.setdefault((change.target.line, change.target.column), []).append(change)
        self.nodes: dict = {}  # Change -> the node to transform (a Call, a decorator expression or an Arg)
        self.trailed: set = set()  # ids of expressions followed by `.x`, `[i]` or `(...)`: `await` needs parentheses there

    def _at(self, node):
        pos = self.positions.get(node)
        return self.wanted.get((pos.start.line, pos.start.column + 1), ()) if pos is not None else ()

    def visit_Call(self, node: cst.Call) -> None:
        self.trailed.add(id(node.func))
        for change in self._at(node):
            if change.action in ("add-keyword", "async-client", "await") and change.callee and _last_name(node.func) == change.callee:
                self.nodes.setdefault(change, node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.trailed.add(id(node.value))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self.trailed.add(id(node.value))

    def visit_Decorator(self, node: cst.Decorator) -> None:
        expr = node.decorator
        if isinstance(expr, (cst.Name, cst.Attribute)):
            for change in self._at(expr):
                if change.action == "add-keyword" and not change.callee:
                    self.nodes.setdefault(change, expr)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is None:
            return
        for change in self._at(node.value):
            if change.action == "set-value" and node.keyword.value == change.keyword:
                self.nodes.setdefault(change, node)


def _import_order(alias: cst.ImportAlias):
    """isort's and ruff's `order-by-type`: CONSTANTS, then Classes, then functions, each alphabetical."""
    name = alias.evaluated_alias or alias.evaluated_name
    return (0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2, name)


class _SortAdded(cst.CSTTransformer):
    """AddImportsVisitor puts a name it adds to an existing `from m import a, b` first; where the other names were
    in order, put it in its place (each position keeps its comma, so a one-per-line layout stays as it was)."""

    def __init__(self, imports):
        self.added = {(module, name) for module, name in imports}

    def leave_ImportFrom(self, original_node, updated_node):
        if updated_node.module is None or isinstance(updated_node.names, cst.ImportStar) or updated_node.relative:
            return updated_node
        module = cst.Module([]).code_for_node(updated_node.module)
        names = list(updated_node.names)
        added = [i for i, alias in enumerate(names) if (module, alias.evaluated_name) in self.added and alias.asname is None]
        if len(added) != 1 or len(names) < 2:
            return updated_node
        new = names.pop(added[0])
        if [_import_order(a) for a in names] != sorted(_import_order(a) for a in names):
            return updated_node
        place = sum(_import_order(a) < _import_order(new) for a in names)
        ordered = names[:place] + [new] + names[place:]
        commas = [alias.comma for alias in list(updated_node.names)]
        return updated_node.with_changes(names=[alias.with_changes(comma=comma) for alias, comma in zip(ordered, commas)])


def _last_name(func) -> str:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return ""


class _Transformer(cst.CSTTransformer):
    def __init__(self, nodes: dict, changes: list, trailed: set):
        self.todo: dict = {}
        self.trailed = trailed
        for change in sorted(changes, key=lambda c: c.action == "await"):  # a call gets its keywords, then `await`
            self.todo.setdefault(id(nodes[change]), []).append(change)

    def on_leave(self, original_node, updated_node):
        for change in self.todo.get(id(original_node), ()):
            updated_node = _apply(change, updated_node, id(original_node) in self.trailed)
        return updated_node


def _apply(change: Change, node, trailed: bool = False):
    if change.action == "await":  # `(await client.x.create(...)).choices` where a trailer follows
        parens = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]} if trailed or node.lpar else {}
        inner = node.with_changes(lpar=[], rpar=[]) if node.lpar else node
        return cst.Await(expression=inner, **parens)
    if change.action == "async-client":
        func = node.func
        func = func.with_changes(value=change.value) if isinstance(func, cst.Name) else func.with_changes(attr=cst.Name(change.value))
        return node.with_changes(func=func)
    if change.action == "set-value":
        return node.with_changes(value=cst.parse_expression(change.value))
    if isinstance(node, (cst.Name, cst.Attribute)):  # a bare decorator: `@retry` -> `@retry(stop=...)`
        return cst.Call(func=node, args=[_keyword_arg(change)])
    if any(arg.keyword is not None and arg.keyword.value in change.aliases for arg in node.args):
        return node  # already there (another finding's fix of the same call, or a fix already applied)
    return _add_argument(node, _keyword_arg(change))


def _keyword_arg(change: Change) -> cst.Arg:
    no_space = cst.SimpleWhitespace("")
    return cst.Arg(value=cst.parse_expression(change.value), keyword=cst.Name(change.keyword),
                   equal=cst.AssignEqual(whitespace_before=no_space, whitespace_after=no_space))


def _add_argument(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """Append `arg`, following the call's layout: `f(a, b)` -> `f(a, b, arg)`; one argument a line with a trailing
    comma -> the new one on a line of its own, indented alike, with a trailing comma. Comments stay on their lines."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[arg])
    last = args[-1]
    if not isinstance(last.comma, cst.Comma):  # `f(a, b)`: what followed the last argument now follows the new one
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                                     whitespace_after_arg=cst.SimpleWhitespace(""))
        return call.with_changes(args=args + [arg.with_changes(whitespace_after_arg=last.whitespace_after_arg)])
    before_close = last.comma.whitespace_after  # the end of the last argument's line (its comment) and `)`'s indent
    between = args[-2].comma.whitespace_after if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else call.whitespace_before_args
    if isinstance(before_close, cst.ParenthesizedWhitespace) and isinstance(between, cst.ParenthesizedWhitespace):
        after_last = between.with_changes(first_line=before_close.first_line)
        before_close = before_close.with_changes(first_line=cst.TrailingWhitespace())
    elif isinstance(before_close, cst.ParenthesizedWhitespace):
        after_last, before_close = before_close, cst.SimpleWhitespace("")
    else:
        after_last = cst.SimpleWhitespace(" ")
    args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=after_last))
    return call.with_changes(args=args + [arg.with_changes(comma=cst.Comma(whitespace_after=before_close))])


def write_fix(file_fix: FileFix) -> str | None:
    """Write the fixed text over the file atomically; None, or why it was not written (one line's reason)."""
    encoding, _, bom = _decode(file_fix.data)
    payload = (bom + file_fix.after).encode(encoding)
    problem = _unsafe_path(file_fix.path)
    if problem:
        return problem
    folder = os.path.dirname(os.path.abspath(file_fix.path))
    try:
        mode = stat.S_IMODE(os.stat(file_fix.path).st_mode)
        fd, temp = tempfile.mkstemp(prefix=".llmlint-fix-", suffix=".tmp", dir=folder)
    except OSError as error:
        return f"cannot write it: {error.strerror or error}"
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        with open(file_fix.path, "rb") as handle:  # the last moment to notice an edit made since it was read
            if handle.read() != file_fix.data:
                os.unlink(temp)
                return "it changed while it was being fixed"
        os.replace(temp, file_fix.path)
    except OSError as error:
        try:
            os.unlink(temp)
        except OSError:
            pass
        return f"cannot write it: {error.strerror or error}"
    return None
