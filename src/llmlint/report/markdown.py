"""The assessment as Markdown: fits a GitHub job summary or a pull-request comment."""

from __future__ import annotations

from llmlint.report.assess import STATUS_RULES

MARK = {"ready": "✅ ready", "at risk": "⚠️ at risk", "not ready": "❌ not ready"}


def money(value, lower_bound: bool = False) -> str:
    if value is None:
        return "unknown"
    prefix = "≥ " if lower_bound else ""
    if value and abs(value) < 0.01:
        return f"{prefix}${value:.4f}"
    return f"{prefix}${value:,.2f}"


def seconds(value: float) -> str:
    text = f"{value:,.1f} s".replace(".0 s", " s")
    if value >= 120:
        text += f" ({value / 60:,.0f} min)"
    return text


def worst_case(worst: dict) -> str:
    if worst["unbounded"]:
        return "unbounded"
    text = seconds(worst["seconds"])
    return f"≥ {text} (+ unknown)" if worst["unknown"] else text


def cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def price_source(document: dict) -> str:
    """Where the prices come from, as both formats print it."""
    table = document["assumptions"]["price_table"]
    return (f"genai-prices {table['version']}, prices of {table['date']}" if table["version"]
            else "no price table (genai-prices is not installed)")


def render_markdown(document: dict) -> str:
    prices = price_source(document)
    out = []
    if not document["projects"]:
        out.append("# Production readiness\n\nNo model calls found: nothing to assess.\n")
    for project in document["projects"]:
        out.append(_project(project, document, prices))
    out.append(_assumptions(document, prices))
    return "\n".join(out)


def _project(p: dict, document: dict, prices: str) -> str:
    a = document["assumptions"]
    lines = [f"# Production readiness: `{p['root']}`", "",
             f"llmlint {document['tool']['version']} · {p['model_calls']} model call{'s' if p['model_calls'] != 1 else ''} · "
             f"{a['requests_per_month']:,} requests per month · {prices}", ""]
    lines += ["## Scorecard", "", "| Area | Status | Findings | Model calls affected |", "|---|---|---|---|"]
    for row in p["scorecard"]:
        area = f"{row['title']} ({row['kind']})"
        status = MARK[row["status"]] + ("; " + "; ".join(row["reasons"]) if row["reasons"] else "")
        lines.append(f"| {cell(area)} | {cell(status)} | {row['findings']} | {row['calls_affected']} of {p['model_calls']} |")
    lines += ["", "Status rules: " + "; ".join(STATUS_RULES) + ".", ""]
    fixes = top_fixes(p)
    if fixes:
        lines += ["Top fixes, by the model calls they cover:", ""]
        lines += [f"{n}. **{cell(area)}** ({f['calls']} call{'s' if f['calls'] != 1 else ''}, `{cell(f['where'][0])}`): {cell(f['fix'])}"
                  for n, (area, f) in enumerate(fixes, 1)]
        lines.append("")
    lines += _costs(p, a)
    lines += _latency(p)
    lines += _inventory(p)
    return "\n".join(lines)


def top_fixes(p: dict, limit: int = 5) -> list:
    """(area, fix) of the fixes that cover the most model calls, across the scorecard's rows that are not ready."""
    found = [(row["title"], dict(f, fix=f["fix"].split(" [*] ")[0])) for row in p["scorecard"] if row["status"] != "ready"
             for f in row["top_fixes"]]
    return sorted(found, key=lambda item: -item[1]["calls"])[:limit]


def _costs(p: dict, a: dict) -> list:
    c = p["costs"]
    lines = ["## Cost per call site", ""]
    total = money(c["total_per_month"], c["total_is_lower_bound"])
    lines.append(f"At {a['requests_per_month']:,} requests per month: **{total} per month** "
                 f"({money(c['total_per_1k_requests'], c['total_is_lower_bound'])} per 1,000 requests)"
                 + (f"; {c['unpriced_calls']} call site{'s' if c['unpriced_calls'] != 1 else ''} not costed (price or prompt unknown)" if c["unpriced_calls"] else "") + ".")
    lines += ["", "| Call site | Model | Input tokens | Output cap | Price in / out per MTok | $ per 1,000 requests | $ per month |",
              "|---|---|---|---|---|---|---|"]
    for r in sorted(c["calls"], key=lambda r: -(r["cost_per_month"] or -1)):
        lines.append(f"| `{cell(r['where'])}` `{cell(r['api'])}` | {cell(r['model'] or 'unknown')} | {_tokens(r)} | {_cap(r)} | "
                     f"{_price(r)} | {money(r['cost_per_1k_requests'], r['lower_bound'])} | {money(r['cost_per_month'], r['lower_bound'])} |")
    if c["dominant"]:
        shares = ", ".join(f"`{d['where']}` {d['share']:.0%}" for d in c["dominant"])
        lines += ["", f"The calls that dominate: {shares}."]
    if c["savings"]:
        lines += ["", "What the fixes would save:", "", "| Fix | Call site | Change | Per month |", "|---|---|---|---|"]
        for s in c["savings"]:
            amount = (f"saves {money(s['saves_per_month'])}" if s["saves_per_month"] is not None
                      else f"output at most {money(s['bounds_per_month'])}")
            lines.append(f"| {s['kind']} | `{cell(s['where'])}` | {cell(s['change'])} | {amount} |")
    lines.append("")
    return lines


def _tokens(r: dict) -> str:
    if r["input_tokens"] is None:
        return "unknown: prompt not found" if not r["prompt_found"] else f"{r['prompt_tokens']:,} + documents of unknown size"
    text = f"{r['input_tokens']:,}"
    details = []
    if r["document_tokens"]:
        details.append(f"{r['document_tokens']:,} from retrieval")
    if r["unknown_values"]:
        details.append(f"{r['unknown_values']} unknown value{'s' if r['unknown_values'] != 1 else ''}")
    return text + (f" ({', '.join(details)})" if details else "")


def _cap(r: dict) -> str:
    if not r["output_cap_known"]:
        return "set, value unknown"
    return f"{r['output_cap']:,}" if r["output_cap"] is not None else "no cap"


def _price(r: dict) -> str:
    if r["price"] is None:
        return f"unknown: {cell(r['price_unknown_reason'])}"
    return f"${r['price']['input_per_mtok']:g} / ${r['price']['output_per_mtok']:g}"


def _latency(p: dict) -> list:
    lines = ["## Worst-case latency per entry point", ""]
    if not p["latency"]:
        return lines + ["No entry point reaches a model call.", ""]
    lines += ["| Entry point | Model calls | Worst case | Why |", "|---|---|---|---|"]
    for e in p["latency"]:
        why = []
        for c in e["calls"]:
            if c["unbounded"]:
                why.append(f"`{c['where']}`: " + ("; ".join(x for x in c["retry_policies"] if x.startswith("unbounded")) or "no timeout"))
        slowest = max(e["calls"], key=lambda c: c["worst_case_seconds"], default=None)
        if slowest is not None and not why:
            timeout = "no timeout" if slowest["timeout"] == "unbounded" else (
                f"timeout {slowest['timeout']:g} s ({slowest['timeout_source']})" if slowest["timeout"] is not None else "timeout unknown")
            attempts = slowest["attempts"]
            why.append(f"`{slowest['where']}`: {timeout} × {attempts:g} attempt{'s' if attempts != 1 else ''}" if isinstance(attempts, (int, float)) else f"`{slowest['where']}`: {timeout}")
        if any(c["blocks_event_loop"] for c in e["calls"]):
            why.append("blocks the event loop (every other request waits too)")
        why += e["worst_case"]["unknown"]
        lines.append(f"| {cell(e['entry_point'])} (`{cell(e['where'])}`) | {len(e['calls'])} | {worst_case(e['worst_case'])} | {cell('; '.join(why))} |")
    lines.append("")
    return lines


def _inventory(p: dict) -> list:
    inv = p["inventory"]

    def listed(items):
        return ", ".join(f"{cell(i['name'])} ({i['calls']})" for i in items) or "none"

    observed = f"{inv['observed_calls']} of {p['model_calls']} model calls are logged, traced or metered"
    observed += "; project-wide LLM instrumentation" if inv["instrumented"] else "; no project-wide LLM instrumentation"
    lines = ["## Inventory", "",
             f"- Providers: {listed(inv['providers'])}",
             f"- Models: {listed(inv['models'])}",
             f"- APIs: {listed(inv['apis'])}",
             f"- Keys come from: {listed(inv['key_sources'])}"]
    if inv["keys_in_source"]:
        lines.append(f"- Keys written in source: {', '.join('`' + cell(k) + '`' for k in inv['keys_in_source'])}")
    lines += [f"- Observed: {observed}", ""]
    return lines


def _assumptions(document: dict, prices: str) -> str:
    a = document["assumptions"]
    lines = ["## Assumptions", "",
             f"- Prices: {prices}; an unknown model or price stays unknown and is not counted",
             f"- Volume: {a['requests_per_month']:,} requests per month (`--requests-per-month`)",
             f"- {a['chars_per_token']:g} characters per token (`--chars-per-token`); retrieved chunks of {a['chunk_chars']:,} characters (`--chunk-chars`)"]
    lines += [f"- {note[0].upper() + note[1:]}" for note in a["notes"]]
    return "\n".join(lines) + "\n"
