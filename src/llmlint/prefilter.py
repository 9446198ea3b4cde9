"""Decide cheaply, from bytes, which files can matter, so that only those are parsed with libcst.

A file matters when it imports a model SDK, an LLM framework, a retrieval library or a retry library, posts to
a model endpoint, or holds something that looks like a provider key; and so does every project module that
imports such a module (transitively), and every project module those import (prompts, settings, helpers).
Everything else cannot change a finding: it neither reaches nor is reached by a model call.
"""

from __future__ import annotations

import re

from llmlint.index import KEY_PATTERN, resolve_relative

_SDK_ROOTS = (
    r"openai|anthropic|langchain\w*|llama_index|litellm|google\.generativeai|google\.genai|vertexai|cohere|mistralai"
    r"|boto3|ollama|huggingface_hub|groq|together|tenacity|backoff|chromadb|pinecone|qdrant_client|weaviate|pymilvus"
    r"|faiss|elasticsearch|opensearchpy|pgvector|lancedb|instructor|dspy|semantic_kernel|guidance|haystack|transformers"
    r"|openlit|langfuse|langsmith|logfire|weave|mlflow|traceloop|opentelemetry"
)
_IMPORTS_SDK = re.compile(
    rb"^[ \t]*(?:from[ \t]+(?:" + _SDK_ROOTS.encode() + rb")\b|import[ \t]+[^\n#]*\b(?:" + _SDK_ROOTS.encode() + rb")\b"
    rb"|from[ \t]+google[ \t]+import[ \t]+genai)",
    re.M,
)
_HTTP_CLIENT = re.compile(rb"^[ \t]*(?:import|from)[ \t]+(?:requests|httpx|aiohttp)\b", re.M)
_ENDPOINT = re.compile(rb"/v1/(?:chat/)?completions|/v1/messages|/v1/responses|/api/generate|/api/chat|api\.openai\.com|api\.anthropic\.com|generativelanguage\.googleapis\.com")
_KEY = re.compile(KEY_PATTERN.pattern.encode())
_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([^#\n]*)|import[ \t]+([^#\n]+))", re.M)


def has_markers(data: bytes) -> bool:
    if _IMPORTS_SDK.search(data) or _KEY.search(data):
        return True
    return bool(_HTTP_CLIENT.search(data) and _ENDPOINT.search(data))


def imported_modules(data: bytes, module: str, is_package: bool) -> set[str]:
    """Module names a file may import (a superset: `from a import b` gives `a` and `a.b`)."""
    found = set()
    for match in _IMPORT_LINE.finditer(data):
        if match.group(3) is not None:
            for part in match.group(3).decode("utf-8", "replace").split(","):
                name = part.strip().split(" as ")[0].strip()
                if name:
                    found.add(name)
            continue
        source = match.group(1).decode("utf-8", "replace")
        level = len(source) - len(source.lstrip("."))
        base = resolve_relative(module, is_package, level, source.lstrip("."))
        if base:
            found.add(base)
        for part in match.group(2).decode("utf-8", "replace").replace(")", "").split(","):
            name = part.strip().split(" as ")[0].strip()
            if name and name != "*":
                found.add(f"{base}.{name}" if base else name)
    return found


def select_relevant(files: list, data_of) -> set:
    """The subset of `files` (objects with .path, .module, .is_package) worth parsing.

    `data_of(file)` returns the file's bytes (or None when unreadable)."""
    by_module: dict[str, list] = {}
    for f in files:
        by_module.setdefault(f.module, []).append(f)
    imports: dict = {}
    relevant = set()
    for f in files:
        data = data_of(f)
        if data is None:
            relevant.add(f)  # let the reader report it
            continue
        if has_markers(data):
            relevant.add(f)
        imports[f] = {m for m in imported_modules(data, f.module, f.is_package) if m in by_module}
    importers: dict[str, set] = {}
    for f, modules in imports.items():
        for m in modules:
            importers.setdefault(m, set()).add(f)
    # upward: modules that import a relevant module
    stack = list(relevant)
    while stack:
        f = stack.pop()
        for importer in importers.get(f.module, ()):
            if importer not in relevant:
                relevant.add(importer)
                stack.append(importer)
    # downward: project modules the relevant ones use
    stack = list(relevant)
    while stack:
        f = stack.pop()
        for m in imports.get(f, ()):
            for dep in by_module.get(m, ()):
                if dep not in relevant:
                    relevant.add(dep)
                    stack.append(dep)
    return relevant
