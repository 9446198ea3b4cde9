"""`llmlint inventory`: every model call site, as text or JSON (schema version 1). Model names and paths come from
the analysed code: they go through `safe_text` (a key passed as a model is redacted, a newline escaped)."""

from __future__ import annotations

import json

from llmlint.engine.redact import safe_text
from llmlint.knowledge.settings import UNKNOWN, number, timeout_seconds

SETTING_NAMES = ("timeout", "max_tokens", "stream", "temperature", "max_retries")


def inventory_rows(analysis) -> list[dict]:
    rows = []
    for call in analysis.model_calls:
        settings = {}
        for name in SETTING_NAMES:
            setting = call.settings.get(name)
            if setting is None:
                continue
            value = _setting_value(analysis, name, setting)
            settings[name] = safe_text(value) if isinstance(value, str) else value
        rows.append(_row(analysis, call.module.path, call.call, call.family.provider, call.api, call.model, settings))
    for run, calls in analysis.graph_runs:  # a compiled LangGraph graph run: its nodes' model calls, made from here
        models = sorted({call.model for call in calls if call.model is not None})
        rows.append(_row(analysis, run.caller[0], run.site.call, calls[0].family.provider,
                         f"langgraph.CompiledGraph.{run.method}", ", ".join(models) if models else None, {}))
    rows.sort(key=lambda row: (row["path"], row["line"], row["column"]))
    return rows


def _row(analysis, path: str, call, provider: str, api: str, model: str | None, settings: dict) -> dict:
    """One call site of the inventory; what comes from the analysed code goes through `safe_text`."""
    return {
        "path": safe_text(analysis.display(path)),
        "line": call.line,
        "end_line": call.end_line,
        "column": call.col,
        "provider": provider,
        "api": safe_text(api),
        "model": safe_text(model) if model is not None else None,
        "settings": settings,
    }


def _setting_value(analysis, name, setting):
    if name == "timeout":
        value = timeout_seconds(analysis.project, setting.expr, setting.ctx)
    elif name == "stream":
        value = getattr(setting.expr, "value", UNKNOWN)
        value = value if isinstance(value, bool) else UNKNOWN
    else:
        value = number(analysis.project, setting.expr, setting.ctx)
    if value is UNKNOWN:
        return "<dynamic>"
    if isinstance(value, float) and value == float("inf"):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def unresolved_rows(analysis) -> list[dict]:
    from llmlint.knowledge.unresolved import unresolved_calls

    return [
        {
            "path": safe_text(analysis.display(u.path)),
            "line": u.line,
            "column": u.col,
            "callee": safe_text(u.callee),
            "stopped_at": safe_text(u.stopped_at),
            "reason": safe_text(u.reason),
        }
        for u in unresolved_calls(analysis)
    ]


def render_inventory(analysis, fmt: str, unresolved: bool = False) -> str:
    rows = inventory_rows(analysis)
    missed = unresolved_rows(analysis) if unresolved else []
    if any(r["path"].endswith(".ipynb") for r in rows + missed):  # positions in notebooks given by cell
        from llmlint.engine.notebook import place_rows

        place_rows(rows + missed, {analysis.display(idx.path): idx.path for idx in analysis.project.indexes.values()})
    if fmt == "json":
        document = {"version": 1, "calls": rows}
        if unresolved:
            document["unresolved"] = missed
        return json.dumps(document, indent=2) + "\n"
    lines = [f"{_where(r)}: {r['api']} model={r['model'] or '?'}"
             + "".join(f" {k}={v}" for k, v in r["settings"].items()) for r in rows]
    lines.append(f"{len(rows)} model call{'s' if len(rows) != 1 else ''}")
    if unresolved:
        lines.extend(f"{_where(m)}: unresolved `{m['callee']}`: stopped at `{m['stopped_at']}`, "
                     f"{m['reason']}" for m in missed)
        total = len(rows) + len(missed)
        share = f" ({len(rows) / total:.0%} of {total} candidate call sites resolved)" if total else ""
        lines.append(f"{len(missed)} call site{'s that look' if len(missed) != 1 else ' that looks'} like model calls could not be resolved{share}")
    return "\n".join(lines) + "\n"


def _where(row: dict) -> str:
    """`path:line:column`, or `path:cell 3:2:5` in a notebook."""
    cell = row.get("cell")
    if cell is not None:
        return f"{row['path']}:cell {cell['number']}:{cell['line']}:{cell['column']}"
    return f"{row['path']}:{row['line']}:{row['column']}"
