"""GitHub Actions workflow commands (`::warning file=...,line=...::message`), shown as pull request annotations.

Each command is one line: text from the analysed code goes through `safe_text` (keys redacted, control characters
escaped), then through the workflow command escaping (`%`, CR, LF; and `:`, `,` in properties)."""

from __future__ import annotations

from llmlint.engine.redact import safe_text
from llmlint.reporters import message_and_fix
from llmlint.results.finding import Finding, Report, Severity
from llmlint.ruleset.ruledoc import RuleMeta

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def render(report: Report, rules: dict[str, RuleMeta], **_other_format_opts) -> str:
    lines = [_finding_command(f) for f in report.findings]
    notes = {}  # project-wide notes (Finding.note), once each, as notices without a file
    for finding in report.findings:
        if finding.note:
            notes.setdefault((finding.rule_id, finding.note), _command("notice", {"title": f"{finding.rule_id} {finding.name}"}, finding.note))
    lines += notes.values()
    lines += [
        _command("warning", {"file": p.path, "title": "llmlint"}, f"skipped: {p.reason}") for p in report.problems
    ]
    return "".join(line + "\n" for line in lines)


def _finding_command(finding: Finding) -> str:
    loc = finding.location
    properties = {
        "file": loc.path,
        "line": loc.line,
        "col": loc.column,
        "endLine": loc.end_line,
        "endColumn": loc.end_column,
        # a notebook's line is the .ipynb file's; the title says where that is in the notebook
        "title": f"{finding.rule_id} {finding.name}" + (f" (cell {loc.cell.number}, line {loc.cell.line})" if loc.cell else ""),
    }
    return _command(_COMMAND[finding.severity], properties, message_and_fix(finding), escaped_newlines=True)


def _command(name: str, properties: dict, message: str, escaped_newlines: bool = False) -> str:
    """One workflow command; `message` is made safe here, or was already, with the line breaks that separate its
    parts (`escaped_newlines`: message_and_fix), which the runner shows as lines."""
    props = ",".join(f"{key}={escape_property(safe_text(value))}" for key, value in properties.items())
    data = escape_data(message) if escaped_newlines else escape_data(safe_text(message))
    return f"::{name} {props}::{data}"


def escape_data(text: str) -> str:
    """Escape a workflow command's message (as @actions/core does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value: the message escapes plus ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
