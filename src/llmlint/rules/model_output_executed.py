"""model-output-executed: see rules/LLM104-model-output-executed.md."""

from __future__ import annotations

import re

from llmlint.engine import exprs as E
from llmlint.knowledge.modeloutput import safe_template_names
from llmlint.link.values import Ctx, Ext, Obj
from llmlint.results.finding import Related
from llmlint.ruleset.rule import Rule, as_written, place

CODE = {"eval", "exec", "compile", "builtins.eval", "builtins.exec", "builtins.compile"}
SHELL = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput", "asyncio.create_subprocess_shell"}
PROCESS = {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen", "asyncio.create_subprocess_exec"}
DESERIALIZE = {"pickle.loads", "_pickle.loads", "dill.loads", "cloudpickle.loads", "marshal.loads", "yaml.unsafe_load", "yaml.unsafe_load_all"}
UNSAFE_YAML = {"yaml.load", "yaml.load_all"}
SAFE_LOADERS = ("SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader", "FullLoader", "CFullLoader")
HTML = {
    "markupsafe.Markup", "flask.Markup", "jinja2.Markup", "jinja2.utils.Markup", "django.utils.safestring.mark_safe",
    "django.utils.safestring.SafeString", "fastapi.responses.HTMLResponse", "starlette.responses.HTMLResponse",
}
SQL_FUNCTIONS = {"pandas.read_sql", "pandas.read_sql_query"}
SQL_METHODS = {"execute", "executemany", "executescript", "exec_driver_sql", "fetch", "fetchrow", "fetchval"}
SQL_LIBRARIES = (
    "sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb", "mysql", "asyncpg", "aiosqlite", "sqlalchemy", "duckdb",
    "snowflake", "oracledb", "cx_Oracle", "pyodbc", "databases", "sqlmodel", "aiomysql", "pg8000", "clickhouse_driver", "trino",
)
# Warehouse clients that run the SQL text they are given: (client class prefix, method).
SQL_CLIENT_METHODS = {("google.cloud.bigquery", "query"), ("clickhouse_connect", "query"), ("clickhouse_connect", "command"),
                      ("duckdb", "sql"), ("duckdb", "query"), ("databricks.sql", "execute")}
SQL_RECEIVER = re.compile(r"(?:^|_)(?:cursor|cur|conn|connection|con|db|database|session|engine)$", re.I)
SHELLS = {"sh", "bash", "zsh", "cmd", "cmd.exe", "powershell", "pwsh", "python", "python3", "node", "perl", "ruby", "/bin/sh", "/bin/bash"}
INLINE_FLAGS = {"-c", "-e", "/c", "-Command", "--command"}

FIXES = {
    "code": "never run model output as Python: have the model return data (checked with a pydantic model) or pick a fixed tool; run generated code only in a sandbox",
    "shell": "never hand model output to a shell: map the model's choice onto an allow-list of fixed commands and run them as argument lists with `shell=False`",
    "sql": "keep the query fixed and pass model values as bound parameters (`cursor.execute(\"... WHERE id = %s\", (value,))`), or run generated SQL read-only after an allow-list check",
    "deserialize": "parse model output as data only: `json.loads` or `yaml.safe_load`, then validate it with a pydantic model",
    "html": "escape model output before rendering it (`markupsafe.escape`, `html.escape`, autoescaping on) or sanitise it with `nh3.clean`/`bleach.clean`",
}

VERB = {"code": "runs", "shell": "runs", "sql": "runs", "deserialize": "deserializes", "html": "renders"}
IMPACT = {
    "code": "whoever steers the model (a prompt injection) runs code in this process",
    "shell": "whoever steers the model runs commands on this host",
    "sql": "whoever steers the model can read, change or drop any table",
    "deserialize": "a crafted payload constructs arbitrary objects and runs code",
    "html": "a prompt injection becomes XSS in the user's browser",
}
STREAMLIT_HTML = {"markdown", "write", "caption"}  # the Streamlit calls that take `unsafe_allow_html`
CANDIDATES = {n.rsplit(".", 1)[-1] for n in CODE | SHELL | PROCESS | DESERIALIZE | UNSAFE_YAML | HTML | SQL_FUNCTIONS} | SQL_METHODS | STREAMLIT_HTML | {m for _, m in SQL_CLIENT_METHODS} | {
    "render", "render_template_string",
}


class ModelOutputExecuted(Rule):
    def check(self, analysis):
        if not analysis.model_calls:
            return
        flow = analysis.output_flow
        for idx, fn in analysis.project.functions():
            ctx = Ctx(idx.path, fn.qualname)
            if not flow.may_hold_output(ctx):
                continue
            for site in fn.calls:
                if _last_name(site.call.func) not in CANDIDATES:
                    continue
                found = self._sink(analysis, site, ctx)
                if found is None:
                    continue
                kind, what, exprs = found
                flows = set()
                for expr in exprs:
                    flows |= flow.flows(expr, ctx, site.stmt_line)
                if flows:
                    yield self._finding(analysis, idx.path, site.call, kind, what, flows)

    def _sink(self, analysis, site, ctx):
        """(kind, shown name, argument expressions that must not carry model output), or None."""
        call = site.call
        flow = analysis.output_flow
        callee = flow.callee(call, ctx)
        name = callee.name if isinstance(callee, Ext) else None
        if name in CODE:
            return "code", f"`{name.rsplit('.', 1)[-1]}()`", [call.arg(0, "source")]
        if name in SHELL:
            return "shell", f"`{name}()`", [call.arg(0, "command", "cmd")]
        if name in PROCESS:
            return "shell", f"`{name}()`", _process_args(call)
        if name in DESERIALIZE:
            return "deserialize", f"`{name}()`", [call.arg(0, "data", "stream")]
        if name in UNSAFE_YAML and not _safe_loader(analysis, call, ctx):
            return "deserialize", f"`{name}()` without a safe Loader", [call.arg(0, "stream")]
        if name in HTML:
            return "html", f"`{name.rsplit('.', 1)[-1]}()`", [call.arg(0, "content", "s", "base")]
        if name and name.startswith("streamlit.") and name.rsplit(".", 1)[-1] in STREAMLIT_HTML and _is_true(call.kwarg("unsafe_allow_html")):
            return "html", f"`st.{name.rsplit('.', 1)[-1]}(unsafe_allow_html=True)`", [call.arg(0, "body")]
        if name in SQL_FUNCTIONS:
            return "sql", f"`{name}()`", [call.arg(0, "sql")]
        if name == "flask.render_template_string":
            return _safe_template(call, analysis.project.const_str(call.arg(0, "source"), ctx))
        if isinstance(call.func, E.Attr) and call.func.attr in SQL_METHODS and _is_sql_receiver(analysis, call.func.base, ctx):
            return "sql", f"`{E.dotted(call.func) or call.func.attr}()`", [call.arg(0, "query", "sql", "statement", "operation")]
        if isinstance(callee, Obj) and isinstance(call.func, E.Attr) and any(
                callee.cls.startswith(lib) and call.func.attr == method for lib, method in SQL_CLIENT_METHODS):
            return "sql", f"`{E.dotted(call.func) or call.func.attr}()`", [call.arg(0, "query", "sql")]
        if isinstance(callee, Obj) and callee.cls.startswith("jinja2") and callee.path.endswith("render"):
            return _safe_template(call, _template_source(analysis, callee))
        return None

    def _finding(self, analysis, path, call, kind, what, flows):
        sources = sorted(_sources(analysis, flows), key=lambda c: (c.module.path, c.call.line))
        first = sources[0]
        where = place(analysis, first.module.path, first.call.line, path)
        message = f"{what} {VERB[kind]} the output of `{as_written(first)}` ({where}) unchecked: {IMPACT[kind]}"
        related = [Related(analysis.location(c.module.path, c.call), f"model output comes from this `{as_written(c)}` call") for c in sources[:3]]
        return self.report(analysis.location(path, call), message, FIXES[kind], related=related, api=first.api)


def _sources(analysis, flows):
    flow = analysis.output_flow
    return {id(c): c for c in (flow.source(f) for f in flows) if c is not None}.values()


def _last_name(func) -> str:
    if isinstance(func, E.Attr):
        return func.attr
    return func.id if isinstance(func, E.Name) else ""


def _is_true(expr) -> bool:
    return isinstance(expr, E.Const) and expr.value is True


def _process_args(call):
    """The parts of a subprocess command line that decide what runs: a command string, the program of an argument
    list, the code after `-c`, or the whole list when it was built elsewhere."""
    args = call.arg(0, "args", "program")
    if _is_true(call.kwarg("shell")):
        return [args.elts[0] if isinstance(args, E.Seq) and args.elts else args]
    if not isinstance(args, E.Seq):
        return [args]
    parts = [args.elts[0]] if args.elts else []
    first = args.elts[0] if args.elts else None
    if (isinstance(first, E.Const) and str(first.value).rsplit("/", 1)[-1] in SHELLS) or E.dotted(first) == "sys.executable":
        for before, after in zip(args.elts, args.elts[1:]):
            if isinstance(before, E.Const) and before.value in INLINE_FLAGS:
                parts.append(after)
    return parts


def _safe_loader(analysis, call, ctx) -> bool:
    """`yaml.load` with a Loader that builds no Python objects, or one we cannot name (precision first)."""
    loader = call.arg(1, "Loader")
    if loader is None:
        return False
    value = analysis.project.resolve(loader, ctx, call.line)
    if not isinstance(value, Ext) or not value.name.startswith("yaml."):
        return True
    return value.name.rsplit(".", 1)[-1] in SAFE_LOADERS


def _is_sql_receiver(analysis, base, ctx) -> bool:
    value = analysis.project.resolve(base, ctx)
    if isinstance(value, (Obj, Ext)):
        qualified = value.cls if isinstance(value, Obj) else value.name
        return qualified.split(".")[0] in SQL_LIBRARIES
    if value is not None:
        return False
    name = E.dotted(base) or ""
    return bool(SQL_RECEIVER.search(name.rsplit(".", 1)[-1]))


def _template_source(analysis, obj: Obj) -> str | None:
    for wrapper, wctx in obj.chain:
        if isinstance(wrapper.func, E.Attr) and wrapper.func.attr == "from_string":
            return analysis.project.const_str(wrapper.arg(0, "source"), wctx)
    if isinstance(obj.ctor, E.Call) and obj.cls.endswith("Template"):
        return analysis.project.const_str(obj.ctor.arg(0, "source"), obj.ctor_ctx)
    return None


def _safe_template(call, source):
    """A template rendered with `|safe` on some variables: those variables' values must not be model output."""
    names = safe_template_names(source or "")
    if not names:
        return None
    values = [v for k, v in call.kwargs if k in names]
    first = call.args[-1] if call.args and isinstance(call.args[-1], E.DictExpr) else None
    if first is not None:
        values += [v for k, v in first.items if isinstance(k, E.Const) and k.value in names]
    shown = ", ".join(f"`{n}|safe`" for n in sorted(names))
    return ("html", f"`{E.dotted(call.func) or 'render'}()` of a template with {shown}", values) if values else None
