"""Observability signals: project-wide LLM instrumentation, and the functions whose model calls something
logs, traces or meters.

A project (per `Project.project_root`) is *instrumented* when anything in it switches on tracing of model calls
for the whole process: OpenTelemetry/OpenLLMetry/OpenInference instrumentors, `Traceloop.init`, `openlit.init`,
`logfire.instrument_openai` and kin, langfuse's drop-in clients and `@observe`, LangSmith's `@traceable`,
`wrap_openai` and tracing environment switches, `weave.init`/`@weave.op`, mlflow autolog and `@mlflow.trace`,
LangChain `callbacks=`, litellm callbacks, LlamaIndex global handlers, `agentops.init`, `sentry_sdk.init`.
Otherwise a function is *observed* when it, a caller (transitively), a helper it calls or one of its decorators
makes a logging (`logging`, `structlog`, `loguru`), tracing or metrics call. `print` is not observability.
"""

from __future__ import annotations

import fnmatch
import re

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.link.callgraph import reachable_from
from llmlint.link.values import Ctx, Ext, Func, Inst, Obj

# Calls (qualified names, globs) that instrument every model call of the process.
INSTRUMENTING_CALLS = (
    "openlit.init", "traceloop.sdk.Traceloop.init", "traceloop.sdk.*", "logfire.instrument_openai*", "logfire.instrument_anthropic",
    "logfire.instrument_google_genai", "logfire.instrument_litellm", "logfire.instrument_pydantic_ai", "logfire.instrument_mcp",
    "langfuse.*", "langsmith.wrappers.*", "langsmith.traceable", "langsmith.run_helpers.traceable", "weave.init", "weave.op",
    "mlflow.autolog", "mlflow.*.autolog", "mlflow.trace", "agentops.init", "phoenix.otel.register", "arize.otel.register",
    "sentry_sdk.init", "braintrust.wrap_openai", "braintrust.wrap_anthropic", "braintrust.init_logger", "opik.integrations.*",
    "opik.track", "llama_index.core.set_global_handler", "llama_index.set_global_handler", "helicone.*", "promptlayer.*",
    "lunary.monitor", "openinference.*", "pydantic_ai.Agent.instrument_all",
    "haystack.tracing.enable_tracing", "haystack.tracing.auto_enable_tracing", "haystack_integrations.components.connectors.*",
)
INSTRUMENTING_IMPORTS = ("langfuse.openai", "langfuse.decorators", "langsmith.wrappers", "traceloop.sdk", "openlit")
LITELLM_CALLBACKS = {"callbacks", "success_callback", "failure_callback", "input_callback", "service_callback"}
TRACING_ENV = {"LANGCHAIN_TRACING_V2", "LANGSMITH_TRACING", "LANGCHAIN_TRACING", "LANGSMITH_TRACING_V2"}

# Packages whose calls log, trace or record metrics.
OBSERVING_ROOTS = {
    "logging", "structlog", "loguru", "opentelemetry", "ddtrace", "sentry_sdk", "logfire", "langfuse", "langsmith", "weave",
    "mlflow", "traceloop", "openlit", "prometheus_client", "statsd", "datadog", "wandb", "agentops", "braintrust", "opik",
    "promptlayer", "newrelic", "elasticapm", "aws_lambda_powertools", "aws_xray_sdk", "beeline", "phoenix", "openinference",
    "helicone", "lunary", "arize", "honeycomb", "bugsnag", "rollbar",
}
# Calls of those packages that only configure and record nothing themselves.
CONFIGURING = {
    "getLogger", "get_logger", "getLogger", "basicConfig", "dictConfig", "fileConfig", "setLevel", "addHandler",
    "removeHandler", "configure", "get_tracer", "set_tracer_provider", "get_meter", "set_meter_provider", "getLevelName",
    "disable", "captureWarnings", "add", "remove", "setFormatter", "Formatter", "StreamHandler", "FileHandler", "bind",
}
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "msg", "success", "trace"}
DISPLAY_CALLBACK = re.compile(r"(?i)streamlit|stdout|streaming|stream_?handler|asynciterator|iterator|queue|print|token_?handler")
LOGGER_NAME = re.compile(r"(?i)^_*(?:\w+_)?(?:log|logger|logging)$")


class Observability:
    """Built once per Analysis (`analysis.observability`)."""

    def __init__(self, analysis):
        self.analysis = analysis
        self.project = analysis.project
        self.graph = analysis.callgraph
        self.instrumented_roots = self._instrumented_roots()
        self.observed = self._observed_functions()

    def is_instrumented(self, path: str) -> bool:
        return self.project.project_root(path) in self.instrumented_roots

    def is_observed(self, path: str, qualname: str) -> bool:
        return (path, qualname) in self.observed

    # project-wide instrumentation
    def _instrumented_roots(self) -> set:
        roots = set()
        for idx, fn in self.project.functions():
            root = self.project.project_root(idx.path)
            if root in roots:
                continue
            if self._instruments(idx, fn):
                roots.add(root)
        return roots

    def _instruments(self, idx, fn) -> bool:
        tables = [idx.imports, fn.imports] if fn.qualname == MODULE_SCOPE else [fn.imports]
        for table in tables:
            if any(isinstance(q, str) and q.startswith(INSTRUMENTING_IMPORTS) for q in table.values()):
                return True
        ctx = Ctx(idx.path, fn.qualname)
        for decorator in fn.decorators:
            value = self.project.resolve(decorator.func if isinstance(decorator, E.Call) else decorator, ctx)
            if _instrumenting(_qualified(value)):
                return True
        for site in fn.calls:
            call = site.call
            value = self.project.resolve(call.func, ctx, call.line)
            name = _qualified(value)
            if _instrumenting(name):
                return True
            if isinstance(value, Obj) and value.path == "instrument" and value.cls.endswith("Instrumentor"):
                return True  # OpenAIInstrumentor().instrument()
            config = call.kwarg("config")
            callbacks = call.kwarg("callbacks") or (config.get("callbacks") if isinstance(config, E.DictExpr) else None)
            if callbacks is not None and self._records(callbacks, ctx, call.line):
                return True  # LangChain callbacks=[...] / config={"callbacks": [...]}
            if isinstance(call.func, E.Attr) and call.func.attr == "setdefault" and _env_switch(call.arg(0)):
                return True
            manager = call.kwarg("callback_manager")  # LlamaIndex: ServiceContext.from_defaults(callback_manager=...)
            if manager is not None and self._manager_records(manager, ctx, call.line):
                return True
        for assign in fn.assigns:
            target = assign.target_expr
            if isinstance(target, E.Attr) and target.attr in LITELLM_CALLBACKS:
                if _qualified(self.project.resolve(target.base, ctx, assign.line)) == "litellm":
                    return True
            if isinstance(target, E.Attr) and target.attr in ("callback_manager", "global_handler"):
                return True  # llama_index Settings.callback_manager = CallbackManager([...])
            if isinstance(target, E.Subscript) and E.dotted(target.value) == "os.environ" and _env_switch(target.index):
                return True
        return False

    def _manager_records(self, manager, ctx: Ctx, line: int) -> bool:
        """A LlamaIndex `CallbackManager([handler, ...])` with a handler that records (not only displays)."""
        value = self.project.resolve(manager, ctx, line)
        if not (isinstance(value, Obj) and isinstance(value.ctor, E.Call) and value.cls.endswith("CallbackManager")):
            return False
        handlers = value.ctor.arg(0, "handlers")
        return handlers is not None and self._records(handlers, value.ctor_ctx, value.ctor.line)

    def _records(self, callbacks, ctx: Ctx, line: int) -> bool:
        """Do LangChain `callbacks` record anything, or only display tokens (Streamlit, stdout, a queue)?"""
        if isinstance(callbacks, E.Const):
            return False
        items = callbacks.elts if isinstance(callbacks, E.Seq) else (callbacks,)
        for item in items:
            value = self.project.resolve(item, ctx, line)
            name = value.cls if isinstance(value, Obj) else getattr(value, "qualname", "")  # Obj or a project class
            if not name or not (_root(name) == "streamlit" or DISPLAY_CALLBACK.search(name.rsplit(".", 1)[-1])):
                return True
        return False

    # per function
    def _observed_functions(self) -> set:
        direct = set()
        for idx, fn in self.project.functions():
            if self._observes(idx.path, fn):
                direct.add((idx.path, fn.qualname))
        seeds = set(direct)
        for node in list(self.graph.nodes):  # a helper that logs (`log_usage(response)`) observes its caller
            if any(callee in direct for callee in self.graph.successors(node)):
                seeds.add(node)
        return reachable_from(self.graph, seeds)

    def _observes(self, path: str, fn, depth: int = 0) -> bool:
        ctx = Ctx(path, fn.qualname)
        for site in fn.calls:
            if self._is_observing_call(site.call, ctx):
                return True
        for decorator in fn.decorators:
            value = self.project.resolve(decorator.func if isinstance(decorator, E.Call) else decorator, ctx)
            if _root(_qualified(value)) in OBSERVING_ROOTS:
                return True
            if isinstance(value, Func) and depth < 2 and self._function_family_observes(value, depth):
                return True  # a project decorator such as @timed or @log_llm_call
            if depth == 0 and self._wrapper_runs_observed(decorator, ctx):
                return True
        return False

    def _wrapper_runs_observed(self, decorator, ctx: Ctx) -> bool:
        """Whether the wrapper a project decorator puts in the function's place hands each call to code that logs:
        a registry's `@registry.register(...)` whose wrapper runs the function through an executor that records
        every execution (`return self.executor.execute(name, *args)`)."""
        applied = self.project.resolve(decorator, ctx)  # `@factory(...)`: what the factory returns; `@deco`: deco
        wrapper = self.project.returned_value(applied) if isinstance(applied, Func) else None
        if not isinstance(wrapper, Func) or self.project.function(wrapper) is None:
            return False
        node = (wrapper.path, wrapper.qualname)
        for path, qualname in [node, *(self.graph.successors(node) if node in self.graph else ())]:
            fn = self.project.function(Func(path, qualname))
            if fn is not None and self._observes(path, fn, 1):
                return True
        return False

    def _function_family_observes(self, func: Func, depth: int) -> bool:
        idx = self.project.indexes[func.path]
        prefix = func.qualname + ".<locals>."
        return any(
            self._observes(func.path, fn, depth + 1)
            for fn in idx.functions.values()
            if fn.qualname == func.qualname or fn.qualname.startswith(prefix)
        )

    def _is_observing_call(self, call, ctx) -> bool:
        func = call.func
        method = func.attr if isinstance(func, E.Attr) else getattr(func, "id", "")
        if method in CONFIGURING:
            return False
        value = self.project.resolve(func, ctx, call.line)
        if _root(_qualified(value)) in OBSERVING_ROOTS:
            return True
        if isinstance(func, E.Attr) and method in LOG_METHODS and (value is None or isinstance(value, (Inst, Obj))):
            owner = E.dotted(func.base) or ""
            return bool(LOGGER_NAME.match(owner.rsplit(".", 1)[-1]))  # self.logger.info(...), log.warning(...)
        return False


def _qualified(value) -> str:
    if isinstance(value, Ext):
        return value.name
    if isinstance(value, Obj):
        return f"{value.cls}.{value.path}" if value.path else value.cls
    return ""


def _root(name: str) -> str:
    return name.split(".", 1)[0]


_INSTRUMENTING = re.compile("|".join(fnmatch.translate(p) for p in INSTRUMENTING_CALLS))


def _instrumenting(name: str) -> bool:
    return bool(name) and _INSTRUMENTING.match(name) is not None


def _env_switch(expr) -> bool:
    return isinstance(expr, E.Const) and expr.value in TRACING_ENV
