"""The pipeline: discover -> configure -> index (pre-filter, cache, processes) -> link -> rules -> suppress -> sort."""

from __future__ import annotations

import os

from llmlint.analysis import Analysis
from llmlint.config import Config, is_enabled, load_config, options_for
from llmlint.discovery import discover
from llmlint.finding import Report
from llmlint.indexing import index_files
from llmlint.project import Project
from llmlint.registry import all_rules, instantiate


def lint_paths(
    paths,
    config: Config | None = None,
    *,
    jobs: int = 0,
    use_cache: bool = True,
    force_exclude: bool = False,
    prefilter: bool = True,
) -> Report:
    """Check `paths` (files and folders) and return the Report. Raises DiscoveryError for a missing path and
    ConfigError for a bad configuration; every problem with a single file becomes a Problem in the Report."""
    paths = [str(p) for p in paths] or ["."]
    rules = all_rules()
    config = config or load_config(paths, None, rules)
    analysis, problems, files = build_analysis(paths, config, jobs=jobs, use_cache=use_cache, force_exclude=force_exclude, prefilter=prefilter)
    enabled = [meta for meta in rules.values() if is_enabled(config, meta)]
    checkers = instantiate(enabled, {meta.name: options_for(config, meta) for meta in enabled})
    findings = []
    for checker in checkers:
        findings.extend(checker.check(analysis))
    findings = [f for f in findings if is_enabled(config, rules[f.rule_id], _relative(f.location.path))]
    report = Report(problems=problems, files_checked=files)
    kept, notices, unused = suppress(findings, analysis, rules)
    report.findings = sorted(set(kept), key=lambda f: f.sort_key)
    report.unused_suppressions = unused
    report.notices = notices
    return report


def build_analysis(paths, config: Config, *, jobs=0, use_cache=True, force_exclude=False, prefilter=True):
    """Discover, index and link: the Analysis every rule (and `llmlint inventory`) works on."""
    found = discover(paths, config, force_exclude=force_exclude)
    cache_root = config.root if use_cache else None
    indexes, problems, _ = index_files(found.files, cache_root, jobs=jobs, prefilter=prefilter)
    displays = {f.path: f.display for f in found.files}
    roots = {f.path: f.project_root for f in found.files}
    project = Project(indexes, roots)
    problems = sorted(found.problems + problems, key=lambda p: p.path)
    return Analysis(project, displays), problems, len(found.files)


def suppress(findings, analysis: Analysis, rules):
    """Apply `# llmlint: ignore[...]` / `# noqa: ...` comments. Returns (kept, notices, unused)."""
    from llmlint.suppress import filter_findings

    comments, statements = {}, {}
    for idx in analysis.project.indexes.values():
        display = analysis.display(idx.path)
        comments[display] = idx.comments
        for fn in idx.functions.values():
            for site in fn.calls:
                statements[(display, site.call.line)] = site.stmt_line
    result = filter_findings(findings, comments, statements, rules)
    return result.kept, result.notices, result.unused


def _relative(display: str) -> str:
    return display if not os.path.isabs(display) else os.path.relpath(display)
