"""Nothing the analysed code holds reaches llmlint's output or cache as it is: a provider key is never there whole
(whatever it is passed as: a model name, a URL, a header, a prompt), and a control character never starts a line or
a terminal sequence of its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmlint.cli import main
from llmlint.engine.redact import is_key, redact, safe_text

# The catalog's seven key formats (made-up keys of the real shapes and lengths).
KEYS = {
    "openai": "sk-Rb7Tq2Vx9Mz4Wc6Ny1Pk8Ls3Dh5Gf0Ja2Ue7Io4Kt9Yb6Nw",
    "openai-project": "sk-proj-Hv3nQ8rT1wY6uI0oP5aS2dF7gJ4kL9zX3cV8bN1mQ6wE0rT5yU2iO7pA4sD9fG1hJ6kL3zX8cV5b",
    "anthropic": "sk-ant-api03-Wq4Er7Ty1Ui5Op8As2Df6Gh9Jk3Lz0Xc4Vb7Nm1Qw5Er8Ty2Ui6Op9As3Df7Gh0Jk4Lz8Xc1Vb5Nm-Qw2ErAA",
    "google": "AIzaSyD4kF8mQ2vX7rL1nP9wZ3cH6jT0sB5gY8e",
    "huggingface": "hf_Mq7Rt2Wx9Kz4Pc6Ny1Vk8Ls3Dh5Gf0JaQe",
    "groq": "gsk_Np3Xq8Wr1Tz6Vy0Mb5Kc2Hd7Jf4Lg9Sa3De8Fr1Gt6Hy0Ju5Ki2Lo7Pq4",
    "named": "8c1f4b7e2a9d6053f1e8b4c7a2d9f6e3b0c5a8d1",  # no provider's format: a key because of `api_key=`
}

APP = f'''"""Support assistant: routes questions to several providers."""
import os

import anthropic
import requests
from openai import OpenAI

client = OpenAI(api_key=os.environ["OPENAI_API_KEY"], timeout=30)
claude = anthropic.Anthropic(api_key="{KEYS["named"]}", timeout=30)
# OPENAI_API_KEY={KEYS["openai"]}  (rotated in March, kept for the staging box)

SYSTEM_PROMPT = (
    "You are the support assistant of Acme. Answer briefly. "
    "When the user asks for the staging token, refuse; it is {KEYS["openai-project"]}."
)


def answer(question: str) -> str:
    reply = client.chat.completions.create(
        model="{KEYS["openai"]}",
        messages=[{{"role": "system", "content": SYSTEM_PROMPT}}, {{"role": "user", "content": question}}],
        max_tokens=300,
    )
    return reply.choices[0].message.content


def summarize(text: str) -> str:
    message = claude.messages.create(
        model="{KEYS["anthropic"]}",
        max_tokens=200,
        messages=[{{"role": "user", "content": "Summarize: " + text}}],
    )
    return message.content[0].text


def ask_gemini(prompt: str) -> dict:
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-flash:generateContent?key={KEYS["google"]}"
    return requests.post(url, json={{"contents": [{{"parts": [{{"text": prompt}}]}}]}}, timeout=30).json()


def ask_groq(prompt: str) -> dict:
    response = requests.post(
        "https://api.groq.com/openai/v1/chat/completions",
        headers={{"Authorization": "Bearer {KEYS["groq"]}"}},
        json={{"model": "llama-3.1-8b-instant", "messages": [{{"role": "user", "content": prompt}}]}},
        timeout=30,
    )
    return response.json()


def ask_hf(prompt: str) -> dict:
    response = requests.post(
        "https://router.huggingface.co/v1/chat/completions",
        headers={{"Authorization": f"Bearer {KEYS["huggingface"]}"}},
        json={{"model": "meta-llama/Llama-3.1-8B-Instruct", "messages": [{{"role": "user", "content": prompt}}]}},
        timeout=30,
    )
    return response.json()
'''

# A model name that tries to start lines of its own: a fake finding, a carriage return, a colour sequence.
INJECTING = r'''from openai import OpenAI

client = OpenAI(timeout=30)


def reply(text: str) -> str:
    result = client.chat.completions.create(
        model="gpt-4o\nforged.py:1:1: LLM999 injected\r::error file=forged.py::injected\x1b[31m\u202e",
        messages=[{"role": "user", "content": text}],
    )
    return result.choices[0].message.content
'''

CHECK_FORMATS = ["text", "json", "sarif", "github"]
INVENTORY_FORMATS = ["text", "json"]


def _outputs(project: Path, monkeypatch, *extra: str) -> dict:
    monkeypatch.chdir(project)
    runner = CliRunner()
    outputs = {}
    for fmt in CHECK_FORMATS:
        result = runner.invoke(main, ["check", ".", "--format", fmt, "--exit-zero", *extra])
        assert result.exit_code == 0, result.output
        outputs[f"check {fmt}"] = (result.stdout, result.stderr)
    result = runner.invoke(main, ["check", ".", "--output-format", "concise", "--exit-zero", *extra])
    outputs["check concise"] = (result.stdout, result.stderr)
    for fmt in INVENTORY_FORMATS:
        result = runner.invoke(main, ["inventory", ".", "--format", fmt, *extra])
        assert result.exit_code == 0, result.output
        outputs[f"inventory {fmt}"] = (result.stdout, result.stderr)
    return outputs


@pytest.fixture
def keyed_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'assistant'\n", encoding="utf-8")
    (tmp_path / "assistant.py").write_text(APP, encoding="utf-8")
    return tmp_path


def test_the_fixture_holds_the_seven_formats_as_keys():
    assert all(is_key(key, named=name == "named") for name, key in KEYS.items())
    assert not is_key(KEYS["named"])  # only given to `api_key=` is it a key


def test_no_key_in_any_output_or_cache_file(keyed_project, monkeypatch):
    outputs = _outputs(keyed_project, monkeypatch)
    cache_files = [p for p in (keyed_project / ".llmlint_cache").rglob("*") if p.is_file()]
    assert len(cache_files) >= 3  # indexes, manifest, run record: the cache was written and is searched
    for name, key in KEYS.items():
        tail = key[-16:]  # what a redaction may never show
        for where, (stdout, stderr) in outputs.items():
            for stream in (stdout, stderr):
                assert key not in stream and tail not in stream, (name, where)
        for path in cache_files:
            data = path.read_bytes()
            assert key.encode() not in data and tail.encode() not in data, (name, path)
    # what is reported still says which key and where: LLM107 with the redacted key, the models redacted
    text = outputs["check concise"][0]
    assert "assistant.py:9:38: error[LLM107] hardcoded-api-key: provider API key `8c…(40 chars)` written in source given to `api_key`" in text
    assert "assistant.py:20:15: error[LLM107] hardcoded-api-key: OpenAI API key `sk-Rb…(50 chars)` written in source" in text
    assert "assistant.py:19:13: note[LLM106] unobserved-model-call: `client.chat.completions.create` (sk-Rb…(50 chars)) is not" in text
    assert '  9 | claude = anthropic.Anthropic(api_key="8c…(40 chars)", timeout=30)' in outputs["check text"][0].splitlines()  # full: the source, redacted
    inventory = json.loads(outputs["inventory json"][0])
    assert [call["model"] for call in inventory["calls"]][:2] == ["sk-Rb…(50 chars)", "sk-ant-ap…(98 chars)"]


def test_a_warm_run_from_the_cache_shows_no_key_either(keyed_project, monkeypatch):
    cold = _outputs(keyed_project, monkeypatch)
    warm = _outputs(keyed_project, monkeypatch)
    assert warm == cold


def test_control_characters_in_a_model_name_stay_inside_their_line(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'bot'\n", encoding="utf-8")
    (tmp_path / "bot.py").write_text(INJECTING, encoding="utf-8")
    outputs = _outputs(tmp_path, monkeypatch, "--no-cache")
    for where, (stdout, stderr) in outputs.items():
        assert "\x1b" not in stdout and "\x1b" not in stderr and "\r" not in stdout and "\u202e" not in stdout, where
    findings = json.loads(outputs["check json"][0])["findings"]
    assert any("LLM999" in f["message"] for f in findings)  # the model name is in the messages, escaped
    text_lines = outputs["check concise"][0].splitlines()
    assert len(text_lines) == len(findings)
    assert all(re.match(r"bot\.py:\d+:\d+: \w+\[LLM\d{3}\] ", line) for line in text_lines)
    assert any("(gpt-4o\\nforged.py:1:1: LLM999 injected\\r::error file=forged.py::injected\\x1b[31m\\u202e)" in line for line in text_lines)
    github_lines = [line for line in outputs["check github"][0].splitlines() if "file=" in line]  # (not the project note)
    assert len(github_lines) == len(findings)
    assert all(re.match(r"::(error|warning|notice) file=bot\.py,line=\d+,", line) for line in github_lines)
    assert not any(line.startswith("::error file=forged.py") for line in github_lines)
    inventory_lines = outputs["inventory text"][0].splitlines()
    assert len(inventory_lines) == 2 and inventory_lines[-1] == "1 model call"
    assert inventory_lines[0].startswith("bot.py:7:14: openai.chat.completions.create model=gpt-4o\\nforged.py")


def test_a_skipped_file_with_a_control_character_in_its_name_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'bot'\n", encoding="utf-8")
    (tmp_path / "odd\nname.py").write_bytes(b"from openai import OpenAI\nOpenAI(\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", ".", "--no-cache"])
    assert result.exit_code == 0
    skipped = [line for line in result.stderr.splitlines() if ": skipped: " in line]
    assert len(skipped) == 1 and skipped[0].startswith("odd\\nname.py: skipped: "), result.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(tmp_path, monkeypatch, fmt):
    import os

    try:
        with open(os.path.join(os.fsencode(tmp_path), b"chat\xff.py"), "w", encoding="utf-8") as handle:
            handle.write("import openai\nr = openai.chat.completions.create(model='gpt-4o', messages=[])\n")
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / f"report.{fmt}"
    result = CliRunner().invoke(main, ["check", ".", "--no-cache", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 1, result.output  # findings, not an internal error
    text = out.read_text(encoding="utf-8")
    assert "LLM101" in text
    shown = {"text": "chat\\xff.py:2:5", "json": "chat\\\\xff.py", "sarif": '"chat%FF.py"', "github": "file=chat\\xff.py"}[fmt]
    assert shown in text, text[:400]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, 100% ordinary", "plain text, 100% ordinary"),
        ("bad\udcff.py", "bad\\xff.py"),
        ("a\nb\r\tc\x1b[0m\x00\x7f\x85\u2028\u202e", "a\\nb\\r\\tc\\x1b[0m\\x00\\x7f\\x85\\u2028\\u202e"),
        (f"key={KEYS['openai-project']};", "key=sk-pr…(" + str(len(KEYS["openai-project"])) + " chars);"),
        (f"Bearer {KEYS['groq']}", "Bearer gsk_Np…(" + str(len(KEYS["groq"])) + " chars)"),
    ],
)
def test_safe_text(text, shown):
    assert safe_text(text) == shown
    assert safe_text(shown) == shown  # idempotent: reporters may apply it to a message that already went through


def test_redact_keeps_bytes_bytes():
    assert redact(f"Bearer {KEYS['huggingface']}".encode()) == f"Bearer hf_Mq…({len(KEYS['huggingface'])} chars)".encode()


def test_a_configuration_error_quoting_a_control_character_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.llmlint]\n"select\\nforged.py:1:1: LLM999\\u001b[31m" = 1\n', encoding="utf-8")
    (tmp_path / "app.py").write_text("print('hello')\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", ".", "--no-cache"])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and "\x1b" not in line and "select\\nforged.py" in line
