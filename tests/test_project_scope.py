"""Project-level facts hold per project: a monorepo of two applications is judged application by application."""

from __future__ import annotations

from pathlib import Path

from llmlint.api import lint_paths
from llmlint.config import Config

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
