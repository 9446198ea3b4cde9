"""Project-level facts hold per project: a monorepo of two applications is judged application by application."""

from __future__ import annotations

import json
from pathlib import Path

from llmlint.api import lint_paths
from llmlint.engine.config import Config

CALL = '''\
import litellm
{setting}

def answer(question: str) -> str:
    response = litellm.completion(model="gpt-4o-mini", max_tokens=200, messages=[{{"role": "user", "content": question}}])
    return response.choices[0].message.content
'''


def write_app(root: Path, name: str, setting: str) -> Path:
    app = root / name
    (app / name).mkdir(parents=True)
    (app / "pyproject.toml").write_text(f"[project]\nname = '{name}'\n", encoding="utf-8")
    (app / name / "__init__.py").write_text("", encoding="utf-8")
    (app / name / "llm.py").write_text(CALL.format(setting=setting), encoding="utf-8")
    return app / name / "llm.py"


def test_global_timeout_of_one_application_does_not_cover_the_other(tmp_path):
    bounded = write_app(tmp_path, "billing", "litellm.request_timeout = 30\n")
    unbounded = write_app(tmp_path, "support", "")
    report = lint_paths([str(tmp_path)], Config(root=str(tmp_path), select=("LLM101",)), jobs=1, use_cache=False)
    flagged = {(Path(f.location.path).resolve(), f.location.line) for f in report.findings}
    assert flagged == {(unbounded.resolve(), 5)}
    assert bounded.exists()


def test_without_project_files_the_checked_root_is_the_project(tmp_path):
    (tmp_path / "a.py").write_text("import litellm\nlitellm.request_timeout = 30\n", encoding="utf-8")
    (tmp_path / "b.py").write_text(CALL.format(setting=""), encoding="utf-8")
    report = lint_paths([str(tmp_path)], Config(root=str(tmp_path), select=("LLM101",)), jobs=1, use_cache=False)
    assert report.findings == []


def test_a_requirements_file_makes_its_folder_a_project(tmp_path):
    """A repository of example apps, each with its own requirements.txt: the catalog's project note."""
    for name, setting in (("billing", "litellm.request_timeout = 30\n"), ("support", "")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "requirements.txt").write_text("litellm>=1.40\n", encoding="utf-8")
        (tmp_path / name / "app.py").write_text(CALL.format(setting=setting), encoding="utf-8")
    report = lint_paths([str(tmp_path)], Config(root=str(tmp_path), select=("LLM101",)), jobs=1, use_cache=False)
    flagged = {(Path(f.location.path).resolve(), f.location.line) for f in report.findings}
    assert flagged == {((tmp_path / "support" / "app.py").resolve(), 5)}


DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo-app"


def _keys(report) -> set:
    return {(Path(f.location.path).resolve(), f.rule_id, f.location.line, f.location.column) for f in report.findings}


def test_a_named_file_is_judged_within_its_project():
    """What pre-commit runs when one file changed: each file's findings are those `llmlint .` gives in that file."""
    whole = _keys(lint_paths([str(DEMO)], Config(root=str(DEMO)), jobs=1, use_cache=False))
    files = sorted(DEMO.rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        alone = _keys(lint_paths([str(path)], Config(root=str(DEMO)), jobs=1, use_cache=False))
        assert alone == {key for key in whole if key[0] == path.resolve()}, path.name
    assert {key[0].name for key in whole} >= {"api.py", "classify.py", "llm.py", "rag.py"}


def _three_modules(root: Path) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'bot'\n", encoding="utf-8")
    (root / "llm.py").write_text("from openai import OpenAI\n\nclient = OpenAI(max_retries=2)\n", encoding="utf-8")
    (root / "service.py").write_text(
        "from llm import client\n\n\ndef reply(text: str) -> str:\n"
        "    response = client.chat.completions.create(model='gpt-4o-mini', max_tokens=100, messages=[])\n"
        "    return response.choices[0].message.content\n",
        encoding="utf-8",
    )
    (root / "main.py").write_text("from service import reply\n\nprint(reply('hi'))\n", encoding="utf-8")


def test_the_client_made_in_another_module_is_seen_when_only_the_caller_is_named(tmp_path):
    _three_modules(tmp_path)
    config = Config(root=str(tmp_path), select=("LLM101",))
    report = lint_paths([str(tmp_path / "service.py")], config, jobs=1, use_cache=False)
    assert [(Path(f.location.path).name, f.location.line) for f in report.findings] == [("service.py", 5)]
    assert report.files_checked == 1
    assert lint_paths([str(tmp_path / "main.py")], config, jobs=1, use_cache=False).findings == []


def test_files_only_judges_the_named_files_alone(tmp_path):
    _three_modules(tmp_path)
    config = Config(root=str(tmp_path), select=("LLM101",))
    report = lint_paths([str(tmp_path / "service.py")], config, jobs=1, use_cache=False, project_scope=False)
    assert report.findings == []


def test_problems_outside_the_named_files_are_not_reported(tmp_path):
    _three_modules(tmp_path)
    (tmp_path / "broken.py").write_text("import openai\ndef broken(:\n", encoding="utf-8")
    config = Config(root=str(tmp_path), select=("LLM101",))
    named = lint_paths([str(tmp_path / "service.py")], config, jobs=1, use_cache=False)
    assert named.problems == [] and len(named.findings) == 1
    whole = lint_paths([str(tmp_path)], config, jobs=1, use_cache=False)
    assert [Path(p.path).name for p in whole.problems] == ["broken.py"]


def test_stdin_filename_judges_the_buffer_as_that_file_within_its_project(tmp_path, monkeypatch):
    """What an editor runs on an unsaved buffer: the buffer, not the file on disk, judged with the project."""
    from click.testing import CliRunner

    from llmlint.cli import main

    _three_modules(tmp_path)
    (tmp_path / "service.py").write_text("def reply(text: str) -> str:\n    return text\n", encoding="utf-8")
    buffer = (
        "from llm import client\n\n\ndef reply(text: str) -> str:\n"
        "    response = client.chat.completions.create(model='gpt-4o-mini', max_tokens=100, messages=[])\n"
        "    return response.choices[0].message.content\n"
    )
    monkeypatch.chdir(tmp_path)
    args = ["check", "--select", "LLM101", "--format", "json"]
    for _ in range(2):  # the second run goes through the cache
        result = CliRunner().invoke(main, [*args, "--stdin-filename", "service.py", "-"], input=buffer)
        assert result.exit_code == 1, result.output
        assert [(f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]] == [("service.py", 5)]
        on_disk = CliRunner().invoke(main, [*args, "service.py"])
        assert on_disk.exit_code == 0 and json.loads(on_disk.stdout)["findings"] == [], on_disk.output
    missing = CliRunner().invoke(main, ["check", "--stdin-filename", "nowhere.py", "-"], input=buffer)
    assert missing.exit_code == 2
