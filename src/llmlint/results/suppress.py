"""Suppression comments: `# llmlint: ignore[LLM101, missing-timeout] reason`, `# noqa: LLM101`, `# llmlint: ignore-file[LLM106]`.

A suppression names its rules (ids, or names case-insensitively) and covers a finding reported on its line or on
the first line of the finding's statement; `ignore-file` covers the whole file. A bare `# llmlint: ignore`
suppresses nothing and earns a notice; a bare `# noqa` belongs to other tools and is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, Union

from llmlint.results.finding import Finding, Location
from llmlint.ruleset.ruledoc import RuleMeta

_LLMLINT = re.compile(r"#\s*llmlint\s*:\s*(?P<kind>ignore-file|ignore)(?![\w-])(?:\s*\[(?P<codes>[^\]]*)\])?(?P<reason>[^#]*)", re.I)
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
_OUR_CODE = re.compile(r"LLM\d+\Z", re.I)

StatementLines = Union[Callable[[str, int], Union[int, None]], Mapping[tuple, Union[int, None]], None]


@dataclass(frozen=True)
class Suppression:
    path: str
    line: int
    codes: tuple[str, ...]  # as written
    file_wide: bool = False
    kind: str = "llmlint"  # "llmlint" or "noqa"
    reason: str = ""

    def covers(self, code: str, finding: Finding) -> bool:
        return code.upper() == finding.rule_id.upper() or code.lower() == finding.name.lower()


@dataclass(frozen=True)
class UnusedSuppression:
    """Codes of one suppression comment that matched no finding (for --report-unused-suppressions)."""

    location: Location
    codes: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.location.label(column=False)}: unused suppression: {', '.join(self.codes)}"


@dataclass
class SuppressionResult:
    kept: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    unused: list[UnusedSuppression] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def suppression_comments(comments: Mapping[int, str]) -> dict[int, str]:
    """The comments that can hold a suppression (they name llmlint or noqa): all `parse_suppressions` reads, so a
    run record keeps only these, not every comment of the project."""
    return {line: text for line, text in comments.items() if "llmlint" in text.lower() or "noqa" in text.lower()}


def parse_suppressions(path: str, comments: Mapping[int, str], rules: Mapping[str, RuleMeta]) -> tuple[list[Suppression], list[str]]:
    """The suppressions in one file's comments (line -> comment text), and notices about bare or unknown ones."""
    suppressions: list[Suppression] = []
    notices: list[str] = []
    for line in sorted(comments):
        text = comments[line]
        lowered = text.lower()
        if "llmlint" not in lowered and "noqa" not in lowered:
            continue  # most comments are prose: neither pattern can match
        for match in _LLMLINT.finditer(text):
            kind = match.group("kind").lower()
            if match.group("codes") is None:
                example = f"# llmlint: {kind}[LLM101]"
                notices.append(f"{path}:{line}: bare '# llmlint: {kind}' suppresses nothing; name the rules, e.g. '{example}'")
                continue
            codes = tuple(code for code in re.split(r"[\s,]+", match.group("codes")) if code)
            known = tuple(code for code in codes if _is_known(code, rules))
            for code in codes:
                if code not in known:
                    notices.append(f"{path}:{line}: unknown rule '{code}' in '# llmlint: {kind}[...]'")
            if not codes:
                example = f"# llmlint: {kind}[LLM101]"
                notices.append(f"{path}:{line}: empty '# llmlint: {kind}[]' suppresses nothing; name the rules, e.g. '{example}'")
            if known:
                suppressions.append(Suppression(path, line, known, kind == "ignore-file", "llmlint", match.group("reason").strip()))
        for match in _NOQA.finditer(text):
            if not match.group("codes"):
                continue  # a bare noqa is for other tools
            ours = tuple(code.upper() for code in re.split(r"[\s,]+", match.group("codes")) if _OUR_CODE.match(code))
            known = tuple(code for code in ours if _is_known(code, rules))
            for code in ours:
                if code not in known:
                    notices.append(f"{path}:{line}: unknown rule '{code}' in '# noqa'")
            if known:
                suppressions.append(Suppression(path, line, known, False, "noqa"))
    return suppressions, notices


def _is_known(code: str, rules: Mapping[str, RuleMeta]) -> bool:
    if not rules:
        return True  # nothing to judge against
    return any(code.upper() == rule.id.upper() or code.lower() == rule.name.lower() for rule in rules.values())


def _statement_line(statement_lines: StatementLines, path: str, line: int) -> int | None:
    if statement_lines is None:
        return None
    if callable(statement_lines):
        return statement_lines(path, line)
    return statement_lines.get((path, line))


def filter_findings(
    findings: list[Finding],
    comments_by_path: Mapping[str, Mapping[int, str]],
    statement_lines: StatementLines,
    rules: Mapping[str, RuleMeta],
) -> SuppressionResult:
    """Split `findings` into kept and suppressed, and list the suppressions that matched nothing.

    `comments_by_path` maps a display path (Location.path) to its comments; `statement_lines` maps (path, line) to the
    first line of the statement holding that line (a dict, or a callable taking path and line), or None.
    """
    result = SuppressionResult()
    by_line: dict[tuple[str, int], list[Suppression]] = {}
    file_wide: dict[str, list[Suppression]] = {}
    all_suppressions: list[Suppression] = []
    for path in sorted(comments_by_path):
        if not comments_by_path[path]:
            continue  # (most files: a run record keeps only the comments that can suppress)
        suppressions, notices = parse_suppressions(path, comments_by_path[path], rules)
        result.notices.extend(notices)
        for suppression in suppressions:
            all_suppressions.append(suppression)
            if suppression.file_wide:
                file_wide.setdefault(path, []).append(suppression)
            else:
                by_line.setdefault((path, suppression.line), []).append(suppression)
    used: set[tuple[Suppression, str]] = set()
    for finding in findings:
        location = finding.location
        candidates = list(by_line.get((location.path, location.line), ()))
        start = _statement_line(statement_lines, location.path, location.line)
        if start is not None and start != location.line:
            candidates += by_line.get((location.path, start), ())
        candidates += file_wide.get(location.path, ())
        hits = [(s, code) for s in candidates for code in s.codes if s.covers(code, finding)]
        used.update(hits)
        (result.suppressed if hits else result.kept).append(finding)
    for suppression in all_suppressions:
        unused = tuple(code for code in suppression.codes if (suppression, code) not in used)
        if unused:
            result.unused.append(UnusedSuppression(Location(suppression.path, suppression.line), unused))
    return result
