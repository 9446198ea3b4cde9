"""unvalidated-output: see rules/LLM105-unvalidated-output.md."""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.knowledge.handling import in_test_module
from llmlint.knowledge.modeloutput import ENVELOPE, JSON_MODE, REGEX, TOOL
from llmlint.link.values import Ctx
from llmlint.results.finding import Location, Related
from llmlint.ruleset.rule import Rule, as_written, place

# Parsers of model text and the exceptions (by last name) that handle their failure, besides Exception/bare.
JSON_ERRORS = frozenset({"ValueError", "JSONDecodeError", "DecodeError", "ValidationError", "OutputParserException"})
PARSERS = {
    "json.loads": JSON_ERRORS, "orjson.loads": JSON_ERRORS, "ujson.loads": JSON_ERRORS, "simplejson.loads": JSON_ERRORS,
    "ast.literal_eval": frozenset({"ValueError", "SyntaxError"}),
    "int": frozenset({"ValueError", "TypeError"}),
    "float": frozenset({"ValueError", "TypeError"}),
    "key": frozenset({"KeyError", "LookupError"}),  # `data["answer"]` on a parsed result
}
SKIP_TAGS = {TOOL, JSON_MODE, ENVELOPE}  # tool arguments, JSON mode, raw API envelopes: not this rule's business
MAX_CALLER_DEPTH = 6


class UnvalidatedOutput(Rule):
    needs = ("callgraph",)

    def check(self, analysis):
        if not analysis.model_calls:
            return
        flow = analysis.output_flow
        tests = {path for path in analysis.project.indexes if in_test_module(analysis.project, path)}
        for idx, fn in analysis.project.functions():
            ctx = Ctx(idx.path, fn.qualname)
            if idx.path in tests or not flow.may_hold_output(ctx):
                continue  # in a test, a parse error is the failure you want to see
            reported = set()  # one finding per model call and function: the first parse that can fail
            for site in sorted(fn.calls, key=lambda s: (s.call.line, s.call.col)):
                call = site.call
                if not call.args or _last_name(call.func) not in ("loads", "literal_eval", "int", "float"):
                    continue
                name = flow.callee_name(call, ctx)
                if name not in PARSERS:
                    continue
                flows = [f for f in flow.flows(call.args[0], ctx, site.stmt_line) if not f.tags & SKIP_TAGS]
                if name in ("int", "float"):
                    flows = [f for f in flows if REGEX not in f.tags]
                origins = {f.origin for f in flows} - reported
                if not origins or self._is_validated(flow, site, ctx):
                    continue
                sources = [flow.source(f) for f in flows if f.origin in origins]
                if not self._is_handled(analysis, idx, fn, site, name):
                    reported |= origins
                    yield self._finding(analysis, idx.path, call, name, sources)
                elif name.endswith("loads") and site.target:
                    found = _unguarded_key(flow, fn, ctx, site)
                    if found is not None:
                        reported |= origins
                        yield self._key_finding(analysis, idx.path, site.target, *found, sources)

    def _is_validated(self, flow, site, ctx) -> bool:
        """The parsed value goes through a schema: `Model(**json.loads(t))`, or `data = json.loads(t)` then
        `Model.model_validate(data)` / `jsonschema.validate(data, schema)`."""
        if flow.in_validator(site.call, ctx):
            return True
        return bool(site.target) and flow.is_validated(site.target, ctx)

    def _is_handled(self, analysis, idx, fn, site, name) -> bool:
        """A try around the parse catches its error, here or around a call on the way from some caller."""
        if _catches(fn, site.tries, name):
            return True
        graph = analysis.callgraph
        start = (idx.path, fn.qualname)
        seen, frontier = {start}, [start]
        for _ in range(MAX_CALLER_DEPTH):
            nxt = []
            for node in frontier:
                for caller in graph.predecessors(node) if node in graph else ():
                    caller_fn = analysis.project.function(Ctx(*caller))
                    for call_site in graph.edges[caller, node]["sites"]:
                        if caller_fn is not None and _catches(caller_fn, call_site.tries, name):
                            return True
                    if caller not in seen:
                        seen.add(caller)
                        nxt.append(caller)
            frontier = nxt
        return False

    def _finding(self, analysis, path, call, name, sources):
        first = _first(sources)
        where = place(analysis, first.module.path, first.call.line, path)
        shown = f"{name}()"
        error = "JSONDecodeError" if name.endswith("loads") else ("ValueError/SyntaxError" if name == "ast.literal_eval" else "ValueError")
        message = (
            f"`{shown}` parses the output of `{as_written(first)}` ({where}) with no error handling or schema: "
            f"one malformed answer raises {error}"
        )
        if name in ("int", "float"):
            fix = f"catch `ValueError` around `{shown}` and fall back or re-ask, or request a typed field through structured outputs"
        else:
            fix = (
                "ask for structured output (`response_format` with a JSON schema, `with_structured_output`) or validate with "
                "`Model.model_validate_json(text)` inside `try/except ValidationError`, and retry once"
            )
        return self.report(analysis.location(path, call), message, fix, related=_related(analysis, sources), api=first.api)

    def _key_finding(self, analysis, path, target, line, key, sources):
        first = _first(sources)
        message = (
            f"`{target}[{key!r}]` assumes the JSON that `{as_written(first)}` returned "
            f"({place(analysis, first.module.path, first.call.line, path)}) has a `{key}` field: if the model drops it, KeyError"
        )
        fix = f"validate the parsed JSON with a pydantic model (`Model.model_validate(data)`), or read it with `{target}.get({key!r})` and handle the missing value"
        return self.report(Location(analysis.display(path), line), message, fix, related=_related(analysis, sources), api=first.api)


def _first(sources):
    return sorted({id(c): c for c in sources if c is not None}.values(), key=lambda c: (c.module.path, c.call.line))[0]


def _related(analysis, sources):
    unique = sorted({id(c): c for c in sources if c is not None}.values(), key=lambda c: (c.module.path, c.call.line))
    return [Related(analysis.location(c.module.path, c.call), f"model output comes from this `{as_written(c)}` call") for c in unique[:3]]


def _unguarded_key(flow, fn, ctx, site):
    """(line, key) of the first `data["key"]` on the parsed result that no try catching KeyError surrounds, when
    nothing checks the key first (`"key" in data`, a schema); else None."""
    target = site.target
    for test in fn.tests:
        for node in E.walk(test):
            if isinstance(node, E.Compare) and any(op in ("In", "NotIn") for op in node.ops):
                if any(_root(c) == target for c in node.comparators):
                    return None
    uses = []
    for other in fn.calls:
        uses += [(other.call.line, key, other.tries) for key in _keys(other.call, target)]
    for assign in fn.assigns:
        tries = tuple(t.id for t in fn.tries if t.body.line <= assign.line <= t.body.end_line)
        uses += [(assign.line, key, tries) for key in _keys(assign.value, target)]
    exits = [e for e in getattr(fn, "exits", ()) if e.kind == "return"]
    if len(exits) == len(fn.returns):
        for value, exit in zip(fn.returns, exits):
            uses += [(exit.line, key, exit.tries) for key in _keys(value, target)]
    for line, key, tries in sorted(uses, key=lambda u: u[0]):
        if line <= site.call.line or _catches(fn, tries, "key"):
            continue
        reaching = flow.reaching(target, ctx, line)
        if any(a.value is site.call or getattr(a.value, "value", None) is site.call for a in reaching):
            return line, key
    return None


def _keys(expr, target):
    return [n.index.value for n in E.walk(expr) if isinstance(n, E.Subscript) and isinstance(n.value, E.Name)
            and n.value.id == target and isinstance(n.index, E.Const) and isinstance(n.index.value, str)]


def _root(expr):
    while isinstance(expr, E.Call) and isinstance(expr.func, E.Attr):
        expr = expr.func.base  # `data.keys()`
    return expr.id if isinstance(expr, E.Name) else None


def _catches(fn, try_ids, parser) -> bool:
    wanted = PARSERS[parser] | {"Exception", "BaseException"}
    for info in fn.tries:
        if info.id not in try_ids:
            continue
        for handler in info.handlers:
            if getattr(handler, "reraises_caught", False):
                continue  # `except ValueError: raise` handles nothing
            if not handler.caught or any(c == "?" or c.rsplit(".", 1)[-1] in wanted for c in handler.caught):
                return True
    return False


def _last_name(func) -> str:
    attr = getattr(func, "attr", None)
    return attr if attr is not None else getattr(func, "id", "")
