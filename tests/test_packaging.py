"""Packaging: the wheel carries the rule documents, and the pre-commit hook works on a real repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = "from openai import OpenAI\n\nclient = OpenAI(api_key='sk-proj-Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTBhYmNk')\n"
GOOD = "import os\n\nfrom openai import OpenAI\n\nclient = OpenAI(api_key=os.environ['OPENAI_API_KEY'])\n"


def _run(args, cwd=None, env=None):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_wheel_ships_rule_docs_and_runs_from_a_fresh_venv(tmp_path):
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(ROOT)])
    if build.returncode != 0:  # no hatchling in this environment: let pip fetch it
        build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(ROOT)])
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("llmlint-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    install = _run([str(python), "-m", "pip", "install", "--no-deps", "--force-reinstall", str(wheel)])
    assert install.returncode == 0, install.stderr
    located = _run([str(python), "-c", "import llmlint, sys; print(llmlint.__file__)"], cwd=tmp_path)
    assert located.stdout.startswith(str(env_dir)), located.stdout
    explained = _run([str(env_dir / "bin" / "llmlint"), "explain", "LLM101"], cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert explained.stdout.startswith("# missing-timeout (LLM101)")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed for pre-commit")
def test_pre_commit_hook_fails_then_passes(tmp_path):
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    hook_repo = tmp_path / "hook"
    shutil.copytree(ROOT, hook_repo, ignore=shutil.ignore_patterns(".git", ".venv", ".ci-venv", "*.egg-info", "__pycache__",
                                                                    ".llmlint_cache", "benchmarks"))
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "hook"]):
        assert _run(["git", *args], cwd=hook_repo, env=env).returncode == 0
    work = tmp_path / "work"
    work.mkdir()
    (work / "app.py").write_text(BAD, encoding="utf-8")
    assert _run(["git", "init", "-q"], cwd=work, env=env).returncode == 0
    assert _run(["git", "add", "app.py"], cwd=work, env=env).returncode == 0
    failing = _run([pre_commit, "try-repo", str(hook_repo), "llmlint", "--files", "app.py"], cwd=work, env=env)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "LLM107" in failing.stdout
    assert "Zm9vYmFyYmF6cXV4" not in failing.stdout  # the key is never printed whole
    (work / "app.py").write_text(GOOD, encoding="utf-8")
    assert _run(["git", "add", "app.py"], cwd=work, env=env).returncode == 0
    passing = _run([pre_commit, "try-repo", str(hook_repo), "llmlint", "--files", "app.py"], cwd=work, env=env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    # only the calling module changed: the client it uses, made in another module, is still judged
    (work / "llm.py").write_text("from openai import OpenAI\n\nclient = OpenAI(max_retries=2)\n", encoding="utf-8")
    (work / "service.py").write_text(
        "from llm import client\n\n\ndef reply(text):\n"
        "    return client.chat.completions.create(model='gpt-4o-mini', max_tokens=50, messages=[])\n",
        encoding="utf-8",
    )
    assert _run(["git", "add", "llm.py", "service.py"], cwd=work, env=env).returncode == 0
    cross = _run([pre_commit, "try-repo", str(hook_repo), "llmlint", "--files", "service.py"], cwd=work, env=env)
    assert cross.returncode == 1, cross.stdout + cross.stderr
    assert "--> service.py:5:12" in cross.stdout and "warning[LLM101] missing-timeout:" in cross.stdout
    assert "llm.py:" not in cross.stdout.replace("(llm.py:", "")  # findings are reported in the named file only
