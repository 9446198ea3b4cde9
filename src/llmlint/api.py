"""The pipeline: discover -> configure -> index (pre-filter, cache, processes) -> link -> rules -> suppress -> sort."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os

from llmlint.engine.config import (
    Config,
    config_fingerprint,
    is_enabled,
    load_config,
    options_for,
)
from llmlint.engine.discovery import Discovery, discover
from llmlint.engine.indexfiles import cached_entry, index_files
from llmlint.engine.scope import analysis_scope, covers
from llmlint.results.finding import Report
from llmlint.results.suppress import suppression_comments
from llmlint.ruleset.registry import all_rules, instantiate


def lint_paths(
    paths,
    config: Config | None = None,
    *,
    jobs: int = 0,
    use_cache: bool = True,
    force_exclude: bool = False,
    prefilter: bool = True,
    project_scope: bool = True,
    buffers: dict | None = None,
    baseline=None,
) -> Report:
    """Check `paths` (files and folders) and return the Report. Raises DiscoveryError for a missing path and
    ConfigError for a bad configuration; every problem with a single file becomes a Problem in the Report.

    With `project_scope` (the default) the named paths are judged within the projects that hold them (scope.py):
    everything those projects hold is analysed, and findings are reported in the named paths only. `buffers` maps
    a named file's path to the text to judge instead of what is on disk (`--stdin-filename`). A `baseline`
    (baseline.Baseline; default: the one the configuration names, `config.baseline`) keeps only the findings it
    does not hold, and its entries that matched nothing in the checked files join `unused_suppressions`."""
    paths = [str(p) for p in paths] or ["."]
    rules = all_rules()
    config = config or load_config(paths, None, rules)
    if baseline is None and config.baseline:
        from llmlint.results.baseline import load_baseline

        baseline = load_baseline(config.baseline)
    with collector_paused():
        report = _lint(paths, config, rules, jobs, use_cache, force_exclude, prefilter, project_scope, buffers)
    if baseline is not None:
        _apply_baseline(report, baseline, paths, config, rules, buffers)
    return report


def _lint(paths, config, rules, jobs, use_cache, force_exclude, prefilter, project_scope=True, buffers=None) -> Report:
    named, found, indexed = _discover_and_index(paths, config, jobs, use_cache, force_exclude, prefilter, project_scope,
                                                buffers)
    run_key = _run_key(found, indexed, config)
    cache = indexed.cache if run_key else None
    record = cache.get_run(run_key) if cache is not None else None
    if record is None and cache is not None:
        record = _carried_over(found, indexed, config, run_key)
    if record is None and not indexed.relevant:
        record = ([], {}, {})  # nothing that can matter (no model SDK, no key): no linking, no rules to load
    if record is None:
        analysis = _analysis(found, indexed)
        findings = _check(analysis, config, rules)
        record = (findings, *_suppression_facts(analysis, findings))
        if cache is not None:
            cache.put_run(run_key, record)
            from llmlint.engine.incremental import name_counts

            cache.put_names(run_key, name_counts(analysis.project.indexes.values()))
    findings, comments, statements = record
    displays = {f.path: f.display for f in found.files}
    for path, index in indexed.fresh.items():  # comments may have changed without changing the code
        comments[displays.get(path, path)] = suppression_comments(index.comments)
    reported = {f.display for f in named.files}  # the report scope
    if named is not found:
        findings = [f for f in findings if f.location.path in reported]
        comments = {display: lines for display, lines in comments.items() if display in reported}
    problems = named.problems + [p for p in indexed.problems if p.path in reported]
    skipped = {p.path for p in problems}  # discovered files that could not be checked
    report = Report(problems=sorted(problems, key=lambda p: p.path),
                    files_checked=sum(f.display not in skipped for f in named.files))
    keys = {state.file.path: state.key for state in indexed.states}  # what was checked, for --fix to compare
    report.sources = {f.display: (f.path, keys.get(f.path), f.module, f.is_package) for f in named.files if f.display not in skipped}
    from llmlint.results.suppress import filter_findings

    result = filter_findings(findings, comments, statements, rules)
    if any(f.path.endswith(".ipynb") for f in found.files):  # positions in notebooks given by cell
        from llmlint.engine.notebook import place_in_notebooks

        place_in_notebooks(result, found.files, buffers)
    report.findings = sorted(set(result.kept), key=lambda f: f.sort_key)
    report.unused_suppressions = result.unused
    report.notices = named.warnings + result.notices
    return report


def _apply_baseline(report: Report, baseline, paths, config: Config, rules, buffers) -> None:
    """Drop the findings `baseline` holds; its entries left over count as unused where this run checked their file
    with their rule (a file not named, skipped or per-file-ignored says nothing about them)."""
    from llmlint.engine.gitinfo import report_base
    from llmlint.results.baseline import source_reader

    base = report_base()
    found = len(report.findings)
    report.findings, stale = baseline.filter(report.findings, source_reader(buffers, base))
    if found > len(report.findings):
        known = found - len(report.findings)
        report.notices.append(f"{known} finding{'s' * (known != 1)} in the baseline {baseline.path}, not reported")
    named = [os.path.abspath(p) for p in paths]
    skipped = {p.path for p in report.problems}
    for entry in stale:
        where = os.path.normpath(os.path.join(base, entry.path))
        checked = entry.path not in skipped and any(where == p or where.startswith(p.rstrip(os.sep) + os.sep) for p in named)
        if checked and (entry.rule not in rules or is_enabled(config, rules[entry.rule], where)):
            report.unused_suppressions.append(entry)


def build_analysis(paths, config: Config, *, jobs=0, use_cache=True, force_exclude=False, prefilter=True):
    """Discover, index and link: the Analysis every rule (and `llmlint inventory`) works on."""
    with collector_paused():
        named, found, indexed = _discover_and_index(paths, config, jobs, use_cache, force_exclude, prefilter, False)
        analysis = _analysis(found, indexed)
    problems = sorted(found.problems + indexed.problems, key=lambda p: p.path)
    return analysis, problems, len(found.files)


@contextlib.contextmanager
def collector_paused():
    """No cyclic garbage collection while a run builds its indexes and links them: millions of long-lived objects
    and almost no cycles, so the collector's full passes only cost time (a fifth of a large run)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _discover_and_index(paths, config: Config, jobs, use_cache, force_exclude, prefilter, project_scope, buffers=None):
    """(the named files, every file of the analysis scope, their indexes)."""
    named = found = discover(paths, config, force_exclude=force_exclude)
    if project_scope and not covers(paths):
        around = discover(analysis_scope(paths), config, force_exclude=force_exclude)
        files = {f.path: f for f in named.files}  # a named file counts even where its project excludes it
        files.update((f.path, f) for f in around.files)
        found = Discovery(files=sorted(files.values(), key=lambda f: (f.display, f.path)), problems=around.problems,
                          warnings=around.warnings)
    if buffers:  # by the path discovery gave the file, however the caller spelled it
        given = {os.path.realpath(path): data for path, data in buffers.items()}
        buffers = {f.path: given[os.path.realpath(f.path)] for f in found.files if os.path.realpath(f.path) in given}
    return named, found, index_files(found.files, config.root if use_cache else None, jobs=jobs, prefilter=prefilter,
                                     buffers=buffers)


def _analysis(found, indexed):
    from llmlint.link.analysis import (
        Analysis,  # linking's modules load only when a run links
    )
    from llmlint.link.project import Project

    displays = {f.path: f.display for f in found.files}
    roots = {f.path: f.project_root for f in found.files}
    return Analysis(Project(indexed.load_all(), roots), displays)


def _check(analysis: Analysis, config: Config, rules) -> list:
    """Every enabled rule's findings, per-file-ignores applied (suppression comments are applied later)."""
    enabled = [meta for meta in rules.values() if is_enabled(config, meta)]
    checkers = instantiate(enabled, {meta.name: options_for(config, meta) for meta in enabled})
    findings = []
    for checker in checkers:
        findings.extend(checker.check(analysis))
    return [f for f in findings if is_enabled(config, rules[f.rule_id], f.location.path)]


def _suppression_facts(analysis: Analysis, findings) -> tuple:
    """(comments by displayed path, the first line of the statement of each call on a line with a finding): what
    the suppression filter needs, kept with the findings in the run cache."""
    comments, statements = {}, {}
    lines = {(f.location.path, f.location.line) for f in findings}
    for idx in analysis.project.indexes.values():
        display = analysis.display(idx.path)
        comments[display] = suppression_comments(idx.comments)
        for fn in idx.functions.values():
            for site in fn.calls:
                if (display, site.call.line) in lines:
                    statements[(display, site.call.line)] = site.stmt_line
    return comments, statements


def _carried_over(found, indexed, config: Config, run_key: str):
    """The last run's record, when the only code edits since are ones no rule can see (incremental.py); stored
    under `run_key` too. None otherwise: the project is linked again."""
    from llmlint.engine.incremental import after_edit, invisible_edit

    cache = indexed.cache
    edited = {path: known for path, known in indexed.edited.items() if known[1] != indexed.digests.get(path)}
    if not edited or any(digest is None for _, digest in edited.values()):
        return None
    last_key = _run_key(found, indexed, config, {path: digest for path, (_, digest) in edited.items()})
    record = cache.get_run(last_key) if last_key else None
    counts = cache.get_names(last_key) if record is not None else None
    if counts is None:
        return None
    for path, (content_key, _) in edited.items():
        old, new = cached_entry(cache, content_key), indexed.fresh.get(path)
        if old is None or old[0] is None or new is None:
            return None
        after = after_edit(counts, old[0], new)
        if not invisible_edit(old[0], new, counts, after):
            return None
        counts = after
    cache.put_run(run_key, record)
    cache.put_names(run_key, counts)
    return record


def _run_key(found, indexed, config: Config, digests: dict | None = None) -> str | None:
    """A key for the linked results: the code of every relevant file (not its comments), where it is shown and
    which project it belongs to, the configuration and the working directory. None when a digest is unknown."""
    digest = hashlib.blake2b(digest_size=20)
    for part in (config_fingerprint(config), os.getcwd()):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    for state in indexed.relevant:
        value = indexed.digests.get(state.file.path)
        if digests and state.file.path in digests:  # the key of an earlier run, before these files changed
            value = digests[state.file.path]
        elif value is None and state.file.path in indexed.fresh:
            return None
        f = state.file
        digest.update(f"{f.path}\0{f.display}\0{f.project_root}\0{value}\0".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()

