"""Per-module facts: what one file imports, defines and calls, as plain picklable data.

Built by indexer.py in one walk over the libcst tree. Everything the linker and the rules need later is
recorded here, so a module is parsed once, its index can be cached by content hash, and indexes can
be built in worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmlint.engine.exprs import Call, compact

MODULE_SCOPE = "<module>"


@compact
@dataclass(unsafe_hash=True, slots=True)
class Span:
    line: int
    col: int  # 1-based
    end_line: int
    end_col: int

    def contains(self, line: int, col: int) -> bool:
        return (self.line, self.col) <= (line, col) <= (self.end_line, self.end_col)


@compact
@dataclass(slots=True)
class Handler:
    span: Span
    caught: tuple  # dotted names of the caught classes; () for a bare except
    reraises: bool
    reraises_caught: bool = False  # always re-raises what it caught (a top-level bare `raise` or `raise <as-name>`)
    name: str | None = None  # the `as` name the caught error is bound to


@compact
@dataclass(slots=True)
class TryInfo:
    id: int
    span: Span
    body: Span
    handlers: list


@compact
@dataclass(slots=True)
class LoopInfo:
    id: int
    kind: str  # "while" or "for"
    span: Span
    test: object  # the while condition or the for iterable (Expr)
    has_break: bool
    has_return: bool
    target: str | None = None  # a for loop's target name (`attempt` in `for attempt in range(3)`)
    is_async: bool = False  # `async for`


@compact
@dataclass(slots=True)
class Exit:
    """A statement that leaves the normal flow: `break`, `continue`, `return` or `raise`."""

    kind: str
    line: int
    col: int  # 1-based
    guards: tuple = ()  # (line, test Expr) of the `if`s (and `elif`s) around it inside its function, outermost first
    loops: tuple = ()  # ids of the enclosing loops, innermost last
    tries: tuple = ()  # ids of the tries whose body holds it, innermost last
    handler_of: int | None = None  # id of the try whose except clause holds it (innermost)


@compact
@dataclass(slots=True)
class Assign:
    target: str  # dotted target ("x", "self.client"); "" when not a plain name chain
    value: object  # Expr
    line: int
    op: str = "="  # "=", "+=", "for", "with", "append"
    target_expr: object = None
    span: Span | None = None  # the target's span (None for `append`/`extend`/`insert`)
    arms: tuple = ()  # ((line of an enclosing `if`, 0 in its body / 1 in its else), ...), outermost first


@compact
@dataclass(slots=True)
class CallSite:
    call: Call
    scope: str  # qualname of the enclosing function in this module, or MODULE_SCOPE
    stmt_line: int  # first line of the enclosing statement
    awaited: bool = False
    target: str | None = None  # name the result is assigned to
    tries: tuple = ()  # ids of the tries whose body holds the call, innermost last
    handler_of: int | None = None  # id of the try whose except clause holds the call
    loops: tuple = ()  # ids of the enclosing loops, innermost last
    in_lambda: bool = False  # inside a lambda: runs when the lambda is called, not here
    arg_spans: tuple = ()  # ((position or keyword, Span), ...) for the call's arguments, in source order


@compact
@dataclass(slots=True)
class FunctionIndex:
    qualname: str
    name: str
    cls: str | None  # qualname of the class a method belongs to
    is_async: bool
    span: Span
    params: tuple = ()
    defaults: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)  # param -> dotted annotation
    decorators: tuple = ()
    calls: list = field(default_factory=list)
    assigns: list = field(default_factory=list)
    returns: list = field(default_factory=list)
    tries: list = field(default_factory=list)
    loops: list = field(default_factory=list)
    tests: list = field(default_factory=list)  # if/while/assert conditions
    imports: dict = field(default_factory=dict)  # function-local imports
    parent: str | None = None  # enclosing function's qualname, for nested functions
    global_names: tuple = ()  # names declared `global` (their assignments also bind the module's)
    decorator_spans: tuple = ()  # Span of each decorator's expression (after the `@`)
    decorator_code: tuple = ()  # source text of each decorator's expression
    exits: list = field(default_factory=list)  # Exit statements (break/continue/return/raise)
    returns_type: str = ""  # the dotted class its return annotation names (`-> Backend`), "" when none
    yields: tuple = ()  # the values its `yield` statements give (a generator; not `yield from`)


@compact
@dataclass(slots=True)
class ClassIndex:
    qualname: str
    name: str
    bases: tuple
    span: Span
    decorators: tuple = ()
    attrs: list = field(default_factory=list)  # class-level Assigns
    fields: dict = field(default_factory=dict)  # annotated class-level names (`client: OpenAI`) -> dotted annotation


@compact
@dataclass(slots=True)
class StringConst:
    """A literal that redact.is_key judged a provider key, kept only redacted."""

    value: str  # redacted for display (`sk-pr…(58 chars)`): an index never holds a whole key
    span: Span
    context: str = ""  # the keyword or assignment target it is given to ("api_key", "os.environ[OPENAI_API_KEY]")
    provider: str = "provider"  # whose key format it has ("OpenAI", "Anthropic", ...)


@compact
@dataclass(slots=True)
class ModuleIndex:
    path: str
    module: str
    is_package: bool
    line_count: int
    imports: dict = field(default_factory=dict)  # local name -> qualified name
    functions: dict = field(default_factory=dict)  # qualname -> FunctionIndex; MODULE_SCOPE for top level
    classes: dict = field(default_factory=dict)
    key_strings: list = field(default_factory=list)  # StringConst: the provider keys written in the module
    comments: dict = field(default_factory=dict)  # line -> comment text, for suppressions
    positions_from_ast: bool = False  # positions came from CPython's ast, so no comment moved any of them
    names: frozenset = frozenset()  # crc32 of every identifier the code mentions other than in `def`/`class` (incremental.py)


def resolve_relative(module: str, is_package: bool, level: int, target: str) -> str:
    if level == 0:
        return target
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    if target:
        parts.append(target)
    return ".".join(parts)
