"""Jupyter notebooks (`.ipynb`) as modules: their code cells, in order, as one Python text, and the way back from a
position in that text to the cell, and to the line and column of the notebook file where that code sits.

The notebook is read with nbformat (the ecosystem's reader); nothing in it is executed and outputs are ignored.
IPython syntax (`%pip`, `%time x = f()`, `!ls`, `obj?`, cell magics such as `%%bash`) is replaced by code of the
same shape (`pass` at the line's indentation, a blank line, `pass;` over `%time`), so every line of the text is the
line of its cell. Each cell must parse on its own, as Jupyter runs it; a notebook that cannot be read or has a cell
that does not parse raises NotebookError with the one-line reason the run reports.

Positions: the analysis works on the text; the report maps each location to `Cell` (the cell's number among all
cells, 1-based as Jupyter shows them and ruff counts them, and the line and column in the cell) and sets the
location's line and column to where that character sits in the notebook's JSON text, so that SARIF viewers, GitHub
annotations and anything that opens the file at `path:line` land on the code, not on an unrelated JSON line.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import keyword
import os
import re

from llmlint.engine.source import MAX_BYTES, parse_error
from llmlint.results.finding import Cell, Finding, Location

SUFFIX = ".ipynb"
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024  # plots and tables make notebooks of a few MiB; the code cells are what is read
# cell magics whose body is Python run in the notebook's namespace; the body of any other (%%bash, %%writefile,
# %%sql, %%html, %%javascript, %%script...) is not Python
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
_NEWLINE = re.compile(r"\r\n|\r|\n")
# IPython's escapes at the start of a statement: !shell, !!shell, %magic, %%magic, ?help, ??help, ,autoquote,
# ;autoquote, /autoparen (none of them can start a Python statement)
_ESCAPE = re.compile(r"[ \t]*[!%?,;/]")
_HELP_AFTER = re.compile(r"[ \t]*%{0,2}(?!\d)[\w*]+(?:\.(?!\d)[\w*]+)*\?\??[ \t]*\Z")  # `df.head?`, `obj??`
# `%time stmt` / `%timeit stmt` time a Python statement: the magic's name is overwritten with `pass;`
_TIMED = re.compile(r"([ \t]*)(%timeit|%time)([ \t]+)(?=[^ \t\-])")
# automagics (a magic written without `%`, on by default in IPython) that cannot be Python as written: `pip install x`
_AUTOMAGIC = re.compile(r"([ \t]*)(?:pip|conda|mamba|cd|load_ext|reload_ext|autoreload|matplotlib|env|set_env|run|timeit|time)"
                        r"[ \t]+(?!(?:if|else|in|is|and|or|not|for)\b)[\w.\"'$/~]")
# `%env NAME=value` / `%set_env NAME value` sets an environment variable: often a provider key pasted into the
# notebook. It becomes `NAME=  "value"`, the literal where the value was, so LLM107 sees the key where it is written
_ENV = re.compile(r"([ \t]*)%(?:env|set_env)[ \t]+([A-Za-z_]\w*)(?:[ \t]*=[ \t]*|[ \t]+)([^\s\"'\\#]+)[ \t]*\Z")
_ASSIGNED = re.compile(r"[ \t]*[\w.\[\], \t*]+=[ \t]*[!%]")  # `files = !ls`, `env = %env`: a magic's output assigned
_FUTURE = re.compile(r"([ \t]*)from[ \t]+__future__[ \t]+import[ \t]+[\w, \t]+\Z")  # Python wants these first in a file


class NotebookError(ValueError):
    """Why a notebook cannot be checked, as `path: skipped: reason` says it."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def is_notebook(path: str) -> bool:
    return path.endswith(SUFFIX)


def read_limit(path: str) -> int:
    """How many bytes of the file at `path` are read: one more than the largest file that is checked."""
    return (MAX_NOTEBOOK_BYTES if is_notebook(path) else MAX_BYTES) + 1


def python_source(data: bytes) -> bytes:
    """The code cells of the notebook `data`, in order, as one Python text (UTF-8): what is indexed, scanned by the
    pre-filter and cached (by this text, so re-running the notebook, which changes only outputs, or editing its
    markdown changes nothing). Raises NotebookError, for a bug of llmlint's too: one notebook, one skipped line."""
    try:
        return _python_source(data)
    except NotebookError:
        raise
    except RecursionError:
        raise NotebookError("nested too deeply to parse") from None
    except Exception as error:
        raise NotebookError(f"internal error: {type(error).__name__}: {error} (please report)") from None


def _python_source(data: bytes) -> bytes:
    text = _notebook_text(data)
    try:
        from nbformat import reader
    except ImportError:  # (a declared dependency: only a broken install lacks it)
        raise NotebookError("cannot read notebooks: nbformat is not installed") from None
    try:
        notebook = reader.reads(text)
    except RecursionError:
        raise NotebookError("not a valid notebook: nested too deeply") from None
    except Exception as error:  # nbformat's NotJSONError, NBFormatError, ValidationError, or worse on odd input
        if isinstance(error, (AttributeError, TypeError, KeyError)) or "missing an expected key" in str(error):
            raise NotebookError("not a valid notebook: its JSON is not a notebook (an object with `cells`)") from None
        raise NotebookError(f"not a valid notebook: {_why(error)}") from None
    version = notebook.get("nbformat") if isinstance(notebook, dict) else None
    if version != 4:
        hint = " (`jupyter nbconvert --to notebook` upgrades it)" if version in (1, 2, 3) else ""
        raise NotebookError(f"not a valid notebook: nbformat version {_short(version)}; llmlint reads version 4{hint}")
    language = _language(notebook.get("metadata"))
    if language and not language.startswith(("python", "ipython", "pyspark")):  # python3, IPython 3, PySpark
        raise NotebookError(f"not a Python notebook (its kernel's language is {_short(language)})")
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("not a valid notebook: `cells` is not a list")
    sources = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise NotebookError(f"not a valid notebook: cell {number} is not an object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str):
            raise NotebookError(f"not a valid notebook: the source of cell {number} is not text")
        sources.append((number, source))
    code = "".join(_checked_cell(number, source) for number, source in sources)
    data = code.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BYTES:
        raise NotebookError(f"the notebook's code cells hold more than {MAX_BYTES // (1024 * 1024)} MiB")
    return data


def _notebook_text(data: bytes) -> str:
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"notebook is larger than {MAX_NOTEBOOK_BYTES // (1024 * 1024)} MiB")
    if b"\x00" in data:
        raise NotebookError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NotebookError(f"not a valid notebook: not UTF-8 text (byte {error.start})") from None


def _why(error: Exception) -> str:
    cause = error.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return f"invalid JSON: {cause.msg} (line {cause.lineno}, column {cause.colno})"
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return _short(text)


def _short(value, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _language(metadata) -> str | None:
    """The notebook's kernel language, lower case, when its metadata names one."""
    if not isinstance(metadata, dict):
        return None
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        value = metadata.get(key)
        if isinstance(value, dict) and isinstance(value.get(field), str) and value[field].strip():
            return value[field].strip().lower()
    return None


def cell_lines(source: str) -> list[str]:
    """The lines of a cell's source (a newline at its very end starts no line)."""
    if not source:
        return []
    lines = _NEWLINE.split(source)
    if lines[-1] == "":
        lines.pop()
    return lines


def _checked_cell(number: int, source: str) -> str:
    """A code cell's Python, line for line, ending in a newline; NotebookError when it does not parse."""
    lines = python_lines(cell_lines(source))
    if not lines:
        return ""
    text = "".join(line + "\n" for line in lines)
    error = parse_error(text)
    if isinstance(error, str):
        raise NotebookError(f"cell {number}: {error}")
    if error is not None:
        where = f"line {error.lineno}" if error.lineno else "its end"
        if error.lineno and error.offset:
            where += f", column {error.offset}"
        raise NotebookError(f"syntax error in cell {number} at {where}: {error.msg}")
    return text


def python_lines(lines: list[str]) -> list[str]:
    """The cell's lines with IPython syntax replaced by Python of the same shape (see the module's doc)."""
    out = list(lines)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return out
    start = first
    if lines[first].lstrip().startswith("%%"):
        name = lines[first].lstrip()[2:].split(None, 1)
        if not name or name[0] not in PYTHON_CELL_MAGICS:
            return [""] * len(lines)  # the cell is another language
        out[first] = ""
        start = first + 1
    state = _Statements()
    magic_goes_on = False
    for i in range(start, len(lines)):
        line = lines[i]
        if magic_goes_on:  # a magic continued with a backslash: part of its command
            out[i] = ""
            magic_goes_on = line.rstrip().endswith("\\")
            continue
        if state.at_start():
            replaced, is_python = _replace_magic(line)
            if replaced is not None:
                out[i] = replaced
                if is_python:
                    state.feed(replaced)
                else:
                    magic_goes_on = line.rstrip().endswith("\\")
                continue
        state.feed(line)
    return out


def _replace_magic(line: str) -> tuple[str | None, bool]:
    """(the line's replacement, whether the replacement is Python to keep reading), or (None, False) for Python."""
    if not line.strip():
        return None, False
    timed = _TIMED.match(line)
    if timed:
        indent, magic, space = timed.groups()
        return indent + "pass;" + " " * (len(magic) - 5) + space + line[timed.end():], True
    env = _ENV.match(line)
    if env and not keyword.iskeyword(env.group(2)):
        head = env.group(1) + env.group(2) + "="
        return head + " " * (env.start(3) - len(head)) + '"' + env.group(3) + '"', True
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if _ESCAPE.match(line) or _HELP_AFTER.match(line) or _AUTOMAGIC.match(line) or _FUTURE.match(line):
        return indent + "pass", False
    if _ASSIGNED.match(line):
        return indent + "pass", False
    return None, False


class _Statements:
    """Whether the next line starts a statement: not inside a string, brackets or a backslash continuation (only
    there can IPython's escapes be; `% x` inside brackets is Python's modulo)."""

    def __init__(self):
        self.quote = None
        self.depth = 0
        self.continued = False

    def at_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.continued

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        self.continued = False
        while i < n:
            char = line[i]
            if self.quote is not None:
                if char == "\\":
                    i += 2
                elif line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                else:
                    i += 1
                continue
            if char == "#":
                break
            if char in "\"'":
                self.quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else char
                i += len(self.quote)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            elif char == "\\" and i == n - 1:
                self.continued = True
            i += 1
        if self.quote is not None and len(self.quote) == 1 and not line.endswith("\\"):
            self.quote = None  # a one-quote string ends with its line


# From the Python text back to the notebook


@dataclasses.dataclass
class _CodeCell:
    number: int  # among all the notebook's cells, 1-based
    first: int  # its first line in the Python text
    starts: list  # offset of each of its lines in its source
    raw: list  # offset in the notebook's text of each character of its source, and of its end


class NotebookPositions:
    """Where each line of a notebook's Python text (`python_source`) sits: its cell, and the notebook's JSON text.

    Built from the notebook's bytes at report time (for notebooks with something to report), by walking the JSON
    text with the standard library's own string scanner, so that each character of a cell's source is known by its
    offset in the file (whatever the escapes and however the source is split)."""

    def __init__(self, data: bytes):
        self.text = _notebook_text(data)
        self.file_starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]
        self.cells: list[_CodeCell] = []
        first = 1
        for number, tokens in _code_cell_tokens(self.text):
            source = "".join(decoded for decoded, _ in tokens)
            lines = cell_lines(source)
            if not lines:
                continue
            starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]
            self.cells.append(_CodeCell(number, first, starts[: len(lines)], _raw_offsets(self.text, tokens)))
            first += len(lines)
        self.firsts = [cell.first for cell in self.cells]

    def place(self, line: int, column: int) -> tuple[int, int, int, int, int]:
        """(file line, file column, cell number, line in the cell, column in the cell) of a 1-based position in the
        Python text; a position past the text is the end of the last cell."""
        if not self.cells:
            return line, column, 0, line, column
        i = max(0, bisect.bisect_right(self.firsts, line) - 1)
        cell = self.cells[i]
        in_cell = line - cell.first + 1
        if in_cell > len(cell.starts):
            in_cell, column = len(cell.starts), 1 + (len(cell.raw) - 1 - cell.starts[-1])
        offset = min(cell.starts[in_cell - 1] + column - 1, len(cell.raw) - 1)
        raw = cell.raw[offset]
        file_line = bisect.bisect_right(self.file_starts, raw)
        return file_line, raw - self.file_starts[file_line - 1] + 1, cell.number, in_cell, column

    def location(self, loc: Location) -> Location:
        line, column, number, cell_line, cell_column = self.place(loc.line, loc.column)
        end_line, end_column, _, cell_end_line, cell_end_column = self.place(loc.end_line, loc.end_column)
        if (end_line, end_column) <= (line, column):
            end_line, end_column = line, column + 1
        cell = Cell(number, cell_line, cell_column, cell_end_line, cell_end_column) if number else None
        return Location(loc.path, line, column, end_line, end_column, cell=cell)

    def cell_line(self, line: int) -> tuple[int, int]:
        """(cell number, line in the cell) of a line of the Python text."""
        return self.place(line, 1)[2:4]


def cell_source_lines(data: bytes, number: int) -> list[str] | None:
    """The lines of code cell `number` of the notebook `data` as written (IPython syntax and all), or None when
    it has no such code cell (text output shows them under a finding)."""
    if isinstance(data, str):  # (a buffer given as text)
        data = data.encode("utf-8", "surrogatepass")
    for found, tokens in _code_cell_tokens(_notebook_text(data)):
        if found == number:
            return cell_lines("".join(decoded for decoded, _ in tokens))
    return None


def _code_cell_tokens(text: str):
    """(cell number, [(decoded string, offset of its first character in `text`)]) for each code cell of a notebook's
    JSON text, in order: the strings of its `source` (one string, or a list of them)."""
    scan = json.decoder.scanstring
    decoder = json.JSONDecoder()
    space = re.compile(r"[ \t\n\r]*")

    def skip(i: int) -> int:
        return space.match(text, i).end()

    def items(i: int, close: str):
        """(key, or True in an array; offset of the value) for each member of the object or element of the array
        opening at `i` (`close`: `}` or `]`); the caller sends back where the value ends; (None, the end) last."""
        i = skip(i + 1)
        while not text.startswith(close, i):
            key = True
            if close == "}":
                key, i = scan(text, i + 1)
                i = skip(skip(i) + 1)  # past ':'
            i = skip((yield key, i))
            if text.startswith(",", i):
                i = skip(i + 1)
        yield None, i + 1

    def value_end(i: int) -> int:
        return decoder.raw_decode(text, i)[1]

    def walk(iterator, on_value):
        item = next(iterator)
        while item[0] is not None:
            item = iterator.send(on_value(*item))
        return item[1]

    cells: list = []

    def source_tokens(i: int) -> tuple[list, int]:
        if text.startswith('"', i):
            decoded, end = scan(text, i + 1)
            return [(decoded, i + 1)], end
        tokens: list = []
        if text.startswith("[", i):
            def token(_, j):
                if not text.startswith('"', j):
                    return value_end(j)
                decoded, end = scan(text, j + 1)
                tokens.append((decoded, j + 1))
                return end
            return tokens, walk(items(i, "]"), token)
        return tokens, value_end(i)

    def cell_object(_, i: int) -> int:
        if not text.startswith("{", i):
            cells.append((None, []))
            return value_end(i)
        found = {"type": None, "tokens": []}

        def member(key, j):
            if key == "cell_type":
                found["type"], end = decoder.raw_decode(text, j)
                return end
            if key == "source":
                found["tokens"], end = source_tokens(j)
                return end
            return value_end(j)

        end = walk(items(i, "}"), member)
        cells.append((found["type"], found["tokens"]))
        return end

    def top(key, i: int) -> int:
        if key == "cells" and text.startswith("[", i):
            cells.clear()  # (a repeated key: the last one counts, as for json.loads)
            return walk(items(i, "]"), cell_object)
        return value_end(i)

    walk(items(skip(0), "}"), top)
    return [(number, tokens) for number, (kind, tokens) in enumerate(cells, 1) if kind == "code"]


def _raw_offsets(text: str, tokens: list) -> list[int]:
    """The offset in `text` of each character of the strings `tokens` stand for, and of the end of the last one."""
    offsets: list[int] = []
    end = 0
    for decoded, start in tokens:
        i = start
        for _ in decoded:
            offsets.append(i)
            if text[i] != "\\":
                i += 1
            elif text[i + 1] != "u":
                i += 2
            elif 0xD800 <= int(text[i + 2 : i + 6], 16) < 0xDC00 and text.startswith("\\u", i + 6):
                i += 12  # a surrogate pair: one character
            else:
                i += 6
        end = i
    offsets.append(end)
    return offsets


def place_in_notebooks(result, files, buffers: dict | None = None) -> None:
    """Give the findings, unused suppressions and notices of a run (suppress.SuppressionResult) in notebooks by cell.
    `files` are the run's discovery.SourceFiles, `buffers` the texts it judged instead of files, by path."""
    given = {os.path.realpath(path): data for path, data in (buffers or {}).items()}
    paths = {f.display: f.path for f in files if is_notebook(f.path)}

    def open_notebook(display: str) -> bytes:
        path = paths[display]
        data = given.get(os.path.realpath(path))
        if data is None:
            data = _read_notebook(path)
        return data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data

    places = NotebookPlaces(paths, open_notebook)
    result.kept = [places.finding(f) for f in result.kept]
    result.unused = [dataclasses.replace(u, location=places.location(u.location)) for u in result.unused]
    result.notices = [places.notice(text) for text in result.notices]


def place_rows(rows: list, paths: dict) -> None:
    """Give inventory rows (dicts with `path`, `line`, `column`, maybe `end_line`) in notebooks by cell, as findings
    are: `cell` {number, line, column}, and `line`/`column` where the code sits in the notebook file. `paths` maps
    a display path to the file."""
    places = NotebookPlaces({d: p for d, p in paths.items() if is_notebook(p)}, lambda d: _read_notebook(paths[d]))
    for row in rows:
        positions = places.positions(row["path"])
        if positions is None:
            continue
        if "end_line" in row:
            row["end_line"] = positions.place(row["end_line"], 1)[0]
        row["line"], row["column"], number, line, column = positions.place(row["line"], row["column"])
        row["cell"] = {"number": number, "line": line, "column": column}


def place_mentions(value, paths: dict, findings=()):
    """`value` (JSON-ready data: dicts, lists, strings) with every `nb.ipynb:12` that names a line of a notebook's
    code cells given as `nb.ipynb:cell 3:2`, and each text of a notebook's `findings` (`line 12`) as `place` gives
    it. `paths` maps a display path to the file. For documents built from the analysis directly (`llmlint report`),
    whose positions are those of the code cells' text."""
    places = NotebookPlaces({d: p for d, p in paths.items() if is_notebook(p)}, lambda d: _read_notebook(paths[d]))
    own = {}
    for finding in findings:
        positions = places.positions(finding.location.path)
        if positions is not None:
            for text in (finding.message, finding.fix):
                own[text] = places.text(text, positions)

    def walk(item):
        if isinstance(item, str):
            return own[item] if item in own else places.text(item, None)
        if isinstance(item, list):
            return [walk(part) for part in item]
        if isinstance(item, dict):
            return {key: walk(part) for key, part in item.items()}
        return item

    return walk(value) if places.displays else value


def _read_notebook(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(MAX_NOTEBOOK_BYTES + 1)


class NotebookPlaces:
    """Puts the findings of a run in their notebooks' cells: `open(display)` gives a notebook's bytes (the file, or
    the buffer the run judged), read once, and only for notebooks that have something to report."""

    def __init__(self, displays, open_notebook):
        self.displays = set(displays)
        self.open = open_notebook
        self.known: dict[str, NotebookPositions | None] = {}
        self._mentions = None

    def positions(self, display: str) -> NotebookPositions | None:
        if display not in self.displays:
            return None
        if display not in self.known:
            try:
                self.known[display] = NotebookPositions(self.open(display))
            except Exception:  # changed or gone since the run read it (it was a notebook then): left as it is
                self.known[display] = None
        return self.known[display]

    def location(self, loc: Location) -> Location:
        positions = self.positions(loc.path)
        return positions.location(loc) if positions is not None else loc

    def finding(self, finding: Finding) -> Finding:
        """The finding with its locations in cells and the notebook file, and the positions its text mentions in a
        notebook (`nb.ipynb:12`, `line 12`) given as cell and line. A notebook's findings carry no edits or
        autofixes: they would replace JSON text with Python."""
        positions = self.positions(finding.location.path)
        mentions = SUFFIX in finding.message or SUFFIX in finding.fix
        if positions is None and not mentions and not any(r.location.path in self.displays for r in finding.related):
            return finding
        fix = self.text(finding.fix, positions)
        unfixable = {}
        if positions is not None:  # --fix leaves notebooks alone: no `[*] --fix can ...` hint, no autofixes
            fix = fix.split(" [*] `--fix", 1)[0]
            unfixable = {"autofixes": ()} if getattr(finding, "autofixes", None) else {}
        return dataclasses.replace(
            finding,
            location=self.location(finding.location),
            message=self.text(finding.message, positions),
            fix=fix,
            **unfixable,
            edits=() if positions is not None else finding.edits,
            related=tuple(dataclasses.replace(r, location=self.location(r.location),
                                              message=self.text(r.message, self.positions(r.location.path)))
                          for r in finding.related),
        )

    def text(self, text: str, own: NotebookPositions | None) -> str:
        """`text` with `nb.ipynb:12` as `nb.ipynb:cell 3:2`, and (in a notebook's own finding) `line 12` as
        `cell 3, line 2`."""
        if not text:
            return text
        if SUFFIX in text and self.displays:
            if self._mentions is None:  # (built once, for the first text that names a notebook)
                self._mentions = re.compile("|".join(re.escape(d) + r":\d+\b" for d in sorted(self.displays, key=len, reverse=True)))
            text = self._mentions.sub(self._mention, text)
        if own is not None:
            text = re.sub(r"\bline (\d+)\b", lambda m: "cell {}, line {}".format(*own.cell_line(int(m.group(1)))), text)
        return text

    def _mention(self, match) -> str:
        display, line = match.group(0).rsplit(":", 1)
        positions = self.positions(display)
        return f"{display}:cell {{}}:{{}}".format(*positions.cell_line(int(line))) if positions else match.group(0)

    def notice(self, text: str) -> str:
        """A notice about a suppression comment (`nb.ipynb:12: ...`) with the comment's cell and line."""
        for display in self.displays:
            line, sep, rest = text[len(display) + 1 :].partition(":")
            if text.startswith(display + ":") and sep and line.isdigit():
                positions = self.positions(display)
                if positions is not None:
                    return f"{display}:cell {{}}:{{}}:{rest}".format(*positions.cell_line(int(line)))
        return text
