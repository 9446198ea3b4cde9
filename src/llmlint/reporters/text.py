"""Human-readable output: one `path:line:col: ID name message` line per finding and its fix, plus summary lines."""

from __future__ import annotations

from collections import Counter

from llmlint.finding import Finding, Report, Severity
from llmlint.redact import safe_text
from llmlint.ruledoc import RuleMeta

_RESET = "\033[0m"
_BOLD = "\033[1m"
_DIM = "\033[2m"
_SEVERITY_COLOR = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[1;33m", Severity.NOTE: "\033[1;36m"}


def render(report: Report, rules: dict[str, RuleMeta], *, color: bool = False, **_other_format_opts) -> str:
    """Every finding and its fix. ANSI colour only when `color` is true. What comes from the analysed code (paths,
    messages that quote it) goes through `safe_text`: one line per finding whatever the code holds.

    Skipped files are not listed here: the CLI prints them (`Problem.__str__`) to stderr with the summary.
    """
    lines: list[str] = []
    for finding in report.findings:
        lines.extend(_finding_lines(finding, color))
    return "".join(line + "\n" for line in lines)


def _finding_lines(finding: Finding, color: bool) -> list[str]:
    loc = finding.location
    where = _paint(f"{loc.label()}:", _BOLD, color)
    rule_id = _paint(finding.rule_id, _SEVERITY_COLOR[finding.severity], color)
    lines = [f"{where} {rule_id} {finding.name} {safe_text(finding.message)}"]
    if finding.fix:
        lines.append(f"  {_paint('fix:', _DIM, color)} {safe_text(finding.fix)}")
    return lines


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


def statistics(report: Report) -> str:
    """Findings per rule, most frequent first, like `ruff --statistics`: '  3  LLM101  missing-timeout'."""
    counts = Counter((f.rule_id, f.name) for f in report.findings)
    if not counts:
        return ""
    width = max(3, len(str(max(counts.values()))))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(f"{count:>{width}}  {rule_id}  {name}\n" for (rule_id, name), count in ordered)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
