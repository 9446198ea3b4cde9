"""Reporters: each module turns a Report into text with `render(report, rules, **opts) -> str`.

Renderers are pure: they return the whole output (ending in a newline unless empty) and never print.
Options meant for another format are ignored, so the CLI can pass the same options to any of them.
"""

from __future__ import annotations

import importlib

from llmlint.engine.redact import safe_text
from llmlint.results.finding import Finding, Report
from llmlint.ruleset.ruledoc import RuleMeta

FORMATS = ("text", "json", "sarif", "github")


def message_and_fix(finding: Finding, newline: str = "\n") -> str:
    """A finding's message as a sentence, then a blank line and `Fix: ...` (for SARIF and annotations, where the two
    would otherwise run together); each part redacted and on one line (`safe_text`) before they are joined."""
    message = safe_text(finding.message)
    if not finding.fix:
        return message
    if not message.endswith((".", "!", "?")):
        message += "."
    return f"{message}{newline}{newline}Fix: {safe_text(finding.fix)}"


def render(fmt: str, report: Report, rules: dict[str, RuleMeta], **opts) -> str:
    """Render `report` in format `fmt` (one of FORMATS); the format's module is imported on first use."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    module = importlib.import_module(f"llmlint.reporters.{fmt}")
    return module.render(report, rules, **opts)
