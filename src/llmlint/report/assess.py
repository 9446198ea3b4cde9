"""The assessment document: per project, the scorecard, the cost model, worst-case latency and the inventory, as
plain JSON-ready data (dicts, lists, strings, numbers). Markdown and HTML are renderings of this document.

Every text taken from the analysed code (paths, model names, APIs, fixes quoting code) goes through `safe_text`."""

from __future__ import annotations

import math
import os
from decimal import Decimal

from llmlint import __version__
from llmlint.engine import exprs as E
from llmlint.engine.redact import safe_text
from llmlint.link.values import Ctx, Ext, Lit, Obj
from llmlint.report.costs import Assumptions, CallCost, cost_calls, request_cost
from llmlint.report.latency import latency_by_entry

SCHEMA_VERSION = 1
READY, AT_RISK, NOT_READY = "ready", "at risk", "not ready"
GAPS = ("cost", "latency", "reliability", "observability", "integration")
ANTI_PATTERNS = {"LLM001": "Monolithic prompts", "LLM002": "Retrieval firehose", "LLM003": "Retry spirals",
                 "LLM004": "Context amnesia", "LLM005": "One model fits all"}
STATUS_RULES = (
    f"**{NOT_READY}**: an error-level finding, or findings that affect at least half of the project's model calls, "
    "or (latency) an entry point that can wait without bound",
    f"**{AT_RISK}**: any other finding",
    f"**{READY}**: no finding",
)


def assess(analysis, findings, rules, prices, assumptions: Assumptions, paths) -> dict:
    costs = cost_calls(analysis, prices, assumptions)
    latencies = latency_by_entry(analysis)
    projects: dict = {}
    for call in analysis.model_calls:
        projects.setdefault(analysis.project.project_root(call.module.path), []).append(call)
    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "llmlint", "version": __version__},
        "paths": [safe_text(p) for p in paths],
        "assumptions": _assumptions(assumptions, prices),
        "status_rules": [rule.replace("**", "") for rule in STATUS_RULES],
        "projects": [],
    }
    roots = sorted(set(projects) | {analysis.project.project_root(p) for p in analysis.project.indexes})
    for root in roots:
        calls = projects.get(root, [])
        if not calls:
            continue
        in_project = {id(c) for c in calls}
        shown = {analysis.display(p) for p in analysis.project.indexes if analysis.project.project_root(p) == root}
        project_findings = [f for f in findings if f.location.path in shown]
        project_costs = [c for c in costs if id(c.call) in in_project]
        project_latency = [e for e in latencies if analysis.project.project_root(e.path) == root]
        document["projects"].append(_project(analysis, root, calls, project_findings, rules, project_costs,
                                             project_latency, prices, assumptions))
    return document


def _assumptions(a: Assumptions, prices) -> dict:
    return {
        "requests_per_month": a.requests_per_month,
        "chars_per_token": a.chars_per_token,
        "chunk_chars": a.chunk_chars,
        "unknown_value_tokens": a.hole_tokens,
        "suggested_output_cap": a.suggested_cap,
        "suggested_k": a.suggested_k,
        "price_table": {"package": "genai-prices", "version": prices.version, "date": prices.on.isoformat()},
        "notes": [
            "each model call site runs once per request",
            "input tokens: the statically assembled prompt (the request with the most known text), "
            f"{a.chars_per_token:g} characters per token; each value unknown before run time (user input, "
            f"a variable) counts {a.hole_tokens} tokens",
            f"retrieved documents: k × {a.chunk_chars:,} characters each, or the character cap a slice puts on them",
            "conversation history is not counted: no cap on it is read",
            "output: the call's cap on output tokens, charged in full; with no cap the output cost is unknown and "
            "the cost shown is the input's alone (a lower bound, marked ≥)",
            "latency: every model call an entry point can reach runs once, one after another, each waiting out "
            "its effective timeout on every attempt; SDK default retries: openai and anthropic 2, with their "
            "backoff (0.5 s doubling, at most 8 s)",
        ],
    }


def _project(analysis, root, calls, findings, rules, costs, latencies, prices, assumptions) -> dict:
    shown_root = _shown_root(analysis, root, calls)
    affected = _affected(analysis, findings, costs)
    latency_rows = [_latency_row(analysis, e) for e in latencies]
    return {
        "root": shown_root,
        "model_calls": len(calls),
        "scorecard": _scorecard(findings, rules, affected, len(calls), latency_rows),
        "costs": _costs(analysis, costs, findings, prices, assumptions),
        "latency": latency_rows,
        "inventory": _inventory(analysis, calls, findings),
    }


def _shown_root(analysis, root, calls) -> str:
    shown = analysis.display(calls[0].module.path)
    inner = os.path.relpath(calls[0].module.path, root).replace(os.sep, "/") if root else shown
    folder = shown[: -len(inner)].rstrip("/") if shown.endswith(inner) else ""
    return safe_text(folder or ".")


def _where(analysis, call) -> str:
    return f"{analysis.display(call.module.path)}:{call.call.line}"


# -- scorecard --------------------------------------------------------------------------------------------------


def _affected(analysis, findings, costs) -> dict:
    """{finding: {model call keys it affects}}: the call it is reported at, the calls sending the prompt it is
    reported at (LLM001), the calls receiving the documents (LLM002), else the calls reachable from the function
    holding it."""
    import networkx as nx

    from llmlint.knowledge.prompts import requests_of

    by_line: dict = {}
    for c in analysis.model_calls:
        by_line.setdefault((analysis.display(c.module.path), c.call.line), []).append(c)
    definitions: dict = {}
    for c in analysis.model_calls:
        for request in requests_of(analysis, c):
            for part in request.parts:
                if part.definition is not None:
                    definitions.setdefault((analysis.display(part.definition.path), part.definition.span.line), set()).add(_key(c))
    documents: dict = {}
    for entry in costs:
        for doc in entry.documents:
            for path, line in doc.sites:
                documents.setdefault((analysis.display(path), line), set()).add(_key(entry.call))
    functions: dict = {}
    for idx, fn in analysis.project.functions():
        functions.setdefault(analysis.display(idx.path), []).append((idx, fn))
    graph = analysis.callgraph
    found = {}
    for f in findings:
        where = (f.location.path, f.location.line)
        keys = {_key(c) for c in by_line.get(where, ())}
        if not keys and f.rule_id == "LLM001":
            keys = definitions.get(where, set())
        if not keys and f.rule_id == "LLM002":
            keys = documents.get(where, set())
        if not keys and f.rule_id == "LLM107":  # the calls whose client takes its key from source
            keys = {_key(c) for c in analysis.model_calls if "written in source" in _key_source(analysis, c)
                    and analysis.project.project_root(c.module.path) == _root_of(analysis, f.location.path)}
        if not keys:
            holder = _holder(functions, f.location)
            if holder is not None:
                node = (holder[0].path, holder[1].qualname)
                reached = ({node} | nx.descendants(graph, node)) if node in graph else {node}
                keys = {_key(c) for c in analysis.model_calls if (c.module.path, c.function.qualname) in reached}
        found[f] = keys
    return found


def _root_of(analysis, shown: str) -> str | None:
    return next((analysis.project.project_root(p) for p in analysis.project.indexes if analysis.display(p) == shown), None)


def _holder(functions, location):
    """The innermost function (decorators included) holding a location, not module code."""
    best = None
    for idx, fn in functions.get(location.path, ()):
        if fn.qualname == "<module>":
            continue
        first = min([fn.span.line] + [s.line for s in fn.decorator_spans])
        if first <= location.line <= fn.span.end_line and (best is None or first >= best[2]):
            best = (idx, fn, first)
    return best


def _key(call) -> tuple:
    return (call.module.path, call.call.line, call.call.col)


def _scorecard(findings, rules, affected, total_calls, latency_rows) -> list:
    rows = []
    for gap in GAPS:
        ids = [m.id for m in rules.values() if m.gap == gap]
        extra = []
        if gap == "latency":
            extra = [r["entry_point"] for r in latency_rows if r["worst_case"]["unbounded"]]
        rows.append(_row("gap", gap.capitalize(), ids, findings, affected, total_calls, extra))
    for rule_id, title in ANTI_PATTERNS.items():
        rows.append(_row("anti-pattern", title, [rule_id], findings, affected, total_calls, []))
    return rows


def _row(kind, title, ids, findings, affected, total_calls, unbounded_entries) -> dict:
    mine = [f for f in findings if f.rule_id in ids]
    calls = set().union(*(affected[f] for f in mine)) if mine else set()
    if any(f.severity.value == "error" for f in mine) or (mine and total_calls and 2 * len(calls) >= total_calls) or unbounded_entries:
        status = NOT_READY
    elif mine:
        status = AT_RISK
    else:
        status = READY
    fixes: dict = {}
    for f in mine:
        group = fixes.setdefault((f.rule_id, f.fix), {"calls": set(), "where": [], "severity": f.severity.rank})
        group["calls"] |= affected[f]
        group["where"].append(f"{f.location.path}:{f.location.line}")
    ordered = sorted(fixes.items(), key=lambda item: (-len(item[1]["calls"]), -item[1]["severity"], item[1]["where"][0]))
    reasons = []
    if unbounded_entries:
        reasons.append(f"{len(unbounded_entries)} entry point{'s' if len(unbounded_entries) != 1 else ''} can wait without bound")
    return {
        "kind": kind,
        "title": title,
        "rules": list(ids),
        "status": status,
        "findings": len(mine),
        "calls_affected": len(calls),
        "reasons": reasons,
        "top_fixes": [{"rule": rule_id, "fix": fix, "calls": len(group["calls"]), "where": group["where"][:3]}
                      for (rule_id, fix), group in ordered[:3]],
    }


# -- costs --------------------------------------------------------------------------------------------------


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(round(value, 6))


def _costs(analysis, costs: list[CallCost], findings, prices, a: Assumptions) -> dict:
    volume = a.requests_per_month
    rows = []
    for entry in costs:
        call = entry.call
        per_request = entry.per_request
        rows.append({
            "where": safe_text(_where(analysis, call)),
            "function": safe_text(call.function.qualname),
            "api": safe_text(call.api),
            "model": safe_text(call.model) if call.model else None,
            "prompt_found": entry.prompt_found,
            "prompt_tokens": entry.prompt_tokens,
            "unknown_values": entry.holes,
            "documents": [{"retrieval": safe_text(f"{d.retrieval.api} ({analysis.display(d.retrieval.module.path)}:{d.retrieval.site.call.line})"),
                           "k": d.k, "cap_chars": d.cap_chars, "cap_unknown": d.capped_unknown} for d in entry.documents],
            "document_tokens": entry.document_tokens,
            "input_tokens": entry.input_tokens,
            "output_cap": entry.output_cap,
            "output_cap_known": entry.output_cap_known,
            "price": None if entry.price is None else {
                "provider": entry.price.provider, "model": safe_text(entry.price.model),
                "input_per_mtok": float(entry.price.input_mtok), "output_per_mtok": float(entry.price.output_mtok)},
            "price_unknown_reason": safe_text(entry.price_note) if entry.price is None else None,
            "cost_per_request": _money(per_request),
            "cost_per_1k_requests": _money(per_request * 1000 if per_request is not None else None),
            "cost_per_month": _money(per_request * volume if per_request is not None else None),
            "lower_bound": entry.is_lower_bound,
        })
    known = [r for r in rows if r["cost_per_month"] is not None]
    total = sum(r["cost_per_month"] for r in known)
    ranked = sorted(known, key=lambda r: -r["cost_per_month"])
    dominant = []
    for r in ranked[:3]:
        dominant.append({"where": r["where"], "cost_per_month": r["cost_per_month"],
                         "share": round(r["cost_per_month"] / total, 4) if total else 0.0})
    return {
        "calls": rows,
        "total_per_month": round(total, 2) if known else None,
        "total_per_1k_requests": round(sum(r["cost_per_1k_requests"] for r in known), 4) if known else None,
        "total_is_lower_bound": any(r["lower_bound"] for r in known) or len(known) < len(rows),
        "unpriced_calls": len(rows) - len(known),
        "dominant": dominant,
        "savings": _savings(analysis, costs, findings, prices, a),
    }


def _savings(analysis, costs, findings, prices, a: Assumptions) -> list:
    from llmlint.knowledge.modeltiers import tier_table

    volume = a.requests_per_month
    found = []
    flagged = {(f.location.path, f.location.line) for f in findings if f.rule_id == "LLM005"}
    tiers = tier_table()
    for entry in costs:
        call = entry.call
        if (analysis.display(call.module.path), call.call.line) not in flagged or entry.per_request is None:
            continue
        cheaper = tiers.alternative(call.model) if call.model else None
        price, _ = prices.lookup(cheaper, call.model_family.provider if call.model_family else call.family.provider) if cheaper else (None, "")
        if price is None:
            continue
        alt = CallCost(call, entry.prompt_chars, entry.holes, entry.prompt_tokens, entry.documents, entry.document_tokens,
                    entry.output_cap, entry.output_cap_known, price)
        alt_cost, _ = request_cost(prices, alt)
        if alt_cost is None:
            continue
        found.append({"kind": "trust cascade", "where": safe_text(_where(analysis, call)),
                      "change": safe_text(f"route to `{cheaper}` first, escalate to `{call.model}` only when needed"),
                      "saves_per_month": _money((entry.per_request - alt_cost) * volume), "bounds_per_month": None})
    for entry in costs:
        if entry.price is None or entry.input_tokens is None:
            continue
        call = entry.call
        for doc in entry.documents:
            if doc.k <= a.suggested_k or doc.cap_chars is not None or doc.capped_unknown:
                continue
            fewer = a.tokens((doc.k - a.suggested_k) * a.chunk_chars)
            now, _ = request_cost(prices, entry)
            after, _ = request_cost(prices, entry, input_tokens=entry.input_tokens - fewer)
            found.append({"kind": "retrieval cap", "where": safe_text(_where(analysis, call)),
                          "change": safe_text(f"send {a.suggested_k} documents instead of {doc.k:g} from `{doc.retrieval.api}`"),
                          "saves_per_month": _money((now - after) * volume), "bounds_per_month": None})
        if entry.output_cap is None and entry.output_cap_known:
            bound = prices.cost(entry.price, 0, a.suggested_cap)
            found.append({"kind": "output cap", "where": safe_text(_where(analysis, call)),
                          "change": f"cap the output at {a.suggested_cap} tokens: its output cost, unbounded now, stays under the amount shown",
                          "saves_per_month": None, "bounds_per_month": _money(bound * volume)})
    found.sort(key=lambda s: (-(s["saves_per_month"] or 0), -(s["bounds_per_month"] or 0), s["where"]))
    return found


# -- latency ------------------------------------------------------------------------------------------------


def _seconds(value):
    if value is None:
        return None
    return "unbounded" if value == math.inf else round(value, 3)


def _latency_row(analysis, entry) -> dict:
    worst = entry.worst
    return {
        "entry_point": safe_text(entry.label),
        "where": safe_text(f"{analysis.display(entry.path)}:{_entry_line(analysis, entry)}"),
        "worst_case": {"seconds": round(worst.seconds, 3), "unbounded": worst.unbounded,
                       "unknown": [safe_text(u) for u in worst.unknown]},
        "calls": [{
            "where": safe_text(_where(analysis, row.call)),
            "api": safe_text(row.call.api),
            "timeout": _seconds(row.timeout),
            "timeout_source": row.timeout_source,
            "attempts": _seconds(row.attempts),
            "retry_policies": [safe_text(p) for p in row.policies],
            "blocks_event_loop": row.blocking,
            "worst_case_seconds": round(row.worst.seconds, 3),
            "unbounded": row.worst.unbounded,
        } for row in entry.calls],
    }


def _entry_line(analysis, entry) -> int:
    fn = analysis.project.function(Ctx(entry.path, entry.qualname))
    return fn.span.line if fn is not None else 1


# -- inventory ----------------------------------------------------------------------------------------------


def _inventory(analysis, calls, findings) -> dict:
    providers: dict = {}
    models: dict = {}
    apis: dict = {}
    keys: dict = {}
    for call in calls:
        provider = (call.model_family or call.family).provider
        providers[provider] = providers.get(provider, 0) + 1
        name = safe_text(call.model) if call.model else "unknown"
        models[name] = models.get(name, 0) + 1
        apis[safe_text(call.api)] = apis.get(safe_text(call.api), 0) + 1
        source = _key_source(analysis, call)
        keys[source] = keys.get(source, 0) + 1
    observability = analysis.observability
    observed = [c for c in calls if observability.is_instrumented(c.module.path)
                or observability.is_observed(c.module.path, c.function.qualname)]
    hardcoded = [f"{f.location.path}:{f.location.line}" for f in findings if f.rule_id == "LLM107"]
    return {
        "providers": _counted(providers),
        "models": _counted(models),
        "apis": _counted(apis),
        "key_sources": _counted(keys),
        "keys_in_source": hardcoded,
        "instrumented": any(observability.is_instrumented(c.module.path) for c in calls),
        "observed_calls": len(observed),
    }


def _counted(counts: dict) -> list:
    return [{"name": name, "calls": n} for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


KEY_ARGS = ("api_key", "openai_api_key", "anthropic_api_key", "google_api_key", "groq_api_key", "cohere_api_key", "token")


def _key_source(analysis, call) -> str:
    """Where the client's key comes from: an environment variable it names, a value written in source, something
    else the code computes, or (no key given) the SDK's own default, its environment variable."""
    obj = call.model_obj or call.client
    ctor = obj.ctor if obj is not None and isinstance(obj.ctor, E.Call) else None
    expr = ctor.kwarg(*KEY_ARGS) if ctor is not None else None
    if expr is None:
        return "the SDK's default (its environment variable)"
    ctx = obj.ctor_ctx
    for _ in range(6):
        if isinstance(expr, (E.Name, E.Attr)):
            value = analysis.project.resolve(expr, ctx)
            if isinstance(value, Lit):
                expr, ctx = value.expr, value.ctx
                continue
            binding = _assigned(analysis, expr, ctx)
            if binding is None:
                break
            expr, ctx = binding
            continue
        break
    if isinstance(expr, E.Call):
        value = analysis.project.resolve(expr.func, ctx)
        name = value.name if isinstance(value, Ext) else E.dotted(expr.func) or ""
        if name in ("os.getenv", "os.environ.get"):
            variable = E.literal_str(expr.arg(0))
            fallback = expr.arg(1, "default")
            shown = f"environment `{variable}`" if variable else "the environment"
            return safe_text(shown + (" (with a fallback written in source)" if isinstance(fallback, E.Const) and fallback.value else ""))
    if isinstance(expr, E.Subscript) and E.dotted(expr.value) == "os.environ":
        variable = E.literal_str(expr.index)
        return safe_text(f"environment `{variable}`" if variable else "the environment")
    if isinstance(expr, E.Const):
        return "written in source"
    return "computed at run time"


def _assigned(analysis, expr, ctx):
    """(value, ctx) of the module-level assignment a name resolves to when resolution stops at a call."""
    value = analysis.project.resolve(expr, ctx)
    if isinstance(value, Obj) and isinstance(value.ctor, E.Call) and not value.path:
        return value.ctor, value.ctor_ctx
    return None
