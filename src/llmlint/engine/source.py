"""Decode one file, parse it (CPython's ast for nesting, positions and comments; libcst for the rest) and index
it. Failures become a Problem, never an exception."""

from __future__ import annotations

import ast
import io
import re
import symtable
import sys
import tokenize
import warnings
from typing import TYPE_CHECKING

from llmlint.results.finding import Problem

if TYPE_CHECKING:  # (an annotation: a run that builds no index does not import the index's modules)
    from llmlint.engine.moduleindex import ModuleIndex

# Larger files are generated code or data, not hand-written model calls. libcst's tree costs about 3 KB of memory
# per syntax node and its parse about 20 us: a 4.9 MB file of 856,000 `x = 1` lines took 125 s and 8.8 GB, while
# hand-written modules of 400 KB (scipy.stats._stats_py) have about 30,000 nodes. Above MAX_BYTES a file is not read;
# above DENSE_BYTES its `ast` tree is counted and more than MAX_NODES nodes are not handed to libcst.
MAX_BYTES = 1024 * 1024
DENSE_BYTES = 256 * 1024
MAX_NODES = 250_000  # 12,000 model calls in one file; about 8 s and 1 GB at most


def source_text(data: bytes, display: str) -> tuple[str | None, Problem | None]:
    """The text of a file's bytes (read up to MAX_BYTES + 1), or why it is not Python source."""
    if len(data) > MAX_BYTES:
        return None, Problem(display, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if b"\x00" in data:
        return None, Problem(display, "binary file (contains NUL bytes)")
    return decode_source(data, display)


def decode_source(data: bytes, display: str) -> tuple[str | None, Problem | None]:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        return None, Problem(display, f"cannot decode: {error.msg if hasattr(error, 'msg') else error}")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        return None, Problem(display, f"cannot decode as {encoding}: {error.reason if hasattr(error, 'reason') else error}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def parse_and_index(text: str, path: str, display: str, module: str, is_package: bool) -> tuple[ModuleIndex | None, Problem | None]:
    """Parse `text` with libcst and build its index."""
    import libcst as cst  # (here: a run whose results are all cached never needs libcst)

    from llmlint.engine.indexer import build_index

    tree, error = _ast_tree(text)
    if isinstance(error, str):
        return None, Problem(display, error)
    if tree is not None and len(text) > DENSE_BYTES:
        nodes = sum(1 for _ in ast.walk(tree))
        if nodes > MAX_NODES:
            return None, Problem(display, f"file is too large to analyse: {nodes:,} syntax nodes (the limit is {MAX_NODES:,})")
    error_from_python = error  # libcst may still parse it: syntax of a newer Python than this one
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    parsed = None
    try:
        parsed = cst.parse_module(text)
        return build_index(parsed, path, module, is_package, line_count(text), text, tree), None
    except cst.ParserSyntaxError as error:
        if error_from_python is not None:  # CPython's position is the one an editor shows; libcst's may be a line late
            return None, _syntax_problem(display, error_from_python)
        detail = re.sub(r"^(parser error: )?error at \d+:\d+: ", "", error.message.splitlines()[0])
        return None, Problem(display, f"syntax error at line {error.editor_line}, column {error.editor_column}: {detail}")
    except RecursionError:
        return None, Problem(display, "nested too deeply to parse")
    except MemoryError:
        return None, Problem(display, "too large to parse")
    except Exception as error:  # libcst raises a few other errors on odd input; never lose the rest of the run
        if parsed is not None:  # the indexer failed, not the parser: a bug, reported by the caller as an internal error
            raise
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, Problem(display, f"cannot parse: {first}")
    finally:
        sys.setrecursionlimit(limit)


def python_tree(text: str):
    """(CPython's own `ast` tree of `text` or None, why `text` is nested too deeply to hand to libcst or None).

    The tree gives the indexer its positions and comments. The check comes first because libcst's native parser
    overflows its stack on input that CPython's parser rejects with a clean error; other syntax errors are left
    to libcst, which may parse syntax newer than this Python's (when it fails too, CPython's position is reported)."""
    tree, error = _ast_tree(text)
    return tree, error if isinstance(error, str) else None


def parse_error(text: str) -> SyntaxError | str | None:
    """CPython's SyntaxError for `text`, why it is nested too deeply to parse, or None when it parses."""
    return _ast_tree(text)[1]


def check_syntax(data: bytes, display: str) -> Problem | None:
    """Why a file that is not indexed (the pre-filter passed over it) cannot be Python source, or None: the
    reader's verdict, then CPython's. CPython's symbol table pass parses without building the `ast` objects (a
    third cheaper than `compile(..., PyCF_ONLY_AST)`, a tenth of libcst); it also rejects what only the symbol
    table can tell (`nonlocal` at module level), which Python would refuse to import as well."""
    text, problem = source_text(data, display)
    if problem is not None:
        return problem
    error = _python_error(lambda: symtable.symtable(text, "<llmlint>", "exec"))[1]
    if isinstance(error, str):
        return Problem(display, error)
    return None if error is None else _syntax_problem(display, error)


def line_count(text: str) -> int:
    """The number of lines of `text`, ended by LF, CR LF or a lone CR alike (as CPython counts them)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1


def _ast_tree(text: str):
    """(CPython's `ast` tree or None, None or the SyntaxError CPython raised or why it is nested too deeply)."""
    return _python_error(lambda: compile(text, "<llmlint>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True))


def _python_error(parse):
    """(what `parse` returns or None, None or its SyntaxError or why the text is nested too deeply)."""
    try:
        with warnings.catch_warnings():  # the analysed code's warnings (invalid escapes...) are not llmlint's to print
            warnings.simplefilter("ignore")
            return parse(), None
    except SyntaxError as error:
        message = str(error.msg)
        if "too many" in message or "too deeply" in message or "too complex" in message:
            return None, f"nested too deeply to parse ({message})"
        return None, error
    except (RecursionError, MemoryError):
        return None, "nested too deeply to parse"
    except ValueError:
        return None, None  # source with NUL bytes is reported by the reader


def _syntax_problem(display: str, error: SyntaxError) -> Problem:
    """CPython's 1-based line and column of a syntax error, and its message."""
    where = f"line {error.lineno}" if error.lineno else "end of file"
    if error.lineno and error.offset:
        where += f", column {error.offset}"
    return Problem(display, f"syntax error at {where}: {error.msg}")
