"""unhandled-model-error: see rules/LLM103-unhandled-model-error.md."""

from __future__ import annotations

from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.results.finding import Related
from llmlint.ruleset.rule import Rule, as_written

# The class that covers every error a family's calls raise (connection, timeout, HTTP status), by family key.
BASE_ERRORS = {
    "openai": "openai.APIError",
    "anthropic": "anthropic.APIError",
    "litellm": "openai.APIError",  # litellm maps provider errors onto the OpenAI SDK's classes
    "google-genai": "google.genai.errors.APIError",
    "google-generativeai": "google.api_core.exceptions.GoogleAPIError",
    "vertexai": "google.api_core.exceptions.GoogleAPIError",
    "bedrock": "botocore.exceptions.ClientError",
    "ollama": "ollama.ResponseError",
    "groq": "groq.APIError",
    "http-requests": "requests.RequestException",
    "http-httpx": "httpx.HTTPError",
    "http-aiohttp": "aiohttp.ClientError",
}
# SDKs sharing the OpenAI SDK's error classes: the transient ones worth a fallback.
TRANSIENT_SDKS = {"openai", "anthropic", "groq"}
TRANSIENT = ("RateLimitError", "APITimeoutError", "APIConnectionError", "InternalServerError")
LANGCHAIN_ERRORS = {"ChatOpenAI": "openai.APIError", "AzureChatOpenAI": "openai.APIError", "ChatAnthropic": "anthropic.APIError"}


class UnhandledModelError(Rule):
    needs = ("callgraph",)

    def check(self, analysis):
        handling = analysis.handling
        for call in analysis.model_calls:
            if call.site.handler_of is not None:
                continue  # a fallback inside an except clause: the degradation path itself
            if handling.is_covered(call.module.path, call.function, call.site):
                continue
            chain = handling.escape_path((call.module.path, call.function.qualname))
            if chain:
                yield self._finding(analysis, call, chain)

    def _finding(self, analysis, call, chain):
        entry_path, entry_name = chain[-1]
        entry = _describe(analysis, entry_path, entry_name, call.module.path)
        shown = as_written(call)
        # a try around the call whose handlers re-raise, or catch other errors, lets the provider's error out
        if call.site.tries:
            where = f"`{shown}` is in a try/except that lets its error out (re-raised or not caught)"
        else:
            where = f"`{shown}` is not in a try/except"
        if len(chain) == 1:
            message = f"{where} and nothing calls {entry}: a provider error (rate limit, timeout, outage) crashes it"
        else:
            through = " -> ".join(f"`{q}()`" for _, q in chain[:-1][:3]) + (" -> ..." if len(chain) > 4 else "")
            handled = f"{where}, and" if call.site.tries else f"`{shown}` has no error handling:"
            message = f"{handled} a provider error goes through {through} uncaught and crashes {entry}"
        error = _base_error(call)
        root = error.strip("`").split(".")[0]
        if root in TRANSIENT_SDKS:
            error += f" (or only the transient {', '.join(f'`{name}`' for name in TRANSIENT)})"
        fix = f"catch {error} near this call and fall back (cached answer, cheaper model)"
        related = []
        if entry_name != MODULE_SCOPE and len(chain) > 1:
            fn = analysis.project.indexes[entry_path].functions[entry_name]
            related.append(Related(analysis.location(entry_path, fn.span), "entry point the error escapes from"))
        return self.report(analysis.location(call.module.path, call.call), message, fix, related=related, api=call.api)


def _describe(analysis, path: str, qualname: str, here: str) -> str:
    name = analysis.display(path).rsplit("/", 1)[-1]
    if qualname == MODULE_SCOPE:
        return f"the module-level code of {name}"
    return f"`{qualname}()`" if path == here else f"`{qualname}()` in {name}"


def _base_error(call) -> str:
    if call.family.key in BASE_ERRORS:
        return f"`{BASE_ERRORS[call.family.key]}`"
    client = call.client
    for part in ([client] + list(client.parts)) if client is not None else ():
        name = getattr(part, "cls", "").rsplit(".", 1)[-1].removesuffix("()")
        if name in LANGCHAIN_ERRORS:
            return f"`{LANGCHAIN_ERRORS[name]}`"
    return "the SDK's base error class (or `Exception`)"
