"""Retrieval calls: vector-store, retriever and search queries, and how many results each asks for.

`find_retrievals(project)` recognises the retrieval APIs of LangChain (`similarity_search*`,
`max_marginal_relevance_search*`, `as_retriever(search_kwargs={"k": ...})`, retriever classes' `k`), LlamaIndex
(`similarity_top_k`), Chroma (`n_results`), Pinecone (`top_k`), Qdrant, Weaviate, Milvus and LanceDB (`limit`),
FAISS (`index.search(q, k)`), Elasticsearch/OpenSearch k-NN (`knn={"k": ...}`, `size`) and pgvector (`.limit(n)`
after an `order_by` on a vector distance, or `LIMIT n` in SQL ordered by `<->`/`<=>`/`<#>`). A call counts when
its object resolves to one of these libraries, or when the call is unmistakably a vector search (a
LangChain/LlamaIndex/Chroma-only method or keyword) and its count is written as a number.
`documents_source` (query `FetchedDocuments` of the value-flow core) tells whether a value (`docs` in
`"\\n".join(d.page_content for d in docs)`) holds the documents fetched by such a call, and how many.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import CallSite, FunctionIndex, ModuleIndex
from llmlint.flow.core import Flow, Query, ValueFlow
from llmlint.knowledge.settings import UNKNOWN, number
from llmlint.link.values import Ctx, Ext, Func, Inst, Obj

ROOTS = ("langchain*", "llama_index*", "chromadb", "pinecone", "qdrant_client", "weaviate", "pymilvus", "faiss",
         "elasticsearch*", "opensearchpy", "pgvector", "lancedb", "haystack*")
LANGCHAIN_SEARCHES = {
    "similarity_search", "similarity_search_with_score", "similarity_search_with_relevance_scores",
    "similarity_search_by_vector", "similarity_search_by_vector_with_relevance_scores",
    "max_marginal_relevance_search", "max_marginal_relevance_search_by_vector",
}
LANGCHAIN_SEARCHES |= {"a" + name for name in LANGCHAIN_SEARCHES}
# method -> keyword that carries the count, positional index (None: keyword only), libraries
SEARCHES = {
    "query": (("n_results", "top_k"), None, ("chromadb", "pinecone")),
    "search": (("limit", "k"), None, ("qdrant_client", "pymilvus", "langchain*")),
    "query_points": (("limit",), None, ("qdrant_client",)),
    "search_groups": (("limit",), None, ("qdrant_client",)),
    "near_text": (("limit",), None, ("weaviate",)),
    "near_vector": (("limit",), None, ("weaviate",)),
    "hybrid": (("limit",), None, ("weaviate",)),
    "bm25": (("limit",), None, ("weaviate",)),
    "with_limit": (("limit",), 0, ("weaviate",)),
    "run": (("top_k",), None, ("haystack*",)),
}
FETCHES = {"invoke", "ainvoke", "get_relevant_documents", "aget_relevant_documents", "retrieve", "aretrieve"}
DISTANCES = {"l2_distance", "cosine_distance", "max_inner_product", "l1_distance"}
SQL_KNN = re.compile(r"(?is)order\s+by\b[^;]*?(<->|<=>|<#>)[^;]*?\blimit\s+(\d+)")
FRAMEWORKS = ("langchain*", "llama_index*", "haystack*")
ALWAYS = 2  # a count that is a vector search whatever its object resolves to (pgvector distance ordering)
RERANKING = re.compile(r"(?i)rerank|compress|crossencoder|cross_encoder|top_n|llmchainfilter|embeddingsfilter")


@dataclass
class Retrieval:
    module: ModuleIndex
    function: FunctionIndex
    site: CallSite
    api: str  # what to call it in a message: "as_retriever(search_kwargs={'k': ...})", "collection.query"
    keyword: str  # how the count is written: "k", "search_kwargs['k']", "n_results", "top_k", "limit", ...
    k: float  # the number of results asked for
    configures: bool  # the call builds a retriever (the documents are fetched later) rather than fetching
    framework: bool = False  # a LangChain/LlamaIndex/Haystack API: retrieval for a model by construction

    @property
    def ctx(self) -> Ctx:
        return Ctx(self.module.path, self.function.qualname)


def find_retrievals(project) -> list[Retrieval]:
    found = []
    for idx, fn in project.functions():
        for site in fn.calls:
            hit = _match(project, idx, fn, site)
            if hit is not None:
                found.append(hit)
    return found


def _library(value) -> str | None:
    name = value.name if isinstance(value, Ext) else value.cls if isinstance(value, Obj) else None
    if not name:
        return None
    root = name.split(".")[0]
    return next((r for r in ROOTS if fnmatch.fnmatchcase(root, r)), None)


def _count(project, expr, ctx):
    value = number(project, expr, ctx) if expr is not None else None
    return None if value is UNKNOWN or value is None else value


def _match(project, idx, fn, site) -> Retrieval | None:
    call = site.call
    method = call.func.attr if isinstance(call.func, E.Attr) else call.func.id if isinstance(call.func, E.Name) else ""
    candidates = []  # (keyword shown, count expr, distinctive (ALWAYS: whatever the object), configures)
    if method in LANGCHAIN_SEARCHES:
        candidates.append(("k", call.arg(1, "k"), True, False))
    elif method == "as_retriever":
        kwargs = call.kwarg("search_kwargs")
        if isinstance(kwargs, E.DictExpr) and kwargs.get("k") is not None:
            candidates.append(("search_kwargs['k']", kwargs.get("k"), True, True))
    if call.kwarg("similarity_top_k") is not None:
        candidates.append(("similarity_top_k", call.kwarg("similarity_top_k"), True, method not in FETCHES))
    if method == "query" and call.kwarg("n_results") is not None and call.has_kwarg("query_texts", "query_embeddings"):
        candidates.append(("n_results", call.kwarg("n_results"), True, False))
    if method == "limit" and call.args and any(_last(n) in DISTANCES for n in E.walk(call.func.base) if isinstance(n, E.Call)):
        candidates.append(("limit", call.args[0], ALWAYS, False))
    if method in ("execute", "fetch", "fetchrow") and call.args and isinstance(call.args[0], E.Const) and isinstance(call.args[0].value, str):
        sql = SQL_KNN.search(call.args[0].value)
        if sql:
            candidates.append(("LIMIT", E.Const(int(sql.group(2))), ALWAYS, False))
    if not candidates:
        candidates = _library_candidates(method, call)
    if not candidates:
        return None
    ctx = Ctx(idx.path, fn.qualname)
    resolved = project.resolve(call.func, ctx, call.line)
    library = _library(resolved) if resolved is not None else None
    for keyword, expr, distinctive, configures in candidates:
        if library is None and not (distinctive is ALWAYS or distinctive and (resolved is None or isinstance(resolved, (Func, Inst)))):
            continue
        if library is None and not _literal(project, expr, ctx):
            continue
        k = _count(project, expr, ctx)
        if k is None:
            continue
        framework = library in FRAMEWORKS or library is None and keyword in ("k", "search_kwargs['k']", "similarity_top_k")
        return Retrieval(idx, fn, site, _display(call.func), keyword, k, configures, framework)
    return None


def _library_candidates(method: str, call: E.Call) -> list:
    """Counts of calls that are retrieval only on a retrieval library's object (checked by the caller)."""
    found = []
    spec = SEARCHES.get(method)
    if spec is not None:
        keywords, position, _ = spec
        expr = call.kwarg(*keywords) if position is None else call.arg(position, *keywords)
        if expr is not None:
            found.append((next((k for k in keywords if call.kwarg(k) is not None), keywords[0]), expr, False, False))
    if method in ("search", "knn_search"):
        knn = call.kwarg("knn")
        if isinstance(knn, E.DictExpr) and knn.get("k") is not None:
            found.append(("knn['k']", knn.get("k"), False, False))
        elif method == "search" and len(call.args) >= 2 and not call.kwargs:
            found.append(("k", call.args[1], False, False))  # faiss: index.search(queries, k)
    if method in ("from_documents", "from_texts", "from_defaults") or method.endswith("Retriever"):
        for keyword in ("k", "top_k", "similarity_top_k"):
            if call.kwarg(keyword) is not None:
                found.append((keyword, call.kwarg(keyword), False, True))
        kwargs = call.kwarg("search_kwargs")
        if isinstance(kwargs, E.DictExpr) and kwargs.get("k") is not None:
            found.append(("search_kwargs['k']", kwargs.get("k"), False, True))
    if method == "limit" and call.args:
        found.append(("limit", call.args[0], False, False))  # lancedb: table.search(q).limit(n)
    return found


def _literal(project, expr, ctx) -> bool:
    """Written as a number here or as a module constant (not read from configuration)."""
    if isinstance(expr, E.Const):
        return True
    if isinstance(expr, E.Name):
        value = project.resolve(expr, ctx)
        return getattr(value, "expr", None) is not None and isinstance(value.expr, E.Const)
    return False


def _display(func) -> str:
    """`table.search(...).limit` for a callee, at most its last three parts."""
    parts = []
    while True:
        if isinstance(func, E.Call):
            parts.append("(...)")
            func = func.func
        elif isinstance(func, E.Attr):
            parts.append("." + func.attr)
            func = func.base
        else:
            parts.append(func.id if isinstance(func, E.Name) else "...")
            break
    attrs = [i for i, p in enumerate(parts) if p.startswith(".")]
    if len(attrs) > 3:
        parts = parts[: attrs[2] + 1]
        parts[-1] = parts[-1][1:]
    return "".join(reversed(parts))


def _last(call: E.Call) -> str:
    return call.func.attr if isinstance(call.func, E.Attr) else E.dotted(call.func) or ""


def is_reranked(project, retrieval: Retrieval) -> bool:
    """The results are reranked, compressed or cut before use: LlamaIndex `node_postprocessors`, a retriever
    wrapped in a compression/rerank retriever, or fetched documents sliced, reranked or fitted to a budget."""
    call = retrieval.site.call
    if call.kwarg("node_postprocessors") is not None:
        return True
    name = retrieval.site.target
    if not name:
        return False
    scopes = retrieval.module.functions.values() if retrieval.configures else [retrieval.function]
    for fn in scopes:
        for site in fn.calls:
            callee = E.dotted(site.call.func) or ""
            args = list(site.call.args) + [v for _, v in site.call.kwargs]
            if RERANKING.search(callee) and any(isinstance(n, E.Name) and n.id == name for a in args for n in E.walk(a)):
                return True
        if retrieval.configures:
            continue
        for assign in fn.assigns:
            for node in E.walk(assign.value):
                if isinstance(node, E.Subscript) and isinstance(node.index, E.Slice) and node.value == E.Name(name):
                    return True
        for loop in fn.loops:
            if loop.kind == "for" and loop.test == E.Name(name) and loop.has_break:
                return True  # picks documents until a budget is spent
    return False


class FetchedDocuments(Query):
    """The value-flow query for fetched documents: the sources are the retrieval calls that fetch (`by_site`) and
    the fetches of a configured retriever (`retriever.invoke(q)`); documents pass through names, attributes and keys
    (`results["documents"][0]`, `response.matches`), not through a slice, another call or the variable of a loop
    that stops early (picking documents until a budget is spent)."""

    caller_depth = 0

    def __init__(self, by_site: dict):
        self.by_site = by_site

    def source(self, walk, expr, ctx):
        if not isinstance(expr, E.Call):
            return None
        key = (ctx.path, expr.line, expr.col)
        direct = self.by_site.get(key)
        if direct is not None:
            return frozenset() if direct.configures else frozenset({Flow(key)})
        method = expr.func.attr if isinstance(expr.func, E.Attr) else ""
        value = walk.project.resolve(expr.func, ctx, expr.line) if method in FETCHES else None
        if not isinstance(value, Obj):
            return None
        for chained, where in reversed(value.chain):
            key = (where.path, chained.line, chained.col)
            if key in self.by_site:
                return frozenset({Flow(key)})
        if isinstance(value.ctor, E.Call) and value.ctor_ctx is not None:
            key = (value.ctor_ctx.path, value.ctor.line, value.ctor.col)
            if key in self.by_site:
                return frozenset({Flow(key)})
        return None

    def through_field(self, flows, key, subscript, index=None):
        return set() if isinstance(index, E.Slice) else set(flows)

    def is_barrier(self, walk, name, ctx):
        fn = walk.project.function(ctx)
        return fn is not None and any(loop.kind == "for" and loop.target == name and loop.has_break for loop in fn.loops)


def documents_source(analysis, by_site: dict, ctx: Ctx, expr, line: int):
    """The Retrieval whose fetched documents `expr` (used at `line` of the function `ctx`) holds, or None (the first
    by position when several do)."""
    walk = ValueFlow(analysis, FetchedDocuments(by_site), analysis.flow_tables)
    origins = sorted(f.origin for f in walk.taint(expr, ctx, line, 0) if not f.is_param)
    return by_site[origins[0]] if origins else None
