"""Decide cheaply, from bytes, which files can matter, so that only those are parsed with libcst.

A file matters when it imports a model SDK, an LLM framework, a retrieval library or a retry library, posts to
a model endpoint, or holds something that looks like a provider key; and so does every project module that
imports such a module (transitively), and every project module those import (prompts, settings, helpers).
Everything else cannot change a finding: it neither reaches nor is reached by a model call.
"""

from __future__ import annotations

import re

from llmlint.index import KEY_PATTERN, resolve_relative

SDK_ROOTS = frozenset(
    """openai anthropic litellm llama_index vertexai cohere mistralai boto3 ollama huggingface_hub groq together tenacity
    backoff chromadb pinecone qdrant_client weaviate pymilvus faiss elasticsearch opensearchpy pgvector lancedb instructor
    dspy semantic_kernel guidance haystack transformers openlit langfuse langsmith logfire weave mlflow traceloop
    opentelemetry""".split()
)
TRACING_ROOTS = frozenset("openlit langfuse langsmith logfire weave mlflow traceloop opentelemetry".split())
HTTP_ROOTS = frozenset({"requests", "httpx", "aiohttp"})
# Patterns start with a literal newline (the data gets one prepended) so the regex engine can skip ahead fast.
_IMPORT_LINE = re.compile(rb"\n[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([^#\n]*)|import[ \t]+([^#\n]+))")
_ENDPOINT = re.compile(rb"/chat/completions|/v1/completions|/v1/messages|/v1/responses|/api/generate|/api/chat|:(?:stream)?[gG]enerateContent")
_KEY = re.compile(KEY_PATTERN.pattern.encode())
_KEY_PREFIXES = (b"sk-", b"AIza", b"hf_", b"gsk_")


def is_sdk_module(module: str) -> bool:
    """A module of a model SDK, LLM framework, retrieval, retry or tracing library (or an HTTP client)."""
    root = module.split(".", 1)[0]
    return (root in SDK_ROOTS or root in HTTP_ROOTS or root.startswith("langchain")
            or module.startswith(("google.generativeai", "google.genai")))


def scan(data: bytes, module: str, is_package: bool) -> tuple[bool, set[str]]:
    """(whether the file has markers of its own, the module names it may import: a superset)."""
    imported: set[str] = set()
    for match in _IMPORT_LINE.finditer(b"\n" + data):
        if match.group(3) is not None:
            for part in match.group(3).decode("utf-8", "replace").split(","):
                name = part.strip().split(" as ")[0].strip()
                if name:
                    imported.add(name)
            continue
        source = match.group(1).decode("utf-8", "replace")
        level = len(source) - len(source.lstrip("."))
        base = resolve_relative(module, is_package, level, source.lstrip("."))
        if base:
            imported.add(base)
        for part in match.group(2).decode("utf-8", "replace").replace(")", "").split(","):
            name = part.strip().split(" as ")[0].strip()
            if name and name != "*":
                imported.add(f"{base}.{name}" if base else name)
    own_root = module.split(".", 1)[0]
    # an SDK's own modules importing each other are not a use of the SDK (relative imports resolve to its name)
    in_sdk = own_root in SDK_ROOTS  # an SDK's own sources: only its use of another model SDK marks it
    marked = any(is_sdk_module(name) and name.split(".", 1)[0] not in HTTP_ROOTS and name.split(".", 1)[0] != own_root
                 and not (in_sdk and name.split(".", 1)[0] in TRACING_ROOTS) for name in imported)
    if not marked and any(prefix in data for prefix in _KEY_PREFIXES):
        marked = _KEY.search(data) is not None
    if not marked and not in_sdk and any(name.split(".", 1)[0] in HTTP_ROOTS for name in imported):
        # (an SDK's own transport code posting to its endpoints is the SDK, not a raw HTTP model call)
        marked = _ENDPOINT.search(data) is not None
    return marked, imported



def relevant_closure(entries) -> set:
    """From (file, marked, imported modules) triples: the marked files, every project module that imports one of
    them (transitively), and every project module those import (transitively)."""
    by_module: dict[str, list] = {}
    for f, _, _ in entries:
        by_module.setdefault(f.module, []).append(f)
    relevant = {f for f, marked, _ in entries if marked}
    if not relevant:
        return relevant
    imports = {f: {m for m in imported if m in by_module} for f, _, imported in entries}
    importers: dict[str, set] = {}
    for f, modules in imports.items():
        for m in modules:
            importers.setdefault(m, set()).add(f)
    stack = list(relevant)  # upward: modules that import a relevant module
    while stack:
        f = stack.pop()
        for importer in importers.get(f.module, ()):
            if importer not in relevant:
                relevant.add(importer)
                stack.append(importer)
    stack = list(relevant)  # downward: project modules the relevant ones use (an SDK's sources stay the SDK's)
    while stack:
        f = stack.pop()
        for m in imports.get(f, ()):
            if is_sdk_module(m) and m.split(".", 1)[0] != f.module.split(".", 1)[0]:
                continue
            for dep in by_module.get(m, ()):
                if dep not in relevant:
                    relevant.add(dep)
                    stack.append(dep)
    return relevant
