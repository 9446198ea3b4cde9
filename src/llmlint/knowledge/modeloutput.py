"""Model-output flow: where the text a model returned goes, and whether it was validated on the way.

A query of the value-flow core (`flow/`): a rule asks `flows(expr, ctx, line)` for the argument of a sink (`eval`,
`json.loads`, ...) and the answer is the set of model calls whose output can reach it. `ModelOutput` says what the
core's walk does not know: model calls are the sources; output passes through the content fields of responses
(`.choices[0].message.content`, `["body"].read()`, not `.usage`), string methods and templates, parsers
(`json.loads`, `ast.literal_eval`, regexes, LangChain output parsers) and the project's functions and classes.

A value stops being "model output" when it passes a validator (pydantic `model_validate`/`Model(**data)`,
`TypeAdapter`, `jsonschema.validate`), an allow-list check (`if cmd in ALLOWED`, `re.fullmatch(...)`,
`is_safe(x)`), or comes from a call whose output the SDK already parses into a schema (structured outputs,
`beta.chat.completions.parse`, `.parsed`, `with_structured_output`, a `PydanticOutputParser`). Functions and
calls the analysis cannot see are assumed not to pass model output on: when unsure, not model output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.flow.core import Flow, Query, ValueFlow
from llmlint.flow.reaching import reaching
from llmlint.link.values import Ctx, Ext, Func, Klass, Obj

# Tags a flow collects on its way.
TOOL = "tool"  # tool-call arguments the model wrote (`tool_calls[0].function.arguments`, a tool_use block's `.input`)
PARSED = "parsed"  # passed through a parser (json.loads, ast.literal_eval, yaml)
REGEX = "regex"  # extracted with a regular expression
JSON_MODE = "json-mode"  # the call asked for JSON output (response_format json_object, format="json", a JSON mime type)
ENVELOPE = "envelope"  # the raw HTTP/Bedrock response body, before the generated text was taken out of it

# Attributes and keys of a response that are not generated text.
METADATA = frozenset({
    "usage", "id", "model", "created", "object", "finish_reason", "stop_reason", "stop_sequence", "role", "index",
    "type", "system_fingerprint", "usage_metadata", "response_metadata", "status_code", "headers", "status", "ok",
    "prompt_feedback", "safety_ratings", "logprobs", "token_count", "total_tokens", "prompt_tokens",
    "completion_tokens", "input_tokens", "output_tokens", "elapsed", "url", "encoding", "name", "source_nodes",
    "source_documents", "metadata", "citations", "refusal", "reason", "ResponseMetadata", "metrics",
})
# Keys of a chain's result dict that echo the request rather than the model's answer (`chat_history` is not one:
# with a memory it holds the model's earlier answers too).
REQUEST_KEYS = frozenset({"input", "query", "question", "context", "intermediate_steps", "documents"})
TOOL_FIELDS = frozenset({"arguments", "tool_calls", "function_call", "input", "args", "tool_call"})
VALIDATED_FIELDS = frozenset({"parsed", "output_parsed", "parsed_arguments"})
CONTENT_KEYS = frozenset({
    "choices", "content", "text", "message", "output", "outputText", "completion", "generation", "generations",
    "response", "results", "candidates", "parts", "generated_text", "output_text", "answer", "result",
})
# Methods that answer a yes/no or a number about a string: their result carries no model text.
SCALAR_METHODS = frozenset({
    "startswith", "endswith", "count", "find", "rfind", "index", "rindex", "isdigit", "isnumeric", "isdecimal",
    "isalpha", "isalnum", "isspace", "isupper", "islower", "isidentifier", "istitle", "isascii", "__len__",
})
# Methods of an SDK's response or run result that serialise it: the SDK writes that JSON, so parsing it cannot fail on
# what the model wrote (`json.loads(result.all_messages_json())` of a PydanticAI run, `response.model_dump_json()`).
SERIALISER_METHODS = frozenset({"model_dump_json", "to_json", "all_messages_json", "new_messages_json"})
TEMPLATE_METHODS = frozenset({"format", "format_map", "join", "replace", "substitute", "safe_substitute"})
VALIDATOR_METHODS = frozenset({
    "model_validate", "model_validate_json", "model_validate_strings", "parse_obj", "parse_raw", "parse_obj_as",
    "validate_python", "validate_json", "validate_strings",
})
CHECK_WORDS = ("valid", "safe", "allow", "check", "verify", "sanitiz", "sanitis", "permit", "whitelist")
NORMALISERS = frozenset({"strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title", "removeprefix", "removesuffix"})

# External callables whose result carries their (model-text) argument on, with the tag they add.
PASS_THROUGH = {
    "json.loads": PARSED, "orjson.loads": PARSED, "ujson.loads": PARSED, "simplejson.loads": PARSED,
    "ast.literal_eval": PARSED, "yaml.safe_load": PARSED, "yaml.load": PARSED, "yaml.full_load": PARSED,
    "json_repair.loads": PARSED, "json_repair.repair_json": None,
    "textwrap.dedent": None, "textwrap.indent": None, "inspect.cleandoc": None, "shlex.split": None,
    "markdown.markdown": None, "markdown2.markdown": None, "mistune.html": None, "html.unescape": None,
    "sqlalchemy.text": None, "sqlalchemy.sql.text": None, "sqlalchemy.sql.expression.text": None,
    "base64.b64decode": None, "codecs.decode": None,
}
REGEX_FUNCTIONS = frozenset({"search", "match", "fullmatch", "findall", "finditer", "split", "sub"})
BUILTIN_PASS = frozenset({"str", "repr", "list", "tuple", "dict", "set", "sorted", "reversed", "bytes", "bytearray", "next", "iter", "format", "enumerate", "zip", "filter"})
STRUCTURED_PARSERS = ("PydanticOutputParser", "PydanticToolsParser", "OutputFixingParser", "RetryOutputParser")
JSON_PARSERS = ("JsonOutputParser", "SimpleJsonOutputParser", "JsonOutputToolsParser", "JsonOutputKeyToolsParser", "XMLOutputParser")


@dataclass
class _FnFacts:
    checked: set  # dotted names compared against an allow-list or passed to a check
    validated: set  # dotted names passed to a validator
    in_validator: set  # (line, col) of calls nested in a validator's arguments


class ModelOutput(Query):
    """The value-flow query for model output: sources are the project's model calls (none when the SDK validates the
    output against a schema), barriers are validators and allow-list checks."""

    def __init__(self, analysis):
        self.analysis = analysis
        self.project = analysis.project
        self.calls = analysis.model_call_at
        self._sources: dict = {}  # model-call key -> frozenset of tags, or None when the output is validated
        self._facts: dict = {}

    def source(self, walk, expr, ctx):
        key = (ctx.path, expr.line, expr.col) if isinstance(expr, E.Call) else None
        if key not in self.calls:
            return None
        if key not in self._sources:
            self._sources[key] = _classify_source(self.project, self.calls[key])
        tags = self._sources[key]
        return frozenset() if tags is None else frozenset({Flow(key, tags)})

    def is_barrier(self, walk, name, ctx):
        facts = self.facts(ctx)
        return name in facts.validated or name in facts.checked

    def checks(self, walk, test, value, ctx):
        """`test` checks `value` against an allow-list (`x in ALLOWED`, `re.fullmatch(p, x)`, `x.isdigit()`)."""
        target = E.dotted(_strip_normalisers(value))
        return target is not None and target in _checked_names(test)

    def follows_caller(self, walk, caller):
        return caller in self.downstream

    @cached_property
    def downstream(self) -> set:
        """Functions that can hold model output to pass on as an argument: those from which a model call can be
        reached (model output returns to them) and everything they call, transitively."""
        from llmlint.link.callgraph import reachable_from

        return reachable_from(self.analysis.callgraph, self.analysis.reaches_model)

    def through_field(self, flows, key, subscript, index=None):
        if not flows or key is None:
            return set(flows)
        if key in METADATA or key in VALIDATED_FIELDS or (subscript and key in REQUEST_KEYS):
            return set()
        out = set()
        for flow in flows:
            if key in TOOL_FIELDS and not (subscript and key == "input"):
                flow = flow.tagged(TOOL)
            if subscript and key in CONTENT_KEYS:  # a key of the parsed body; `.text` of an HTTP response is the body
                flow = flow.without(ENVELOPE)
            out.add(flow)
        return out

    def through_call(self, walk, call, ctx, line, depth):
        func = call.func
        if isinstance(func, E.Attr) and func.attr in VALIDATOR_METHODS:
            return set()
        if isinstance(func, E.Attr):
            base = walk.taint(func.base, ctx, line, depth)
            if base:
                if func.attr in SCALAR_METHODS or func.attr in SERIALISER_METHODS:
                    return set()
                if func.attr == "get" and call.args:
                    key = call.args[0].value if isinstance(call.args[0], E.Const) and isinstance(call.args[0].value, str) else None
                    return self.through_field(base, key, subscript=True)
                return set(base)
            if func.attr in TEMPLATE_METHODS and _is_text(func.base):
                return walk.union(list(call.args) + [v for _, v in call.kwargs], ctx, line, depth)
        callee = walk.callee(call, ctx)
        if isinstance(callee, Ext):
            name = callee.name
            if name in PASS_THROUGH:
                return {f.tagged(PASS_THROUGH[name]) for f in walk.taint(call.arg(0), ctx, line, depth)}
            root, _, last = name.rpartition(".")
            if root in ("re", "regex") and last in REGEX_FUNCTIONS:
                text = call.arg(2 if last == "sub" else 1, "string")
                return {f.tagged(REGEX) for f in walk.taint(text, ctx, line, depth)}
            if name in BUILTIN_PASS:
                return walk.union(call.args, ctx, line, depth)
            return set()
        if isinstance(callee, Obj):
            return self._object_call(walk, call, callee, ctx, line, depth)
        if isinstance(callee, Func):
            return walk.apply(call, callee, ctx, line, depth)
        if isinstance(callee, Klass):
            if _is_pydantic(self.project, callee):
                return set()
            return walk.union(list(call.args) + [v for _, v in call.kwargs], ctx, line, depth)
        return set()

    def _object_call(self, walk, call, obj, ctx, line, depth):
        """A method of an external object: compiled regexes and LangChain output parsers pass text on."""
        method = obj.path.rsplit(".", 1)[-1].removesuffix("()")
        cls = obj.cls.rsplit(".", 1)[-1]
        if obj.cls in ("re.compile", "regex.compile") and method in REGEX_FUNCTIONS:
            return {f.tagged(REGEX) for f in walk.taint(call.arg(1 if method == "sub" else 0, "string"), ctx, line, depth)}
        if method in ("parse", "invoke", "parse_result") and obj.cls.startswith("langchain"):
            if cls.endswith(STRUCTURED_PARSERS):
                return set()
            if cls.endswith(JSON_PARSERS) or cls.endswith("StrOutputParser"):
                return {f.tagged(PARSED if "Json" in cls else None) for f in walk.taint(call.arg(0), ctx, line, depth)}
        return set()

    # validators and checks, per function
    def facts(self, ctx: Ctx) -> _FnFacts:
        key = (ctx.path, ctx.function)
        if key not in self._facts:
            self._facts[key] = self._build_facts(ctx)
        return self._facts[key]

    def _build_facts(self, ctx) -> _FnFacts:
        fn = self.project.function(ctx)
        facts = _FnFacts(set(), set(), set())
        if fn is None:
            return facts
        for test in fn.tests:
            facts.checked |= _checked_names(test)
        any_validator = False
        for site in fn.calls:
            validated = self._validated_arg(site.call, ctx)
            if validated is None:
                continue
            any_validator = True
            name = E.dotted(validated)
            if name:
                facts.validated.add(name)
            for inner in E.walk(validated):
                if isinstance(inner, E.Call):
                    facts.in_validator.add((inner.line, inner.col))
        # `for item in data["items"]: Item(**item)` and `[Item(**d) for d in data]` validate `data` too
        for name in list(facts.validated):
            for assign in fn.assigns:
                if assign.target == name and assign.op == "for":
                    facts.validated.update(filter(None, (_root_name(e) for e in assign.value.children)))
        for expr in _function_exprs(fn) if any_validator else ():
            for node in E.walk(expr):
                if isinstance(node, E.Comp) and any(
                    isinstance(inner, E.Call) and self._validated_arg(inner, ctx) is not None for inner in E.walk(node.elt)
                ):
                    facts.validated.update(filter(None, (_root_name(e) for e in node.iters)))
        return facts

    def _validated_arg(self, call: E.Call, ctx):
        """The argument a validator call checks, or None when `call` is not a validator."""
        func = call.func
        if isinstance(func, E.Attr) and func.attr in VALIDATOR_METHODS:
            return call.arg(1 if func.attr == "parse_obj_as" else 0, "obj", "json_data", "data", "b")
        if isinstance(func, E.Attr) and func.attr in ("validate", "iter_errors", "is_valid"):
            value = self.project.resolve(func.base, ctx, call.line)
            if isinstance(value, (Obj, Ext)) and getattr(value, "cls", getattr(value, "name", "")).startswith(("jsonschema", "fastjsonschema")):
                return call.arg(0, "instance")
            return None
        if isinstance(func, (E.Name, E.Attr)) and (E.dotted(func) or "").rsplit(".", 1)[-1] in ("validate", "parse_obj_as"):
            value = self.project.resolve(func, ctx, call.line)
            if isinstance(value, Ext) and value.name in ("jsonschema.validate", "pydantic.parse_obj_as"):
                return call.arg(1 if value.name.endswith("parse_obj_as") else 0, "instance", "obj")
            return None
        stars = [v for k, v in call.kwargs if k is None]
        last = (E.dotted(func) or "").rsplit(".", 1)[-1]
        if (stars or len(call.args) == 1) and last[:1].isupper():  # `Model(**data)`, `Model(data)`: classes are CamelCase
            value = self.project.resolve(func, ctx, call.line)
            if isinstance(value, Klass) and _is_pydantic(self.project, value):
                return stars[0] if stars else call.args[0]
        return None



class OutputFlow:
    """Model-output facts of one Analysis (build through `Analysis.output_flow`): the value-flow walk configured with
    `ModelOutput`."""

    def __init__(self, analysis):
        self.analysis = analysis
        self.project = analysis.project
        self.calls = analysis.model_call_at
        self.query = ModelOutput(analysis)
        self.walk = ValueFlow(analysis, self.query, analysis.flow_tables)

    def flows(self, expr, ctx: Ctx, line: int | None = None, callers: bool = True) -> frozenset:
        """The model-output flows reaching `expr` (evaluated before `line` in `ctx`). With `callers`, a parameter
        of the function that carries `expr` is followed back to the arguments the project's call sites pass."""
        if not self.calls:
            return frozenset()
        return self.walk.flows(expr, ctx, line, callers)

    def may_hold_output(self, ctx: Ctx) -> bool:
        """Can model output reach an expression of this function at all? Only through a model call it reaches
        (returns), an argument from a function that holds some, `self.x` set by a method that does, or globals
        of its module: a cheap filter before `flows`."""
        if not self.calls:
            return False
        downstream = self.query.downstream
        if (ctx.path, ctx.function) in downstream or (ctx.path, MODULE_SCOPE) in downstream:
            return True
        fn = self.project.function(ctx)
        while fn is not None and fn.parent:
            if (ctx.path, fn.parent) in downstream:
                return True
            fn = self.project.function(Ctx(ctx.path, fn.parent))
        return fn is not None and fn.cls is not None and fn.cls in self._classes_downstream.get(ctx.path, ())

    @cached_property
    def _classes_downstream(self) -> dict:
        """{path: qualnames of classes with a method in `downstream`}."""
        found: dict = {}
        for path, qualname in self.query.downstream:
            fn = self.project.function(Ctx(path, qualname))
            if fn is not None and fn.cls:
                found.setdefault(path, set()).add(fn.cls)
        return found

    def source(self, flow: Flow):
        """The ModelCall a flow starts at."""
        return self.calls.get(flow.origin)

    def returns_model_output(self, func: Func) -> frozenset:
        """Flows a project function returns (its own model calls' output and its callees')."""
        return frozenset(f for f in self.walk.summary(func) if not f.is_param)

    def is_validated(self, name: str, ctx: Ctx) -> bool:
        return self.query.is_barrier(self.walk, name, ctx)

    def reaching(self, name: str, ctx: Ctx, line: int | None) -> list:
        """The bindings (Assigns) of `name` that may reach a use before `line`."""
        return reaching(self.walk.bindings(ctx).get(name, ()), line)[0]

    def in_validator(self, call: E.Call, ctx: Ctx) -> bool:
        return (call.line, call.col) in self.query.facts(ctx).in_validator

    def callee(self, call: E.Call, ctx: Ctx):
        return self.walk.callee(call, ctx)

    def callee_name(self, call: E.Call, ctx: Ctx) -> str | None:
        """The qualified name of an external or builtin callee (`json.loads`, `eval`), else None."""
        callee = self.walk.callee(call, ctx)
        return callee.name if isinstance(callee, Ext) else None


def _classify_source(project, mc):
    """Tags for the output of a model call, or None when the SDK already validates it against a schema."""
    from llmlint.knowledge.inventory import chain_model

    call = mc.call
    if mc.api.endswith(".parse") or call.has_kwarg("text_format"):
        return None
    settings = [call]  # the call, then wrappers (`bind(...)`) and constructors of its client or chain model
    for obj in filter(None, (mc.client, chain_model(project, mc))):
        for wrapper, _ in reversed(obj.chain):
            if isinstance(wrapper.func, E.Attr) and wrapper.func.attr == "with_structured_output":
                return None
            settings.append(wrapper)
        if isinstance(obj.ctor, E.Call):
            settings.append(obj.ctor)
        for part in obj.parts:
            name = getattr(part, "cls", "") or ""
            if name.endswith(STRUCTURED_PARSERS):
                return None
            if name.endswith(JSON_PARSERS):
                return frozenset({JSON_MODE, PARSED})
    tags = set()
    if any(key is None for key, _ in call.kwargs):
        tags.add(JSON_MODE)  # `**options` may carry a response_format: do not judge the parse
    if mc.family.is_http or mc.api.startswith("bedrock.invoke_model"):
        tags.add(ENVELOPE)
    fmt = _option(settings, "response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, E.DictExpr) else None
        if isinstance(kind, E.Const) and kind.value == "json_object":
            tags.add(JSON_MODE)
        elif not (isinstance(kind, E.Const) and kind.value == "text"):
            return None  # json_schema, a pydantic class, or something we cannot read: treat as schema-constrained
    text = call.kwarg("text")
    if isinstance(text, E.DictExpr) and text.get("format") is not None:
        return None
    fmt = _option(settings, "format")
    if fmt is not None and mc.family.key in ("ollama", "langchain-unbounded"):
        if not (isinstance(fmt, E.Const) and fmt.value == "json"):
            return None  # a JSON schema
        tags.add(JSON_MODE)
    for key in ("generation_config", "config"):
        config = _option(settings, key)
        if _setting(config, "response_schema", "response_json_schema") is not None:
            return None
        mime = _setting(config, "response_mime_type")
        if isinstance(mime, E.Const) and mime.value == "application/json":
            tags.add(JSON_MODE)
    return frozenset(tags)


def _option(calls, name):
    """The first `name=` among `calls`, also inside a LangChain `model_kwargs={...}`."""
    for call in calls:
        value = call.kwarg(name)
        if value is None:
            value = _setting(call.kwarg("model_kwargs"), name)
        if value is not None:
            return value
    return None


def _setting(settings, *names):
    if isinstance(settings, E.DictExpr):
        for name in names:
            if settings.get(name) is not None:
                return settings.get(name)
    if isinstance(settings, E.Call):
        return settings.kwarg(*names)
    return None


def _is_text(expr) -> bool:
    return isinstance(expr, (E.Const, E.FStr)) or isinstance(expr, E.Name)


def _strip_normalisers(expr):
    while isinstance(expr, E.Call) and isinstance(expr.func, E.Attr) and expr.func.attr in NORMALISERS:
        expr = expr.func.base
    return expr


def _checked_names(test) -> set:
    """Dotted names an if/assert/while condition checks against an allow-list or with a check function."""
    names = set()
    for node in E.walk(test):
        if isinstance(node, E.Compare):
            if not any(op in ("In", "NotIn", "Equal", "NotEqual") for op in node.ops):
                continue
            if all(isinstance(c, E.Const) and c.value in ("", None) for c in node.comparators):
                continue
            name = E.dotted(_strip_normalisers(node.left))
            if name:
                names.add(name)
        elif isinstance(node, E.Call):
            func = node.func
            last = func.attr if isinstance(func, E.Attr) else (func.id if isinstance(func, E.Name) else "")
            if isinstance(func, E.Attr) and last.startswith("is") and E.dotted(_strip_normalisers(func.base)):
                names.add(E.dotted(_strip_normalisers(func.base)))
            elif last in ("match", "fullmatch") or any(w in last.lower() for w in CHECK_WORDS):
                for arg in node.args:
                    name = E.dotted(_strip_normalisers(arg))
                    if name:
                        names.add(name)
    return names


def _root_name(expr) -> str | None:
    """`data` for `data["items"]`, `data.get("items")`, `data.items()`."""
    while isinstance(expr, (E.Subscript, E.Attr, E.Call)):
        expr = expr.value if isinstance(expr, E.Subscript) else (expr.base if isinstance(expr, E.Attr) else expr.func)
    return expr.id if isinstance(expr, E.Name) else None


def _function_exprs(fn):
    for site in fn.calls:
        yield site.call
    for assign in fn.assigns:
        yield assign.value
    yield from (value for value in fn.returns if value is not None)


def _is_pydantic(project, klass: Klass, depth: int = 0) -> bool:
    """A project class that derives from pydantic's BaseModel (or SQLModel, or a pydantic dataclass)."""
    if depth > 8:
        return False
    idx = project.indexes.get(klass.path)
    cls = idx.classes.get(klass.qualname) if idx else None
    if cls is None:
        return False
    ctx = Ctx(klass.path, MODULE_SCOPE)
    for deco in cls.decorators:
        value = project.resolve(deco.func if isinstance(deco, E.Call) else deco, ctx)
        if isinstance(value, Ext) and value.name.startswith("pydantic."):
            return True
    for base in cls.bases:
        value = project.resolve(base, ctx)
        if isinstance(value, Ext) and (value.name.startswith(("pydantic.", "sqlmodel.", "pydantic_settings.")) or value.name.endswith("BaseModel")):
            return True
        if isinstance(value, Klass) and _is_pydantic(project, value, depth + 1):
            return True
    return False


def model_output(analysis, expr, ctx: Ctx, line: int | None = None):
    """The ModelCall whose output reaches `expr`, or None (the first, by source position, when several do)."""
    flow = analysis.output_flow
    found = sorted(flow.flows(expr, ctx, line), key=lambda f: f.origin)
    return flow.source(found[0]) if found else None


_SAFE_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\|\s*safe\b")


def safe_template_names(template: str) -> set:
    """Variables a Jinja template renders with `|safe` (escaping turned off)."""
    return {m.group(1).split(".")[0] for m in _SAFE_TEMPLATE.finditer(template)}
