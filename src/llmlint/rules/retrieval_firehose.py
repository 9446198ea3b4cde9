"""retrieval-firehose: see rules/LLM002-retrieval-firehose.md."""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.knowledge.prompttext import PromptFlow, is_dynamic
from llmlint.knowledge.retrieval import documents_source, find_retrievals, is_reranked
from llmlint.link.values import Ctx, Obj
from llmlint.ruleset.rule import Rule, as_written, place

OPENERS = {"open", "io.open", "codecs.open", "aiofiles.open"}
FILE_PARAMS = ("UploadFile", "FileStorage", "IO", "TextIO", "BinaryIO", "TextIOWrapper", "BufferedReader")
LOADS = {"load", "aload", "load_and_split", "lazy_load", "load_data", "aload_data"}
UPLOAD_WIDGETS = {"streamlit.file_uploader", "streamlit.sidebar.file_uploader"}  # each returns the uploaded file
TABLE_DUMPS = {"to_string", "to_csv", "to_markdown", "to_json", "to_html"}
TABLE_CUTS = {"head", "tail", "sample", "nlargest", "nsmallest", "query", "truncate"}
BUDGET_FIX = "cap it before it goes into the prompt: slice it (`[:MAX_CONTEXT_CHARS]`) or add pieces only while a token budget lasts"


class RetrievalFirehose(Rule):
    needs = ("callgraph",)

    def check(self, analysis):
        limit = float(self.options["max-k"])
        retrievals = find_retrievals(analysis.project)
        flow = PromptFlow(analysis)
        with_models = {analysis.project.project_root(c.module.path) for c in analysis.model_calls}
        for r in retrievals:
            if not r.framework and analysis.project.project_root(r.module.path) not in with_models:
                continue  # a vector search in a project that calls no model (a search page): not context for a prompt
            if r.k <= limit or is_reranked(analysis.project, r):
                continue
            if not r.configures and flow.sink(r.module.path, r.function, r.site.call, loose=True) is None:
                continue  # results that never reach a prompt (an export, a listing, a search page)
            yield self._too_many(analysis, r, limit)
        by_site = {(r.module.path, r.site.call.line, r.site.call.col): r for r in retrievals}
        for idx, fn in analysis.project.functions():
            for site in fn.calls:
                method = site.call.func.attr if isinstance(site.call.func, E.Attr) else ""
                if method == "join" and site.call.args:
                    finding = self._join(analysis, flow, by_site, idx, fn, site, limit)
                elif method in LOADS or method in TABLE_DUMPS or method in ("read", "read_text", "read_bytes"):
                    finding = self._read(analysis, flow, idx, fn, site, method)
                else:
                    continue
                if finding is not None:
                    yield finding

    def _too_many(self, analysis, r, limit):
        what = "configures retrieval of" if r.configures else "asks for"
        message = f"`{as_written(r)}` in {_where(r.function)} {what} {r.k:g} results per query ({_shown(r)}), above max-k {limit:g}"
        fix = (f"lower `{r.keyword}` to {min(5, int(limit)):d}, or fetch more and rerank or compress to the best few (a cross-encoder, "
               "ContextualCompressionRetriever), or fill a token budget")
        return self.report(analysis.location(r.module.path, r.site.call), message, fix, api=r.api)

    def _join(self, analysis, flow, by_site, idx, fn, site, limit):
        separator = site.call.func.base
        if not (isinstance(separator, E.Const) and isinstance(separator.value, str)):
            return None
        joined = site.call.args[0]
        if isinstance(joined, E.Comp) and any(isinstance(n, E.Subscript) and isinstance(n.index, E.Slice) for n in E.walk(joined.elt)):
            return None  # each document cut to a size (`d.page_content[:500]`): the total is bounded
        docs = _iterable(joined)
        source = documents_source(analysis, by_site, Ctx(idx.path, fn.qualname), docs, site.call.line) if docs is not None else None
        if source is None or source.k <= limit:
            return None
        sink = flow.sink(idx.path, fn, site.call)
        if sink is None:
            return None
        message = (f"all {source.k:g} documents from `{as_written(source)}` ({place(analysis, source.module.path, source.site.call.line, idx.path)}) "
                   f"are joined into the prompt of {_sink_name(analysis, sink)} with no cap on count or tokens")
        return self.report(analysis.location(idx.path, site.call), message, f"join only the best few (`docs[:5]`), or {BUDGET_FIX}")

    def _read(self, analysis, flow, idx, fn, site, method):
        what = self._whole_read(analysis, idx, fn, site, method)
        if what is None:
            return None
        sink = flow.sink(idx.path, fn, site.call)
        if sink is None:
            return None
        message = f"{what} goes into the prompt of {_sink_name(analysis, sink)} in full, with no truncation or token budget"
        fix = f"{BUDGET_FIX}; for long documents, retrieve the relevant chunks or summarise them first"
        return self.report(analysis.location(idx.path, site.call), message, fix)

    def _whole_read(self, analysis, idx, fn, site, method) -> str | None:
        """What `site` reads whole (a file, a document set, a table), described for the message; else None."""
        call, project = site.call, analysis.project
        base = call.func.base
        ctx = Ctx(idx.path, fn.qualname)
        if method == "read":
            if call.args or call.kwargs:
                return None
            opener = _opened(fn, base)
            if opener is not None:
                return "the file read by `open(...).read()`" if is_dynamic(analysis, ctx, opener.arg(0, "file"), opener.line) else None
            if isinstance(base, E.Name) and base.id in fn.params and fn.annotations.get(base.id, "").endswith(FILE_PARAMS):
                return f"the uploaded file `{base.id}.read()`"
            uploaded = project.resolve(base, ctx, call.line)
            if isinstance(uploaded, Obj) and uploaded.cls in UPLOAD_WIDGETS and not uploaded.path:
                return f"the uploaded file `{E.dotted(base) or 'file'}.read()`"  # st.file_uploader(...).read()
            return None
        value = project.resolve(call.func, ctx, call.line)
        if not isinstance(value, Obj):
            return None
        cls = value.cls.rsplit(".", 1)[-1]
        root = value.cls.split(".")[0]
        if method in ("read_text", "read_bytes"):
            if value.cls in ("pathlib.Path", "pathlib.PurePath") and isinstance(value.ctor, E.Call):
                where = value.ctor_ctx or ctx
                return f"the file read by `Path(...).{method}()`" if is_dynamic(analysis, where, value.ctor.arg(0), value.ctor.line) else None
            return None
        if method in LOADS and root.startswith(("langchain", "llama_index")) and cls.endswith(("Loader", "Reader")):
            return f"every document loaded by `{cls}(...).{method}()`"
        if method in TABLE_DUMPS and root in ("pandas", "polars"):
            steps = {part.removesuffix("()") for part in value.path.split(".")}
            return None if steps & TABLE_CUTS else f"the table `{E.dotted(base) or 'df'}.{method}()`"
        return None


def _opened(fn, base):
    """The `open(...)` call behind `open(p).read()` or `with open(p) as f: f.read()`."""
    if isinstance(base, E.Call) and E.dotted(base.func) in OPENERS:
        return base
    if isinstance(base, E.Name):
        for assign in fn.assigns:
            if assign.target == base.id and assign.op == "with" and isinstance(assign.value, E.Call) and E.dotted(assign.value.func) in OPENERS:
                return assign.value
    return None


def _iterable(expr):
    """The documents a join goes over: `d.page_content for d in docs` -> docs; `map(f, docs)` -> docs."""
    if isinstance(expr, E.Comp):
        return expr.iters[0] if expr.iters else None
    if isinstance(expr, E.Call) and E.dotted(expr.func) == "map" and len(expr.args) == 2:
        return expr.args[1]
    if isinstance(expr, (E.Name, E.Attr, E.Subscript)):
        return expr
    return None


def _sink_name(analysis, sink) -> str:
    if hasattr(sink, "api"):
        return f"`{as_written(sink)}` (line {sink.call.line})"
    return f"`{E.dotted(sink.call.func) or 'a helper'}()` (line {sink.call.line}), which calls the model"


def _shown(r) -> str:
    if r.keyword.endswith("['k']"):
        return f"`{r.keyword[:-5]}={{\"k\": {r.k:g}}}`"
    return f"`LIMIT {r.k:g}`" if r.keyword == "LIMIT" else f"`{r.keyword}={r.k:g}`"


def _where(fn) -> str:
    return "module code" if fn.qualname == "<module>" else f"{fn.qualname}()"
