"""blocking-call-in-async: see rules/LLM108-blocking-call-in-async.md."""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.fixes import async_client_fix
from llmlint.flow.graph import chain as loop_chain
from llmlint.knowledge.handling import in_test_module
from llmlint.ruleset.rule import Rule, as_written

# The awaitable spelling of a blocking method, by the method's name on the call.
ASYNC_METHODS = {
    "invoke": "ainvoke", "predict": "apredict", "predict_messages": "apredict_messages", "run": "arun", "stream": "astream",
    "batch": "abatch", "generate": "agenerate", "__call__": "ainvoke", "complete": "acomplete", "chat": "achat",
    "query": "aquery", "stream_chat": "astream_chat", "stream_complete": "astream_complete", "completion": "acompletion",
    "text_completion": "atext_completion",
}
# Families whose clients are not switched by class but by method (LangChain, LlamaIndex, litellm) or spelling.
BY_METHOD = {"langchain", "llama_index", "litellm"}
SPECIAL = {
    "google-generativeai": "`await model.generate_content_async(...)`",
    "vertexai": "`await model.generate_content_async(...)`",
    "google-genai": "`await client.aio.models.generate_content(...)`",
    "mistral": "`await client.chat.complete_async(...)`",
    "bedrock": "`await asyncio.to_thread(client.converse, ...)` (boto3 has no async client; or aioboto3)",
    "http-requests": "`await httpx.AsyncClient(timeout=...).post(...)`",
    "http-httpx": "`await httpx.AsyncClient(timeout=...).post(...)`",
    "ollama": "`await ollama.AsyncClient().chat(...)`",
    "pydantic-ai": "`await agent.run(...)` instead of `agent.run_sync(...)`",
    "openai-agents": "`await Runner.run(...)` instead of `Runner.run_sync(...)`",
    "haystack": "`await generator.run_async(...)`",
    "haystack-agent": "`await agent.run_async(...)`",
    "agno": "`await agent.arun(...)`",
}
LEGACY = {"openai.ChatCompletion.create": "`await openai.ChatCompletion.acreate(...)`",
          "openai.Completion.create": "`await openai.Completion.acreate(...)`"}


class BlockingCallInAsync(Rule):
    needs = ("callgraph",)

    def check(self, analysis):
        self._async_fixes = {}  # client -> its fix, worked out once
        on_loop = analysis.event_loop
        graph_runs = _sync_graph_runs(analysis)
        reported_runs = set()
        for call in analysis.model_calls:
            node = (call.module.path, call.function.qualname)
            if node not in on_loop or call.site.in_lambda or _is_async(call) or in_test_module(analysis.project, call.module.path):
                continue
            chain = loop_chain(on_loop, node)
            run = graph_runs.get((chain[-1], chain[-2])) if len(chain) > 1 else None
            if run is not None:  # the async def runs a graph with the blocking API: that call is what to change
                if id(run) not in reported_runs:
                    reported_runs.add(id(run))
                    yield self._graph_finding(analysis, run, call, chain)
                continue
            replacement = _replacement(call)
            if replacement is None:
                continue
            yield self._finding(analysis, call, chain, replacement)

    def _graph_finding(self, analysis, run, call, chain):
        runner = E.dotted(run.site.call.func) or f"....{run.method}"
        owner = runner.rsplit(".", 1)[0]
        spelling = (f"async for chunk in {owner}.astream(...)" if run.method == "stream"
                    else f"await {owner}.{ASYNC_METHODS.get(run.method, 'a' + run.method)}(...)")
        message = (f"the blocking `{runner}` runs the graph inside `async def {chain[-1][1]}()`: its node "
                   f"`{chain[-2][1]}()` calls `{as_written(call)}`, which blocks the event loop until the model answers")
        fix = f"use the async API: `{spelling}` instead of `{runner}(...)`"
        return self.report(analysis.location(run.caller[0], run.site.call), message, fix, api=call.api)

    def _finding(self, analysis, call, chain, replacement):
        client = _client_name(call)
        if client and call.family.provider not in BY_METHOD and call.family.key not in SPECIAL:
            what = f"`{as_written(call)}` (sync `{client}` client)"
        else:
            what = f"the blocking `{as_written(call)}`"
        async_path, async_name = chain[-1]
        if len(chain) == 1:
            where = f"inside `async def {async_name}()`"
        else:
            through = " <- ".join(f"`{q}()`" for _, q in chain[:-1][:3]) + (" <- ..." if len(chain) > 4 else "")
            at = "" if async_path == call.module.path else f" ({analysis.display(async_path).rsplit('/', 1)[-1]})"
            where = f"in {through}, called from `async def {async_name}()`{at} with no thread"
        message = f"{what} runs {where}: it blocks the event loop until the model answers"
        fix = f"use the async API: {replacement}; or hand the call to a thread with `await asyncio.to_thread(...)`"
        autofixes = async_client_fix(analysis, call, self._async_fixes)
        return self.report(analysis.location(call.module.path, call.call), message, fix, api=call.api, autofixes=autofixes)


def _sync_graph_runs(analysis) -> dict:
    """{(function running a compiled LangGraph graph with a blocking method, a node of that graph): the run}."""
    found = {}
    for run, _ in analysis.graph_runs:
        if not run.method.startswith("a") and not run.site.awaited:
            for node in run.nodes:
                found.setdefault((run.caller, node), run)
    return found


def _raw_method(call) -> str:
    return call.call.func.attr if isinstance(call.call.func, E.Attr) else (E.dotted(call.call.func) or "").rsplit(".", 1)[-1]


def _is_async(call) -> bool:
    if call.is_async_api:
        return True
    method = _raw_method(call)
    path = call.client.path if call.client is not None else ""
    return method.endswith("_async") or method in ASYNC_METHODS.values() or method == "acreate" or "aio" in path.split(".")


def _client_name(call) -> str | None:
    if call.client is None or call.client.parts:
        return None
    return call.client.cls.rsplit(".", 1)[-1].removesuffix("()")


def _replacement(call) -> str | None:
    """The exact async spelling for this call, or None when unsure."""
    family = call.family
    if call.api in LEGACY:
        return LEGACY[call.api]
    if family.key in SPECIAL:
        return SPECIAL[family.key]
    method = _raw_method(call)
    if family.provider in BY_METHOD or family.key == "langchain-chain":
        if method not in ASYNC_METHODS:
            return None
        callee = E.dotted(call.call.func)
        if method == "__call__" or not isinstance(call.call.func, E.Attr):
            return f"`await {callee}.ainvoke(...)` instead of calling it" if callee else "`await ....ainvoke(...)` instead of calling it"
        owner = callee.rsplit(".", 1)[0] if callee else "..."
        spelling = f"await {owner}.{ASYNC_METHODS[method]}(...)"
        if method == "stream" and family.provider == "langchain":
            spelling = f"async for chunk in {owner}.astream(...)"  # an async iterator, not awaited
        return f"`{spelling}` instead of `{callee or '....' + method}(...)`"
    client = _client_name(call)
    if client is None:
        if call.api.startswith("openai."):  # the module-level client: openai.chat.completions.create(...)
            return f"`await AsyncOpenAI().{call.api.removeprefix('openai.')}(...)`"
        return None
    async_client = f"Async{client}"
    if not any(spec.endswith(":" + async_client) for spec in family.async_classes):
        return None
    path = call.client.path
    return f"create the client as `{async_client}(...)` and `await client.{path}(...)`"
