"""Domain knowledge: what model calls, prompts, retrieval, retry policies, entry points, error handling,
observability and model tiers look like in code; each built on the linker and the value-flow core."""
