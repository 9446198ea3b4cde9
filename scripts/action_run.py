"""The run step of the GitHub Action (action.yml): llmlint with the action's inputs, findings as workflow
annotations, a SARIF report, step outputs and a job summary.

Inputs come from the environment, as the action's step passes them (never pasted into a shell script):
INPUT_PATHS, INPUT_ARGS (both split as a shell would), INPUT_UPLOAD_SARIF ("true"/"false"), INPUT_SARIF_FILE, and
LLMLINT_PYTHON (the interpreter llmlint is installed in; default: this one). It writes GITHUB_OUTPUT (exit-code,
findings, sarif-file) and GITHUB_STEP_SUMMARY, and exits with llmlint's status (0, 1 findings, 2 error).

Standard library only: it runs before anything else is known to be installed. Run it locally with fake GITHUB_*
variables to see what the action would do (tests/test_action.py does).
"""

from __future__ import annotations

import html
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections import Counter

CHOSEN = ("--format", "--output-format", "-o", "--output", "--write-baseline", "--stdin-filename")  # the action's own
SHOWN = 20  # findings listed in the summary


def main(env=os.environ) -> int:
    try:
        paths = shlex.split(env.get("INPUT_PATHS") or ".") or ["."]
        args = shlex.split(env.get("INPUT_ARGS") or "")
    except ValueError as error:  # an unclosed quote
        return _fail(env, f"cannot read the paths or args input: {error}")
    chosen = [a for a in args if a in CHOSEN or a.startswith(tuple(c + "=" for c in CHOSEN if c.startswith("--")))]
    if chosen:
        return _fail(env, f"args must not set {', '.join(chosen)}: the action chooses the formats and files")
    upload = (env.get("INPUT_UPLOAD_SARIF") or "true").strip().lower() == "true"
    python = env.get("LLMLINT_PYTHON") or sys.executable
    command = [python, "-m", "llmlint", "check", *paths, *args]

    # the findings as annotations on the pull request, and the exit status of the step
    print(f"$ {shlex.join(['llmlint', *command[3:]])} --format github", flush=True)
    status = subprocess.call([*command, "--format", "github"])
    if status not in (0, 1):
        return _fail(env, f"llmlint ended with exit status {status}: see the step's log", status)

    # the same run as SARIF (from the cache: the code has not changed), for the summary and for code scanning
    sarif_file = env.get("INPUT_SARIF_FILE") or "llmlint.sarif"
    if not upload:
        handle, sarif_file = tempfile.mkstemp(prefix="llmlint-", suffix=".sarif")
        os.close(handle)
    second = subprocess.call([*command, "--format", "sarif", "-o", sarif_file, "--exit-zero", "-q"])
    try:
        with open(sarif_file, encoding="utf-8") as handle:
            run = json.load(handle)["runs"][0]
    except (OSError, ValueError, KeyError, IndexError) as error:
        return _fail(env, f"no SARIF report (exit status {second}): {error}", 2)
    finally:
        if not upload:
            os.unlink(sarif_file)
    results = run.get("results", [])
    _outputs(env, {"exit-code": status, "findings": len(results), "sarif-file": os.path.abspath(sarif_file) if upload else ""})
    _summary(env, summary(run, status, env))
    return status


def summary(run: dict, status: int, env=os.environ) -> str:
    """The job summary in Markdown: counts by level and by rule, and the first findings (errors first) with links
    to the code at the commit checked."""
    results = run.get("results", [])
    rules = run.get("tool", {}).get("driver", {}).get("rules", [])
    names = {rule.get("id"): rule.get("name", "") for rule in rules}
    verdict = "passed" if status == 0 else "failed"
    if not results:
        return f"## llmlint: {verdict}\n\nNo findings.\n"
    levels = Counter(result.get("level", "warning") for result in results)
    shown_levels = ", ".join(f"{levels[level]} {label}" for level, label in
                             (("error", "errors"), ("warning", "warnings"), ("note", "notes")) if levels[level])
    lines = [f"## llmlint: {verdict}", "", f"**{len(results)} finding{'s' * (len(results) != 1)}** ({shown_levels}).", "",
             "| rule | name | findings |", "|---|---|---:|"]
    for rule_id, count in sorted(Counter(result.get("ruleId", "") for result in results).items()):
        lines.append(f"| {_cell(rule_id)} | {_cell(names.get(rule_id, ''))} | {count} |")
    lines += ["", "| where | rule | message |", "|---|---|---|"]
    rank = {"error": 0, "warning": 1, "note": 2}
    for result in sorted(results, key=lambda r: rank.get(r.get("level", "warning"), 3))[:SHOWN]:  # errors first
        path, line = _where(result)
        lines.append(f"| {_link(path, line, env)} | {_cell(result.get('ruleId', ''))} | {_cell(_first_sentence(result))} |")
    if len(results) > SHOWN:
        lines += ["", f"... and {len(results) - SHOWN} more: see the annotations, or code scanning."]
    return "\n".join(lines) + "\n"


def _where(result: dict) -> tuple[str, int]:
    try:
        physical = result["locations"][0]["physicalLocation"]
        return physical["artifactLocation"]["uri"], int(physical.get("region", {}).get("startLine", 1))
    except (KeyError, IndexError, TypeError, ValueError):
        return "", 0


def _link(path: str, line: int, env) -> str:
    from urllib.parse import unquote

    shown = _cell(f"{unquote(path)}:{line}")
    server, repository, sha = (env.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if not (server and repository and sha and path):
        return shown
    return f"[{shown}]({server}/{repository}/blob/{sha}/{path}#L{line})"


def _first_sentence(result: dict) -> str:
    text = str(result.get("message", {}).get("text", "")).split("\n")[0].split(" Fix: ")[0]
    return text if len(text) <= 160 else text[:159] + "…"


def _cell(text: str) -> str:
    """Text from the analysed code, safe in a Markdown table cell: no HTML, no column break, one line."""
    return html.escape(" ".join(str(text).split())).replace("|", "\\|")


def _outputs(env, values: dict) -> None:
    target = env.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def _summary(env, text: str) -> None:
    target = env.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)


def _fail(env, why: str, status: int = 2) -> int:
    escaped = why.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")  # one workflow command, whole
    print(f"::error title=llmlint::{escaped}", flush=True)
    _outputs(env, {"exit-code": status, "findings": "", "sarif-file": ""})
    _summary(env, f"## llmlint: could not run\n\n{_cell(why)}\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
