"""The command line: options -> api -> reporter -> exit status. Heavy modules are imported only when a command runs."""

from __future__ import annotations

import os
import sys
from dataclasses import replace

import click

from llmlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERNAL = 2  # an error of llmlint's own: like a usage error, never taken for "findings"
COMMANDS = ("check", "rules", "explain", "inventory", "report", "clean")


class DefaultToCheck(click.Group):
    """`llmlint` and `llmlint PATH...` mean `llmlint check ...` (ruff's and Fixit's convention)."""

    def parse_args(self, ctx, args):
        if not any(a in ("--help", "-h", "--version") for a in args[:1]) and (not args or args[0] not in self.commands):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        """Every command runs behind one error boundary: an unexpected exception (a bug of llmlint's) is one line on
        stderr naming a crash report file that holds the traceback, and exit status 2, whatever the options."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit, BrokenPipeError):
            raise  # click's own ending (a closed pipe included: `llmlint | head`)
        except Exception as error:
            _crash(error)


def _split(values) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@click.group(cls=DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="llmlint")
def main():
    """llmlint finds the code patterns that keep LLM applications out of production: monolithic prompts,
    retrieval firehoses, retry spirals, context amnesia, one model for everything, and the missing timeouts,
    caps, error handling and observability around model calls."""


@main.command(epilog="Examples:\n\n  llmlint\n\n  llmlint check src/ --format sarif -o llmlint.sarif\n\n  llmlint check app.py --select LLM1 --ignore LLM106")
@click.argument("paths", nargs=-1, type=click.Path(readable=False))  # an unreadable file is skipped, not fatal
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default=None, help="Output format; text is --output-format full or concise  [default: text]")
@click.option("--output-format", type=click.Choice(["full", "concise", "json", "sarif", "github"]), default=None,
              help="Output format, as ruff names them: full (each finding with its source and a caret under it, and the fix) or concise (one line per finding), or a machine format  [default: full]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE instead of stdout.")
@click.option("--select", multiple=True, help="Rules to run: ids, names or id prefixes (LLM1), comma-separated.")
@click.option("--ignore", multiple=True, help="Rules to skip: ids, names or id prefixes, comma-separated.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "note"]), default=None, help="Lowest severity that makes the exit status 1 [default: warning, or the config's fail-on].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (advisory runs).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Configuration file (pyproject.toml or llmlint.toml).")
@click.option("--no-cache", is_flag=True, help="Do not read or write .llmlint_cache/.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, help="Worker processes for parsing; 0 means one per core (never more than the cores available).")
@click.option("--exclude", multiple=True, metavar="PATTERNS",
              help="Files and folders to exclude (gitignore-style patterns, comma-separated), instead of the configuration's `exclude`.")
@click.option("--extend-exclude", multiple=True, metavar="PATTERNS",
              help="More files and folders to exclude (gitignore-style patterns, comma-separated), added to the configuration's.")
@click.option("--force-exclude", is_flag=True, help="Apply exclusions to files named on the command line too (for pre-commit).")
@click.option("--files-only", is_flag=True, help="Judge the named files alone, not within their projects (cross-file findings are missed).")
@click.option("--report-unused-suppressions", is_flag=True, help="List suppression comments and baseline entries that matched no finding.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings (ruff's --statistics).")
@click.option("--sarif-category", default=None, help="SARIF automationDetails.id, to tell several uploads apart.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary and no skipped-file lines.")
@click.option("--stdin-filename", metavar="PATH", default=None,
              help="Read the text of PATH from standard input (an editor's buffer) and judge it as that file, within its project.")
@click.option("--baseline", "baseline_file", type=click.Path(), default=None,
              help="Report only findings that this baseline file (see --write-baseline) does not hold [default: the config's baseline].")
@click.option("--write-baseline", type=click.Path(), default=None,
              help="Record the current findings in FILE as the baseline and exit 0 (no report is printed).")
@click.option("--fix", is_flag=True, help="Apply the safe fixes (and the unsafe ones with --unsafe-fixes), then report what is left.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes --fix would apply as a unified diff, write nothing; exit 1 when there is something to fix.")
@click.option("--unsafe-fixes/--no-unsafe-fixes", default=None, help="Also apply fixes that change behaviour (output caps, async clients) [default: the config's unsafe-fixes, else no].")
def check(paths, fmt, output, select, ignore, fail_on, exit_zero, config_file, no_cache, jobs, exclude, extend_exclude, force_exclude, files_only,
          report_unused_suppressions, statistics, sarif_category, quiet, stdin_filename, baseline_file, write_baseline,
          fix, show_diff, unsafe_fixes, output_format):
    """Check Python files and folders (default: the current folder) for LLM production risks."""
    from llmlint.api import lint_paths
    from llmlint.engine.redact import safe_text
    from llmlint.reporters import render
    from llmlint.reporters.text import project_notes, summary
    from llmlint.reporters.text import statistics as render_statistics

    paths = list(paths) or ["."]
    fmt, style = _output_format(fmt, output_format, statistics)
    buffers = None
    if stdin_filename is not None:  # `llmlint check --stdin-filename app/llm.py -` (ruff's convention)
        if paths not in (["."], ["-"]) or not os.path.isfile(stdin_filename):
            raise click.UsageError("--stdin-filename takes the path of an existing file, and '-' (or no path) to read it from standard input")
        paths, buffers = [stdin_filename], {os.path.abspath(stdin_filename): sys.stdin.buffer.read()}
    _check_output(output)
    _check_output(write_baseline, "the baseline")
    config, rules = _load_config(paths, config_file, select, ignore, fail_on, exclude, extend_exclude)
    baseline = None if write_baseline else _load_baseline(baseline_file, config)
    config = replace(config, baseline=None)  # (the baseline, if any, is the one loaded here)
    def lint():
        return _run(lambda: lint_paths(paths, config, jobs=jobs, use_cache=not no_cache, force_exclude=force_exclude,
                                       project_scope=not files_only, buffers=buffers, baseline=baseline))

    if (fix or show_diff) and buffers is not None:
        raise click.UsageError("--fix and --diff work on files, not on standard input (--stdin-filename)")
    unsafe = config.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    with _progress_line(quiet):
        report = lint()
    if show_diff or fix:
        report = _apply_fixes(report, lint, unsafe=unsafe, write=not show_diff, quiet=quiet, output=output)
    if write_baseline:
        _write_baseline(write_baseline, report, buffers, quiet)
        return
    if fmt in ("json", "sarif") and not statistics and any(f.autofixes for f in report.findings):
        # their readers apply text replacements: the fixes' edits (libcst loads only for a file whose edits the cache does not hold)
        from llmlint.engine.cache import open_cache
        from llmlint.fixes.edits import with_edits

        report.findings = with_edits(report, unsafe=unsafe, cache=None if no_cache else open_cache(config.root))
    color = fmt == "text" and not output and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if statistics:  # the table replaces the listing, as in ruff, and is printed under -q too
        text = render_statistics(report, as_json=fmt == "json")
    else:
        shown = _source_lines(buffers) if fmt == "text" else None  # (SARIF reads its fingerprints' lines itself)
        text = render(fmt, report, rules, color=color, category=sarif_category, style=style, source_lines=shown)
    _write(text, output)
    if not quiet:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        for notice in report.notices:
            click.echo(safe_text(notice), err=True)
        if report_unused_suppressions:
            for unused in report.unused_suppressions:
                click.echo(safe_text(str(unused)), err=True)
        for note in project_notes(report):
            click.echo(note, err=True)
        _fixable_note(report, unsafe)  # (before the summary, which stays the last line)
        click.echo(summary(report), err=True)
    failing = [f for f in report.findings if f.severity.rank >= config.fail_on.rank]
    _exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_CLEAN)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(readable=False))  # an unreadable file is skipped, not fatal
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE instead of stdout.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Configuration file.")
@click.option("--no-cache", is_flag=True, help="Do not read or write .llmlint_cache/.")
@click.option("--unresolved", is_flag=True, help="Also list call sites that look like model calls but could not be resolved, and where resolution stopped.")
def inventory(paths, fmt, output, config_file, no_cache, unresolved):
    """List every model call: the LLM bill of materials of a repository."""
    from llmlint.api import build_analysis
    from llmlint.reporters.inventory import render_inventory

    paths = list(paths) or ["."]
    _check_output(output)
    config, _ = _load_config(paths, config_file, None, None, None)
    analysis, problems, _ = _run(lambda: build_analysis(paths, config, use_cache=not no_cache))
    _write(render_inventory(analysis, fmt, unresolved=unresolved), output)
    for problem in problems:
        click.echo(str(problem), err=True)


@main.command(epilog="Examples:\n\n  llmlint report\n\n  llmlint report app/ --format html -o readiness.html\n\n  llmlint report . --requests-per-month 50000 --format json")
@click.argument("paths", nargs=-1, type=click.Path(readable=False))  # an unreadable file is skipped, not fatal
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "json"]), default="markdown", help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE instead of stdout.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Configuration file.")
@click.option("--no-cache", is_flag=True, help="Do not read or write .llmlint_cache/.")
@click.option("--requests-per-month", type=click.IntRange(min=1), default=1_000_000, help="Requests per month the monthly cost is computed for (each model call site once per request).")
@click.option("--chars-per-token", type=click.FloatRange(min=0.5, max=100), default=4.0, help="Characters of prompt text per token.")
@click.option("--chunk-chars", type=click.IntRange(min=1), default=1_000, help="Characters of each retrieved document (chunk) put into a prompt.")
@click.option("--price-date", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Price models as on this date (YYYY-MM-DD) [default: today].")
def report(paths, fmt, output, config_file, no_cache, requests_per_month, chars_per_token, chunk_chars, price_date):
    """Assess production readiness: the gap scorecard, cost per call site and per month, worst-case latency per
    entry point, and the inventory of providers, models and keys."""
    from llmlint.report import build_report, render_report
    from llmlint.report.costs import Assumptions

    paths = list(paths) or ["."]
    _check_output(output)
    config, _ = _load_config(paths, config_file, None, None, None)
    assumptions = Assumptions(requests_per_month=requests_per_month, chars_per_token=chars_per_token, chunk_chars=chunk_chars)
    document, problems = _run(lambda: build_report(paths, config, assumptions, use_cache=not no_cache,
                                                   price_date=price_date.date() if price_date else None))
    _write(render_report(document, fmt), output)
    for problem in problems:
        click.echo(str(problem), err=True)


@main.command(name="rules")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", help="Output format.")
def list_rules(fmt):
    """List every rule: id, name, severity, gap and what it flags."""
    from llmlint.ruleset.registry import all_rules

    if fmt == "markdown":
        from llmlint.ruleset.ruletable import render_rule_table

        click.echo(render_rule_table(all_rules()), nl=False)
        return
    for meta in all_rules().values():
        click.echo(f"{meta.id}  {meta.name:<24} {meta.severity.value:<8} {meta.gap:<13} {meta.summary}")


@main.command()
@click.argument("rule")
def explain(rule):
    """Print the document of RULE (an id such as LLM101 or a name such as missing-timeout)."""
    from llmlint.ruleset.registry import find_rule

    meta = find_rule(rule)
    if meta is None:
        raise click.UsageError(f"unknown rule {rule!r}; `llmlint rules` lists them")
    click.echo(meta.markdown, nl=False)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
def clean(paths):
    """Remove the .llmlint_cache/ folders of the given project roots (default: the current folder)."""
    from llmlint.engine.cache import clean as clean_cache

    for path in paths or ["."]:
        if clean_cache(path):
            click.echo(f"removed {os.path.join(path, '.llmlint_cache')}", err=True)


def _output_format(fmt: str | None, output_format: str | None, statistics: bool) -> tuple[str, str]:
    """(reporter, text style) from --format and --output-format (ruff's name for the option; `--format text` is the
    text family, whose style --output-format picks)."""
    style = "full"
    if output_format in ("full", "concise"):
        if fmt not in (None, "text"):
            raise click.UsageError(f"--output-format {output_format} is a text format; it does not go with --format {fmt}")
        fmt, style = "text", output_format
    elif output_format is not None:
        if fmt not in (None, output_format):
            raise click.UsageError(f"--format {fmt} and --output-format {output_format} ask for two formats; give one")
        fmt = output_format
    fmt = fmt or "text"
    if statistics and fmt not in ("text", "json"):
        raise click.UsageError(f"--statistics prints a table (text or json); it does not go with --format {fmt}")
    return fmt, style


def _source_lines(buffers):
    """The source lines the full text format shows: files under the folder reported paths are relative to, or the
    buffer read from standard input."""
    from llmlint.engine.gitinfo import report_base
    from llmlint.reporters.text import read_source_lines

    return read_source_lines(report_base(), buffers)


def _progress_line(quiet: bool):
    """A progress line on stderr for a long run, only on a terminal and never under -q (llmlint.engine.progress)."""
    from llmlint.engine.progress import progress_line

    return progress_line(enabled=not quiet and _stderr_is_terminal())


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _load_config(paths, config_file, select, ignore, fail_on, exclude=(), extend_exclude=()):
    from llmlint.engine.config import ConfigError, apply_overrides, load_config
    from llmlint.engine.redact import safe_text
    from llmlint.ruleset.registry import all_rules

    rules = all_rules()
    try:
        config = load_config(paths, config_file, rules)
        config = apply_overrides(config, rules, select=_split(select), ignore=_split(ignore), fail_on=fail_on,
                                 exclude=_split(exclude), extend_exclude=_split(extend_exclude))
    except ConfigError as error:
        raise OneLineError(safe_text(str(error))) from None  # it quotes the configuration file: keys, patterns
    for warning in config.warnings:
        click.echo(safe_text(warning), err=True)
    return config, rules


def _apply_fixes(report, lint, *, unsafe: bool, write: bool, quiet: bool, output: str | None):
    """`--diff`: print what the fixes change and exit (1 when there is something to fix). `--fix`: write them,
    then check again and return the report of what is left."""
    from llmlint.engine.redact import safe_text
    from llmlint.fixes.apply import plan_fixes, write_fix

    plan = plan_fixes(report, unsafe=unsafe)
    lines = list(plan.skipped)
    if not write:
        _write("".join(file_fix.diff() for file_fix in plan.files), output)
        if not quiet:
            for line in lines:
                click.echo(line, err=True)
            more = f" ({_count(plan.unsafe_left, 'more finding')} with --unsafe-fixes)" if plan.unsafe_left else ""
            click.echo(f"Would fix {_count(len(plan.fixed), 'finding')} in {_count(len(plan.files), 'file')}{more}.", err=True)
        _exit(EXIT_FINDINGS if plan.files else EXIT_CLEAN)
    fixed = written = 0
    for file_fix in plan.files:
        problem = write_fix(file_fix)
        if problem:
            lines.append(f"{safe_text(file_fix.display)}: not fixed: {problem}")
        else:
            fixed, written = fixed + len(file_fix.fixed), written + 1
    if not quiet:
        for line in lines:
            click.echo(line, err=True)
        if fixed:
            click.echo(f"Fixed {_count(fixed, 'finding')} in {_count(written, 'file')}.", err=True)
    return lint() if written else report


def _fixable_note(report, unsafe: bool) -> None:
    """ruff's `[*] N fixable with the --fix option` under the summary."""
    if not any(f.autofixes for f in report.findings):
        return  # (without loading libcst's codemods)
    from llmlint.fixes.edits import fixable_counts

    fixable, hidden = fixable_counts(report, unsafe)
    if fixable:
        click.echo(f"[*] {_count(fixable, 'finding')} fixable with --fix.", err=True)
    if hidden:
        click.echo(f"{_count(hidden, 'more finding')} fixable with --fix --unsafe-fixes.", err=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _load_baseline(given: str | None, config):
    """The baseline named by --baseline, else by the configuration (None when neither names one); a file that
    cannot be read or is not a baseline is one `Error:` line."""
    if given is None and not config.baseline:
        return None
    from llmlint.results.baseline import BaselineError, load_baseline

    try:
        return load_baseline(given) if given is not None else load_baseline(config.baseline)
    except BaselineError as error:
        if given is None:
            key = "tool.llmlint.results.baseline" if os.path.basename(config.path or "") == "pyproject.toml" else "baseline"
            raise OneLineError(f"{error} (named by {_shown(config.path)}: {key})") from None
        raise OneLineError(str(error)) from None


def _write_baseline(target: str, report, buffers, quiet: bool) -> None:
    from llmlint.engine.redact import safe_text
    from llmlint.results.baseline import BaselineError, source_reader, write_baseline

    try:
        entries = write_baseline(target, report.findings, source_reader(buffers))
    except BaselineError as error:
        raise OneLineError(str(error)) from None
    if not quiet:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        count = len(report.findings)
        click.echo(safe_text(f"Wrote {count} finding{'s' * (count != 1)} ({entries} entr{'ies' if entries != 1 else 'y'}) "
                             f"to the baseline {target}."), err=True)
    _exit(EXIT_CLEAN)


def _shown(path: str | None) -> str:
    from llmlint.engine.redact import safe_text

    if not path:
        return ""
    relative = os.path.relpath(path)
    return safe_text(path if relative.startswith("..") else relative)


_HARD_EXIT = False  # set by `entry`, the console script: the process ends with the command


def entry():
    """The `llmlint` console script (and `python -m llmlint`)."""
    global _HARD_EXIT
    _HARD_EXIT = True
    try:
        main()
    except Exception as error:  # raised outside any command (the commands have their own boundary)
        _crash(error)


def _crash(error: Exception) -> None:
    """Report an unexpected exception: its traceback into a crash report file in the temporary folder, one line on
    stderr, exit status 2. The report is redacted like any output: an exception may quote analysed code."""
    import platform
    import tempfile
    import traceback

    from llmlint.engine.redact import redact, safe_text

    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    header = f"llmlint {__version__}, Python {platform.python_version()} on {platform.platform()}\ncommand: {sys.argv!r}\n\n"
    try:
        fd, path = tempfile.mkstemp(prefix="llmlint-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(redact(header + trace))
        where = f"traceback in {path}"
    except OSError as write_error:
        where = f"no crash report written: {write_error.strerror or write_error}"
    detail = safe_text(str(error))
    detail = detail if len(detail) <= 300 else detail[:299] + "…"
    click.echo(f"llmlint: internal error: {type(error).__name__}: {detail} (please report it; {where})", err=True)
    _exit(EXIT_INTERNAL)


def _exit(code: int) -> None:
    """End the run with `code`. From the console script, once the output is flushed, the process ends without
    freeing the analysis object by object (mypy's hard exit): on a large repository that takes seconds."""
    if _HARD_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _run(action):
    from llmlint.engine.discovery import DiscoveryError

    try:
        return action()
    except DiscoveryError as error:
        raise click.UsageError(str(error)) from None


class OneLineError(click.ClickException):
    """A configuration error, or a report that cannot be written where -o says: one line `Error: ...`, exit 2
    (click's UsageError would add the usage text, which is not what went wrong)."""

    exit_code = EXIT_USAGE


def _check_output(output: str | None, what: str = "the report") -> None:
    """Refuse an -o (or --write-baseline) whose folder does not exist before the run, not after it."""
    if output:
        folder = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(folder):
            raise OneLineError(f"cannot write {what} to {output}: folder {os.path.dirname(output) or folder} does not exist")


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:  # no space left (/dev/full), no permission, a folder in the way...
            raise OneLineError(f"cannot write the report to {output}: {error.strerror or error}") from None
    else:
        click.echo(text, nl=False)
