"""Suppression comments: which findings they silence, which are unused, and what a bare one earns."""

from __future__ import annotations

from llmlint.results.finding import Finding, Location, Severity
from llmlint.results.suppress import (
    Suppression,
    UnusedSuppression,
    filter_findings,
    parse_suppressions,
)
from llmlint.ruleset.ruledoc import parse_rule_doc


def make_rule(rule_id: str, name: str):
    doc = f'+++\nid = "{rule_id}"\nname = "{name}"\nseverity = "warning"\n+++\n# {name} ({rule_id})\n\n## What it does\n\nFlags things.\n'
    return parse_rule_doc(doc, f"{rule_id}-{name}.md")


RULES = {r.id: r for r in (make_rule("LLM101", "missing-timeout"), make_rule("LLM102", "unbounded-output"), make_rule("LLM106", "unobserved-model-call"))}


def finding(rule_id: str, line: int, path: str = "app.py") -> Finding:
    rule = RULES[rule_id]
    return Finding(rule.id, rule.name, Severity.WARNING, Location(path, line), f"{rule.name} here", "fix it")


def run(findings, comments, statements=None, path="app.py"):
    return filter_findings(findings, {path: comments}, statements, RULES)


def keys(items) -> list[tuple[str, int]]:
    return [(f.rule_id, f.location.line) for f in items]


def test_ignore_by_id_on_the_reported_line():
    result = run([finding("LLM101", 3), finding("LLM102", 3), finding("LLM101", 4)], {3: "# llmlint: ignore[LLM101]"})
    assert keys(result.suppressed) == [("LLM101", 3)]
    assert keys(result.kept) == [("LLM102", 3), ("LLM101", 4)]
    assert result.unused == [] and result.notices == []


def test_ignore_by_name_case_insensitive_with_reason():
    comments = {5: "# llmlint: ignore[LLM102, Missing-Timeout] the proxy enforces a 30 s timeout"}
    result = run([finding("LLM101", 5), finding("LLM102", 5), finding("LLM106", 5)], comments)
    assert keys(result.suppressed) == [("LLM101", 5), ("LLM102", 5)]
    assert keys(result.kept) == [("LLM106", 5)]
    [suppression], _ = parse_suppressions("app.py", comments, RULES)
    assert suppression == Suppression("app.py", 5, ("LLM102", "Missing-Timeout"), False, "llmlint", "the proxy enforces a 30 s timeout")


def test_id_is_case_insensitive_and_spacing_is_free():
    result = run([finding("LLM101", 2)], {2: "#llmlint:ignore [llm101]"})
    assert keys(result.suppressed) == [("LLM101", 2)]


def test_noqa_with_codes():
    comments = {1: "# noqa: LLM101", 2: "# noqa:LLM101,LLM102", 3: "# noqa: E501, LLM106", 4: "# NOQA: LLM102 LLM101"}
    findings = [finding("LLM101", 1), finding("LLM102", 2), finding("LLM101", 2), finding("LLM106", 3), finding("LLM101", 4)]
    result = run(findings, comments)
    assert keys(result.suppressed) == [("LLM101", 1), ("LLM102", 2), ("LLM101", 2), ("LLM106", 3), ("LLM101", 4)]
    assert [str(u) for u in result.unused] == ["app.py:4: unused suppression: LLM102"]
    assert result.notices == []


def test_bare_noqa_suppresses_nothing_silently():
    result = run([finding("LLM101", 1)], {1: "# noqa"})
    assert keys(result.kept) == [("LLM101", 1)]
    assert result.notices == [] and result.unused == []


def test_noqa_for_other_tools_only_is_not_ours():
    result = run([finding("LLM101", 1)], {1: "# noqa: E501,F401"})
    assert keys(result.kept) == [("LLM101", 1)]
    assert result.notices == [] and result.unused == []


def test_bare_llmlint_ignore_suppresses_nothing_and_is_a_notice():
    result = run([finding("LLM101", 7)], {7: "# llmlint: ignore", 9: "# llmlint: ignore-file", 11: "# llmlint: ignore[]"})
    assert keys(result.kept) == [("LLM101", 7)]
    assert result.notices == [
        "app.py:7: bare '# llmlint: ignore' suppresses nothing; name the rules, e.g. '# llmlint: ignore[LLM101]'",
        "app.py:9: bare '# llmlint: ignore-file' suppresses nothing; name the rules, e.g. '# llmlint: ignore-file[LLM101]'",
        "app.py:11: empty '# llmlint: ignore[]' suppresses nothing; name the rules, e.g. '# llmlint: ignore[LLM101]'",
    ]
    assert result.unused == []


def test_unknown_rule_is_a_notice():
    result = run([finding("LLM101", 1)], {1: "# llmlint: ignore[missing-timout, LLM101]", 2: "# noqa: LLM999"})
    assert keys(result.suppressed) == [("LLM101", 1)]
    assert result.notices == [
        "app.py:1: unknown rule 'missing-timout' in '# llmlint: ignore[...]'",
        "app.py:2: unknown rule 'LLM999' in '# noqa'",
    ]


def test_first_line_of_the_statement_covers_a_multiline_call():
    # 10: response = client.chat.completions.create(  # llmlint: ignore[LLM101]
    # 11:     model="gpt-4o",
    # 12:     messages=messages,
    # 13: )
    comments = {10: "# llmlint: ignore[LLM101]"}
    findings = [finding("LLM101", 12), finding("LLM102", 12), finding("LLM101", 20)]
    statements = {("app.py", 12): 10, ("app.py", 20): 20}
    result = run(findings, comments, statements)
    assert keys(result.suppressed) == [("LLM101", 12)]
    assert keys(result.kept) == [("LLM102", 12), ("LLM101", 20)]
    # a callable works the same way
    result = run(findings, comments, lambda path, line: 10 if 10 <= line <= 13 else None)
    assert keys(result.suppressed) == [("LLM101", 12)]


def test_without_statement_lines_only_the_reported_line_counts():
    result = run([finding("LLM101", 12)], {10: "# llmlint: ignore[LLM101]"})
    assert keys(result.kept) == [("LLM101", 12)]
    assert result.unused == [UnusedSuppression(Location("app.py", 10), ("LLM101",))]


def test_ignore_file():
    comments = {1: "# llmlint: ignore-file[LLM106] observability is handled by the gateway"}
    result = run([finding("LLM106", 4), finding("LLM106", 40), finding("LLM101", 4)], comments)
    assert keys(result.suppressed) == [("LLM106", 4), ("LLM106", 40)]
    assert keys(result.kept) == [("LLM101", 4)]
    other = filter_findings([finding("LLM106", 4, "other.py")], {"app.py": comments}, None, RULES)
    assert keys(other.kept) == [("LLM106", 4)]
    assert [str(u) for u in other.unused] == ["app.py:1: unused suppression: LLM106"]


def test_unused_suppressions_are_per_code_and_sorted():
    comments = {3: "# llmlint: ignore[LLM101, LLM102]", 8: "x = 1  # type: ignore  # llmlint: ignore[unobserved-model-call]"}
    result = filter_findings([finding("LLM101", 3)], {"b.py": {1: "# noqa: LLM101"}, "app.py": comments}, None, RULES)
    assert [(u.location.path, u.location.line, u.codes) for u in result.unused] == [
        ("app.py", 3, ("LLM102",)),
        ("app.py", 8, ("unobserved-model-call",)),
        ("b.py", 1, ("LLM101",)),
    ]


def test_comment_on_another_file_does_not_apply():
    result = filter_findings([finding("LLM101", 3, "b.py")], {"app.py": {3: "# llmlint: ignore[LLM101]"}}, None, RULES)
    assert keys(result.kept) == [("LLM101", 3)]


def test_ignore_and_noqa_on_one_line():
    result = run([finding("LLM101", 1), finding("LLM102", 1)], {1: "# llmlint: ignore[LLM101]  # noqa: LLM102"})
    assert keys(result.suppressed) == [("LLM101", 1), ("LLM102", 1)]
    assert result.unused == []
