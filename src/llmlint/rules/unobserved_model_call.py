"""unobserved-model-call: see rules/LLM106-unobserved-model-call.md."""

from __future__ import annotations

import os

from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.knowledge.handling import in_test_module
from llmlint.ruleset.rule import Rule, as_written

# Two concrete ways to instrument every call of a provider once, at start-up.
INSTRUMENT_HINTS = {
    "openai": "`OpenAIInstrumentor().instrument()` (opentelemetry-instrumentation-openai) or `logfire.instrument_openai()`",
    "anthropic": "`AnthropicInstrumentor().instrument()` (opentelemetry-instrumentation-anthropic) or `logfire.instrument_anthropic()`",
    "litellm": "`litellm.callbacks = [\"otel\"]` or `litellm.success_callback = [\"langfuse\"]`",
    "langchain": "`LangchainInstrumentor().instrument()` (opentelemetry-instrumentation-langchain) or `callbacks=[CallbackHandler()]` from langfuse",
    "llama_index": "`LlamaIndexInstrumentor().instrument()` (openinference-instrumentation-llama-index) or `set_global_handler(\"langfuse\")`",
    "pydantic_ai": "`logfire.configure(); logfire.instrument_pydantic_ai()` or `Agent.instrument_all()`",
    "haystack": "`haystack.tracing.auto_enable_tracing()` with OpenTelemetry, or a `LangfuseConnector` in the pipeline",
}
DEFAULT_HINT = "`Traceloop.init()` (OpenLLMetry) or `openlit.init()`"


class UnobservedModelCall(Rule):
    needs = ("callgraph",)

    def check(self, analysis):
        observability = analysis.observability
        by_project: dict = {}
        for call in analysis.model_calls:
            root = analysis.project.project_root(call.module.path)
            if observability.is_instrumented(call.module.path) or in_test_module(analysis.project, call.module.path):
                continue
            by_project.setdefault(root, []).append(call)
        for root, calls in by_project.items():
            unobserved = [c for c in calls if not c.family.traced and not observability.is_observed(c.module.path, c.function.qualname)]
            if not unobserved:
                continue
            # The project-wide fact is the same for every finding of the project: it travels as the findings' `note`,
            # which the reporters show once per project (a summary line, as ruff and semgrep keep each finding's
            # message to the finding itself), whichever of the findings are suppressed or in a baseline.
            note = (
                f"{_project_name(analysis, unobserved[0], root)} has no LLM instrumentation at all: {len(unobserved)} of its "
                f"{len(calls)} model call{'s' if len(calls) != 1 else ''} {'are' if len(unobserved) != 1 else 'is'} unobserved"
            )
            for call in unobserved:
                where = "module-level code" if call.function.qualname == MODULE_SCOPE else f"`{call.function.qualname}()` or its callers"
                model = f" ({call.model})" if call.model else ""
                message = f"`{as_written(call)}`{model} is not observed: nothing logs, traces or meters it in {where}"
                hint = INSTRUMENT_HINTS.get(call.family.provider, DEFAULT_HINT)
                fix = f"instrument every call once, at start-up: {hint}"
                yield self.report(analysis.location(call.module.path, call.call), message, fix, api=call.api, note=note)


def _relative(path: str, root: str) -> str:
    return os.path.relpath(path, root) if root else path


def _project_name(analysis, call, root: str) -> str:
    """`the project in app/` as the user sees its folder, or `this project` when it is the checked folder."""
    shown = analysis.display(call.module.path)
    inner = _relative(call.module.path, root).replace(os.sep, "/")
    folder = shown[: -len(inner)].rstrip("/") if root and shown.endswith(inner) else ""
    return f"the project in `{folder}`" if folder and folder != "." else "this project"
