"""single-model: see rules/LLM005-single-model.md."""

from __future__ import annotations

import os
import re
from collections import defaultdict

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE, Span
from llmlint.knowledge.modeltiers import CHEAP, EXPENSIVE, normalise, tier_table
from llmlint.knowledge.taskkind import classify_call
from llmlint.results.finding import Related, Severity
from llmlint.ruleset.rule import Rule

# Routing, cascades and fallbacks: a project with any of these already chooses between models.
_ROUTER_IMPORTS = re.compile(r"^litellm\.(?:Router|router)\b|(?:RouterChain|MultiPromptChain|RouterQueryEngine|RouterRetriever"
                             r"|RunnableBranch|FallbackModel)$|^(?:semantic_router|routellm|notdiamond|martian)\b")
_ROUTER_METHODS = ("with_fallbacks", "configurable_alternatives")
_FALLBACK_ARGS = ("fallbacks", "fallback_models", "fallback_model", "model_list", "context_window_fallbacks")
_CHOOSER = re.compile(r"(?i)^_*(?:(?:route|select|choose|pick)_?(?:the_?|a_?)?(?:model|llm)\w*|(?:model|llm)_(?:for|router)\w*"
                      r"|\w*cascade\w*|\w*(?:model|llm)_?fallback\w*|\w*(?:model|llm)_?router\w*)$")


class SingleModel(Rule):
    needs = ("callgraph", "prompts", "output_flow")

    def check(self, analysis):
        table = tier_table(tuple(self.options["expensive-models"]), tuple(self.options["cheap-models"]))
        max_label = float(self.options["max-label-tokens"])
        kinds = {}
        cheap_functions = {(c.module.path, c.function.qualname) for c in analysis.model_calls if c.model and table.tier(c.model) == CHEAP}
        for call in analysis.model_calls:
            kinds[id(call)] = kind = classify_call(analysis, call, max_label)
            if call.model and table.tier(call.model) == EXPENSIVE and kind.is_simple and not _in_cascade(analysis, call, cheap_functions):
                yield self._flagship_finding(analysis, table, call, kind)
        yield from self._single_model_findings(analysis, table, kinds)

    def _flagship_finding(self, analysis, table, call, kind):
        cheap = table.alternative(call.model) or "a small model"
        message = f"flagship model `{call.model}` used for a simple task: {'; '.join(kind.simple[:2])}"
        fix = f"route this call to `{cheap}` (or to rules) and escalate to `{call.model}` only when its answer is not an expected label"
        related = []
        setting = call.model_setting
        if setting is not None and (setting.ctx.path, setting.line) != (call.module.path, call.call.line):
            related.append(Related(analysis.location(setting.ctx.path, _line_node(setting.line)), f"model `{call.model}` chosen here"))
        return self.report(analysis.location(call.module.path, call.call), message, fix, related=related)

    def _single_model_findings(self, analysis, table, kinds):
        by_root = defaultdict(list)
        for call in analysis.model_calls:
            by_root[analysis.project.project_root(call.module.path)].append(call)
        routed = _roots_with_routing(analysis)
        for root, calls in sorted(by_root.items()):
            if len(calls) < int(self.options["min-call-sites"]) or root in routed:
                continue
            models = {normalise(c.model) if c.model else None for c in calls}
            if len(models) != 1 or None in models:
                continue
            simple = [c for c in calls if kinds[id(c)].is_simple]
            open_ended = [c for c in calls if kinds[id(c)].is_open]
            if not simple or not open_ended:
                continue
            yield self._project_finding(analysis, table, calls, simple[0], open_ended[0], kinds)

    def _project_finding(self, analysis, table, calls, simple, open_ended, kinds):
        calls = sorted(calls, key=lambda c: (analysis.display(c.module.path), c.call.line))
        first, model = calls[0], calls[0].model
        root = analysis.project.project_root(first.module.path)
        where = lambda c: f"{_relative(c.module.path, root)}:{c.call.line}"  # noqa: E731
        message = (f"all {len(calls)} model calls in this project use `{model}`, from a simple task ({where(simple)}) to "
                   f"open-ended generation ({where(open_ended)}), with no routing or fallback")
        cheap = table.alternative(model) or "a cheaper model"
        if table.tier(model) != EXPENSIVE:
            cheap = "the cheap model"
        fix = (f"send simple requests to {_quote(cheap)} or to rules and escalate only when needed (Trust Cascade); choose the "
               "model in one routing function or a litellm Router")
        related = [Related(analysis.location(c.module.path, c.call), f"also `{model}`") for c in calls[1:]]
        return self.report(analysis.location(first.module.path, first.call), message, fix, related=related, severity=Severity.NOTE)


def _relative(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/") if root else path


def _in_cascade(analysis, call, cheap_functions) -> bool:
    """A cheap model is called in the same function, or one call away (caller, callee, or a caller's other callee)."""
    node, graph = (call.module.path, call.function.qualname), analysis.callgraph
    near = {node}
    if node in graph:
        callers = set(graph.predecessors(node))
        near |= callers | set(graph.successors(node))
        for caller in callers:
            near |= set(graph.successors(caller))
    return bool(near & cheap_functions)


def _quote(name: str) -> str:
    return name if name.startswith(("a ", "the ")) else f"`{name}`"


def _line_node(line: int) -> Span:
    return Span(line, 1, line, 1)


def _roots_with_routing(analysis) -> set:
    """Project roots where some code routes between models, falls back or cascades."""
    project, roots = analysis.project, set()
    for idx, fn in project.functions():
        root = project.project_root(idx.path)
        if root in roots:
            continue
        imports = list(idx.imports.values()) if fn.qualname == MODULE_SCOPE else list(fn.imports.values())
        if (fn.qualname != MODULE_SCOPE and _CHOOSER.match(fn.name)) or any(
            isinstance(name, str) and _ROUTER_IMPORTS.search(name) for name in imports
        ):
            roots.add(root)
            continue
        for site in fn.calls:
            call = site.call
            method = call.func.attr if isinstance(call.func, E.Attr) else None
            if call.has_kwarg(*_FALLBACK_ARGS) or method in _ROUTER_METHODS:
                roots.add(root)
                break
    return roots
