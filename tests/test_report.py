"""`llmlint report`: the production-readiness assessment in its three formats, the demo's figures checked by hand,
the JSON against a schema of its own, unknowns kept unknown, and the latency reading of retry policies."""

from __future__ import annotations

import ast
import json
import math
import re
import textwrap
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from llmlint.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo-app"
PRICE_DATE = "2026-12-01"
genai_prices = pytest.importorskip("genai_prices")  # a main dependency from Python 3.11 on

STATUS = {"enum": ["ready", "at risk", "not ready"]}
MONEY = {"type": ["number", "null"], "minimum": 0}
SCHEMA = {
    "type": "object",
    "required": ["version", "tool", "paths", "assumptions", "status_rules", "projects"],
    "properties": {
        "version": {"const": 1},
        "assumptions": {
            "type": "object",
            "required": ["requests_per_month", "chars_per_token", "chunk_chars", "price_table", "notes"],
            "properties": {"price_table": {"type": "object", "required": ["package", "version", "date"],
                                           "properties": {"date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}}}},
        },
        "projects": {"type": "array", "items": {
            "type": "object",
            "required": ["root", "model_calls", "scorecard", "costs", "latency", "inventory"],
            "properties": {
                "scorecard": {"type": "array", "minItems": 10, "maxItems": 10, "items": {
                    "type": "object", "required": ["kind", "title", "rules", "status", "findings", "calls_affected", "top_fixes"],
                    "properties": {"kind": {"enum": ["gap", "anti-pattern"]}, "status": STATUS,
                                   "findings": {"type": "integer", "minimum": 0}, "calls_affected": {"type": "integer", "minimum": 0}}}},
                "costs": {"type": "object", "required": ["calls", "total_per_month", "dominant", "savings"], "properties": {
                    "calls": {"type": "array", "items": {
                        "type": "object",
                        "required": ["where", "api", "model", "input_tokens", "output_cap", "price", "cost_per_1k_requests",
                                     "cost_per_month", "lower_bound"],
                        "properties": {"where": {"type": "string", "pattern": r"^.+:\d+$"}, "cost_per_month": MONEY,
                                       "cost_per_1k_requests": MONEY, "input_tokens": {"type": ["integer", "null"]},
                                       "output_cap": {"type": ["integer", "null"]}, "lower_bound": {"type": "boolean"}}}},
                    "savings": {"type": "array", "items": {"type": "object", "required": ["kind", "where", "change"],
                                                           "properties": {"kind": {"enum": ["trust cascade", "retrieval cap", "output cap"]}}}},
                }},
                "latency": {"type": "array", "items": {
                    "type": "object", "required": ["entry_point", "where", "worst_case", "calls"],
                    "properties": {"worst_case": {"type": "object", "required": ["seconds", "unbounded", "unknown"],
                                                  "properties": {"unbounded": {"type": "boolean"}}}}}},
                "inventory": {"type": "object", "required": ["providers", "models", "apis", "key_sources", "observed_calls"]},
            },
        }},
    },
}


def run(*args, cwd=None):
    result = CliRunner().invoke(main, ["report", *args])
    return result


@pytest.fixture(scope="module")
def demo():
    result = run(str(DEMO), "--format", "json", "--price-date", PRICE_DATE, "--no-cache")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def by_where(rows, suffix):
    found = [r for r in rows if r["where"].endswith(suffix)]
    assert len(found) == 1, (suffix, [r["where"] for r in rows])
    return found[0]


def gpt_4o_rates():
    """gpt-4o's dollars per million tokens at OpenAI, read from genai-prices' own table."""
    from genai_prices.data import providers

    openai = next(p for p in providers if p.id == "openai")
    model = next(m for m in openai.models if m.id == "gpt-4o")
    return Decimal(model.prices.input_mtok), Decimal(model.prices.output_mtok)


def estimate(text: str) -> int:
    """Four characters per token, a run of blanks (indentation) counting as one character, rounded up."""
    return math.ceil(len(re.sub(r"[ \t]{2,}", " ", text)) / 4)


def demo_constant(name: str) -> str:
    """A string constant of the demo's prompts.py, its `+` concatenations of other constants evaluated (by ast, not
    by running the file)."""
    tree = ast.parse((DEMO / "app" / "prompts.py").read_text(encoding="utf-8"))
    values = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}

    def value(node):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return value(node.left) + value(node.right)
        if isinstance(node, ast.Name):
            return value(values[node.id])
        return ast.literal_eval(node)

    return value(values[name])


def test_json_validates_and_has_one_project(demo):
    jsonschema.validate(demo, SCHEMA)
    assert [p["root"] for p in demo["projects"]] == ["fixtures/demo-app"]
    assert demo["assumptions"]["price_table"] == {"package": "genai-prices", "version": genai_prices.__version__, "date": PRICE_DATE}
    assert demo["projects"][0]["model_calls"] == 6


def test_system_prompt_tokens_checked_by_hand(demo):
    system = demo_constant("SYSTEM_PROMPT")
    assert system.startswith("You are Ava") and "## Output format" in system
    chat = by_where(demo["projects"][0]["costs"]["calls"], "app/api.py:53")
    # the system prompt, then the user's message: one value unknown before run time, counted as 3 tokens
    assert chat["prompt_tokens"] == estimate(system) + 3 == 1746
    assert chat["unknown_values"] == 1 and chat["output_cap"] is None and chat["lower_bound"] is True


def test_top_call_cost_from_the_price_table(demo):
    costs = demo["projects"][0]["costs"]
    top = max(costs["calls"], key=lambda r: r["cost_per_month"] or 0)
    assert top["where"].endswith("app/rag.py:44") and top["model"] == "gpt-4o"
    # KB_PROMPT's system text with {context} and the human "{question}": two unknown values; plus 40 retrieved
    # chunks (search_kwargs={"k": 40}) of 1,000 characters at 4 characters per token
    system = ("You answer questions about Acme Helpdesk using only the help-centre articles below. "
              "If the articles do not cover the question, say so and suggest contacting support.\n\n")
    tokens = estimate(system) + 3 + 3 + 40 * 1000 // 4
    assert top["input_tokens"] == tokens == 10_048
    assert top["document_tokens"] == 10_000 and top["output_cap"] is None
    input_rate, output_rate = gpt_4o_rates()
    assert top["price"] == {"provider": "openai", "model": "gpt-4o", "input_per_mtok": float(input_rate), "output_per_mtok": float(output_rate)}
    per_request = Decimal(tokens) * input_rate / 1_000_000  # no output cap: the input alone, a lower bound
    assert top["cost_per_1k_requests"] == pytest.approx(float(per_request * 1000))
    assert top["cost_per_month"] == pytest.approx(float(per_request * 1_000_000)) == 25_120.0
    assert top["lower_bound"] is True
    assert costs["dominant"][0]["where"] == top["where"]


def test_capped_call_is_charged_at_its_cap(demo):
    draft = by_where(demo["projects"][0]["costs"]["calls"], "app/llm.py:28")
    # 50 chunks from collection.query, but the joined text is cut to MAX_CONTEXT_CHARS (12,000) characters
    assert draft["document_tokens"] == 12_000 // 4
    assert draft["output_cap"] == 700 and draft["lower_bound"] is False
    input_rate, output_rate = gpt_4o_rates()
    expected = (Decimal(draft["input_tokens"]) * input_rate + 700 * output_rate) / 1_000_000 * 1_000_000
    assert draft["cost_per_month"] == pytest.approx(float(expected))


def test_savings_name_the_cheaper_model_and_fewer_documents(demo):
    savings = demo["projects"][0]["costs"]["savings"]
    cascade = next(s for s in savings if s["kind"] == "trust cascade")
    assert cascade["where"].endswith("app/classify.py:15") and "gpt-4o-mini" in cascade["change"]
    assert cascade["saves_per_month"] > 0
    fewer = next(s for s in savings if s["kind"] == "retrieval cap")
    input_rate, _ = gpt_4o_rates()
    assert fewer["where"].endswith("app/rag.py:44")
    assert fewer["saves_per_month"] == pytest.approx(float(35 * 250 * input_rate))  # 35 chunks fewer, a million times
    assert {s["where"].rsplit("/", 1)[-1] for s in savings if s["kind"] == "output cap"} == {"api.py:53", "llm.py:16", "rag.py:44"}


def test_latency_per_entry_point(demo):
    rows = {r["entry_point"]: r for r in demo["projects"][0]["latency"]}
    chat = rows["web route `POST /chat`"]
    # the SDK default of 600 s, three attempts (max_retries 2) and the SDK's backoff of 0.5 s and 1 s between them
    assert chat["worst_case"] == {"seconds": 1801.5, "unbounded": False, "unknown": []}
    assert chat["calls"][0]["blocks_event_loop"] is True
    assert rows["web route `POST /tickets/triage`"]["worst_case"]["unbounded"] is True  # `while True` retry loop
    assert rows["web route `POST /translate`"]["worst_case"]["unbounded"] is True  # @retry without stop=
    close = rows["web route `POST /tickets/close`"]
    assert close["worst_case"]["seconds"] == 30 * 4 + 0.5 + 1 + 2  # timeout=30.0, max_retries=3
    assert "web route `GET /healthz`" not in rows  # it makes no model call


def test_scorecard_statuses(demo):
    rows = {r["title"]: r for r in demo["projects"][0]["scorecard"]}
    assert rows["Latency"]["status"] == "not ready" and "2 entry points can wait without bound" in rows["Latency"]["reasons"]
    assert rows["Retry spirals"]["status"] == "not ready" and rows["Retry spirals"]["calls_affected"] == 2
    assert rows["Monolithic prompts"]["status"] == "at risk" and rows["Monolithic prompts"]["calls_affected"] == 1
    assert rows["Integration"]["status"] == "not ready"  # the key written in app/config.py
    assert rows["Observability"]["calls_affected"] == 5


def test_markdown_is_the_default(tmp_path):
    result = run(str(DEMO), "--price-date", PRICE_DATE, "--requests-per-month", "1000")
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("# Production readiness: `fixtures/demo-app`\n")
    assert f"genai-prices {genai_prices.__version__}, prices of {PRICE_DATE}" in text
    assert "At 1,000 requests per month: **≥ $45.66 per month**" in text
    assert "| Retry spirals (anti-pattern) | ❌ not ready | 2 | 2 of 6 |\n" in text
    covered = [int(n) for n in re.findall(r"^\d\. \*\*[A-Za-z ]+\*\* \((\d+) calls?, ", text, re.M)]
    assert len(covered) == 5 and covered == sorted(covered, reverse=True)  # the fixes that cover the most calls first
    assert "| web route `POST /tickets/triage` (`fixtures/demo-app/app/api.py:75`) | 2 | unbounded |" in text


def test_html_written_to_a_file(tmp_path):
    target = tmp_path / "readiness.html"
    result = run(str(DEMO), "--format", "html", "-o", str(target), "--price-date", PRICE_DATE)
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    assert page.count('<rect class="bar"') == 6
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page)  # nothing to fetch


def test_unknown_model_stays_unknown(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'bot'\n", encoding="utf-8")
    (tmp_path / "bot.py").write_text(textwrap.dedent('''\
        from openai import OpenAI

        client = OpenAI(timeout=20)


        def answer(question: str) -> str:
            reply = client.chat.completions.create(
                model="acme-finetune-7",
                max_tokens=200,
                messages=[{"role": "user", "content": question}],
            )
            return reply.choices[0].message.content
        '''), encoding="utf-8")
    result = run(str(tmp_path), "--format", "json", "--price-date", PRICE_DATE, "--no-cache")
    assert result.exit_code == 0, result.output
    costs = json.loads(result.output)["projects"][0]["costs"]
    call = costs["calls"][0]
    assert call["price"] is None and call["cost_per_month"] is None
    assert call["price_unknown_reason"] == f"no price for `acme-finetune-7` in genai-prices {genai_prices.__version__}"
    assert costs["unpriced_calls"] == 1 and costs["total_per_month"] is None and costs["total_is_lower_bound"] is True
    text = run(str(tmp_path), "--price-date", PRICE_DATE, "--no-cache").output
    assert "| unknown: no price for `acme-finetune-7`" in text and "1 call site not costed" in text


def test_prompt_not_found_is_unknown_not_zero(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'qa'\n", encoding="utf-8")
    (tmp_path / "qa.py").write_text(textwrap.dedent('''\
        from langchain.chains import ConversationalRetrievalChain
        from langchain_openai import ChatOpenAI


        def make_chain(retriever):
            return ConversationalRetrievalChain.from_llm(llm=ChatOpenAI(model="gpt-4o", timeout=30), retriever=retriever)


        def ask(retriever, question, history):
            chain = make_chain(retriever)
            return chain({"question": question, "chat_history": history})["answer"]
        '''), encoding="utf-8")
    result = run(str(tmp_path), "--format", "json", "--price-date", PRICE_DATE, "--no-cache")
    assert result.exit_code == 0, result.output
    [call] = json.loads(result.output)["projects"][0]["costs"]["calls"]
    # the chain's prompts are LangChain's own, out of sight: the size is unknown, and so is the cost, not $0
    assert call["prompt_found"] is False and call["input_tokens"] is None
    assert call["price"]["model"] == "gpt-4o" and call["cost_per_month"] is None


def test_bounded_retry_policy_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'svc'\n", encoding="utf-8")
    (tmp_path / "svc.py").write_text(textwrap.dedent('''\
        from fastapi import FastAPI
        from openai import OpenAI
        from tenacity import retry, stop_after_attempt, wait_fixed

        app = FastAPI()
        client = OpenAI(timeout=10, max_retries=0)


        @retry(stop=stop_after_attempt(3), wait=wait_fixed(2))
        def summarise(text: str) -> str:
            reply = client.chat.completions.create(
                model="gpt-4o-mini",
                max_tokens=300,
                messages=[{"role": "user", "content": f"Summarise:\\n{text}"}],
            )
            return reply.choices[0].message.content


        @app.post("/summary")
        def summary(body: dict):
            return {"summary": summarise(body["text"])}
        '''), encoding="utf-8")
    result = run(str(tmp_path), "--format", "json", "--price-date", PRICE_DATE, "--no-cache")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)["projects"][0]["latency"]
    assert entry["entry_point"] == "web route `POST /summary`"
    # three attempts of at most 10 s (the SDK retries nothing), two waits of 2 s between them
    assert entry["worst_case"] == {"seconds": 3 * 10 + 2 * 2, "unbounded": False, "unknown": []}
    assert entry["calls"][0]["attempts"] == 3 and entry["calls"][0]["timeout_source"] == "client"


def test_no_model_calls(tmp_path):
    (tmp_path / "util.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    result = run(str(tmp_path), "--no-cache")
    assert result.exit_code == 0
    assert result.output.startswith("# Production readiness\n\nNo model calls found: nothing to assess.\n")


def test_output_into_a_missing_folder_is_one_error(tmp_path):
    result = run(str(DEMO), "-o", str(tmp_path / "nope" / "r.md"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: cannot write the report to {tmp_path / 'nope' / 'r.md'}: folder {tmp_path / 'nope'} does not exist"]


def test_bad_option_values_are_usage_errors():
    assert run(str(DEMO), "--requests-per-month", "0").exit_code == 2
    assert run(str(DEMO), "--price-date", "yesterday").exit_code == 2
    assert run(str(DEMO), "--format", "pdf").exit_code == 2


def test_readme_example_is_cropped_from_the_real_output():
    """The README's example is the real Markdown of its command, cropped: each part between `…` lines appears, in
    order and line for line, in what the command prints today."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- report-output:start -->\n```markdown\n\$ llmlint (.*?)\n(.*?)```\n<!-- report-output:end -->", readme, re.S)
    command, shown = block.group(1).split(), block.group(2)
    version = re.search(r"genai-prices (\S+), prices of", shown).group(1)
    if version != genai_prices.__version__:
        pytest.skip(f"the README's example was made with genai-prices {version}, {genai_prices.__version__} is installed")
    assert command[0] == "report"
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    actual = result.output.splitlines()
    at = 0
    for part in shown.rstrip("\n").split("\n…\n"):
        lines = part.splitlines()
        starts = [i for i in range(at, len(actual) - len(lines) + 1) if actual[i:i + len(lines)] == lines]
        assert starts, f"this part of the README's report example is not in the output:\n{part}"
        at = starts[0] + len(lines)
