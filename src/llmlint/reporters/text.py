"""Human-readable output in ruff's two text formats, with the severity in every finding's first line.

`full` (the default, as in ruff): the finding, where it is, the source line(s) with a caret under the span, and the
fix on its own line; a blank line between findings.

    warning[LLM101] missing-timeout: `client.chat.completions.create` has no timeout: ...
      --> app/api.py:53:18
       |
    52 |     async def chat(req):
    53 |         reply = client.chat.completions.create(model="gpt-4o", messages=messages)
       |                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
       |
    fix: pass `timeout=30` (seconds) where the client is created (app/llm.py:11), or on this call

`concise`: one line per finding, `path:line:col: warning[LLM101] missing-timeout: message` (what editors, grep and
CI problem matchers read).

What comes from the analysed code (paths, messages that quote it, the source lines themselves) goes through
`safe_text`: keys redacted, control characters escaped, so a finding never runs onto lines of its own; in source
lines the literals LLM107 reported, and long secrets given to an `api_key`-like name, are redacted as well.
"""

from __future__ import annotations

import os
import re
import tokenize
import unicodedata
from collections import Counter
from typing import Callable, Optional

from llmlint.engine.redact import KEY_PATTERN, is_key, redact_key, safe_text
from llmlint.results.finding import Finding, Location, Report, Severity
from llmlint.ruleset.ruledoc import RuleMeta

STYLES = ("full", "concise")
CONTEXT_LINES = 2  # source lines shown above and below a span (ruff's default)
FOLD_AFTER = 5  # a span of more lines shows its first two and last two, with `...` between
MAX_SOURCE_WIDTH = 120  # a longer source line is cut around the span

_RESET = "\033[0m"
_BOLD = "\033[1m"
_GUTTER = "\033[1;34m"
_SEVERITY_COLOR = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[1;33m", Severity.NOTE: "\033[1;36m"}

SourceLines = Callable[[str, int], Optional[str]]
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SECRET_NAME = re.compile(r"(?i)api_?key|token|secret|passw")  # a line that may give a secret a name
_STRING = re.compile(r"""(?P<q>["'])(?P<body>[^"'\\\s]{20,})(?P=q)""")


def position(loc: Location) -> str:
    """How a location reads in text output: `path:line:col`, or in a notebook `path:cell 3:2:5` (ruff's form: the
    cell, then the line and column in it)."""
    return loc.label()


def _in_source(loc: Location) -> Location:
    """The span in the lines `source_lines` gives: the file's, or for a notebook the code cell's (`path\0cell N`)."""
    cell = loc.cell
    if cell is None:
        return loc
    return Location(f"{loc.path}\0cell {cell.number}", cell.line, cell.column, cell.end_line, cell.end_column)


def render(
    report: Report,
    rules: dict[str, RuleMeta],
    *,
    color: bool = False,
    style: str = "full",
    source_lines: SourceLines | None = None,
    **_other_format_opts,
) -> str:
    """Every finding in `style` ("full" or "concise"). ANSI colour only when `color` is true. `source_lines(path,
    line)` gives a line's text for `full` (default: read the files under the folder reported paths are relative
    to); None or "" for a line it cannot give, and the finding is shown without its source.

    Skipped files are not listed here: the CLI prints them (`Problem.__str__`) to stderr with the summary.
    """
    if style not in STYLES:
        raise ValueError(f"unknown text style {style!r}; expected one of {', '.join(STYLES)}")
    if style == "concise":
        return "".join(concise_line(f, color) + "\n" for f in report.findings)
    if source_lines is None and report.findings:
        from llmlint.engine.gitinfo import report_base

        source_lines = read_source_lines(report_base())
    keys = _key_spans(report.findings)
    blocks = ["\n".join(_full_block(f, color, source_lines, keys)) + "\n" for f in report.findings]
    return "\n".join(blocks)


def concise_line(finding: Finding, color: bool = False) -> str:
    """`path:line:col: warning[LLM101] missing-timeout: message`."""
    where = _paint(position(finding.location) + ":", _BOLD, color)
    return f"{where} {_title(finding, color)}"


def _title(finding: Finding, color: bool) -> str:
    severity = _paint(f"{finding.severity.value}[{finding.rule_id}]", _SEVERITY_COLOR[finding.severity], color)
    return f"{severity} {_paint(finding.name + ':', _BOLD, color)} {safe_text(finding.message)}"


def _full_block(finding: Finding, color: bool, source_lines: SourceLines, keys: dict) -> list[str]:
    loc = finding.location
    shown = _in_source(loc)
    snippet = _snippet(shown, source_lines, keys.get(shown.path, ()), _SEVERITY_COLOR[finding.severity], color)
    width = len(str(_last_shown(snippet))) if snippet else 1
    lines = [_title(finding, color), f"{' ' * width}{_paint('-->', _GUTTER, color)} {position(loc)}"]
    lines += _render_snippet(snippet, width, color)
    if finding.fix:
        lines.append(f"{_paint('fix:', _BOLD, color)} {safe_text(finding.fix)}")
    return lines


# --- the source snippet ---------------------------------------------------------------------------------------
# A snippet is a list of rows (line number or None, bar, text, annotation colour); `bar` is what stands between the
# gutter and the text for a multi-line span ("  ", "| ", or "" for a one-line span).


def _snippet(loc: Location, source_lines: SourceLines, key_spans, paint: str, color: bool) -> list:
    shown = {}  # line -> (text as shown, display column before each character of the source line)

    def line(number: int):
        if number not in shown:
            shown[number] = _shown_line(source_lines(loc.path, number), number, key_spans)
        return shown[number]

    first = line(loc.line)[0]
    if not first or not first.strip():
        return []
    start_col, last_line, end_col = loc.column, max(loc.end_line, loc.line), loc.end_column
    if last_line > loc.line and end_col <= 1:  # an exclusive end at column 1 ends on the line before
        last_line -= 1
        end_col = len(source_lines(loc.path, last_line) or "") + 1
    texts = {}
    for number in range(max(1, loc.line - CONTEXT_LINES), last_line + CONTEXT_LINES + 1):
        text = line(number)[0]
        if text is None:
            if number > loc.line:
                break
            continue
        texts[number] = text
    last_line = min(last_line, max(texts))
    before = [n for n in texts if n < loc.line]
    after = [n for n in texts if n > last_line]
    while before and not texts[before[0]].strip():  # blank lines at the edges say nothing (ruff drops them too)
        before.pop(0)
    while after and not texts[after[-1]].strip():
        after.pop()
    columns = line(loc.line)[1]
    caret_start = _column(columns, start_col)
    # a line wider than MAX_SOURCE_WIDTH is cut to a window that keeps the start of the span in view
    offset = max(0, caret_start - 20) if any(_width(t) > MAX_SOURCE_WIDTH for t in texts.values()) else 0
    start, room = caret_start - offset, MAX_SOURCE_WIDTH - (caret_start - offset)
    rows: list = []
    if last_line == loc.line:
        span_width = min(room, max(1, _column(columns, end_col) - caret_start))
        rows += [(n, "", texts[n]) for n in before]
        rows.append((loc.line, "", texts[loc.line]))
        rows.append((None, "", " " * start + _paint("^" * span_width, paint, color)))
        rows += [(n, "", texts[n]) for n in after]
        return _clip_rows(rows, offset)
    caret_end = min(MAX_SOURCE_WIDTH, max(0, _column(line(last_line)[1], max(1, end_col - 1)) - offset))
    inner = list(range(loc.line + 1, last_line + 1))
    if len(inner) + 1 > FOLD_AFTER:
        inner = inner[:1] + [0] + inner[-2:]  # 0: the fold
    rows += [(n, "  ", texts[n]) for n in before]
    rows.append((loc.line, "  ", texts[loc.line]))
    rows.append((None, " ", _paint("_" * (start + 1) + "^", paint, color)))
    for n in inner:
        rows.append((n or ..., _paint("| ", paint, color), texts.get(n, "")))
    rows.append((None, _paint("|", paint, color), _paint("_" * (caret_end + 1) + "^", paint, color)))
    rows += [(n, "  ", texts[n]) for n in after]
    return _clip_rows(rows, offset)


def _render_snippet(rows: list, width: int, color: bool) -> list[str]:
    if not rows:
        return []
    bar = _paint("|", _GUTTER, color)
    empty = f"{' ' * width} {bar}"
    lines = [empty]
    for number, lead, text in rows:
        if number is ...:
            gutter = _paint("...".ljust(width), _GUTTER, color)
        else:
            gutter = _paint(str(number).rjust(width), _GUTTER, color) if number is not None else " " * width
        lines.append(f"{gutter} {bar} {lead}{text}".rstrip())
    lines.append(empty)
    return lines


def _last_shown(rows: list) -> int:
    return max([n for n, _, _ in rows if isinstance(n, int)] + [100])  # at least 3 wide: room for the `...` fold


def _clip_rows(rows: list, offset: int) -> list:
    """Source rows cut to the window [offset, offset + MAX_SOURCE_WIDTH), `...` where text was cut away (the
    annotation rows were drawn for the window already)."""
    if not offset and all(_width(text) <= MAX_SOURCE_WIDTH for number, _, text in rows if number is not None):
        return rows
    clipped = []
    for number, lead, text in rows:
        if number is None or number is ...:
            clipped.append((number, lead, text))
            continue
        cut = text[offset : offset + MAX_SOURCE_WIDTH]
        if offset and text[:offset].strip():
            cut = "..." + cut[3:]
        if len(text) > offset + MAX_SOURCE_WIDTH:
            cut = cut[:-3] + "..."
        clipped.append((number, lead, cut))
    return clipped


def _shown_line(raw: str | None, number: int, key_spans) -> tuple[str | None, list[int]]:
    """A source line as it may be shown, and the display column before each of its characters (one more for the
    end): tabs as four spaces, control characters escaped, and keys redacted: the literals LLM107 reported, the
    provider key formats (`safe_text`'s), and long secrets given to an `api_key`-like name on the same line."""
    if raw is None:
        return None, [0]
    cuts = [(start - 1, end - 1) for line, start, end in key_spans if line == number and 0 < start < end <= len(raw) + 1]
    cuts += [m.span() for m in KEY_PATTERN.finditer(raw)]
    if _SECRET_NAME.search(raw):
        cuts += [m.span("body") for m in _STRING.finditer(raw) if is_key(m.group("body"), named=True)]
    starts = {}
    for start, end in sorted(cuts):
        if all(end <= s or start >= e for s, e in starts.items()):  # (nested or overlapping cuts: the first wins)
            starts[start] = end
    pieces, columns, width, i = [], [], 0, 0
    while i < len(raw):
        if i in starts:
            end = starts[i]
            literal = raw[i:end]
            quote = literal[0] if len(literal) > 1 and literal[0] == literal[-1] and literal[0] in "'\"" else ""
            piece = f"{quote}{redact_key(literal.strip(quote) if quote else literal)}{quote}"
            columns += [width] * (end - i)
            i = end
        else:
            piece = "    " if raw[i] == "\t" else safe_text(raw[i])
            columns.append(width)
            i += 1
        pieces.append(piece)
        width += _width(piece)
    columns.append(width)
    return "".join(pieces), columns


def _column(columns: list[int], column: int) -> int:
    """The display column of 1-based source column `column` (past the end: the end)."""
    return columns[min(max(column, 1), len(columns)) - 1]


def _width(text: str) -> int:
    """Terminal columns `text` takes: East Asian wide characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _key_spans(findings: list[Finding]) -> dict:
    """{path: [(line, start column, end column)]} of the key literals LLM107 reported (one-line spans)."""
    spans: dict = {}
    for finding in findings:
        loc = _in_source(finding.location)
        if finding.rule_id == "LLM107" and loc.end_line == loc.line:
            spans.setdefault(loc.path, []).append((loc.line, loc.column, loc.end_column))
    return spans


def read_source_lines(root: str, buffers: dict | None = None) -> SourceLines:
    """A `source_lines` that reads each file under `root` once, decoded as Python decodes it (coding cookie, BOM),
    and split where Python ends lines. `buffers` maps absolute paths to text judged instead of the file on disk
    (`--stdin-filename`). A file that cannot be read, or is not Python source (a notebook), gives None."""
    cache: dict[str, list[str] | None] = {}

    def line_text(path: str, line: int) -> str | None:
        if path not in cache:
            cache[path] = _read_lines(os.path.join(root, path), buffers or {})
        lines = cache[path]
        if lines is None or not 0 < line <= len(lines):
            return None
        return lines[line - 1]

    return line_text


def _read_lines(path: str, buffers: dict) -> list[str] | None:
    path, _, cell = path.partition("\0cell ")
    if path.endswith(".ipynb") and not cell:
        return None  # (a notebook finding's lines are its code cell's)
    data = buffers.get(os.path.abspath(path))
    try:
        if data is None:
            with open(path, "rb") as handle:
                data = handle.read(50_000_000 if cell else 2_000_000)
        if cell:
            from llmlint.engine.notebook import cell_source_lines

            return cell_source_lines(data, int(cell))
        if isinstance(data, str):
            text = data
        else:
            import io

            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            text = data.decode(encoding, "replace")
    except (OSError, SyntaxError, LookupError, ValueError):
        return None
    return _NEWLINE.split(text.removeprefix("\ufeff"))


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color else text


def summary(report: Report) -> str:
    """One line for stderr: 'Found 3 findings (1 error, 2 warnings) in 12 files; 1 file skipped.'"""
    files = _plural(report.files_checked, "file")
    if report.findings:
        by_severity = Counter(f.severity for f in report.findings)
        parts = [
            _plural(by_severity[severity], severity.value)
            for severity in sorted(Severity, key=lambda s: -s.rank)
            if by_severity[severity]
        ]
        text = f"Found {_plural(len(report.findings), 'finding')} ({', '.join(parts)}) in {files}"
    else:
        text = f"No findings in {files}"
    if report.problems:
        text += f"; {_plural(len(report.problems), 'file')} skipped"
    return text + "."


def project_notes(report: Report) -> list[str]:
    """Each project-wide note once (`Finding.note`: the same on every finding of a rule in one project), as a line
    `note[LLM106] unobserved-model-call: the project in ... has no LLM instrumentation at all: ...`."""
    seen: dict[tuple, str] = {}
    for finding in report.findings:
        if finding.note and (finding.rule_id, finding.note) not in seen:
            seen[(finding.rule_id, finding.note)] = f"note[{finding.rule_id}] {finding.name}: {safe_text(finding.note)}"
    return list(seen.values())


def statistics(report: Report, as_json: bool = False) -> str:
    """Findings per rule and severity, most frequent first, like `ruff --statistics`:
    '  3  LLM101  warning  missing-timeout'; with `as_json`, a JSON list of {rule_id, name, severity, count}."""
    counts = Counter((f.rule_id, f.severity.value, f.name) for f in report.findings)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if as_json:
        import json

        rows = [{"rule_id": r, "name": n, "severity": s, "count": c} for (r, s, n), c in ordered]
        return json.dumps(rows, indent=2) + "\n"
    if not counts:
        return ""
    width = max(3, len(str(max(counts.values()))))
    return "".join(f"{count:>{width}}  {rule_id}  {severity:<7}  {name}\n" for (rule_id, severity, name), count in ordered)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
