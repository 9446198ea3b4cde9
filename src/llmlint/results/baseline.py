"""A baseline: the findings a team has accepted for now, so that only new ones are reported (bandit's `-b`,
semgrep's `--baseline-commit`).

An entry is keyed by rule id, file (the repository-relative path findings carry) and the code of the finding's
statement, with an occurrence count; never by line number or message. The code is the source from the finding's
first line to the end of its logical line (never past the location's last line: a function's header, not its
body), without comments, whitespace-normalised and redacted (`safe_text`), so moving code, adding blank lines or
editing other statements keeps a finding matched, and no provider key is ever written to the file.

The file is JSON: `{"tool": "llmlint", "version": 1, "entries": [{"rule", "path", "code", "count"}...]}`, entries
sorted, so writing it twice gives the same bytes and a diff of it in review shows what was accepted or fixed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import tokenize
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

from llmlint.engine.gitinfo import report_base
from llmlint.engine.redact import safe_text
from llmlint.engine.source import decode_source
from llmlint.engine.sourcelines import SourceLines
from llmlint.results.finding import Finding

FORMAT_VERSION = 1
MAX_BYTES = 64 * 1024 * 1024  # a larger baseline is not one llmlint wrote for any real repository
MAX_CODE = 200  # longer code is kept as its start and a digest of the whole
MAX_COUNT = 1_000_000

Key = tuple[str, str, str]  # (rule id, path, code)
SourceReader = Callable[[str], "bytes | None"]


class BaselineError(Exception):
    """A baseline file that cannot be read, parsed or written: one line for the user (exit status 2)."""


@dataclass(frozen=True)
class StaleEntry:
    """Baseline entries that matched no finding in this run (listed with --report-unused-suppressions)."""

    rule: str
    path: str
    code: str
    missing: int  # how many of `count` were not found
    count: int

    def __str__(self) -> str:
        times = f" ({self.missing} of {self.count})" if self.count > 1 else ""
        return safe_text(f"{self.path}: unused baseline entry: {self.rule} `{self.code}`{times}")


@dataclass(frozen=True)
class Baseline:
    path: str  # the file, as the user named it (for messages)
    counts: dict  # Key -> count

    def filter(self, findings: list[Finding], read: SourceReader) -> tuple[list[Finding], list[StaleEntry]]:
        """(the findings the baseline does not cover, the entries that covered nothing). Among findings with one
        key, those first in report order are the ones covered; the rest are new."""
        left = Counter(self.counts)
        kept = []
        for finding, key in zip(findings, finding_keys(findings, read)):
            if left[key] > 0:
                left[key] -= 1
            else:
                kept.append(finding)
        stale = [StaleEntry(rule, path, code, left[(rule, path, code)], count)
                 for (rule, path, code), count in sorted(self.counts.items()) if left[(rule, path, code)] > 0]
        return kept, stale


def finding_keys(findings: Iterable[Finding], read: SourceReader) -> list[Key]:
    sources: dict[str, Callable] = {}
    keys = []
    for finding in findings:
        loc = finding.location
        if loc.path not in sources:
            sources[loc.path] = _code_of(read(loc.path), loc.path)
        keys.append((finding.rule_id, loc.path, sources[loc.path](loc)))
    return keys


def _code_of(data: bytes | None, display: str) -> Callable:
    """A function giving the code of a location in the file whose bytes are `data` (a notebook's locations are
    keyed on the Python of their cell, so moving cells or re-running the notebook changes nothing)."""
    if data is None:
        return lambda loc: ""
    if display.endswith(".ipynb"):
        return _notebook_code(data)
    text, _ = decode_source(data, display)
    if text is None:
        return lambda loc: ""
    lines = SourceLines(text)
    return lambda loc: statement_code(lines, loc.line, max(loc.end_line, loc.line))


def _notebook_code(data: bytes) -> Callable:
    try:
        from llmlint.engine.notebook import NotebookPositions, python_source

        lines = SourceLines(python_source(data).decode("utf-8", "surrogateescape"))
        firsts = {cell.number: cell.first for cell in NotebookPositions(data).cells}
    except Exception:  # a notebook that cannot be read now (it was checked, so it changed since): no code
        return lambda loc: ""

    def code(loc) -> str:
        cell = getattr(loc, "cell", None)
        if cell is None or cell.number not in firsts:
            return ""
        first = firsts[cell.number] - 1
        return statement_code(lines, first + cell.line, first + max(cell.end_line, cell.line))

    return code


def statement_code(lines: SourceLines, line: int, end_line: int) -> str:
    """The code of the statement a finding is reported at, as the baseline keys it (see the module's doc)."""
    if not 0 < line <= len(lines.line_starts):
        return ""
    rows = [lines.line_text(number) for number in range(line, min(end_line, len(lines.line_starts)) + 1)]
    comments: dict[int, int] = {}  # row (0-based in `rows`) -> column where its comment starts
    last = len(rows) - 1
    try:
        feed = iter(rows)
        for token in tokenize.generate_tokens(lambda: next(feed, "")):
            if token.type == tokenize.COMMENT:
                comments[token.start[0] - 1] = token.start[1]
            elif token.type == tokenize.NEWLINE:
                last = token.start[0] - 1
                break
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass  # a location inside a bracket, or a statement that goes on past the location: its lines as they are
    kept = [row[: comments[i]] + " " if i in comments else row for i, row in enumerate(rows[: last + 1])]
    code = safe_text(" ".join("".join(kept).split()))
    if len(code) > MAX_CODE:
        digest = hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        code = f"{code[:160]} … sha256:{digest}"
    return code


def source_reader(buffers: dict | None = None, base: str | None = None) -> SourceReader:
    """A reader of the bytes of a reported path (relative to the report base, as findings carry it); `buffers` maps
    absolute paths to bytes to use instead of the file (`--stdin-filename`). None when it cannot be read."""
    base = base or report_base()
    given = {os.path.realpath(path): data for path, data in (buffers or {}).items()}

    def read(display: str) -> bytes | None:
        path = os.path.join(base, display)
        data = given.get(os.path.realpath(path))
        if data is not None:
            return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except (OSError, ValueError):
            return None

    return read


# The file


def render(findings: list[Finding], read: SourceReader) -> str:
    """The baseline file's text for `findings`: sorted, versioned, the same bytes for the same findings."""
    counts = Counter(finding_keys(findings, read))
    entries = [{"rule": rule, "path": path, "code": code, "count": counts[(rule, path, code)]}
               for rule, path, code in sorted(counts)]
    document = {"tool": "llmlint", "version": FORMAT_VERSION, "entries": entries}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_baseline(target: str, findings: list[Finding], read: SourceReader) -> int:
    """Write the baseline of `findings` to `target` (replaced whole, never left half-written); the number of
    entries. Raises BaselineError."""
    text = render(findings, read)
    folder = os.path.dirname(os.path.abspath(target))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".llmlint-baseline-", suffix=".json", dir=folder)
    except OSError as error:
        raise BaselineError(f"cannot write the baseline to {target}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n", errors="surrogateescape") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise BaselineError(f"cannot write the baseline to {target}: {error.strerror or error}") from None
    return len(json.loads(text)["entries"])


def load_baseline(path: str, shown: str | None = None) -> Baseline:
    """Read and check a baseline file. Raises BaselineError naming the file and what is wrong with it."""
    shown = safe_text(shown or _display(path))
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except (OSError, ValueError) as error:  # (ValueError: a NUL in the name)
        raise BaselineError(f"baseline {shown}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise BaselineError(f"baseline {shown}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        raise BaselineError(f"baseline {shown}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise BaselineError(f"baseline {shown}: invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except (ValueError, RecursionError) as error:  # NaN, a number too long to convert, nesting too deep
        raise BaselineError(f"baseline {shown}: invalid JSON: {_short(error)}") from None
    return Baseline(shown, _entries(document, shown))


def _display(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _short(error: Exception) -> str:
    text = safe_text(str(error)) or type(error).__name__
    return text if len(text) <= 120 else text[:119] + "…"


def _entries(document, shown: str) -> dict:
    expected = f'(expected {{"tool": "llmlint", "version": {FORMAT_VERSION}, "entries": [...]}}, as --write-baseline writes)'
    if not isinstance(document, dict) or document.get("tool") != "llmlint":
        raise BaselineError(f"baseline {shown}: not an llmlint baseline {expected}")
    version = document.get("version")
    if version != FORMAT_VERSION or type(version) is not int:
        raise BaselineError(f"baseline {shown}: unsupported version {_short(ValueError(json.dumps(version)))}; "
                            f"this llmlint reads version {FORMAT_VERSION} (write it again with --write-baseline)")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise BaselineError(f"baseline {shown}: 'entries' must be a list {expected}")
    counts: Counter = Counter()
    for number, entry in enumerate(entries, start=1):
        where = f"baseline {shown}: entry {number}"
        if not isinstance(entry, dict) or set(entry) != {"rule", "path", "code", "count"}:
            raise BaselineError(f"{where}: must be an object with exactly the keys rule, path, code and count")
        if not all(isinstance(entry[key], str) for key in ("rule", "path", "code")):
            raise BaselineError(f"{where}: rule, path and code must be strings")
        count = entry["count"]
        if type(count) is not int or not 0 < count <= MAX_COUNT:
            raise BaselineError(f"{where}: count must be a whole number from 1 to {MAX_COUNT}")
        counts[(entry["rule"], entry["path"], entry["code"])] += count
    return dict(counts)
