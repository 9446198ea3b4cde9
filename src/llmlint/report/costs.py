"""The cost model of each model call site: input tokens, output cap, model, price, cost per request.

Input tokens are the statically assembled prompt (prompts.py: the request with the most known text), counted at
`chars_per_token` characters per token, each unknown value (an f-string hole, a parameter) at `hole_tokens`, plus
the documents a retrieval puts into the prompt: k × `chunk_chars`, or the character cap a slice puts on them when
one is written (`"".join(chunks)[:12_000]`). Output is the call's cap on output tokens; with no cap the output cost
is unknown and the cost shown is the input's alone, a lower bound. Nothing unknown is guessed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from llmlint.engine import exprs as E
from llmlint.knowledge.settings import UNKNOWN, number
from llmlint.link.values import Ctx, Func

_BLANKS = re.compile(r"[ \t]{2,}")  # as prompts.estimate_tokens: indentation runs count as one character


@dataclass(frozen=True)
class Assumptions:
    requests_per_month: int = 1_000_000
    chars_per_token: float = 4.0
    chunk_chars: int = 1_000
    hole_tokens: int = 3
    suggested_cap: int = 512  # the output cap LLM102's fix suggests
    suggested_k: int = 5  # the k LLM002's fix suggests

    def tokens(self, chars: float) -> int:
        """Tokens of `chars` characters, rounded up (as prompts.estimate_tokens)."""
        return math.ceil(chars / self.chars_per_token)


@dataclass
class DocumentInput:
    """Documents from one retrieval that reach a call's prompt."""

    retrieval: object  # retrieval.Retrieval
    k: float
    cap_chars: float | None  # a slice's cap on the joined text, when one is written
    capped_unknown: bool = False  # something bounds it (a slice, a budget) but its size is not a constant
    sites: set = field(default_factory=set)  # (path, line) of the retrieval and of the joins that carry them


@dataclass
class CallCost:
    call: object  # inventory.ModelCall
    prompt_chars: int = 0
    holes: int = 0
    prompt_tokens: int = 0
    documents: list = field(default_factory=list)
    document_tokens: int | None = 0  # None: documents reach it but their size is unknown
    output_cap: int | None = None  # None: no cap (or not a number)
    output_cap_known: bool = True  # False: a cap is set but its value is not a constant
    price: object = None  # prices.Price
    price_note: str = ""
    per_request: Decimal | None = None  # dollars; input only when the output is uncapped
    is_lower_bound: bool = False

    @property
    def prompt_found(self) -> bool:
        """Some of the prompt is seen (text or a value unknown until run time); else its size is unknown."""
        return bool(self.prompt_chars or self.holes)

    @property
    def input_tokens(self) -> int | None:
        if self.document_tokens is None or not self.prompt_found:
            return None
        return self.prompt_tokens + self.document_tokens


def prompt_estimate(analysis, call, assumptions: Assumptions) -> tuple[int, int, int]:
    """(known characters, unknown values, tokens) of the request `call` sends with the most known text."""
    from llmlint.knowledge.prompts import requests_of

    best = (0, 0, 0)
    for request in requests_of(analysis, call):
        chars = sum(len(_BLANKS.sub(" ", p)) for part in request.parts for p in part.pieces if isinstance(p, str))
        holes = sum(len(part.holes) for part in request.parts)
        tokens = sum(assumptions.tokens(sum(len(_BLANKS.sub(" ", p)) for p in part.pieces if isinstance(p, str)))
                     + assumptions.hole_tokens * len(part.holes) for part in request.parts)
        if (tokens, chars) > (best[2], best[0]):
            best = (chars, holes, tokens)
    return best


def cost_calls(analysis, prices, assumptions: Assumptions) -> list[CallCost]:
    documents = documents_by_call(analysis)
    found = []
    for call in analysis.model_calls:
        try:
            chars, holes, tokens = prompt_estimate(analysis, call, assumptions)
        except RecursionError:  # a prompt built deeper than the assembler can follow: its size is unknown
            chars, holes, tokens = 0, 0, 0
        entry = CallCost(call, chars, holes, tokens)
        entry.documents = documents.get(_key(call), [])
        entry.document_tokens = document_tokens(entry.documents, assumptions)
        entry.output_cap, entry.output_cap_known = output_cap(analysis, call)
        entry.price, entry.price_note = prices.lookup(call.model, call.model_family.provider if call.model_family else call.family.provider)
        entry.per_request, entry.is_lower_bound = request_cost(prices, entry)
        found.append(entry)
    return found


def document_tokens(documents, assumptions: Assumptions) -> int | None:
    total = 0
    for doc in documents:
        if doc.capped_unknown:
            return None
        chars = doc.k * assumptions.chunk_chars
        if doc.cap_chars is not None:
            chars = min(chars, doc.cap_chars)
        total += assumptions.tokens(chars)
    return total


def request_cost(prices, entry: CallCost, input_tokens: int | None = None, output_tokens: int | None = -1):
    """(dollars per request, is a lower bound): the input at the estimate, the output at its cap; None when the
    price or the input size is unknown."""
    input_tokens = entry.input_tokens if input_tokens is None else input_tokens
    output_tokens = (entry.output_cap if entry.output_cap_known else None) if output_tokens == -1 else output_tokens
    if entry.price is None or input_tokens is None:
        return None, False
    cost = prices.cost(entry.price, input_tokens, output_tokens or 0)
    return cost, output_tokens is None


def output_cap(analysis, call) -> tuple[int | None, bool]:
    """(the cap on output tokens, whether it is known): (None, True) when there is none."""
    setting = call.settings.get("max_tokens")
    if setting is None:  # none seen; with `**kwargs` from elsewhere on the call or client, one may be in there
        return None, not (call.opaque_call or call.opaque_client)
    value = number(analysis.project, setting.expr, setting.ctx)
    if value is UNKNOWN:
        return None, False
    return (int(value), True) if value is not None else (None, True)


def _key(call) -> tuple:
    return (call.module.path, call.call.line, call.call.col)


# -- documents from retrieval ------------------------------------------------------------------------------


def documents_by_call(analysis) -> dict:
    """{(path, line, col) of a model call: [DocumentInput]}: the retrieved documents each call's prompt receives,
    found the way LLM002 follows them (retrieval.documents_source for joins, prompttext for fetched results)."""
    from llmlint.knowledge.prompttext import PromptFlow
    from llmlint.knowledge.retrieval import documents_source, find_retrievals
    from llmlint.rules.retrieval_firehose import (
        _iterable,  # which documents a join goes over, as LLM002 reads it
    )

    project = analysis.project
    retrievals = find_retrievals(project)
    if not retrievals:
        return {}
    flow = PromptFlow(analysis)
    by_site = {(r.module.path, r.site.call.line, r.site.call.col): r for r in retrievals}
    found: dict = {}
    starts = [(r, r.module, r.function, r.site.call) for r in retrievals if not r.configures]
    for idx, fn in project.functions():
        for site in fn.calls:
            call = site.call
            if isinstance(call.func, E.Attr) and call.func.attr == "join" and call.args:
                docs = _iterable(call.args[0])
                source = documents_source(analysis, by_site, Ctx(idx.path, fn.qualname), docs, call.line) if docs is not None else None
                if source is not None:
                    starts.append((source, idx, fn, call))
    for retrieval, idx, fn, start in starts:
        loose = flow.sink(idx.path, fn, start, loose=True)
        if loose is None:
            continue
        strict = flow.sink(idx.path, fn, start)
        cap = None if strict is not None else _slice_cap(analysis, idx, fn)
        for model_call in _calls_of(analysis, loose):
            entries = found.setdefault(_key(model_call), [])
            known = next((d for d in entries if d.retrieval is retrieval), None)
            doc = DocumentInput(retrieval, retrieval.k, cap if cap is not UNKNOWN else None, cap is UNKNOWN)
            if known is None:
                entries.append(doc)
                known = doc
            known.sites |= {(idx.path, start.line), (retrieval.module.path, retrieval.site.call.line)}
            if known is not doc and strict is not None:  # one route takes them in whole: that is what the call can receive
                known.cap_chars, known.capped_unknown = None, False
    return found


def _calls_of(analysis, sink) -> list:
    """The model calls a PromptFlow sink stands for: the call itself, or those the helper it calls reaches."""
    if hasattr(sink, "api"):
        return [sink]
    value = None
    for idx, f in analysis.project.functions():  # the sink may be in a caller the value was returned to
        if any(s is sink for s in f.calls):
            value = analysis.project.resolve(sink.call.func, Ctx(idx.path, f.qualname), sink.call.line)
            break
    if not isinstance(value, Func):
        return []
    node = (value.path, value.qualname)
    graph = analysis.callgraph
    reached = {node} | (set(_descendants(graph, node)) if node in graph else set())
    return [c for c in analysis.model_calls if (c.module.path, c.function.qualname) in reached]


def _descendants(graph, node):
    import networkx as nx

    return nx.descendants(graph, node)


def _slice_cap(analysis, idx, fn):
    """The character cap of the one constant slice (`text[:MAX_CONTEXT_CHARS]`) in `fn`, UNKNOWN when the value is
    bounded some other way or by several slices."""
    ctx = Ctx(idx.path, fn.qualname)
    values = [a.value for a in fn.assigns] + [r for r in fn.returns if r is not None]
    values += [arg for site in fn.calls for arg in site.call.args]
    caps = set()
    for value in values:
        for node in E.walk(value):
            if isinstance(node, E.Subscript) and isinstance(node.index, E.Slice) and node.index.lower is None:
                if node.index.upper is None:
                    continue
                n = number(analysis.project, node.index.upper, ctx)
                caps.add(n if isinstance(n, float) else UNKNOWN)
    return caps.pop() if len(caps) == 1 else UNKNOWN

