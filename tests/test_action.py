"""The GitHub Action (action.yml): its run step is executed here as the runner would, with fake GITHUB_* variables,
on a copy of the demo app, and its exit status, step outputs, SARIF report, annotations and job summary checked."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo-app"
SHA = "0123456789abcdef0123456789abcdef01234567"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = {step.get("id") or step["name"]: step for step in ACTION["runs"]["steps"]}


def run_step(step_id: str, workspace: Path, tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, dict, str]:
    """Run the step's `run:` script with bash as a composite action's step runs: its `env:` with `${{ ... }}`
    filled in from `inputs` (defaults from action.yml), GITHUB_* variables, and the workspace as current folder.
    Returns (the process, the step outputs, the job summary)."""
    step = STEPS[step_id]
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()} | inputs
    context = {f"inputs.{name}": value for name, value in values.items()}
    context["steps.install.outputs.python"] = sys.executable  # llmlint is installed in the test's interpreter

    def fill(text: str) -> str:
        return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: context[m.group(1)], text)

    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary.md"
    outputs.write_text("")
    summary.write_text("")
    env = {
        **os.environ,
        **{key: fill(str(value)) for key, value in step.get("env", {}).items()},
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/support-copilot",
        "GITHUB_SHA": SHA,
        "RUNNER_TEMP": str(tmp_path),
    }
    assert "${{" not in step["run"]  # inputs reach the script through the environment only (no injection)
    process = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=workspace, env=env, capture_output=True, text=True,
                             timeout=300)
    parsed = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return process, parsed, summary.read_text()


@pytest.fixture
def workspace(tmp_path):
    """A checkout of a repository holding the demo app (a git work tree, as actions/checkout leaves it)."""
    root = tmp_path / "workspace"
    shutil.copytree(DEMO, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_findings_fail_the_step_with_annotations_outputs_sarif_and_summary(workspace, tmp_path):
    process, outputs, summary = run_step("run", workspace, tmp_path)
    assert process.returncode == 1, process.stderr
    sarif = workspace / "llmlint.sarif"
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert outputs == {"exit-code": "1", "findings": str(len(results)), "sarif-file": str(sarif)}
    assert len(results) > 20
    # annotations: one workflow command per finding, on the file and line
    annotations = [line for line in process.stdout.splitlines() if line.startswith("::") and " file=" in line]
    assert len(annotations) == len(results)
    assert any("file=app/llm.py,line=16" in line and "LLM101" in line for line in annotations)
    # the summary: verdict, counts, a row per rule, links to the code at the commit checked
    assert summary.startswith(f"## llmlint: failed\n\n**{len(results)} findings** (")
    timeouts = sum(result["ruleId"] == "LLM101" for result in results)
    assert f"| LLM101 | missing-timeout | {timeouts} |" in summary
    listed = re.findall(r"^\| \[(\S+)\]\((\S+)\) \| (LLM\d+) \|", summary, re.M)
    assert len(listed) == 20 and summary.endswith(f"... and {len(results) - 20} more: see the annotations, or code scanning.\n")
    assert ("app/config.py:4", f"https://github.com/acme/support-copilot/blob/{SHA}/app/config.py#L4", "LLM107") in listed
    errors = {result["ruleId"] for result in results if result["level"] == "error"}
    assert {rule for _, _, rule in listed[:4]} == errors  # errors first
    assert "<" not in summary.replace("<br>", "")  # no HTML from the analysed code


def test_a_clean_project_passes(tmp_path):
    workspace = tmp_path / "clean"
    workspace.mkdir()
    (workspace / "summarize.py").write_text((DEMO / "app" / "summarize.py").read_text())
    process, outputs, summary = run_step("run", workspace, tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    assert outputs["exit-code"] == "0" and outputs["findings"] == "0"
    assert summary == "## llmlint: passed\n\nNo findings.\n"


def test_args_reach_llmlint_and_paths_are_split_like_a_shell(workspace, tmp_path):
    process, outputs, summary = run_step("run", workspace, tmp_path, paths="app/llm.py\napp/rag.py",
                                         args="--select LLM101,LLM003 --exit-zero", **{"upload-sarif": "false"})
    assert process.returncode == 0
    assert outputs == {"exit-code": "0", "findings": "5", "sarif-file": ""}
    assert not (workspace / "llmlint.sarif").exists()
    assert summary.startswith("## llmlint: passed\n\n**5 findings** (2 errors, 3 warnings).")
    assert set(re.findall(r"^\| (LLM\d+) \|", summary, re.M)) == {"LLM101", "LLM003"}


def test_a_baseline_in_args_reports_only_new_findings(workspace, tmp_path):
    baseline = subprocess.run([sys.executable, "-m", "llmlint", "check", "--write-baseline", "llmlint-baseline.json"],
                              cwd=workspace, capture_output=True, text=True)
    assert baseline.returncode == 0, baseline.stderr
    process, outputs, summary = run_step("run", workspace, tmp_path, args="--baseline llmlint-baseline.json")
    assert process.returncode == 0
    assert outputs["findings"] == "0" and summary.endswith("No findings.\n")


@pytest.mark.parametrize("args", ["--format text", "--output-format=concise", "-o out.txt", "--output=out.txt", "--write-baseline b.json",
                                  "--select 'LLM1"])
def test_args_the_action_owns_or_cannot_read_are_an_error(args, workspace, tmp_path):
    process, outputs, summary = run_step("run", workspace, tmp_path, args=args)
    assert process.returncode == 2
    assert process.stdout.startswith("::error title=llmlint::")
    assert outputs == {"exit-code": "2", "findings": "", "sarif-file": ""}
    assert summary.startswith("## llmlint: could not run\n\n")


def test_a_configuration_error_ends_the_step_with_llmlints_status(workspace, tmp_path):
    process, outputs, summary = run_step("run", workspace, tmp_path, args="--select NOPE")
    assert process.returncode == 2
    assert outputs["exit-code"] == "2"
    assert "exit status 2" in summary


def test_the_action_uploads_with_the_current_codeql_action_only_when_a_report_was_written():
    assert ACTION["runs"]["using"] == "composite"
    [upload] = [step for step in ACTION["runs"]["steps"] if "upload-sarif" in step.get("uses", "")]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert "inputs.upload-sarif == 'true'" in upload["if"] and "steps.run.outputs.sarif-file != ''" in upload["if"]
    assert "!cancelled()" in upload["if"]  # the run step fails on findings: the upload must still run
    assert upload["with"]["sarif_file"] == "${{ steps.run.outputs.sarif-file }}"
    install = STEPS["install"]["run"]
    assert '-m pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"' in install
    used = set(re.findall(r"inputs\.([\w-]+)", (ROOT / "action.yml").read_text()))
    assert used == set(ACTION["inputs"])  # every input is used, and only declared inputs are


@pytest.mark.slow
def test_install_step_installs_this_checkout_into_its_own_environment(tmp_path):
    """The install step for real: a virtual environment in RUNNER_TEMP with this checkout's llmlint in it."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    process, outputs, _ = run_step("install", workspace, tmp_path, python=sys.executable)
    assert process.returncode == 0, process.stderr
    python = outputs["python"]
    assert python.startswith(str(tmp_path / "llmlint-venv"))
    version = subprocess.run([python, "-m", "llmlint", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("llmlint, version")
