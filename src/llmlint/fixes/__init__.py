"""Autofix: what a rule offers (`Autofix` of `Change`s, built here from the analysis) and, in `llmlint.fixes.apply`,
how `check --fix`/`--diff` apply it: libcst transforms on a fresh parse of each file, keyed by the finding's node.

A rule attaches fixes only where the edit is mechanical and the keyword is known to be valid at that place for that
SDK; anything else keeps its prose `fix` only. Which fixes are safe (ruff's sense: applied by `--fix`) and which
are unsafe (only with `--unsafe-fixes`) is said, with the reason, in each rule's document ("Fix availability")."""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.results.finding import Autofix, Change

# Where a timeout keyword is valid, by SDK family: on the client's (or chat model's) constructor, on the call.
TIMEOUT_PLACES = {
    "openai": ("client", "call"),
    "anthropic": ("client", "call"),
    "groq": ("client", "call"),
    "litellm": ("call",),
    "langchain": ("client",),  # ChatOpenAI(timeout=...), ChatAnthropic(timeout=...): not on chain.invoke
}
# The output-cap keyword of a LangChain chat model's constructor, by class.
LANGCHAIN_CAPS = {
    "ChatOpenAI": "max_tokens", "AzureChatOpenAI": "max_tokens", "ChatAnthropic": "max_tokens",
    "ChatMistralAI": "max_tokens", "ChatGroq": "max_tokens", "ChatTogether": "max_tokens", "ChatFireworks": "max_tokens",
    "ChatGoogleGenerativeAI": "max_output_tokens", "ChatVertexAI": "max_output_tokens",
    "ChatOllama": "num_predict", "OllamaLLM": "num_predict",
}
# OpenAI models that reject `max_tokens` on chat completions (reasoning models): they take `max_completion_tokens`.
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
OUTPUT_CAP = 512
NOTEBOOK = ".ipynb"  # notebooks are checked, not fixed: their cells are JSON strings


def callee_name(call: E.Call) -> str:
    """The last name of a call's callee (`create` for `get_client().chat.completions.create(...)`), '' if none."""
    func = call.func
    if isinstance(func, E.Attr):
        return func.attr
    if isinstance(func, E.Name):
        return func.id
    return ""


def add_keyword(analysis, path: str, call: E.Call, keyword: str, value: str, aliases=(), imports=()) -> Change | None:
    """A Change adding `keyword=value` to `call` (in the module at `path`), or None when the call cannot take one
    mechanically (`*args`/`**kwargs`, a callee that is not a name)."""
    name = callee_name(call)
    if not name or call.has_star or any(key is None for key, _ in call.kwargs) or path.endswith(NOTEBOOK):
        return None
    return Change("add-keyword", analysis.location(path, call), name, keyword, value, tuple(aliases) or (keyword,), tuple(imports))


def _written_here(analysis, call) -> bool:
    """The model call is written where it is reported (not handed to a thread: `to_thread(client.x.create, ...)`,
    which the inventory records as a new CallSite). The ids of a function's own sites are collected once per
    analysis: a scope with 10,000 calls must not cost 10,000 scans of it."""
    sites = vars(analysis).setdefault("_fix_own_sites", {})
    known = sites.get(id(call.function))
    if known is None:
        known = sites[id(call.function)] = {id(site) for site in call.function.calls}
    return id(call.site) in known


def timeout_fix(analysis, call, seconds: float) -> tuple[Autofix, ...]:
    """LLM101, no timeout set anywhere: `timeout=<seconds>` on the client's constructor (every call of the client
    gets it), else on the call. Safe: the SDK raises its timeout error after 600 s already; it now does so sooner."""
    family = call.model_family
    places = TIMEOUT_PLACES.get(family.key, ())
    keyword = "timeout" if "timeout" in family.timeout_args else ""
    if not keyword:
        return ()
    value = f"{seconds:g}"
    fixes = []
    where = call.client_ctor_location()
    if "client" in places and where is not None and not call.opaque_client:
        ctor = where[1]
        if not ctor.has_kwarg("http_client", "client", "async_client", "http_async_client"):
            change = add_keyword(analysis, where[0], ctor, keyword, value, family.timeout_args)
            if change is not None:
                fixes.append(Autofix(f"add `{keyword}={value}` to the client", (change,)))
    if "call" in places and not call.opaque_call and _written_here(analysis, call):
        change = add_keyword(analysis, call.module.path, call.call, keyword, value, family.timeout_args)
        if change is not None:
            fixes.append(Autofix(f"add `{keyword}={value}` to the call", (change,)))
    return tuple(fixes)


def output_cap_fix(analysis, call) -> tuple[Autofix, ...]:
    """LLM102: the API's own output-cap keyword on the call (OpenAI, litellm, Groq) or on the LangChain chat model
    the chain is built from. Unsafe: an answer longer than the cap is cut off, which changes what the program outputs."""
    family = call.model_family
    if call.model_obj is not None or family.key == "langchain":
        where = call.client_ctor_location()
        if where is None or call.opaque_client:
            return ()
        keyword = LANGCHAIN_CAPS.get(callee_name(where[1]))
        if keyword is None:
            return ()
        change = add_keyword(analysis, where[0], where[1], keyword, str(OUTPUT_CAP), family.max_tokens_args + (keyword,))
        return (Autofix(f"add `{keyword}={OUTPUT_CAP}` to the chat model", (change,), safe=False),) if change else ()
    keyword = _openai_cap(call) if family.key == "openai" else ("max_tokens" if family.key in ("litellm", "groq") else None)
    if keyword is None or call.opaque_call or not _written_here(analysis, call):
        return ()
    change = add_keyword(analysis, call.module.path, call.call, keyword, str(OUTPUT_CAP), family.max_tokens_args + (keyword,))
    return (Autofix(f"add `{keyword}={OUTPUT_CAP}` to the call", (change,), safe=False),) if change else ()


def _openai_cap(call) -> str | None:
    api = call.api
    if api.startswith("openai.responses."):
        return "max_output_tokens"
    if ".chat.completions." in api or api == "openai.ChatCompletion.create":
        model = (call.model or "").lower()
        return "max_completion_tokens" if model.startswith(REASONING_PREFIXES) else "max_tokens"
    if api in ("openai.completions.create", "openai.Completion.create"):
        return "max_tokens"
    return None


def retry_stop_fix(analysis, path: str, node: E.Call | None, at, keyword: str, value: str, imports=()) -> tuple[Autofix, ...]:
    """LLM003: a stop condition (`stop=stop_after_attempt(5)`, `max_tries=5`) on the retry policy written at `at`
    (a decorator, bare or called, or an inline `Retrying(...)`). Safe: an error that persists now surfaces after five
    attempts, as the policy already lets errors outside `retry=` surface."""
    if node is not None:
        change = add_keyword(analysis, path, node, keyword, value, (keyword,), imports)
        if change is None:
            return ()
    elif at.path.endswith(NOTEBOOK):
        return ()
    else:  # a bare `@retry`: it becomes `@retry(stop=...)`
        change = Change("add-keyword", at, "", keyword, value, (keyword,), tuple(imports))
    also = "".join(f" with `from {module} import {name}`" for module, name in imports)
    return (Autofix(f"add `{keyword}={value}`{also}", (change,)),)


def retry_count_fix(at, keyword: str, count: int) -> tuple[Autofix, ...]:
    """LLM003: an SDK client's unbounded or huge `max_retries` set to `count`. Safe: the error the client raises
    after its last retry today surfaces sooner."""
    if at.path.endswith(NOTEBOOK):
        return ()
    return (Autofix(f"set `{keyword}={count}`", (Change("set-value", at, "", keyword, str(count)),)),)


def async_client_fix(analysis, call, memo: dict) -> tuple[Autofix, ...]:
    """LLM108: `OpenAI(...)` -> `AsyncOpenAI(...)` and `await` on every call of that client, offered only when the
    change can be made whole: the client is made in the module that holds all its model calls, each of them stands
    directly in an `async def`, is not streamed, and the project does nothing else with the client (no other method
    call, not passed on). Unsafe: every caller of those functions already awaits them, but the client's behaviour
    (connection pool, event loop binding) changes, and annotations naming the sync class are left as they are.
    `memo` (one per rule run) keeps the answer per client."""
    client = call.client
    if client is None or client.parts or not isinstance(client.ctor, E.Call) or client.ctor_ctx is None or call.opaque_client:
        return ()
    key = (client.ctor_ctx.path, client.ctor.line, client.ctor.col)
    if key not in memo:
        memo[key] = _async_client_fix(analysis, call)
    return memo[key]


def _async_client_fix(analysis, call) -> tuple[Autofix, ...]:
    client, family = call.client, call.family
    name = callee_name(client.ctor)
    async_name = f"Async{name}"
    if family.key not in TIMEOUT_PLACES or not any(spec.endswith(":" + async_name) for spec in family.async_classes):
        return ()
    if not isinstance(client.ctor.func, (E.Name, E.Attr)) or client.ctor.has_star:
        return ()
    path = client.ctor_ctx.path
    if path.endswith(NOTEBOOK):
        return ()
    same = lambda obj: obj is not None and getattr(obj, "ctor", None) == client.ctor and getattr(obj, "ctor_ctx", None) == client.ctor_ctx  # noqa: E731
    group = [c for c in analysis.model_calls if same(c.client)]
    for c in group:
        stream = c.settings.get("stream")
        if (c.module.path != path or not c.function.is_async or c.site.in_lambda or c.site.awaited or c.opaque_call
                or not _written_here(analysis, c) or c.client.parts or (stream is not None and not (isinstance(stream.expr, E.Const) and stream.expr.value is False))):
            return ()
    if not _used_only_by(analysis, path, {c.call for c in group}, same):
        return ()
    module = family.classes[0].split(":", 1)[0] if family.classes else ""
    if not module or module.endswith("*"):
        return ()
    imports = ((module, async_name),) if isinstance(client.ctor.func, E.Name) else ()
    changes = [Change("async-client", analysis.location(path, client.ctor), name, "", async_name, (), imports)]
    changes += [Change("await", analysis.location(path, c.call), callee_name(c.call)) for c in group]
    return (Autofix(f"make the client `{async_name}` and await its {len(group)} call{'s' if len(group) > 1 else ''}", tuple(changes), safe=False),)


def _used_only_by(analysis, path: str, calls: set, same) -> bool:
    """Nothing in the module of the client, or in a module importing from it, calls a method of the client other than
    `calls`, or hands the client (or one of its attributes) to something."""
    project = analysis.project
    module = project.indexes[path].module
    from llmlint.link.values import Ctx

    for idx in project.indexes.values():
        if idx.path != path and not _imports_from(idx, module):
            continue
        for fn in idx.functions.values():
            ctx = Ctx(idx.path, fn.qualname)
            for site in fn.calls:
                if site.call in calls:
                    continue
                if isinstance(site.call.func, (E.Attr, E.Name)) and same(project.resolve(site.call.func, ctx, site.call.line)):
                    return False
                for arg in (*site.call.args, *(value for _, value in site.call.kwargs)):
                    if isinstance(arg, (E.Attr, E.Name)) and same(project.resolve(arg, ctx, site.call.line)):
                        return False
    return True


def _imports_from(idx, module: str) -> bool:
    for value in idx.imports.values():
        for name in value if isinstance(value, (tuple, list)) else (value,):
            if name == module or str(name).startswith(module + "."):
                return True
    return False
