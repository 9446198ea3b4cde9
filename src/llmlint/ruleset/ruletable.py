"""The rule table of the README, generated from the rule documents (`llmlint rules --format markdown`)."""

from __future__ import annotations


def render_rule_table(rules) -> str:
    lines = ["| id | name | severity | gap | what it flags |", "|---|---|---|---|---|"]
    for meta in rules.values():
        summary = meta.summary.removeprefix("Flags ").replace("|", "\\|")
        lines.append(f"| [{meta.id}](rules/{meta.filename}) | `{meta.name}` | {meta.severity.value} | {meta.gap} | {summary} |")
    return "\n".join(lines) + "\n"
