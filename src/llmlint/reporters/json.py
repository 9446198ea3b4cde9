"""Machine-readable JSON output; the schema is documented in docs/json-format.md.

JSON encoding escapes control characters; keys are redacted (`redact`) in every string from the analysed code."""

from __future__ import annotations

import json

from llmlint import __version__
from llmlint.engine.redact import redact, safe_text
from llmlint.results.finding import Finding, Location, Report
from llmlint.ruleset.ruledoc import RuleMeta

SCHEMA_VERSION = 1


def render(report: Report, rules: dict[str, RuleMeta], **_other_format_opts) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "llmlint", "version": __version__},
        "findings": [_finding(f) for f in report.findings],
        "skipped": [{"path": redact(p.path), "reason": safe_text(p.reason)} for p in report.problems],
        "files_checked": report.files_checked,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _finding(finding: Finding) -> dict:
    return {
        "rule_id": finding.rule_id,
        "name": finding.name,
        "severity": finding.severity.value,
        **_span(finding.location),
        **_cell(finding.location),
        "message": safe_text(finding.message),
        "api": finding.api or None,
        "note": finding.note or None,
        "fix": safe_text(finding.fix) if finding.fix else finding.fix,
        "edits": [{**_span(e.location), "replacement": redact(e.replacement)} for e in finding.edits],
        "related": [
            {"path": redact(r.location.path), "line": r.location.line, "column": r.location.column, **_cell(r.location),
             "message": safe_text(r.message)}
            for r in finding.related
        ],
    }


def _span(loc: Location) -> dict:
    return {
        "path": redact(loc.path),
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line,
        "end_column": loc.end_column,
    }


def _cell(loc: Location) -> dict:
    """In a notebook, where the location is in its code cell (`line`/`column` are those of the notebook file)."""
    if loc.cell is None:
        return {}
    cell = loc.cell
    return {"cell": {"number": cell.number, "line": cell.line, "column": cell.column, "end_line": cell.end_line,
                     "end_column": cell.end_column}}
