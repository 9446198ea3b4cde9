"""hardcoded-api-key: see rules/LLM107-hardcoded-api-key.md."""

from __future__ import annotations

import re

from llmlint.index import KEY_PATTERN
from llmlint.rule import Rule

PLACEHOLDER = re.compile(r"(?i)^(?:empty|none|null|ollama|dummy|test|fake|placeholder|changeme|your[-_ ]?.*|<.*>|\$\{.*\}|sk-\.\.\..*)$")
MASKED = re.compile(r"(?i)(\.\.\.|x{4,}|\*{3,}|<|>|your|example|placeholder|replace|dummy|fake|\{|\})")
PROVIDERS = (("sk-ant-", "Anthropic"), ("sk-", "OpenAI"), ("AIza", "Google"), ("hf_", "Hugging Face"), ("gsk_", "Groq"))


def is_placeholder(value: str) -> bool:
    text = value.strip()
    if len(text) < 20 or PLACEHOLDER.match(text) or MASKED.search(text) or " " in text:
        return True
    body = text.split("-")[-1].split("_")[-1]
    return len(set(body)) <= 3  # sk-aaaaaaaa... / 000000...


def redact(value: str) -> str:
    text = value.strip()
    prefix = next((p for p, _ in PROVIDERS if text.startswith(p)), "")
    return f"{text[:len(prefix) + 2]}…({len(text)} chars)"


def provider_of(value: str, context: str) -> str:
    for prefix, provider in PROVIDERS:
        if value.strip().startswith(prefix):
            return provider
    return "provider"


class HardcodedApiKey(Rule):
    def check(self, analysis):
        for idx in analysis.project.indexes.values():
            seen = set()
            for string in idx.key_strings:
                key = (string.span.line, string.span.col)
                if key in seen or not self._is_key(string):
                    continue
                seen.add(key)
                provider = provider_of(string.value, string.context)
                where = f" given to `{string.context}`" if string.context else ""
                message = f"{provider} API key `{redact(string.value)}` written in source{where}"
                env = _env_name(provider)
                fix = f"read it from the environment (`os.environ[\"{env}\"]`) or a secrets manager, and revoke this key: it is in version control"
                yield self.report(analysis.location(idx.path, string.span), message, fix)

    def _is_key(self, string) -> bool:
        value = string.value.strip()
        if is_placeholder(value):
            return False
        if KEY_PATTERN.fullmatch(value) or KEY_PATTERN.fullmatch(value.removeprefix("Bearer ").strip()):
            return True
        # any long secret-looking literal given to an api_key parameter or assigned to an *_API_KEY name
        return bool(string.context) and re.fullmatch(r"[A-Za-z0-9_\-\.]{20,}", value) is not None


def _env_name(provider: str) -> str:
    return {
        "OpenAI": "OPENAI_API_KEY",
        "Anthropic": "ANTHROPIC_API_KEY",
        "Google": "GOOGLE_API_KEY",
        "Hugging Face": "HF_TOKEN",
        "Groq": "GROQ_API_KEY",
    }.get(provider, "API_KEY")
