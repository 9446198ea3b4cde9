"""Decide cheaply, from bytes, which files can matter, so that only those are parsed with libcst.

A file matters when it imports a model SDK, an LLM framework, a retrieval library or a retry library, posts to
a model endpoint, or holds something that looks like a provider key; and so does every project module that
imports such a module (transitively), and every project module those import (prompts, settings, helpers).
Everything else cannot change a finding: it neither reaches nor is reached by a model call.
"""

from __future__ import annotations

import builtins
import re

from llmlint.engine.moduleindex import resolve_relative
from llmlint.engine.redact import KEY_PATTERN
from llmlint.link.sourceroots import ModuleSuffixes

SDK_ROOTS = frozenset(
    """openai anthropic litellm llama_index vertexai cohere mistralai boto3 ollama huggingface_hub groq together tenacity
    backoff chromadb pinecone qdrant_client weaviate pymilvus faiss elasticsearch opensearchpy pgvector lancedb instructor
    dspy semantic_kernel guidance haystack transformers openlit langfuse langsmith logfire weave mlflow traceloop
    opentelemetry pydantic_ai zhipuai volcenginesdkarkruntime dashscope crewai agno""".split()
)
# The OpenAI Agents SDK's package is `agents`, a name many projects give their own package: its import is not an SDK
# (a project's `agents/` must still be linked), but its runner marks the file.
AGENTS_SDK_RUNNER = "agents.Runner"
TRACING_ROOTS = frozenset("openlit langfuse langsmith logfire weave mlflow traceloop opentelemetry".split())
HTTP_ROOTS = frozenset({"requests", "httpx", "aiohttp"})
# Patterns start with a literal newline (the data gets one prepended) so the regex engine can skip ahead fast.
# (a parenthesised name list may span lines and hold comments: `from agents import (\n    Agent,  # x\n    Runner,\n)`)
_IMPORT_LINE = re.compile(
    rb"\n[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)?|((?:[^#\n\\]|\\\n|\\)*))|import[ \t]+([^#\n]+))")
_COMMENT = re.compile(rb"#[^\n]*")
_ENDPOINT = re.compile(rb"/chat/completions|/v1/completions|/v1/messages|/v1/responses|/api/generate|/api/chat|:(?:stream)?[gG]enerateContent")
_KEY = re.compile(KEY_PATTERN.pattern.encode())
# a JSON body naming a model and what to send it (`{"model": ..., "messages": [...]}`), the URL known only at run time
_MODEL_BODY = re.compile(rb"""["']model["']\s*:(?s:.){0,400}?["'](?:messages|prompt|contents)["']\s*:|["'](?:messages|prompt|contents)["']\s*:(?s:.){0,400}?["']model["']\s*:""")
_IMPORT_MODULE = re.compile(rb"""import_module\(\s*["']([\w.]+)["']""")
_KEY_PREFIXES = (b"sk-", b"AIza", b"hf_", b"gsk_")


def is_sdk_module(module: str) -> bool:
    """A module of a model SDK, LLM framework, retrieval, retry or tracing library (or an HTTP client)."""
    root = module.split(".", 1)[0]
    return (root in SDK_ROOTS or root in HTTP_ROOTS or root.startswith("langchain")
            or module.startswith(("google.generativeai", "google.genai")))


# Names a module may use without binding them, put into its namespace at run time (a plugin registry exec'ing a
# registered function with its dependencies): an SDK used as `litellm.completion(...)` with no import, and names
# called as `gpt_call(prompt)` that nothing in the file binds (project.Project._injected resolves both).
INJECTABLE_SDKS = ("openai", "anthropic", "litellm", "cohere", "mistralai", "ollama", "groq")
_FREE_SDK = re.compile(rb"(?<![\w.])(" + "|".join(INJECTABLE_SDKS).encode() + rb")\.[A-Za-z_]")
# Registries inject names into modules whose functions they register, with a decorator call (`@registry.tool(...)`,
# `@func.register_function(dependencies=[...])`): only such modules are searched for names they call but never bind.
_DECORATOR_CALL = re.compile(rb"\n[ \t]*@[\w.]+\(")
_CALLED = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)[ \t]*\(")
_BOUND = re.compile(rb"\b(?:def|class|as|import)[ \t]+([A-Za-z_]\w*)|\b([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)")
BUILTIN_NAMES = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__", "__builtins__"}
_NEVER_INJECTED = BUILTIN_NAMES | frozenset(
    "if elif while for in not and or return yield await lambda print assert del with except raise super".split())
_TOP_LEVEL_DEF = re.compile(rb"\n(?:async[ \t]+)?def[ \t]+(\w+)")
_DEFINED = re.compile(rb"\n(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)|\n(\w+)[ \t]*(?::[^=\n]*)?=(?!=)")


def scan(data: bytes, module: str, is_package: bool) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """(whether the file has markers of its own, what it imports, the names a package __init__ defines itself).

    What it imports is a superset, each entry `module` (an `import module`, or `from package import module`)
    or `module:name` (`from module import name`, when `module.name` is not a module of the project: the
    closure decides). Only package __init__ modules get their defined names (top-level def, class, assignment)."""
    if b"\r" in data:  # lines ended by CR LF or a lone CR (old Mac files) are lines too
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    imported: set[str] = set()
    edges: set[str] = set()
    for match in _IMPORT_LINE.finditer(b"\n" + data):
        if match.group(4) is not None:
            for part in match.group(4).decode("utf-8", "replace").split(","):
                name = part.strip().split(" as ")[0].strip()
                if name:
                    imported.add(name)
                    edges.add(name)
            continue
        source = match.group(1).decode("utf-8", "replace")
        level = len(source) - len(source.lstrip("."))
        base = resolve_relative(module, is_package, level, source.lstrip("."))
        if base:
            imported.add(base)
        names = match.group(2) if match.group(2) is not None else match.group(3)
        for part in _COMMENT.sub(b"", names).decode("utf-8", "replace").replace("\\", " ").split(","):
            name = part.strip().split(" as ")[0].strip()
            if name:
                if name != "*":
                    imported.add(f"{base}.{name}" if base else name)
                if base:
                    edges.add(f"{base}:{name}")
    if b"import_module" in data:  # a deferred import: importlib.import_module("litellm")
        for match in _IMPORT_MODULE.finditer(data):
            imported.add(match.group(1).decode("utf-8", "replace"))
    own_root = module.split(".", 1)[0]
    # an SDK's own modules importing each other are not a use of the SDK (relative imports resolve to its name)
    in_sdk = own_root in SDK_ROOTS  # an SDK's own sources: only its use of another model SDK marks it
    marked = any(is_sdk_module(name) and name.split(".", 1)[0] not in HTTP_ROOTS and name.split(".", 1)[0] != own_root
                 and not (in_sdk and name.split(".", 1)[0] in TRACING_ROOTS) for name in imported)
    if not marked and own_root != "agents" and (AGENTS_SDK_RUNNER in imported or AGENTS_SDK_RUNNER.encode() in data):
        marked = True
    if not marked and any(prefix in data for prefix in _KEY_PREFIXES):
        marked = _KEY.search(data) is not None
    if not marked and not in_sdk and any(name.split(".", 1)[0] in HTTP_ROOTS for name in imported):
        # (an SDK's own transport code posting to its endpoints is the SDK, not a raw HTTP model call)
        marked = _ENDPOINT.search(data) is not None or _MODEL_BODY.search(data) is not None
    if not marked and not in_sdk and any(b"%s." % sdk.encode() in data for sdk in INJECTABLE_SDKS):
        marked = _FREE_SDK.search(data) is not None  # (an SDK the file imported would have marked it already)
    defined: tuple[str, ...] = ()
    if is_package:
        defined = tuple(sorted({(m.group(1) or m.group(2)).decode() for m in _DEFINED.finditer(b"\n" + data)}))
    elif marked:  # the functions a registry could inject elsewhere
        defined = tuple(sorted({m.group(1).decode() for m in _TOP_LEVEL_DEF.finditer(b"\n" + data)}))
    if not marked and not in_sdk and _DECORATOR_CALL.search(data) is not None:  # a module registering its functions
        edges |= {f"?{name}" for name in _free_calls(data, imported)}
    return marked, tuple(sorted(edges)), defined


def _free_calls(data: bytes, imported: set) -> set:
    """The names the file calls as `name(...)` and never binds (roughly: any `name =`, `def name`, `class name`,
    `as name` or import binds it; a parameter does not, so the set is a superset), builtins aside."""
    called = {m.group(1) for m in _CALLED.finditer(data)}
    if not called:
        return set()
    free = called - {m.group(1) or m.group(2) for m in _BOUND.finditer(data)}
    if not free:
        return set()
    imported_names = {entry.rsplit(".", 1)[-1] for entry in imported}
    return {name for name in (n.decode() for n in free) if name not in _NEVER_INJECTED and name not in imported_names}


def relevant_closure(entries) -> set:
    """From (file, marked, imports, defined names) of every file (as `scan` gives them): the marked files, every
    project module that imports one of them (transitively), and every project module those import (transitively).

    Two refinements keep the closure to what can matter:
    - importing a name from a package whose __init__ is relevant only because it re-exports something from a
      relevant module counts only when the name is one of those re-exports or defined by the __init__ itself
      (`from anthropic import BaseModel` does not reach `anthropic.lib.bedrock` through `anthropic/__init__.py`);
    - a model SDK's own sources are the SDK: the closure does not follow them down into the rest of the SDK
      (the implementation of anthropic's client is not a project's code), only into other project modules."""
    by_module: dict[str, list] = {}
    for f, _, _, _ in entries:
        by_module.setdefault(f.module, []).append(f)
    marked = {f for f, is_marked, _, _ in entries if is_marked}
    if not marked:
        return set()
    defined = {f: set(names) for f, _, _, names in entries if f.is_package}
    uses: dict = {}  # file -> [(module, name or None)]: what it takes from which project module
    importers: dict[str, list] = {}  # module -> [(importing file, name or None)]
    suffixes = ModuleSuffixes(by_module, ((f.module, f.path) for files in by_module.values() for f in files))
    injectable = _injectable_functions(entries)
    for f, _, imports, _ in entries:
        found = []
        for entry in imports:
            if entry[0] == "?":  # a name called but never bound: the one marked module defining it may be injected
                definer = injectable.get(entry[1:])
                if definer is not None and definer is not f:
                    found.append((definer.module, entry[1:]))
                continue
            module, _, name = entry.partition(":")
            if name and f"{module}.{name}" in by_module:
                module, name = f"{module}.{name}", ""
            if module not in by_module and not is_sdk_module(module):
                module = suffixes.unique(module) or module  # imported against a source root below the checked folder
            if module in by_module:
                found.append((module, name or None))
        uses[f] = found
        for module, name in found:
            importers.setdefault(module, []).append((f, name))
    relevant = _Upward(by_module, marked, defined, uses, importers).closure()
    stack = list(relevant)  # downward: project modules the relevant ones use (an SDK's sources stay the SDK's)
    while stack:
        f = stack.pop()
        own_root = f.module.split(".", 1)[0]
        in_sdk = is_sdk_module(f.module)
        for module, _ in uses[f]:
            if is_sdk_module(module) and (in_sdk or module.split(".", 1)[0] != own_root):
                continue
            for dep in by_module.get(module, ()):
                if dep not in relevant:
                    relevant.add(dep)
                    stack.append(dep)
    return relevant


def called_free(entries) -> set:
    """The names the files of `entries` (as for relevant_closure) call without binding them."""
    return {entry[1:] for _, _, imports, _ in entries for entry in imports if entry[:1] == "?"}


def same_closure(old: tuple, new: tuple, called: set) -> bool:
    """Whether a module (not a package) whose scan goes from `old` to `new` leaves relevant_closure's answer as it
    was, given `called` (called_free of every file): only the top-level functions a marked module defines changed,
    and no file calls one of those added or removed without binding it (that is all those names are for:
    _injectable_functions)."""
    return old[0] == new[0] and old[1] == new[1] and not (set(old[2]) ^ set(new[2])) & called


def _injectable_functions(entries) -> dict:
    """Top-level function name -> the marked module defining it, for the names exactly one marked module defines."""
    definers: dict = {}
    for f, is_marked, _, names in entries:
        if is_marked and not f.is_package:
            for name in names:
                definers[name] = f if name not in definers else None
    return {name: f for name, f in definers.items() if f is not None}


class _Upward:
    """The upward half of the closure: modules that take something relevant from a relevant module."""

    def __init__(self, by_module: dict, marked: set, defined: dict, uses: dict, importers: dict):
        self.by_module, self.marked, self.defined, self.uses, self.importers = by_module, marked, defined, uses, importers
        self.relevant = set(marked)
        self.exported: dict = {}  # relevant package __init__ -> names it gives from relevant modules, or None for any
        self.stack = list(marked)  # modules that became relevant and whose importers are still to be looked at

    def closure(self) -> set:
        while self.stack:
            target = self.stack.pop()
            self._forget_reexports(target)  # what the packages importing `target` re-export grew
            for importer, name in self.importers.get(target.module, ()):
                self._reach(importer, target, name)
            for importer, _ in self.importers.get(target.module, ()):  # a package re-exporting `target` now gives more
                if importer.is_package and importer in self.relevant:
                    for outer, name in self.importers.get(importer.module, ()):
                        self._reach(outer, importer, name)
        return self.relevant

    def _reach(self, importer, target, name) -> None:
        if importer not in self.relevant and self._takes_relevant(target, name):
            self.relevant.add(importer)
            self.stack.append(importer)

    def _takes_relevant(self, target, name) -> bool:
        if name is None or name == "*" or not target.is_package or target in self.marked:
            return True
        names = self.exported.get(target, False)
        if names is False:
            names = self.exported[target] = self._reexports(target)
        return names is None or name in names

    def _reexports(self, package, seen=()) -> set | None:
        names = set(self.defined.get(package, ()))
        for module, name in self.uses[package]:
            if not any(dep in self.relevant for dep in self.by_module[module]):
                continue
            if name is None:
                names.add(module.rsplit(".", 1)[-1])
            elif name != "*":
                names.add(name)
            else:  # a star import: whatever the relevant module exports
                for dep in self.by_module[module]:
                    if dep not in self.relevant:
                        continue
                    if not dep.is_package or dep in self.marked or dep in seen:
                        return None
                    inner = self._reexports(dep, (*seen, package))
                    if inner is None:
                        return None
                    names |= inner
        return names

    def _forget_reexports(self, target) -> None:
        """Drop the cached re-exports of every package that imports `target`, directly or through star imports."""
        stack = [f for f, _ in self.importers.get(target.module, ()) if f.is_package]
        seen = set(stack)
        while stack:
            package = stack.pop()
            self.exported.pop(package, None)
            for outer, name in self.importers.get(package.module, ()):
                if name == "*" and outer.is_package and outer not in seen:
                    seen.add(outer)
                    stack.append(outer)
