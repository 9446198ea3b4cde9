"""What counts as a model call: the SDK table (data/providers.toml) and matching resolved callees against it."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from llmlint.engine._toml import toml

# Runnable wrappers that return another runnable around the same model (LangChain), or a client with other options.
WRAPPER_METHODS = frozenset(
    {"bind", "bind_tools", "bind_functions", "with_structured_output", "with_retry", "with_fallbacks", "with_config",
     "with_options", "with_raw_response", "with_streaming_response", "configurable_fields", "configurable_alternatives"}
)
# Properties that return the same resource with another response wrapper (`client.messages.with_raw_response.create`).
RESPONSE_WRAPPERS = frozenset({"with_raw_response", "with_streaming_response"})
# Calls that run the function they are given in a thread and hand back its result (or raise its error):
# qualified name -> (position of the function among the arguments, whether the keyword arguments go to it too).
THREAD_HANDOFFS = {
    "asyncio.to_thread": (0, True), "starlette.concurrency.run_in_threadpool": (0, True),
    "fastapi.concurrency.run_in_threadpool": (0, True), "anyio.to_thread.run_sync": (0, False),
}
UNBOUNDED = float("inf")


@dataclass(frozen=True)
class Family:
    key: str
    provider: str
    classes: tuple[str, ...]
    not_classes: tuple[str, ...]  # exceptions to `classes` (a glob that also names non-model classes)
    async_classes: tuple[str, ...]
    methods: dict
    functions: dict
    default_timeout: float | None  # None: not known; UNBOUNDED: waits forever
    timeout_args: tuple[str, ...]
    max_tokens_args: tuple[str, ...]
    model_args: tuple[str, ...]
    retry_args: tuple[str, ...]
    settings_args: tuple[str, ...]
    requires_max_tokens: bool
    is_chain: bool
    model_behind: bool  # a chain, agent or engine: judged by the model it was built from
    is_http: bool
    is_langchain: bool
    async_functions: tuple[str, ...]
    async_methods: tuple[str, ...]  # methods that return an awaitable or an async stream (`agent.run`)
    model_positional: bool  # the constructor's first positional argument is the model
    model_object_settings: bool  # a model given as an object brings settings the analysis does not open
    traced: bool  # the SDK traces every run by default
    capped_models: tuple[str, ...]  # model-name prefixes whose requests the library caps by default (LLM102 does not apply)
    agent_arg: str  # a runner function's argument that is the agent whose constructor holds model and settings
    require_service: str | None
    cap_hint: str  # how to write an output cap for this family, for fix messages
    timeout_hint: str  # how to write a 30-second timeout for this family, for fix messages ("": its keyword `=30`)


@dataclass(frozen=True)
class Match:
    family: Family
    api: str
    cls: str | None  # the matched client class, for instance calls


def _family(key: str, raw: dict, all_raw: dict) -> Family:
    methods = raw.get("methods", {})
    if isinstance(methods, str):
        methods = all_raw[methods].get("methods", {})
    timeout = raw.get("default-timeout")
    return Family(
        key=key,
        provider=raw["provider"],
        classes=tuple(raw.get("classes", ())),
        not_classes=tuple(raw.get("not-classes", ())),
        async_classes=tuple(raw.get("async-classes", ())),
        methods=dict(methods),
        functions=dict(raw.get("functions", {})),
        default_timeout=UNBOUNDED if timeout == "none" else (float(timeout) if timeout is not None else None),
        timeout_args=tuple(raw.get("timeout-args", ())),
        max_tokens_args=tuple(raw.get("max-tokens-args", ())),
        model_args=tuple(raw.get("model-args", ())),
        retry_args=tuple(raw.get("retry-args", ())),
        settings_args=tuple(raw.get("settings-args", ())),
        requires_max_tokens=bool(raw.get("requires-max-tokens", False)),
        is_chain=bool(raw.get("chain", False)),
        model_behind=bool(raw.get("model-behind", False)),
        is_http=bool(raw.get("http", False)),
        is_langchain=bool(raw.get("invoke-methods", False)) or key == "langchain-chain",
        async_functions=tuple(raw.get("async-functions", ())),
        async_methods=tuple(raw.get("async-methods", ())),
        model_positional=bool(raw.get("model-positional", False)),
        model_object_settings=bool(raw.get("model-object-settings", False)),
        traced=bool(raw.get("traced", False)),
        agent_arg=raw.get("agent-arg", ""),
        capped_models=tuple(raw.get("capped-models", ())),
        require_service=raw.get("require-service"),
        cap_hint=raw.get("cap-hint") or (f"{raw['max-tokens-args'][0]}=512" if raw.get("max-tokens-args") else ""),
        timeout_hint=raw.get("timeout-hint", ""),
    )


@lru_cache(maxsize=1)
def load_table() -> tuple[tuple[Family, ...], tuple[str, ...]]:
    text = (resources.files("llmlint.knowledge") / "data" / "providers.toml").read_text(encoding="utf-8")
    data = toml.loads(text)
    families = tuple(_family(key, raw, data["family"]) for key, raw in data["family"].items())
    return families, tuple(data["endpoints"]["markers"])


def class_matches(spec: str, qualified: str) -> bool:
    """`spec` is "rootglob:Name"; `qualified` a dotted name (maybe with `()` on its last part)."""
    root, _, name = spec.partition(":")
    parts = [p.removesuffix("()") for p in qualified.split(".")]
    if not fnmatch.fnmatchcase(parts[0], root):
        return False
    if name == "*" or name in parts[1:]:
        return True
    return any(c in name for c in "*?[") and any(fnmatch.fnmatchcase(part, name) for part in parts[1:])


def is_family_class(family: Family, qualified: str) -> bool:
    return any(class_matches(spec, qualified) for spec in family.classes) and not any(
        class_matches(spec, qualified) for spec in family.not_classes)


def family_of_class(qualified: str) -> Family | None:
    for family in load_table()[0]:
        if is_family_class(family, qualified):
            return family
    return None


def is_async_class(family: Family, qualified: str) -> bool:
    return any(class_matches(spec, qualified) for spec in family.async_classes)


def normalise_path(path: str) -> str:
    """Drop runnable/option wrappers: `with_structured_output().invoke` -> `invoke`."""
    parts = path.split(".") if path else []
    kept = [p for p in parts if p not in RESPONSE_WRAPPERS and (p.removesuffix("()") not in WRAPPER_METHODS or not p.endswith("()"))]
    return ".".join(kept)


def match_method(qualified: str, path: str) -> Match | None:
    """A call of `path` on an instance of `qualified` (`client.chat.completions.create`)."""
    method = normalise_path(path)
    for family in load_table()[0]:
        if method in family.methods and is_family_class(family, qualified):
            api = family.methods[method].replace("{class}", qualified.split(".")[-1].removesuffix("()"))
            return Match(family, api, qualified)
    return None


def match_function(qualified: str) -> Match | None:
    for family in load_table()[0]:
        api = family.functions.get(qualified)
        if api is not None:
            return Match(family, api, None)
    return None


def is_model_endpoint(url_text: str) -> bool:
    """The URL names a generation endpoint: a marker not followed by a dot (Slack's `/api/chat.postMessage` is not
    Ollama's `/api/chat`)."""
    for marker in load_table()[1]:
        at = url_text.find(marker)
        while at >= 0:
            if url_text[at + len(marker):at + len(marker) + 1] != ".":
                return True
            at = url_text.find(marker, at + 1)
    return False


# Where a raw request's JSON body takes the output cap, by the endpoint the URL names. Anthropic's /v1/messages is
# not here: the API requires max_tokens, so a request without one fails at once.
HTTP_OUTPUT_CAPS = (
    (("/api/generate", "/api/chat"), (("options", "num_predict"),)),  # Ollama
    (("/chat/completions",), (("max_tokens",), ("max_completion_tokens",))),
    (("/v1/completions",), (("max_tokens",),)),
    (("/v1/responses",), (("max_output_tokens",),)),
    ((":generateContent", ":streamGenerateContent"),
     (("generationConfig", "maxOutputTokens"), ("generation_config", "max_output_tokens"))),  # Gemini REST
)


def http_output_caps(url_text: str) -> tuple:
    """The key paths that cap the output of a request to `url_text`, or () when the endpoint is not known here."""
    for markers, caps in HTTP_OUTPUT_CAPS:
        if any(marker in url_text for marker in markers):
            return caps
    return ()


def is_generation_api(api: str) -> bool:
    """Generation calls produce text whose length can be capped (LLM102); query engines and chains are judged by their model."""
    return not api.startswith(("llama_index.query_engine", "llama_index.chat_engine", "http."))
