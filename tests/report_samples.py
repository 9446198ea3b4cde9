"""Hand-built rules and reports shared by the reporter tests (no analysis involved)."""

from __future__ import annotations

from llmlint.results.finding import (
    Edit,
    Finding,
    Location,
    Problem,
    Related,
    Report,
    Severity,
)
from llmlint.ruleset.ruledoc import RuleMeta, parse_rule_doc

RULE_DOC = """\
+++
id = "{id}"
name = "{name}"
severity = "{severity}"
gap = "{gap}"
fixable = {fixable}
tags = {tags}
precision = "high"
{extra}
+++
# {name} ({id})

## What it does
Flags {what}.

## Why is this bad?
{why}

## Example
```python
client.chat.completions.create(model="gpt-4o", messages=messages)
```

## Use instead
```python
client.chat.completions.create(model="gpt-4o", messages=messages, timeout=30)
```

## Options
None.

## Known limitations
None.

## References
- https://example.com/{name}
"""


def make_rule(
    rule_id: str,
    name: str,
    severity: str,
    *,
    what: str = "model calls that do the thing",
    why: str = "It costs money and time in production. Do the other thing.",
    tags: tuple[str, ...] = ("reliability",),
    fixable: bool = False,
    security_severity: str | None = None,
) -> RuleMeta:
    extra = f'security-severity = "{security_severity}"' if security_severity else ""
    text = RULE_DOC.format(
        id=rule_id,
        name=name,
        severity=severity,
        gap="anti-pattern" if rule_id < "LLM100" else "integration",
        fixable=str(fixable).lower(),
        tags="[" + ", ".join(f'"{t}"' for t in tags) + "]",
        extra=extra,
        what=what,
        why=why,
    )
    return parse_rule_doc(text, f"{rule_id}-{name}.md")


def sample_rules() -> dict[str, RuleMeta]:
    rules = [
        make_rule("LLM003", "unbounded-retry", "error", what="retry loops around model calls with no stop condition"),
        make_rule(
            "LLM101",
            "missing-timeout",
            "warning",
            what="model calls that leave the request timeout at the SDK default",
            why="The OpenAI SDK waits up to 10 minutes.\nA stuck request holds a worker that long.",
            tags=("latency",),
            fixable=True,
        ),
        make_rule(
            "LLM106", "unobserved-model-call", "note", what="model calls nothing observes", tags=("observability",)
        ),
        make_rule(
            "LLM107",
            "hardcoded-api-key",
            "error",
            what="provider API keys written in source",
            tags=("integration",),
            security_severity="8.5",
        ),
        make_rule("LLM108", "blocking-call-in-async", "warning", what="synchronous model calls inside async def"),
    ]
    return {rule.id: rule for rule in rules}


def finding(rule: RuleMeta, location: Location, message: str, fix: str, **extra) -> Finding:
    return Finding(rule.id, rule.name, rule.severity, location, message, fix, **extra)


def sample_report() -> Report:
    rules = sample_rules()
    findings = [
        finding(
            rules["LLM107"],
            Location("app/config.py", 4, 11, 4, 62),
            'API key "sk-proj-...Xy9Q" written in source',
            'read the key from the environment: `os.environ["OPENAI_API_KEY"]`',
        ),
        finding(
            rules["LLM101"],
            Location("app/llm.py", 12, 14, 15, 6),
            "`client.chat.completions.create` uses the OpenAI default timeout (600 s)",
            "pass `timeout=30` to the call or to `OpenAI(...)`",
            edits=(Edit(Location("app/llm.py", 15, 5, 15, 5), ", timeout=30"),),
            api="openai.chat.completions.create",
            related=(Related(Location("app/clients.py", 3, 10, 3, 18), "client created here without a timeout"),),
        ),
        finding(
            rules["LLM003"],
            Location("app/llm.py", 20, 1, 20, 7),
            "`@retry` around `ask` has no `stop=`: tenacity retries forever",
            "add `stop=stop_after_attempt(5)` to `@retry`",
        ),
        finding(
            rules["LLM106"],
            Location("app/llm.py", 22, 12),
            "nothing logs or traces the call to `gpt-4o`",
            "log the request or add tracing (OpenTelemetry, langfuse)",
        ),
    ]
    return Report(
        findings=findings,
        problems=[Problem("app/broken.py", "syntax error at line 3, column 8")],
        files_checked=12,
    )


# The files sample_report() points into, as the full text format shows them (tests pass `sample_source_lines()`).
SAMPLE_SOURCES = {
    "app/config.py": (
        '"""Settings read at start-up."""\n'
        "import os\n"
        "\n"
        'API_KEY = "sk-proj-Zq81mWcT5vRbN2xLk0PdYs7HfJ3uEa9GiQabwXy9Q"\n'
        'MODEL = os.environ.get("MODEL", "gpt-4o")\n'
    ),
    "app/llm.py": (
        '"""Ask the model."""\n'
        "from tenacity import retry\n"
        "\n"
        "from app.clients import client\n"
        "\n"
        "\n"
        "def answer(question: str) -> str:\n"
        "    messages = [\n"
        '        {"role": "system", "content": "Answer briefly."},\n'
        '        {"role": "user", "content": question},\n'
        "    ]\n"
        "    answer = client.chat.completions.create(\n"
        '        model="gpt-4o",\n'
        "        messages=messages,\n"
        "    )\n"
        "    return answer.choices[0].message.content\n"
        "\n"
        "\n"
        "\n"
        "@retry\n"
        "def ask(question: str) -> str:\n"
        '    return client.chat.completions.create(model="gpt-4o", messages=[question])\n'
    ),
}


def sample_source_lines(sources: dict[str, str] | None = None):
    """A `source_lines(path, line)` over `sources` (default SAMPLE_SOURCES): None for a file or line it lacks."""
    lines = {path: text.split("\n") for path, text in (sources or SAMPLE_SOURCES).items()}

    def line_text(path: str, line: int):
        text = lines.get(path)
        return text[line - 1] if text and 0 < line <= len(text) else None

    return line_text
