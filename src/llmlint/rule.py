"""The rule base class. A rule reads its id, name and severity from its document and reports findings."""

from __future__ import annotations

from typing import Iterable

from llmlint.finding import Edit, Finding, Location, Related, Severity
from llmlint.ruledoc import RuleMeta


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
    ) -> Finding:
        """A finding of this rule; `severity` overrides the doc's default for a case the catalog grades lower."""
        return Finding(
            rule_id=self.meta.id,
            name=self.meta.name,
            severity=severity or self.meta.severity,
            location=location,
            message=message,
            fix=fix,
            edits=tuple(edits),
            related=tuple(related),
        )
