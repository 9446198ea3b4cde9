"""unvalidated-output: see rules/LLM105-unvalidated-output.md."""

from __future__ import annotations

from llmlint.finding import Related
from llmlint.handling import in_test_module
from llmlint.outputflow import ENVELOPE, JSON_MODE, REGEX, TOOL
from llmlint.rule import Rule
from llmlint.values import Ctx

# Parsers of model text and the exceptions (by last name) a handler must catch for the parse to count as handled.
PARSERS = {
    "json.loads": "JSONDecodeError", "orjson.loads": "JSONDecodeError", "ujson.loads": "JSONDecodeError",
    "simplejson.loads": "JSONDecodeError", "ast.literal_eval": "SyntaxError", "int": "TypeError", "float": "TypeError",
}
CATCHES_ANY = {"ValueError", "Exception", "BaseException", "JSONDecodeError", "ValidationError", "OutputParserException"}
SKIP_TAGS = {TOOL, JSON_MODE, ENVELOPE}  # tool arguments, JSON mode, raw API envelopes: not this rule's business
MAX_CALLER_DEPTH = 6


class UnvalidatedOutput(Rule):
    needs = ("callgraph",)

    def check(self, analysis):
        if not analysis.model_calls:
            return
        flow = analysis.output_flow
        for idx, fn in analysis.project.functions():
            if in_test_module(analysis.project, idx.path):
                continue  # in a test, a parse error is the failure you want to see
            ctx = Ctx(idx.path, fn.qualname)
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
                if not origins or self._is_validated(flow, site, ctx) or self._is_handled(analysis, idx, fn, site, name):
                    continue
                reported |= origins
                yield self._finding(analysis, idx.path, call, name, [flow.source(f) for f in flows if f.origin in origins])

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
        sources = sorted({id(c): c for c in sources if c is not None}.values(), key=lambda c: (c.module.path, c.call.line))
        first = sources[0]
        where = f"{analysis.display(first.module.path)}:{first.call.line}"
        shown = f"{name}()"
        error = "JSONDecodeError" if name.endswith("loads") else ("ValueError/SyntaxError" if name == "ast.literal_eval" else "ValueError")
        message = (
            f"`{shown}` parses the output of `{first.api}` ({where}) with no error handling and no schema: "
            f"one malformed answer raises {error} and fails the request"
        )
        if name in ("int", "float"):
            fix = f"catch `ValueError` around `{shown}` and fall back or re-ask, or request a typed field through structured outputs"
        else:
            fix = (
                "ask for structured output (`response_format` with a JSON schema, `client.beta.chat.completions.parse`, "
                "`with_structured_output`) or validate with a pydantic model (`Model.model_validate_json(text)`) inside "
                "`try/except ValidationError`, and retry once with the validation error"
            )
        related = [Related(analysis.location(c.module.path, c.call), f"model output comes from this `{c.api}` call") for c in sources[:3]]
        return self.report(analysis.location(path, call), message, fix, related=related)


def _catches(fn, try_ids, parser) -> bool:
    wanted = CATCHES_ANY | {PARSERS[parser]}
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
