"""`llmlint report`: the production-readiness assessment of each project (scorecard, cost model, worst-case
latency, inventory), built once as a JSON-ready document (assess.py) and rendered as Markdown, HTML or JSON."""

from __future__ import annotations

import json

from llmlint.report.costs import Assumptions

FORMATS = ("markdown", "html", "json")


def build_report(paths, config, assumptions: Assumptions, *, price_date=None, use_cache: bool = True):
    """(the assessment document, the files that could not be checked). One analysis serves the findings and the
    cost and latency model; findings are those `llmlint check` reports for the same files, suppressions applied."""
    from llmlint.api import _check, _suppression_facts, build_analysis
    from llmlint.report.assess import assess
    from llmlint.report.prices import PriceTable
    from llmlint.results.suppress import filter_findings
    from llmlint.ruleset.registry import all_rules

    rules = all_rules()
    analysis, problems, _ = build_analysis(paths, config, use_cache=use_cache)
    findings = _check(analysis, config, rules)
    comments, statements = _suppression_facts(analysis, findings)
    findings = sorted(set(filter_findings(findings, comments, statements, rules).kept), key=lambda f: f.sort_key)
    document = assess(analysis, findings, rules, PriceTable(price_date), assumptions, paths)
    if any(idx.path.endswith(".ipynb") for idx in analysis.project.indexes.values()):  # notebook positions by cell
        from llmlint.engine.notebook import place_mentions

        document = place_mentions(document, {analysis.display(i.path): i.path for i in analysis.project.indexes.values()},
                                  findings)
    return document, problems


def render_report(document: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        from llmlint.report.html import render_html

        return render_html(document)
    from llmlint.report.markdown import render_markdown

    return render_markdown(document)
