"""The rule base class. A rule reads its id, name and severity from its document and reports findings."""

from __future__ import annotations

from typing import Iterable

from llmlint.results.finding import Autofix, Edit, Finding, Location, Related, Severity
from llmlint.ruleset.ruledoc import RuleMeta


class Rule:
    """Subclasses implement `check(analysis)` and yield `self.report(...)` results.

    `needs` names the parts of the analysis the rule uses ("callgraph", "prompts", ...), for documentation and
    so that the engine can skip building what no enabled rule needs."""

    needs: tuple[str, ...] = ()

    def __init__(self, meta: RuleMeta, options: dict | None = None):
        self.meta = meta
        self.options = {**meta.options, **(options or {})}

    def check(self, analysis) -> Iterable[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def report(
        self,
        location: Location,
        message: str,
        fix: str,
        edits: Iterable[Edit] = (),
        related: Iterable[Related] = (),
        severity: Severity | None = None,
        autofixes: Iterable[Autofix] = (),
        api: str = "",
        note: str = "",
    ) -> Finding:
        """A finding of this rule; `severity` overrides the doc's default for a case the catalog grades lower.
        `autofixes` (llmlint.fixes) are machine-applicable alternatives; the fix text then says how to apply one."""
        autofixes = tuple(autofixes)
        if autofixes:
            first = autofixes[0]
            fix = f"{fix} [*] `--fix{'' if first.safe else ' --unsafe-fixes'}` can {first.title}"
        return Finding(
            rule_id=self.meta.id,
            name=self.meta.name,
            severity=severity or self.meta.severity,
            location=location,
            message=message,
            fix=fix,
            edits=tuple(edits),
            related=tuple(related),
            autofixes=autofixes,
            api=api,
            note=note,
        )


def as_written(call) -> str:
    """A model call (inventory.ModelCall) named as the code names it, for messages: `kb_chain.invoke`,
    `self.client.chat.completions.create`, the function handed to `asyncio.to_thread`; its canonical API
    (`langchain.chain.invoke`, kept in the finding's `api`) when the code's spelling does not show the call."""
    from llmlint.engine.redact import safe_text

    method = call.api.rsplit(".", 1)[-1]
    site_call = call.site.call
    written = callee_text(site_call.func)
    if written and method == "__call__":
        return safe_text(_shorten(written + "(...)"))
    for candidate in (written, *(callee_text(arg) for arg in site_call.args[:2])):
        if candidate and candidate.rsplit(".", 1)[-1] == method:
            return safe_text(_shorten(candidate))
    return call.api


def callee_text(expr, depth: int = 0) -> str | None:
    """A callee expression as the code writes it (`client.chat.completions.create`, `get_client().chat`), or None."""
    from llmlint.engine import exprs as E

    if depth > 12:
        return None
    if isinstance(expr, E.Name):
        return expr.id
    if isinstance(expr, E.Attr):
        base = callee_text(expr.base, depth + 1)
        return f"{base}.{expr.attr}" if base else None
    if isinstance(expr, E.Call):
        base = callee_text(expr.func, depth + 1)
        return f"{base}({'...' if expr.args or expr.kwargs else ''})" if base else None
    if isinstance(expr, E.Subscript):
        base = callee_text(expr.value, depth + 1)
        return f"{base}[...]" if base else None
    return None


def _shorten(text: str, limit: int = 60) -> str:
    """At most `limit` characters, keeping the end (`….chat.completions.create`)."""
    if len(text) <= limit:
        return text
    tail = text[-(limit - 1):]
    return "…" + tail[tail.index(".") :] if "." in tail else "…" + tail


def place(analysis, path: str, line: int, here: str | None = None) -> str:
    """Where another line is, short enough for a message: `line 53` in the file `here`, else `llm.py:11` (the
    finding's related locations and JSON carry the whole path)."""
    if path == here:
        return f"line {line}"
    return f"{analysis.display(path).rsplit('/', 1)[-1]}:{line}"
