"""What kind of task a model call performs: a simple one (a label, yes/no, a score, one word) or open-ended generation.

Used by single-model (LLM005) to find flagship models spent on classification and projects whose calls differ in
complexity. The signals: the text the prompt asks for, the output cap, and what the result is compared with.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.knowledge.settings import number
from llmlint.link.values import Ctx, Lit

# The prompt asks for a label, a category, yes/no, a sentiment, a score or one word: (pattern, what it asks for).
_LABELS = tuple((re.compile(p, re.I), what) for p, what in (
    (r"\b(?:one|single|1)[- ](?:word|token|letter|digit)\b", "a one-word answer"),
    (r"\byes\s*(?:or|/)\s*no\b|\btrue\s*(?:or|/)\s*false\b", "a yes/no answer"),
    (r"\bsentiment\b[^.]{0,80}\b(?:positive|negative)\b|\b(?:positive|negative)\b[^.]{0,80}\bsentiment\b", "a sentiment label"),
    (r"\b(?:one|single|1)[- ](?:label|category|class|intent)\b"
     r"|\bone\s+of\s*(?:the\s+following)?\s*(?:labels|categories|classes|options|intents)?\s*:"
     r"|\b(?:answer|respond|reply|return|output)\b[^.\n]{0,30}\b(?:only|just)\b[^.\n]{0,20}\b(?:the|a|one)\s+(?:label|category|class|intent)\b",
     "a single label"),
    (r"\b(?:score|rate)\b[^.]{0,60}\b(?:from|scale\s+of|between)\s+[01]\s*(?:to|-|and)\s*(?:5|10|100)\b"
     r"|\b(?:answer|respond|reply|return|output)\b[^.\n]{0,30}\b(?:only|just)\b[^.\n]{0,20}\b(?:the|a|one)\s+(?:score|number|rating)\b",
     "a score"),
    (r"\b(?:classify|categori[sz]e)\b", "a classification"),
))
_WEAK_LABEL = "a classification"
_ASSISTANT = re.compile(r"(?i)\byou\s+are\s+(?:a|an|the)?\s*(?:[\w-]+\s+){0,3}"
                        r"(?:assistant|agent|bot|chatbot|companion|tutor|concierge|advisor)\b")
# ... unless it also asks for open-ended text.
_OPEN = re.compile(
    r"(?i)\b(draft|compose|explain|summari[sz]e|translate|rewrite|describe|elaborate|justify|brainstorm|outline)\b"
    r"|\b(?:explanation|reasoning|rationale|justification)s?\b"
    r"|\b(write)\s+(?:a|an|the)\b|\b(answer)\s+(?:the|their|user'?s?|customer'?s?)\s+questions?\b"
    r"|\bstep[- ]by[- ]step\b|\bin detail\b|\bparagraphs?\b|\bessays?\b"
)
_NEGATED = re.compile(r"(?i)\b(?:no|not|don'?t|do\s+not|without|never|nor|skip)\b[^.\n]*$")  # "Do not add explanations"
MAX_SIMPLE_PROMPT_CHARS = 1500  # a label prompt longer than this is doing more than labelling (monolithic-prompt)
WEAK_LABEL_CHARS = 400  # "classify" alone marks a simple task only in a prompt this short
_OPEN_CHAINS = ("RetrievalQA", "ConversationalRetrievalChain", "RetrievalQAWithSourcesChain", "AgentExecutor", "ConversationChain")
OPEN_PROMPT_CHARS = 1500
OPEN_CAP_TOKENS = 500
_SHORT_LABEL = re.compile(r"^[\w\- /]{1,24}$")
# Functions that only check that a model answers (a one-token "ping"): not a task.
_HEALTH_FUNCTION = re.compile(r"(?i)(?:^|_)(?:health|healthz|healthcheck|ping|warm_?up|probe|smoke|readiness|liveness)(?:_|$)"
                              r"|^_*(?:check|validate|test|verify)_(?:api|key|connection|model|access|credentials)")


@dataclass
class TaskKind:
    simple: list = field(default_factory=list)  # reasons the call is a simple task, for messages
    open: list = field(default_factory=list)  # reasons it is open-ended generation (what it asks for)
    large_cap: str | None = None  # "up to 1500 output tokens": open-ended unless the task is simple
    prompt_chars: int = 0

    @property
    def is_simple(self) -> bool:
        return bool(self.simple) and not self.open

    @property
    def is_open(self) -> bool:
        return not self.is_simple and bool(self.open or self.large_cap)

    @property
    def open_reason(self) -> str:
        return (self.open or [self.large_cap])[0]


def classify_call(analysis, call, max_label_tokens: int) -> TaskKind:
    """The simple-task and open-ended signals of one ModelCall."""
    kind = TaskKind()
    if _HEALTH_FUNCTION.search(call.function.name):
        return kind
    texts = request_texts(analysis, call)
    kind.prompt_chars = max((len(t) for t, _ in texts), default=0)
    label = next((what for text, _ in texts if len(text) <= MAX_SIMPLE_PROMPT_CHARS for pattern, what in _LABELS
                  if pattern.search(text) and (what != _WEAK_LABEL or len(text) <= WEAK_LABEL_CHARS)), None)
    cap = _cap(analysis, call)
    is_ping = bool(texts) and all(known and len(text) <= 40 for text, known in texts)
    if cap is not None and cap <= max_label_tokens and not is_ping:
        kind.simple.append(f"the output is capped at {cap:g} tokens")
    compared = compared_with_labels(analysis, call)
    if compared:
        kind.simple.append(f"the result is compared with {compared}")
    if label and (kind.simple or not any(_ASSISTANT.search(text) for text, _ in texts)):
        kind.simple.insert(0, f"the prompt asks for {label}")  # an assistant's "answer yes or no first" is not a label task
    opened = next((m for text, _ in texts for m in _OPEN.finditer(text) if not _negated(text, m.start())), None)
    if opened:
        verb = next((g for g in opened.groups() if g), None)
        kind.open.append(f"the prompt asks to {verb.lower()}" if verb else "the prompt asks for a long, detailed answer")
    if kind.prompt_chars >= OPEN_PROMPT_CHARS:
        kind.open.append(f"a {kind.prompt_chars:,}-character prompt")
    if cap is not None and cap >= OPEN_CAP_TOKENS:
        kind.large_cap = f"up to {cap:g} output tokens"
    if call.call.has_kwarg("tools", "functions", "tool_choice"):
        kind.open.append("tool calling")
    if call.api.startswith(("llama_index.query_engine", "llama_index.chat_engine")) or _is_open_chain(call):
        kind.open.append("a retrieval chain, agent or query engine")
    return kind


def _negated(text: str, at: int) -> bool:
    return bool(_NEGATED.search(text[max(0, at - 30):at]))


def _is_open_chain(call) -> bool:
    client = call.client
    return call.api.startswith("langchain.chain") and client is not None and not client.parts and client.cls.endswith(_OPEN_CHAINS)


def _cap(analysis, call):
    setting = call.settings.get("max_tokens")
    if setting is None:
        return None
    value = number(analysis.project, setting.expr, setting.ctx)
    return value if isinstance(value, float) and value > 0 else None


# --- what the result is compared with -------------------------------------------------------------------------


def compared_with_labels(analysis, call) -> str | None:
    """`label in LABELS` / `answer == "yes"` / `answer.startswith("yes")` on the call's text result, in its own
    function or a direct caller (model-output flow follows the value there): a description of the labels."""
    origin = (call.module.path, call.call.line, call.call.col)
    for path, fn in _nearby_functions(analysis, call):
        for test in _label_tests(analysis, path, fn):
            if origin in test.origins(analysis):
                return test.labels
    return None


_LABEL_TESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # analysis -> {(path, qualname): [_LabelTest]}


class _LabelTest:
    """A label test in a function, and (once asked) the model calls whose output reaches the value it tests."""

    __slots__ = ("tested", "ctx", "labels", "_origins")

    def __init__(self, tested, ctx: Ctx, labels: str):
        self.tested, self.ctx, self.labels, self._origins = tested, ctx, labels, None

    def origins(self, analysis) -> frozenset:
        if self._origins is None:
            self._origins = frozenset(f.origin for f in analysis.output_flow.flows(self.tested, self.ctx, None, callers=False))
        return self._origins


def _label_tests(analysis, path: str, fn) -> list:
    """The label tests of `fn`, in the order its conditions, returns, assignments and calls hold them: found once per
    function, not once per model call in it (10,000 calls in one function would walk it 10,000 times)."""
    found = _LABEL_TESTS.setdefault(analysis, {})
    key = (path, fn.qualname)
    tests = found.get(key)
    if tests is None:
        ctx = Ctx(path, fn.qualname)
        roots = list(fn.tests) + [r for r in fn.returns if r is not None] + [a.value for a in fn.assigns]
        roots += [site.call for site in fn.calls]
        tests = found[key] = []
        for root in roots:
            for node in _walk_with_tests(root):
                test = _label_test(analysis, node, ctx)
                if test:
                    tests.append(_LabelTest(test[0], ctx, test[1]))
    return tests


def _nearby_functions(analysis, call):
    yield call.module.path, call.function
    node, graph = (call.module.path, call.function.qualname), analysis.callgraph
    for caller in (graph.predecessors(node) if node in graph else ()):
        fn = analysis.project.function(Ctx(*caller))
        if fn is not None:
            yield caller[0], fn


def _walk_with_tests(expr):
    for node in E.walk(expr):
        yield node
        if isinstance(node, E.IfExp) and getattr(node, "test", None) is not None:
            yield from _walk_with_tests(node.test)


def _label_test(analysis, node, ctx):
    """(the expression tested, a description of the labels) when `node` tests a value against fixed labels."""
    if isinstance(node, E.Compare) and len(node.ops) == 1:
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if op in ("In", "NotIn"):
            labels = _string_set(analysis, right, ctx)
            if labels and len(labels) >= 2:
                return left, _show_labels(right, labels)
        if op in ("Equal", "NotEqual"):
            for mine, other in ((left, right), (right, left)):
                text = E.literal_str(other)
                if text and _SHORT_LABEL.match(text.strip()) and E.literal_str(mine) is None:
                    return mine, f"“{text}”"
    if isinstance(node, E.Call) and isinstance(node.func, E.Attr) and node.func.attr in ("startswith", "endswith"):
        text = E.literal_str(node.arg(0))
        if text and _SHORT_LABEL.match(text.strip()):
            return node.func.base, f"“{text}”"
    return None


def _string_set(analysis, expr, ctx, depth: int = 0):
    if depth > 4:
        return None
    if isinstance(expr, E.Seq):
        values = [E.literal_str(e) for e in expr.elts]
        return values if values and all(v is not None and _SHORT_LABEL.match(v.strip()) for v in values) else None
    if isinstance(expr, E.Call) and E.dotted(expr.func) in ("set", "frozenset", "tuple", "list") and expr.args:
        return _string_set(analysis, expr.args[0], ctx, depth + 1)
    if isinstance(expr, (E.Name, E.Attr)):
        value = analysis.project.resolve(expr, ctx)
        if isinstance(value, Lit):
            return _string_set(analysis, value.expr, value.ctx, depth + 1)
        if value is None and isinstance(expr, E.Name):  # LABELS = frozenset({...}): builtins do not resolve
            assign = _plain_assign(analysis, expr.id, ctx)
            if assign is not None:
                return _string_set(analysis, assign[0], assign[1], depth + 1)
    return None


def _plain_assign(analysis, name: str, ctx: Ctx):
    """The value last assigned to `name` in the function, else at module level, when assigned once there."""
    idx = analysis.project.indexes.get(ctx.path)
    for scope in (ctx.function, MODULE_SCOPE):
        fn = idx.functions.get(scope) if idx else None
        assigns = [a for a in fn.assigns if a.target == name] if fn else []
        if len(assigns) == 1 and assigns[0].op == "=":
            return assigns[0].value, Ctx(ctx.path, scope)
        if assigns:
            return None
    return None


def _show_labels(expr, labels) -> str:
    name = E.dotted(expr)
    shown = ", ".join(labels[:4]) + (", ..." if len(labels) > 4 else "")
    return f"`{name}` ({shown})" if name else f"the labels {shown}"


# --- prompt text ---------------------------------------------------------------------------------------------


def request_texts(analysis, call) -> list[tuple[str, bool]]:
    """(the known text, whether all of it is known) of each request the call sends (prompts.requests_of)."""
    from llmlint.knowledge.prompts import requests_of

    out = []
    for request in requests_of(analysis, call):
        parts = list(request.parts)
        text = "\n".join("".join(p for p in part.pieces if isinstance(p, str)) for part in parts)
        out.append((text, bool(parts) and not any(part.holes for part in parts)))
    return out
