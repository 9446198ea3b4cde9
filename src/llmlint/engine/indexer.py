"""Builds a module's `index.ModuleIndex` in one read-only walk over its libcst tree (positions and comments from
CPython's `ast` tree of the same text, see positions.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from llmlint.engine.exprbuilder import ExprBuilder, literal_text
from llmlint.engine.exprs import (
    BinOp,
    Call,
    Const,
    Seq,
    Subscript,
    Unknown,
    annotated_dependency,
    annotated_parts,
    dotted,
)
from llmlint.engine.moduleindex import (
    MODULE_SCOPE,
    Assign,
    CallSite,
    ClassIndex,
    Exit,
    FunctionIndex,
    Handler,
    LoopInfo,
    ModuleIndex,
    Span,
    StringConst,
    TryInfo,
    resolve_relative,
)
from llmlint.engine.positions import (
    TRIVIA_FIELD,
    AstPositions,
    PositionMismatch,
    cst_dotted,
)
from llmlint.engine.redact import (
    KEY_NAME,
    KEY_PATTERN,
    is_key,
    provider_of,
    redact,
    redact_comments,
    redact_key,
)
from llmlint.engine.sourcelines import comment_lines


class _Indexer(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, index: ModuleIndex, positions, module: cst.Module | None = None, comments: bool = True):
        super().__init__()
        self.index = index
        self.positions = positions
        self.kinds = _KINDS.setdefault(type(self), {})  # node class -> _NodeKind
        self.paired = isinstance(positions, AstPositions)  # statements are announced to it as the walk reaches them
        self.comments = comments  # collect Comment nodes (when no `ast` tree gave them already)
        self.module = module
        self.if_stack: list = []  # (line, test Expr) of the enclosing `if` statements
        self.arm_stack: list = []  # (line, last line of the body) of the enclosing `if` statements
        self.exprs = ExprBuilder(positions)
        module_fn = FunctionIndex(MODULE_SCOPE, MODULE_SCOPE, None, False, Span(1, 1, index.line_count + 1, 1))
        index.functions[MODULE_SCOPE] = module_fn
        self.scopes = [module_fn]
        self.frames: list = []  # ("class", ClassIndex) / ("function", FunctionIndex), innermost last
        self.stmt_lines: list[int] = []
        self.ids = 0
        self.loop_stack: list[LoopInfo] = []
        self.lambda_depth = 0

    # helpers
    def span(self, node) -> Span:
        pos = self.positions[node]
        return Span(pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1)

    def next_id(self) -> int:
        self.ids += 1
        return self.ids

    @property
    def fn(self) -> FunctionIndex:
        return self.scopes[-1]

    def qualify(self, name: str) -> str:
        kind, frame = self.frames[-1] if self.frames else ("module", None)
        if kind == "class":
            return f"{frame.qualname}.{name}"
        if kind == "function":
            return f"{frame.qualname}.<locals>.{name}"
        return name

    def in_class_body(self) -> bool:
        return bool(self.frames) and self.frames[-1][0] == "class"

    # statements (for suppression lines)
    def on_visit(self, node) -> bool:
        kind = self.kinds.get(type(node)) or _kind(type(self), type(node))
        if kind.statement:
            if self.paired:
                self.positions.enter(node)
            if kind.line:
                self.stmt_lines.append(self.positions[node].start.line)
        return kind.visit is None or kind.visit(self, node) is not False

    def on_leave(self, original_node) -> None:
        kind = self.kinds.get(type(original_node)) or _kind(type(self), type(original_node))
        if kind.leave is not None:
            kind.leave(self, original_node)
        if kind.statement:
            if kind.line:
                self.stmt_lines.pop()
            if self.paired:
                self.positions.leave(original_node)

    # imports
    def _imports(self):
        return self.index.imports if self.fn.qualname == MODULE_SCOPE else self.fn.imports

    def visit_Import(self, node: cst.Import) -> None:
        table = self._imports()
        for alias in node.names:
            name = cst_dotted(alias.name)
            if alias.asname is not None:
                table[alias.asname.name.value] = name
            else:
                table[name.split(".")[0]] = name.split(".")[0]
                table.setdefault(name, name)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        level = len(node.relative)
        base = resolve_relative(self.index.module, self.index.is_package, level, cst_dotted(node.module) if node.module else "")
        if isinstance(node.names, cst.ImportStar):
            self._imports().setdefault("*", [])
            self._imports()["*"].append(base)
            return
        for alias in node.names:
            name = cst_dotted(alias.name)
            local = alias.asname.name.value if alias.asname is not None else name
            self._imports()[local] = f"{base}.{name}" if base else name

    # definitions
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = self.qualify(node.name.value)
        info = ClassIndex(
            qualname,
            node.name.value,
            tuple(self.exprs.build(arg.value) for arg in node.bases),
            self.span(node),
            tuple(self.exprs.build(d.decorator) for d in node.decorators),
        )
        self.index.classes[qualname] = info
        self.frames.append(("class", info))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.frames.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        cls = self.frames[-1][1] if self.in_class_body() else None
        qualname = self.qualify(node.name.value)
        params, defaults, annotations = [], {}, {}
        all_params = list(node.params.posonly_params) + list(node.params.params) + list(node.params.kwonly_params)
        for extra in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(extra, cst.Param):
                all_params.append(extra)
        for param in all_params:
            pname = param.name.value
            params.append(pname)
            if param.default is not None:
                defaults[pname] = self.exprs.build(param.default)
            if param.annotation is not None:
                annotation = self.exprs.build(param.annotation.annotation)
                annotations[pname] = annotated_class(annotation)
                dependency = annotated_dependency(annotation)
                if dependency is not None and pname not in defaults:
                    defaults[pname] = dependency  # `client: Annotated[OpenAI, Depends(get_client)]` is `= Depends(...)`
        info = FunctionIndex(
            qualname,
            node.name.value,
            cls.qualname if cls else None,
            node.asynchronous is not None,
            self.span(node),
            tuple(params),
            defaults,
            annotations,
            tuple(self.exprs.build(d.decorator) for d in node.decorators),
            parent=None if self.fn.qualname == MODULE_SCOPE else self.fn.qualname,
            decorator_spans=tuple(self.span(d.decorator) for d in node.decorators),
            decorator_code=tuple(redact(self.module.code_for_node(d.decorator)) if self.module is not None else "" for d in node.decorators),
            returns_type=annotated_class(self.exprs.build(node.returns.annotation)) if node.returns is not None else "",
        )
        self.index.functions[qualname] = info
        self.scopes.append(info)
        self.frames.append(("function", info))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()
        self.frames.pop()

    # control flow
    def visit_Try(self, node: cst.Try) -> None:
        self._record_try(node)

    def visit_TryStar(self, node) -> None:
        self._record_try(node)

    def _record_try(self, node) -> None:
        handlers = []
        for handler in node.handlers:
            caught: tuple = ()
            if handler.type is not None:
                built = self.exprs.build(handler.type)
                elts = built.elts if hasattr(built, "elts") else (built,)
                caught = tuple(dotted(e) or "?" for e in elts)
            raises = [s for s in _small_statements(handler.body) if isinstance(s, cst.Raise)]
            as_name = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None
            same = any(r.exc is None or (isinstance(r.exc, cst.Name) and r.exc.value == as_name) for r in raises)
            handlers.append(Handler(self.span(handler), caught, bool(raises), same, as_name))
        body_span = self.span(node.body)
        self.fn.tries.append(TryInfo(self.next_id(), self.span(node), body_span, handlers))

    def visit_While(self, node: cst.While) -> None:
        self._record_loop("while", node, self.exprs.build(node.test))
        self.fn.tests.append(self.exprs.build(node.test))

    def leave_While(self, original_node) -> None:
        self.loop_stack.pop()

    def visit_For(self, node: cst.For) -> None:
        iterable = self.exprs.build(node.iter)
        self._record_loop("for", node, iterable)
        self.loop_stack[-1].target = node.target.value if isinstance(node.target, cst.Name) else None
        self.loop_stack[-1].is_async = node.asynchronous is not None
        self._assign_target(node.target, self.exprs.bounded(Unknown("for", (iterable,))), "for")

    def leave_For(self, original_node) -> None:
        self.loop_stack.pop()

    def _record_loop(self, kind, node, test) -> None:
        loop = LoopInfo(self.next_id(), kind, self.span(node), test, False, False)
        self.fn.loops.append(loop)
        self.loop_stack.append(loop)

    def visit_Break(self, node) -> None:
        self._record_exit("break", node)
        if self.loop_stack:
            self.loop_stack[-1].has_break = True

    def visit_Continue(self, node) -> None:
        self._record_exit("continue", node)

    def _record_exit(self, kind, node) -> None:
        pos = self.positions[node]
        guards = tuple((line, test) for line, test in self.if_stack if line >= self.fn.span.line)
        self.fn.exits.append(Exit(kind, pos.start.line, pos.start.column + 1, guards))

    def visit_Return(self, node: cst.Return) -> None:
        self._record_exit("return", node)
        self.fn.returns.append(self.exprs.build(node.value) if node.value is not None else None)
        for loop in self.loop_stack:
            if loop in self.fn.loops:
                loop.has_return = True

    def visit_Raise(self, node) -> None:
        self._record_exit("raise", node)
        # A raise leaves the loop as a break does (when not caught inside it; the rules stay conservative).
        for loop in self.loop_stack:
            if loop in self.fn.loops:
                loop.has_return = True

    def visit_If(self, node: cst.If) -> None:
        test = self.exprs.build(node.test)
        self.fn.tests.append(test)
        self.if_stack.append((self.positions[node].start.line, test))
        self.arm_stack.append((self.positions[node].start.line, self.positions[node.body].end.line))

    def leave_If(self, original_node) -> None:
        self.if_stack.pop()
        self.arm_stack.pop()

    def arms(self, line: int) -> tuple:
        """Which arm of each enclosing `if` (of this function) `line` is in: two assignments that differ in one
        arm of the same `if` never both run."""
        return tuple((start, 0 if line <= body_end else 1) for start, body_end in self.arm_stack if start >= self.fn.span.line)

    def visit_Assert(self, node: cst.Assert) -> None:
        self.fn.tests.append(self.exprs.build(node.test))

    # assignments
    def visit_Assign(self, node: cst.Assign) -> None:
        is_literal = isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString))
        names = [_target_text(self.exprs.build(target.target)) for target in node.targets] if is_literal else []
        for name in names:  # `OPENAI_API_KEY = "..."`: a key is kept redacted
            self.exprs.build_named(name, node.value)
        value = self.exprs.build(node.value)
        for target in node.targets:
            self._assign_target(target.target, value, "=")
        for name in names:
            self._record_named_string(name, node.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString)):
            self._record_named_string(node.keyword.value, node.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if isinstance(node.key, cst.SimpleString) and isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString)):
            key = self.exprs.build(node.key)
            self._record_named_string(str(key.value), node.value)

    def _record_named_string(self, name: str, node) -> None:
        if name and KEY_NAME.search(name):
            self._record_key(literal_text(node), node, name)

    def _record_key(self, value: str | None, node, context: str = "") -> None:
        """A literal that is a provider key, as LLM107 needs it: redacted, with its provider (never the key itself)."""
        if value is not None and is_key(value, named=bool(context)):
            self.index.key_strings.append(StringConst(redact_key(value), self.span(node), context, provider_of(value)))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.in_class_body() and isinstance(node.target, cst.Name):  # a dataclass or pydantic field
            self.frames[-1][1].fields[node.target.value] = annotated_class(self.exprs.build(node.annotation.annotation))
        if node.value is not None:
            is_literal = isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString))
            name = _target_text(self.exprs.build(node.target)) if is_literal else ""
            value = self.exprs.build_named(name, node.value)
            self._assign_target(node.target, value, "=")
            if is_literal:
                self._record_named_string(name, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        op = type(node.operator).__name__
        symbol = {"AddAssign": "+=", "BitOrAssign": "|=", "MultiplyAssign": "*="}.get(op, "op=")
        self._assign_target(node.target, self.exprs.build(node.value), symbol)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._assign_target(node.asname.name, self.exprs.build(node.item), "with")

    def _assign_target(self, target, value, op) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            pairwise = isinstance(value, Seq) and len(value.elts) == len(elements) and not starred
            for i, element in enumerate(elements):  # `llm, memory = ChatOpenAI(), ConversationBufferMemory()`
                # (else element i of what the value holds: `client, model = load_llm()`)
                unpacked = Unknown("unpack", (value,) if starred else (value, Const(i)))
                item = value.elts[i] if pairwise else self.exprs.bounded(unpacked)
                self._assign_target(element.value, item, op)
            return
        target_expr = self.exprs.build(target)
        line = self.positions[target].start.line
        record = Assign(dotted(target_expr) or "", value, line, op, target_expr, self.span(target), self.arms(line))
        if self.in_class_body():
            self.frames[-1][1].attrs.append(record)
        else:
            self.fn.assigns.append(record)
            if record.target in self.fn.global_names:  # `global client; client = OpenAI()` binds the module's name
                self.index.functions[MODULE_SCOPE].assigns.append(record)

    def visit_Global(self, node: cst.Global) -> None:
        self.fn.global_names += tuple(item.name.value for item in node.names if item.name.value not in self.fn.global_names)

    def visit_Yield(self, node: cst.Yield) -> None:
        if self.lambda_depth == 0 and node.value is not None and not isinstance(node.value, cst.From):
            self.fn.yields += (self.exprs.build(node.value),)

    # calls and names
    def visit_Lambda(self, node) -> None:
        self.lambda_depth += 1

    def leave_Lambda(self, original_node) -> None:
        self.lambda_depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        call = self.exprs.build(node)
        site = CallSite(call, self.fn.qualname, self.stmt_lines[-1] if self.stmt_lines else call.line)
        site.arg_spans = _arg_spans(node, self.span)
        self.fn.calls.append(site)
        self.fn.calls[-1].in_lambda = self.lambda_depth > 0
        method = call.func.attr if hasattr(call.func, "attr") else None
        if method in ACCUMULATORS and dotted(call.func.base) and call.args:
            self.fn.assigns.append(Assign(dotted(call.func.base), call.args[-1], call.line, "append" if method == "stream_token" else method,
                                          arms=self.arms(call.line)))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if KEY_PATTERN.search(node.value):
            self._record_key(literal_text(node), node)

    def visit_FormattedStringText(self, node) -> None:
        if KEY_PATTERN.search(node.value):
            self._record_key(node.value, node)

    def visit_Comment(self, node: cst.Comment) -> None:
        if self.comments:
            self.index.comments[self.positions[node].start.line] = redact(node.value)


def _arg_spans(node: cst.Call, span) -> tuple:
    spans, position = [], 0
    for arg in node.args:
        if arg.keyword is not None:
            spans.append((arg.keyword.value, span(arg.value)))
        elif arg.star == "*":
            position += 1
        elif not arg.star:
            spans.append((position, span(arg.value)))
            position += 1
    return tuple(spans)


def _target_text(expr) -> str:
    name = dotted(expr)
    if name:
        return name
    if type(expr).__name__ == "Subscript" and isinstance(getattr(expr.index, "value", None), str):
        return f"{dotted(expr.value) or ''}[{expr.index.value}]"
    return ""


def _small_statements(body):
    for statement in getattr(body, "body", ()):
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body


def _link_call_context(fn: FunctionIndex) -> None:
    """Attach try/loop membership and assignment targets to each call of `fn` (by position)."""
    targets = {}
    for assign in fn.assigns:
        if assign.op in ("=", "with") and isinstance(assign.value, Call):
            targets[(assign.value.line, assign.value.col)] = assign.target
        elif assign.op == "=" and isinstance(assign.value, Unknown) is False and hasattr(assign.value, "value"):
            inner = assign.value.value  # Await(Call)
            if isinstance(inner, Call):
                targets[(inner.line, inner.col)] = assign.target
    awaited = set()
    for expr in _all_exprs(fn):
        if type(expr).__name__ == "Await" and isinstance(expr.value, Call):
            awaited.add((expr.value.line, expr.value.col))
    for site in fn.calls:
        line, col = site.call.line, site.call.col
        site.tries = tuple(t.id for t in fn.tries if t.body.contains(line, col))
        for t in fn.tries:
            if any(h.span.contains(line, col) for h in t.handlers):
                site.handler_of = t.id
        site.loops = tuple(loop.id for loop in fn.loops if loop.span.contains(line, col))
        site.target = targets.get((line, col))
        site.awaited = (line, col) in awaited
    for exit in fn.exits:
        line, col = exit.line, exit.col
        exit.tries = tuple(t.id for t in fn.tries if t.body.contains(line, col))
        for t in fn.tries:
            if any(h.span.contains(line, col) for h in t.handlers):
                exit.handler_of = t.id
        exit.loops = tuple(loop.id for loop in fn.loops if loop.span.contains(line, col))


def _all_exprs(fn: FunctionIndex):
    from llmlint.engine.exprs import walk

    for site in fn.calls:
        yield from walk(site.call)
    for assign in fn.assigns:
        yield from walk(assign.value)
    for value in fn.returns:
        if value is not None:
            yield from walk(value)
    for value in fn.yields:
        yield from walk(value)


_CHILD_FIELDS: dict = {}
_IS_NODE: dict = {}  # type -> whether it is a libcst node (isinstance against libcst's ABCs is slow)


def _child_fields(cls, skip_trivia: bool) -> tuple:
    names = _CHILD_FIELDS.get((cls, skip_trivia))
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if not (skip_trivia and TRIVIA_FIELD.search(f.name)))
        _CHILD_FIELDS[(cls, skip_trivia)] = names
    return names


def _is_node(value) -> bool:
    kind = type(value)
    found = _IS_NODE.get(kind)
    if found is None:
        found = _IS_NODE[kind] = isinstance(value, cst.CSTNode)
    return found


def walk_tree(visitor: cst.CSTVisitor, node: cst.CSTNode, skip_trivia: bool = False) -> None:
    """Visit `node` and its descendants with `visitor`'s visit_*/leave_* methods, as `node.visit(visitor)` does,
    but read-only: libcst's own traversal rebuilds every node it passes, which costs more than the parse.
    With `skip_trivia`, whitespace, comments and punctuation are not visited."""
    if visitor.on_visit(node):
        for name in _child_fields(type(node), skip_trivia):
            value = getattr(node, name)
            if type(value) is list or type(value) is tuple:
                for item in value:
                    if _is_node(item):
                        walk_tree(visitor, item, skip_trivia)
            elif _is_node(value):
                walk_tree(visitor, value, skip_trivia)
    visitor.on_leave(node)


@dataclass(frozen=True)
class _NodeKind:
    """What the indexer does with one class of node, looked up once per class (libcst's own visitor looks its
    visit_* method up by name at every node, and its base classes are ABCs, slow to test against)."""

    statement: bool  # a statement (small or compound) or a line of small statements
    line: bool  # starts a line of its own (SimpleStatementLine or compound): the line suppressions refer to
    visit: object
    leave: object


_KINDS: dict = {}  # visitor class -> {node class: _NodeKind}


def _kind(visitor_class, node_class) -> _NodeKind:
    kinds = _KINDS.setdefault(visitor_class, {})
    found = kinds.get(node_class)
    if found is None:
        line = issubclass(node_class, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        found = kinds[node_class] = _NodeKind(
            line or issubclass(node_class, cst.BaseSmallStatement),
            line,
            getattr(visitor_class, f"visit_{node_class.__name__}", None),
            getattr(visitor_class, f"leave_{node_class.__name__}", None),
        )
    return found


def build_index(module: cst.Module, path: str, module_name: str, is_package: bool, line_count: int, text: str | None = None,
                tree=None) -> ModuleIndex:
    """The index of a parsed module. With the `ast` tree of the same `text`, positions and comments come from it;
    without (or when the two trees do not line up), from libcst's PositionProvider."""
    if tree is not None:
        try:
            index = _walk(module, path, module_name, is_package, line_count, AstPositions(text, tree, module), comments=False)
            index.comments = redact_comments(comment_lines(text, tree))
            index.positions_from_ast = True
            return index
        except PositionMismatch:
            pass
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    index = _walk(wrapper.module, path, module_name, is_package, line_count, wrapper.resolve(PositionProvider), comments=tree is None)
    if tree is not None:
        index.comments = redact_comments(comment_lines(text, tree))
    return index


def _walk(module, path, module_name, is_package, line_count, positions, comments: bool) -> ModuleIndex:
    index = ModuleIndex(path, module_name, is_package, line_count)
    indexer = _Indexer(index, positions, module, comments)
    walk_tree(indexer, module, skip_trivia=not comments)
    if indexer.paired:
        positions.finish()
    for fn in index.functions.values():
        fn.calls.sort(key=lambda site: (site.call.line, site.call.col, -site.call.end_line, -site.call.end_col))
        _link_call_context(fn)
    return index


# Calls that add their argument to what the receiver holds: list methods, and a Chainlit Message's or Step's
# stream_token (the streamed tokens become its content or output).
ACCUMULATORS = ("append", "extend", "insert", "stream_token")


def annotated_class(annotation) -> str:
    """The dotted class an annotation names: `OpenAI`, `openai.OpenAI`, and the class inside `Optional[OpenAI]`,
    `OpenAI | None` or `Annotated[OpenAI, ...]`; "" for anything else (a union of classes, a generic container)."""
    if annotated_parts(annotation):
        annotation = annotated_parts(annotation)[0]
    if isinstance(annotation, Subscript) and (dotted(annotation.value) or "").rsplit(".", 1)[-1] == "Optional":
        annotation = annotation.index
    elif isinstance(annotation, BinOp) and annotation.op == "|":
        sides = [side for side in (annotation.left, annotation.right) if side != Const(None)]
        annotation = sides[0] if len(sides) == 1 else None
    return dotted(annotation) or ""
