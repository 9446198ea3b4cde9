"""A provider key found in source is never printed whole, in any output format."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from llmlint.cli import main

KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3i"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_key_is_redacted(fmt, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.py").write_text(f'from openai import OpenAI\n\nclient = OpenAI(api_key="{KEY}", timeout=30)\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "settings.py", "--format", fmt, "--no-cache", "--select", "LLM107"])
    assert result.exit_code == 1
    assert "LLM107" in result.stdout
    assert KEY not in result.output
    assert KEY[8:20] not in result.output
