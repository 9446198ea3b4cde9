"""Finding model calls in a linked project: which SDK call, which model, which settings (the LLM bill of materials)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import CallSite, FunctionIndex, ModuleIndex
from llmlint.knowledge.modelcalls import (
    THREAD_HANDOFFS,
    Family,
    family_of_class,
    http_output_caps,
    is_async_class,
    is_model_endpoint,
    match_function,
    match_method,
    normalise_path,
)
from llmlint.link.project import Project
from llmlint.link.values import Ctx, Ext, Lit, Obj


@dataclass(frozen=True)
class Setting:
    """A setting's expression and where it was found: on the call, on a wrapper call, or on the client."""

    expr: object
    ctx: Ctx
    line: int
    where: str  # "call", "options", "client"


@dataclass
class ModelCall:
    module: ModuleIndex
    function: FunctionIndex
    site: CallSite
    family: Family
    api: str
    client: Obj | None  # the client object for method calls; None for module-level functions
    model_setting: Setting | None = None
    model: str | None = None
    settings: dict = field(default_factory=dict)  # "timeout", "max_tokens", "max_retries", ... -> Setting
    model_obj: Obj | None = None  # for a chain call: the model object piped into it or given as llm=
    model_family: Family | None = None  # the family whose settings apply: the chain's model's, else the call's
    opaque_call: bool = False  # the call's keywords are not all known (`**kwargs` from elsewhere, `*args`)
    opaque_client: bool = False  # the same for the client's or model's constructor and its option calls
    http_caps: tuple = ()  # a raw request with a fully known body: where its endpoint takes an output cap
    function_name: str | None = None  # for module-level functions: the qualified name called (`agents.Runner.run`)

    @property
    def ctx(self) -> Ctx:
        return Ctx(self.module.path, self.function.qualname)

    @property
    def call(self) -> E.Call:
        return self.site.call

    @property
    def is_async_api(self) -> bool:
        """The call returns an awaitable (async client, `a*` method, awaited)."""
        if self.site.awaited:
            return True
        if self.client is not None and (is_async_class(self.family, self.client.cls) or self._raw_method in self.family.async_methods):
            return True
        if self.function_name in self.family.async_functions:
            return True
        method = self.api.rsplit(".", 1)[-1]
        return method.startswith("a") and method[1:] in ("invoke", "predict", "stream", "batch", "generate", "run", "complete", "chat", "query", "completion")

    @property
    def _raw_method(self) -> str:
        func = self.call.func
        return func.attr if isinstance(func, E.Attr) else ""

    def client_ctor_location(self):
        """(path, constructor Call) of the client or, for a chain, of the model behind it."""
        obj = self.model_obj or self.client
        if obj is None or not isinstance(obj.ctor, E.Call) or obj.ctor_ctx is None:
            return None
        return obj.ctor_ctx.path, obj.ctor


LLAMA_INDEX_SETTINGS = "llama_index.core.Settings"
SETTING_GROUPS = {
    "timeout": "timeout_args",
    "max_tokens": "max_tokens_args",
    "max_retries": "retry_args",
}
PLAIN_SETTINGS = ("stream", "temperature")


def find_model_calls(project: Project) -> list[ModelCall]:
    calls = []
    for idx, fn in project.functions():
        for site in fn.calls:
            found = match_call(project, idx, fn, site)
            if found is not None:
                calls.append(found)
    calls.sort(key=lambda c: (c.module.path, c.call.line, c.call.col))
    return calls


def match_call(project: Project, idx: ModuleIndex, fn: FunctionIndex, site: CallSite) -> ModelCall | None:
    ctx = Ctx(idx.path, fn.qualname)
    func = project.resolve(site.call.func, ctx, site.call.line)
    handed = _handed_off(func, site.call)
    if handed is not None:  # `await asyncio.to_thread(client.chat.completions.create, model=...)`
        site = dataclasses.replace(site, call=handed)
        func = project.resolve(handed.func, ctx, handed.line)
    client = None
    if isinstance(func, Ext):
        match = match_function(func.name)
    elif isinstance(func, Obj) and func.path:
        client = func
        match = _match_object(func)
    elif isinstance(func, Obj) and not func.path:
        client = func
        match = match_method(func.cls, "__call__") if not func.parts else _match_pipe(func, "__call__")
    else:
        return None
    if match is None:
        return None
    if match.family.is_http and not _posts_to_model(project, site.call, ctx):
        return None
    if match.family.require_service and not _service_is(client, match.family.require_service):
        return None
    call = ModelCall(idx, fn, site, match.family, match.api, client, function_name=func.name if isinstance(func, Ext) else None)
    _collect_settings(project, call)
    return call


# Executor methods that run the function they are given, as THREAD_HANDOFFS does for functions.
HAND_OFF_METHODS = {"run_in_executor": (1, False), "submit": (0, True)}


def _handed_off(func, call: E.Call) -> E.Call | None:
    """The call a hand-off makes (`to_thread(f, a, k=v)` is `f(a, k=v)`), at the hand-off's place; else None."""
    if isinstance(func, Ext):
        spec = THREAD_HANDOFFS.get(func.name)
    elif isinstance(func, Obj) and func.path in HAND_OFF_METHODS and func.cls.startswith(("asyncio", "concurrent")):
        spec = HAND_OFF_METHODS[func.path]
    else:
        return None
    if spec is None or len(call.args) <= spec[0] or call.has_star:
        return None
    position, keywords = spec
    return E.Call(call.args[position], call.args[position + 1:], call.kwargs if keywords else (), call.line, call.col,
                  call.end_line, call.end_col, False)


def _match_object(obj: Obj):
    if obj.parts:
        return _match_pipe(obj, obj.path)
    return match_method(obj.cls, obj.path)


def _match_pipe(obj: Obj, path: str):
    """`(prompt | llm | parser).invoke(...)`: a chain call when one member is a model."""
    from llmlint.knowledge.modelcalls import Match, load_table

    method = path.rsplit(".", 1)[-1]
    for part in obj.parts:
        if _is_model(part):
            chain_family = next(f for f in load_table()[0] if f.key == "langchain-chain")
            if method in chain_family.methods:
                return Match(chain_family, chain_family.methods[method], obj.cls)
    return None


def chain_model(project: Project, call: ModelCall) -> Obj | None:
    """The model object behind a chain call: the model member of a pipe, or the model a chain or agent was built
    from (`LLMChain(llm=...)`, `ConversationalRetrievalChain.from_llm(llm, ...)`, `initialize_agent(tools, llm)`,
    `AgentExecutor(agent=create_tool_calling_agent(llm, ...))`, LangGraph's `create_react_agent(model, tools)`)."""
    client = call.client
    if client is None:
        return None
    if client.parts:
        return _model_among(project, client.parts, 0)
    if not call.family.model_behind:
        return None
    found = _model_behind(project, client, 0)
    if found is None and call.family.provider == "llama_index":  # an engine built with the global `Settings.llm`
        found = project.stored_value(LLAMA_INDEX_SETTINGS, "llm", call.ctx, 0)
    return found if _is_model(found) else None


def _is_model(value) -> bool:
    """A model object: an instance of a client or model class of the SDK table, not a chain, agent or engine."""
    if not isinstance(value, Obj) or value.parts or normalise_path(value.path):
        return False  # (`llm.with_structured_output(S)` is still the model; `llm.client` is not)
    family = family_of_class(value.cls)
    return family is not None and not family.model_behind and not family.is_http


def _model_among(project: Project, values, depth: int) -> Obj | None:
    for value in values:
        if _is_model(value):
            return value
    for value in values:
        if isinstance(value, Obj) and depth < 3:
            found = _model_among(project, value.parts, depth + 1) if value.parts else _model_behind(project, value, depth + 1)
            if found is not None:
                return found
    return None


def _model_behind(project: Project, chain: Obj, depth: int) -> Obj | None:
    """The model among the arguments that built `chain` (its constructor's, then its wrapper calls')."""
    calls = [(chain.ctor, chain.ctor_ctx)] + list(chain.chain)
    values = []
    for built, ctx in calls:
        if isinstance(built, E.Call) and ctx is not None:
            values.extend(project.resolve(arg, ctx, built.line) for arg in (*built.args, *(v for _, v in built.kwargs)))
    return _model_among(project, values, depth)


def _posts_to_model(project: Project, call: E.Call, ctx: Ctx) -> bool:
    """A POST to a model endpoint, known by its path, or, when the URL is not known (configuration, the
    environment), by what it sends: a JSON body with `model` and `messages`, `prompt` or `contents`."""
    url = _url_of(call)
    text = _url_text(project, url, ctx)
    if text and not is_model_endpoint(text) and _other_arm_names_endpoint(project, url, ctx, call.line):
        return True
    if text:
        return is_model_endpoint(text)
    found = _json_body(project, call, ctx)
    keys = {key for key, _, _ in found[0]} if found is not None else set()
    return "model" in keys and bool(keys & MODEL_BODY_KEYS)


def _other_arm_names_endpoint(project: Project, url, ctx: Ctx, line: int) -> bool:
    """A part of the URL (`self.url` of `self.url + token`) set in if/elif arms, one of which names an endpoint."""
    if isinstance(url, E.BinOp) and url.op == "+":
        return any(_other_arm_names_endpoint(project, side, ctx, line) for side in (url.left, url.right))
    if isinstance(url, E.FStr):
        return any(_other_arm_names_endpoint(project, part, ctx, line) for part in url.parts if not isinstance(part, str))
    if not isinstance(url, (E.Name, E.Attr)):
        return False
    alternatives = project.alternatives(url, ctx, line)[1:]
    return any(isinstance(v, Lit) and is_model_endpoint(_url_text(project, v.expr, v.ctx)) for v in alternatives)


def _json_body(project: Project, call: E.Call, ctx: Ctx):
    """(items, opaque) of a request's `json=` body (project.dict_items), or None when it has none or it is not known."""
    body = call.kwarg("json")
    return project.dict_items(body, ctx, call.line) if body is not None else None


MODEL_BODY_KEYS = frozenset({"messages", "prompt", "contents"})


def _url_text(project: Project, expr, ctx: Ctx, depth: int = 0) -> str:
    if expr is None or depth > 6:
        return ""
    if isinstance(expr, E.FStr):
        return "".join(p if isinstance(p, str) else _url_text(project, p, ctx, depth + 1) for p in expr.parts)
    if isinstance(expr, E.BinOp) and expr.op == "+":
        return _url_text(project, expr.left, ctx, depth + 1) + _url_text(project, expr.right, ctx, depth + 1)
    text = project.const_str(expr, ctx)
    if text is not None:
        return text
    if isinstance(expr, (E.Name, E.Attr)):
        value = project.resolve(expr, ctx)
        if value is not None and hasattr(value, "expr"):
            return _url_text(project, value.expr, value.ctx, depth + 1)
    return ""


def _service_is(client: Obj | None, service: str) -> bool:
    if client is None:
        return False
    calls = [client.ctor] + [c for c, _ in client.chain]
    for call in calls:
        if isinstance(call, E.Call) and isinstance(call.arg(0, "service_name"), E.Const):
            return call.arg(0, "service_name").value == service
    return False


def _collect_settings(project: Project, call: ModelCall) -> None:
    family = call.family
    sources = [(call.call, call.ctx, "call")]
    client = call.client
    model_obj = chain_model(project, call) if client is not None and (client.parts or family.model_behind) else None
    for obj in filter(None, (client, model_obj)):
        for wrapper, wctx in reversed(obj.chain):
            sources.append((wrapper, wctx, "options"))
        if isinstance(obj.ctor, E.Call) and obj.ctor_ctx is not None:
            sources.append((obj.ctor, obj.ctor_ctx, "client"))
    if family.agent_arg:  # Runner.run(agent, ...): the agent's constructor and option calls hold its settings
        agent = _agent_of(project, call)
        if agent is None:
            call.opaque_client = True
        else:
            sources.extend((wrapper, wctx, "options") for wrapper, wctx in reversed(agent.chain))
            sources.append((agent.ctor, agent.ctor_ctx, "client"))
    if model_obj is not None:
        family = family_of_class(model_obj.cls) or family
    call.model_obj = model_obj
    call.model_family = family
    groups = {name: getattr(family, attr) for name, attr in SETTING_GROUPS.items()}
    groups["model"] = family.model_args
    for name in PLAIN_SETTINGS:
        groups[name] = (name,)
    if family.is_http:  # the request body: json={"model": ..., "max_tokens": ...}, or a dict filled in before
        _read_http_body(project, call)
    for source, ctx, where in sources:
        items, opaque = project.keywords(source, ctx)
        if opaque:
            call.opaque_call = call.opaque_call or where == "call"
            call.opaque_client = call.opaque_client or where != "call"
        for name, keywords in groups.items():
            if name in call.settings or not keywords:
                continue
            found = _setting_from(project, ctx, source, items, keywords, family, name)
            if found is not None:
                call.settings[name] = Setting(found[0], found[1], source.line, where)
    model = call.settings.pop("model", None)
    if model is None and isinstance(call.client, Obj) and isinstance(call.client.ctor, E.Call) and family.model_positional:
        first = call.client.ctor.arg(0)
        model = Setting(first, call.client.ctor_ctx, call.client.ctor.line, "client") if first is not None else None
    call.model_setting = model
    call.model = project.const_str(model.expr, model.ctx) if model is not None else None
    if family.model_object_settings and model is not None and not _names_a_model(project, model):
        call.opaque_client = True  # Agent(OpenAIModel(..., provider=...)): its timeout and cap are the model object's


def _agent_of(project: Project, call: ModelCall) -> Obj | None:
    """The agent object a runner call runs, when it is built in view (`Agent(name=..., model=...)`), else None."""
    expr = call.call.arg(0, call.family.agent_arg)
    value = project.resolve(expr, call.ctx, call.call.line) if expr is not None else None
    if isinstance(value, Obj) and isinstance(value.ctor, E.Call) and value.ctor_ctx is not None and not value.parts:
        return value
    return None


def _names_a_model(project: Project, model: Setting) -> bool:
    """The model setting is a name (`"openai:gpt-4o-mini"`, a constant, an f-string), not a model object."""
    if isinstance(model.expr, (E.Const, E.FStr)) or project.const_str(model.expr, model.ctx) is not None:
        return True
    return isinstance(model.expr, (E.Name, E.Attr)) and isinstance(project.resolve(model.expr, model.ctx), Lit)


def _read_http_body(project: Project, call: ModelCall) -> None:
    """Settings from a raw request's JSON body, and `call.http_caps`: where its endpoint takes an output cap, when
    every key of the body is known (so a missing cap is missing)."""
    opened = _json_body(project, call.call, call.ctx)
    if opened is None:
        return
    items, opaque = opened
    top = {}
    for key, value, ctx in items:
        top.setdefault(key, (value, ctx))
    for name, key in (("model", "model"), ("max_tokens", "max_tokens"), ("max_tokens", "max_completion_tokens"),
                      ("max_tokens", "max_output_tokens"), ("stream", "stream"), ("temperature", "temperature")):
        if key in top and name not in call.settings:
            call.settings[name] = Setting(top[key][0], top[key][1], call.call.line, "call")
    caps = http_output_caps(_url_text(project, _url_of(call.call), call.ctx))
    for path in caps:
        value, ctx = top.get(path[0], (None, None))
        if len(path) == 2 and value is not None:
            value = _nested(project, value, ctx, path[1])
        if value is not None and "max_tokens" not in call.settings:
            call.settings["max_tokens"] = Setting(value, ctx, call.call.line, "call")
    if caps and not opaque:
        call.http_caps = caps


def _nested(project: Project, value, ctx: Ctx, key: str):
    """The value under `key` in the dict `value` (a literal or a name holding one), or None."""
    opened = project.dict_items(value, ctx)
    if opened is None:
        return E.Unknown("opaque")  # cannot tell what it holds: as good as set
    found = next((v for k, v, _ in opened[0] if k == key), None)
    return found if found is not None or not opened[1] else E.Unknown("opaque")


def _url_of(call: E.Call):
    if isinstance(call.func, E.Attr) and call.func.attr == "request":
        return call.arg(1, "url")
    return call.arg(0, "url")


def _setting_from(project: Project, ctx: Ctx, source: E.Call, items, keywords, family: Family, name: str):
    """(value Expr, its Ctx) of the setting `name` among a call's keyword `items` (spreads opened), or None."""
    for key, value, where in items:
        if key in keywords:
            return value, where
    for key in family.settings_args:  # generation_config={"max_output_tokens": 256} / config=...
        nested = next((value for k, value, _ in items if k == key), None)
        if isinstance(nested, (E.Name, E.Attr)):
            resolved = project.resolve(nested, ctx, source.line)
            if isinstance(resolved, Lit):
                nested = resolved.expr
            elif isinstance(resolved, Obj) and not resolved.path and isinstance(resolved.ctor, E.Call):
                nested = resolved.ctor
        if isinstance(nested, E.DictExpr):
            for keyword in keywords:
                if nested.get(keyword) is not None:
                    return nested.get(keyword), ctx
        elif isinstance(nested, E.Call):  # types.GenerateContentConfig(max_output_tokens=256), ModelSettings(timeout=30)
            found = nested.kwarg(*keywords)
            if found is not None:
                return found, ctx
    return None
