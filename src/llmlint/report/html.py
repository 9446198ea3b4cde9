"""The assessment as one self-contained HTML file: inline styles, an inline SVG bar chart, a table sortable by a few
lines of inline script, and a Content-Security-Policy that forbids every request. Charts are drawn here as SVG
rather than with a charting library: a bar chart needs a few rectangles, and a library would have to be inlined
(hundreds of kilobytes) to keep the file working offline."""

from __future__ import annotations

from html import escape

from llmlint.report.markdown import money, price_source, worst_case

COLOURS = {"ready": "#1a7f37", "at risk": "#9a6700", "not ready": "#cf222e"}
STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:24px;color:#1f2328}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.meta{color:#59636e;margin:0 0 16px}code{font:13px ui-monospace,monospace;background:#f6f8fa;padding:1px 4px;border-radius:4px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}
.card{border:1px solid #d0d7de;border-left:6px solid;border-radius:6px;padding:8px 10px}
.card .t{font-weight:600}.card .s{font-weight:600;text-transform:uppercase;font-size:12px;letter-spacing:.04em}
.card .n{color:#59636e;font-size:13px}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}th[data-sort]{cursor:pointer}th[data-sort]:after{content:" \\2195";color:#8c959f}
td.num{text-align:right;white-space:nowrap}ul{margin:4px 0}.note{color:#59636e;font-size:13px}
"""
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th[data-sort]").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var down = th.getAttribute("aria-sort") !== "descending";
      rows.sort(function (a, b) {
        var x = a.cells[column].dataset.value || a.cells[column].textContent, y = b.cells[column].dataset.value || b.cells[column].textContent;
        var nx = parseFloat(x), ny = parseFloat(y), r = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
        return down ? -r : r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
      table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
    });
  });
});
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def render_html(document: dict) -> str:
    prices = price_source(document)
    body = []
    if not document["projects"]:
        body.append("<h1>Production readiness</h1><p>No model calls found: nothing to assess.</p>")
    for project in document["projects"]:
        body.append(_project(project, document, prices))
    body.append(_assumptions(document, prices))
    title = "Production readiness: " + ", ".join(p["root"] for p in document["projects"]) if document["projects"] else "Production readiness"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + f"\n<script>{SCRIPT}</script>\n</body></html>\n")


def _project(p: dict, document: dict, prices: str) -> str:
    a = document["assumptions"]
    out = [f"<section class=\"project\"><h1>Production readiness: <code>{escape(p['root'])}</code></h1>",
           f"<p class=\"meta\">llmlint {escape(document['tool']['version'])} · {p['model_calls']} model calls · "
           f"{a['requests_per_month']:,} requests per month · {escape(prices)}</p>",
           "<h2>Scorecard</h2>", '<div class="cards scorecard">']
    for row in p["scorecard"]:
        colour = COLOURS[row["status"]]
        fix = row["top_fixes"][0]["fix"].split(" [*] ")[0] if row["top_fixes"] else ""
        out.append(f'<div class="card" style="border-left-color:{colour}"><div class="t">{escape(row["title"])} '
                   f'<span class="n">({escape(row["kind"])})</span></div>'
                   f'<div class="s" style="color:{colour}">{escape(row["status"])}</div>'
                   f'<div class="n">{row["findings"]} finding{"s" if row["findings"] != 1 else ""} · '
                   f'{row["calls_affected"]} of {p["model_calls"]} model calls</div>'
                   + "".join(f'<div class="n">{escape(r)}</div>' for r in row["reasons"])
                   + (f'<div class="n" title="{escape(fix)}">Top fix: {escape(_short(fix))}</div>' if fix else "") + "</div>")
    out.append("</div>")
    out.append(_costs(p, a))
    out.append(_latency(p))
    out.append(_inventory(p))
    out.append("</section>")
    return "\n".join(out)


def _short(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chart(calls: list) -> str:
    """Horizontal bars: monthly cost by call site (priced calls only)."""
    rows = sorted((c for c in calls if c["cost_per_month"] is not None), key=lambda c: -c["cost_per_month"])
    if not rows:
        return '<p class="note">No call site could be priced: no chart.</p>'
    top = max(r["cost_per_month"] for r in rows) or 1.0
    label_w, bar_w, row_h = 330, 470, 26
    height = row_h * len(rows) + 10
    parts = [f'<svg class="chart" role="img" aria-label="Monthly cost by call site" width="{label_w + bar_w + 140}" '
             f'height="{height}" viewBox="0 0 {label_w + bar_w + 140} {height}" xmlns="http://www.w3.org/2000/svg">']
    for i, r in enumerate(rows):
        y = 5 + i * row_h
        width = max(1.0, bar_w * r["cost_per_month"] / top)
        label = f"{r['where']} ({r['model'] or 'unknown'})"
        shown = label if len(label) <= 46 else "…" + label[-45:]
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="12" font-family="ui-monospace,monospace">{escape(shown)}</text>')
        parts.append(f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 8}" fill="#0969da" rx="2">'
                     f"<title>{escape(label)}: {escape(money(r['cost_per_month'], r['lower_bound']))} per month</title></rect>")
        parts.append(f'<text x="{label_w + width + 6:.1f}" y="{y + 17}" font-size="12">{escape(money(r["cost_per_month"], r["lower_bound"]))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _costs(p: dict, a: dict) -> str:
    c = p["costs"]
    out = ["<h2>Cost per call site</h2>",
           f"<p>At {a['requests_per_month']:,} requests per month: <strong>{escape(money(c['total_per_month'], c['total_is_lower_bound']))} per month</strong> "
           f"({escape(money(c['total_per_1k_requests'], c['total_is_lower_bound']))} per 1,000 requests)"
           + (f"; {c['unpriced_calls']} call sites not costed (price or prompt unknown)" if c["unpriced_calls"] else "") + ".</p>",
           _chart(c["calls"]),
           '<table class="sortable costs"><thead><tr><th data-sort>Call site</th><th data-sort>Model</th><th data-sort>Input tokens</th>'
           "<th data-sort>Output cap</th><th data-sort>$ per 1,000 requests</th><th data-sort>$ per month</th></tr></thead><tbody>"]
    for r in c["calls"]:
        tokens = "unknown" if r["input_tokens"] is None else f"{r['input_tokens']:,}"
        cap = "set, value unknown" if not r["output_cap_known"] else (f"{r['output_cap']:,}" if r["output_cap"] is not None else "no cap")
        month = r["cost_per_month"]
        out.append(f"<tr><td><code>{escape(r['where'])}</code> <code>{escape(r['api'])}</code></td><td>{escape(r['model'] or 'unknown')}</td>"
                   f'<td class="num" data-value="{r["input_tokens"] if r["input_tokens"] is not None else -1}">{tokens}</td>'
                   f'<td class="num" data-value="{r["output_cap"] if r["output_cap"] is not None else -1}">{cap}</td>'
                   f'<td class="num" data-value="{r["cost_per_1k_requests"] if r["cost_per_1k_requests"] is not None else -1}">'
                   f'{escape(money(r["cost_per_1k_requests"], r["lower_bound"]))}</td>'
                   f'<td class="num" data-value="{month if month is not None else -1}">{escape(money(month, r["lower_bound"]))}'
                   + (f'<div class="note">{escape(r["price_unknown_reason"])}</div>' if r["price_unknown_reason"] else "") + "</td></tr>")
    out.append("</tbody></table>")
    if c["savings"]:
        out.append("<p>What the fixes would save:</p><ul>")
        for s in c["savings"]:
            amount = (f"saves {money(s['saves_per_month'])} per month" if s["saves_per_month"] is not None
                      else f"output at most {money(s['bounds_per_month'])} per month")
            out.append(f"<li><strong>{escape(s['kind'])}</strong> at <code>{escape(s['where'])}</code>: {escape(s['change'])} ({escape(amount)})</li>")
        out.append("</ul>")
    return "\n".join(out)


def _latency(p: dict) -> str:
    out = ["<h2>Worst-case latency per entry point</h2>"]
    if not p["latency"]:
        return out[0] + "<p>No entry point reaches a model call.</p>"
    out.append('<table class="sortable latency"><thead><tr><th data-sort>Entry point</th><th data-sort>Model calls</th>'
               "<th data-sort>Worst case</th><th>Calls on the way</th></tr></thead><tbody>")
    for e in p["latency"]:
        w = e["worst_case"]
        value = 1e18 if w["unbounded"] else w["seconds"]
        calls = "".join(
            f"<li><code>{escape(c['where'])}</code>: timeout {escape(_number(c['timeout'], ' s'))}"
            f" ({escape(c['timeout_source'])}), attempts {escape(_number(c['attempts']))}"
            + "".join(f"; {escape(x)}" for x in c["retry_policies"])
            + ("; <strong>blocks the event loop</strong>" if c["blocks_event_loop"] else "") + "</li>" for c in e["calls"])
        out.append(f"<tr><td>{escape(e['entry_point'])}<div class=\"note\"><code>{escape(e['where'])}</code></div></td>"
                   f'<td class="num">{len(e["calls"])}</td><td class="num" data-value="{value}">{escape(worst_case(w))}</td><td><ul>{calls}</ul></td></tr>')
    out.append("</tbody></table>")
    return "\n".join(out)


def _number(value, unit: str = "") -> str:
    if value is None:
        return "unknown"
    return value if isinstance(value, str) else f"{value:g}{unit}"


def _inventory(p: dict) -> str:
    inv = p["inventory"]

    def listed(items):
        return ", ".join(f"{escape(i['name'])} ({i['calls']})" for i in items) or "none"

    items = [("Providers", listed(inv["providers"])), ("Models", listed(inv["models"])), ("APIs", listed(inv["apis"])),
             ("Keys come from", listed(inv["key_sources"]))]
    if inv["keys_in_source"]:
        items.append(("Keys written in source", ", ".join(f"<code>{escape(k)}</code>" for k in inv["keys_in_source"])))
    observed = f"{inv['observed_calls']} of {p['model_calls']} model calls are logged, traced or metered; "
    observed += "project-wide LLM instrumentation" if inv["instrumented"] else "no project-wide LLM instrumentation"
    items.append(("Observed", escape(observed)))
    return "<h2>Inventory</h2><ul>" + "".join(f"<li><strong>{k}</strong>: {v}</li>" for k, v in items) + "</ul>"


def _assumptions(document: dict, prices: str) -> str:
    a = document["assumptions"]
    items = [f"Prices: {prices}; an unknown model or price stays unknown and is not counted",
             f"Volume: {a['requests_per_month']:,} requests per month (--requests-per-month)",
             f"{a['chars_per_token']:g} characters per token (--chars-per-token); retrieved chunks of {a['chunk_chars']:,} characters (--chunk-chars)"]
    items += [note[0].upper() + note[1:] for note in a["notes"]]
    rules = "".join(f"<li>{escape(rule)}</li>" for rule in document["status_rules"])
    return ("<h2>Assumptions</h2><ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"
            f"<h2>Status rules</h2><ul>{rules}</ul>")
