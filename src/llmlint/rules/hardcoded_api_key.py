"""hardcoded-api-key: see rules/LLM107-hardcoded-api-key.md."""

from __future__ import annotations

from llmlint.ruleset.rule import Rule


class HardcodedApiKey(Rule):
    def check(self, analysis):
        # The index keeps only the literals that redact.is_key judged keys, each already redacted, with its provider:
        # a whole key is never in an index, a cache file or a message.
        for idx in analysis.project.indexes.values():
            seen = set()
            for string in idx.key_strings:
                key = (string.span.line, string.span.col)
                if key in seen:
                    continue
                seen.add(key)
                where = f" given to `{string.context}`" if string.context else ""
                message = f"{string.provider} API key `{string.value}` written in source{where}"
                env = _env_name(string.provider)
                fix = f"read it from the environment (`os.environ[\"{env}\"]`) or a secrets manager, and revoke this key: it is in version control"
                yield self.report(analysis.location(idx.path, string.span), message, fix)


def _env_name(provider: str) -> str:
    return {
        "OpenAI": "OPENAI_API_KEY",
        "Anthropic": "ANTHROPIC_API_KEY",
        "Google": "GOOGLE_API_KEY",
        "Hugging Face": "HF_TOKEN",
        "Groq": "GROQ_API_KEY",
    }.get(provider, "API_KEY")
