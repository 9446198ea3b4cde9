"""Which fix a finding gets, and the textual edits JSON and SARIF carry for it, without libcst: the edits are kept in
the cache by the file's content and the fixes, so only a file whose edits the cache does not hold loads libcst
(`fixes.apply`, a fifth of a second to import) to work them out."""

from __future__ import annotations

import dataclasses
import hashlib

from llmlint.results.finding import Autofix, Finding, Report


def chosen_fix(finding: Finding, report: Report, unsafe: bool) -> Autofix | None:
    """The first of the finding's fixes that is allowed and edits only files checked in this run (not notebooks)."""
    for fix in finding.autofixes:
        if (fix.safe or unsafe) and all(_editable(c.target.path, report) for c in fix.changes):
            return fix
    return None


def _editable(display: str, report: Report) -> bool:
    return display in report.sources and not display.endswith(".ipynb")


def fixable_counts(report: Report, unsafe: bool) -> tuple[int, int]:
    """(findings --fix would fix, findings with only an unsafe fix when unsafe fixes are off)."""
    fixable = hidden = 0
    for finding in report.findings:
        if chosen_fix(finding, report, unsafe) is not None:
            fixable += 1
        elif not unsafe and chosen_fix(finding, report, True) is not None:
            hidden += 1
    return fixable, hidden


def with_edits(report: Report, *, unsafe: bool = False, cache=None) -> list:
    """The report's findings, each fixable one with the textual `edits` its fix makes (for JSON and SARIF, whose
    readers apply replacements, not transforms; `fixes.apply.file_edits`). Findings whose fix does not apply keep
    no edits."""
    by_file: dict[str, list] = {}
    for i, finding in enumerate(report.findings):
        fix = chosen_fix(finding, report, unsafe)
        if fix is not None:
            by_file.setdefault(fix.changes[0].target.path, []).append((i, finding, fix))
    findings = list(report.findings)
    for display, wanted in by_file.items():
        path, key, module, is_package = report.sources[display]
        known = None
        if cache is not None and key:  # the same file and the same fixes give the same edits: kept by content
            known = hashlib.blake2b(repr((display, key, [fix for _, _, fix in wanted])).encode("utf-8", "surrogatepass"),
                                    digest_size=20).hexdigest()
            stored = cache.get_edits(known)
            if stored is not None and len(stored) == len(wanted):
                for (i, finding, _), edits in zip(wanted, stored):
                    findings[i] = dataclasses.replace(finding, edits=edits)
                continue
        # libcst: only for a file whose edits are not known
        from llmlint.fixes.apply import file_edits

        found = file_edits(display, path, key, module, is_package, [(finding, fix) for _, finding, fix in wanted])
        if found is None:  # not readable as checked, or not parseable: no edits, nothing cached
            continue
        for (i, finding, _), edits in zip(wanted, found):
            if edits is not None:
                findings[i] = dataclasses.replace(finding, edits=edits)
        if known is not None:
            cache.put_edits(known, [findings[i].edits for i, _, _ in wanted])
    return findings
