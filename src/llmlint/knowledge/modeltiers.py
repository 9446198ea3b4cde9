"""Model tiers (data/model_tiers.toml): is a model a flagship or a small, cheap one, and what to use instead."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from llmlint.engine._toml import toml

EXPENSIVE = "expensive"
CHEAP = "cheap"
# Provider prefixes that are not part of the model's name: Bedrock ids and cross-region profiles.
_VENDOR_PREFIX = re.compile(r"^(?:[a-z]{2,4}\.)?(?:anthropic|meta|mistral|amazon|cohere|ai21|deepseek|writer)\.")
# PydanticAI's "provider:model" names (`openai:gpt-4o-mini`, `google-gla:gemini-2.0-flash`; not Ollama's `llama3:8b`).
_PROVIDER_PREFIX = re.compile(
    r"^(?:openai|anthropic|google-gla|google-vertex|gemini|groq|mistral|cohere|bedrock|ollama|deepseek|openrouter|azure|"
    r"grok|together|fireworks|huggingface|litellm|gateway)(?:-responses|-chat)?:")


@dataclass(frozen=True)
class TierTable:
    patterns: tuple  # ((pattern, tier, rank), ...): rank breaks ties, project patterns first
    alternatives: tuple  # ((pattern, model), ...)

    def tier(self, model: str) -> str | None:
        """EXPENSIVE, CHEAP or None (not in the table)."""
        return _tier(self.patterns, normalise(model))

    def alternative(self, model: str) -> str | None:
        name = normalise(model)
        found = [(_specificity(p), m) for p, m in self.alternatives if fnmatch.fnmatchcase(name, p)]
        return max(found)[1] if found else None


@lru_cache(maxsize=1024)
def _tier(patterns: tuple, name: str) -> str | None:
    """The tier of the most specific pattern `name` matches (once per name: a project calls a few models many times)."""
    best = None
    for pattern, tier, rank in patterns:
        if fnmatch.fnmatchcase(name, pattern):
            key = (_specificity(pattern), rank)
            if best is None or key > best[0]:
                best = (key, tier)
    return best[1] if best else None


def normalise(model: str) -> str:
    name = _PROVIDER_PREFIX.sub("", model.strip().lower()).rsplit("/", 1)[-1]
    return _VENDOR_PREFIX.sub("", name)


def _specificity(pattern: str) -> int:
    return sum(1 for ch in pattern if ch not in "*?[]")


@lru_cache(maxsize=1)
def _builtin() -> dict:
    text = (resources.files("llmlint.knowledge") / "data" / "model_tiers.toml").read_text(encoding="utf-8")
    return toml.loads(text)


@lru_cache(maxsize=16)
def tier_table(extra_expensive: tuple = (), extra_cheap: tuple = ()) -> TierTable:
    """The built-in table extended with a project's patterns (which win ties against the built-in ones)."""
    data = _builtin()
    patterns = []
    for tier, builtin, extra in ((EXPENSIVE, data[EXPENSIVE], extra_expensive), (CHEAP, data[CHEAP], extra_cheap)):
        patterns += [(p.lower(), tier, 0) for p in builtin]
        patterns += [(p.lower(), tier, 1) for p in extra if isinstance(p, str)]
    return TierTable(tuple(patterns), tuple((p.lower(), m) for p, m in data.get("alternative", {}).items()))
