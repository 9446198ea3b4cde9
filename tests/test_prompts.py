"""Prompt assembly (llmlint.knowledge.prompts): what text a model call sends, as far as it can be known statically."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from llmlint.api import build_analysis
from llmlint.engine.config import Config
from llmlint.knowledge.prompts import (
    Hole,
    count_tasks,
    estimate_tokens,
    prompt_of,
    requests_of,
    task_instructions,
)


def analyse(tmp_path: Path, files: dict[str, str]):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'example'\n", encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    analysis, problems, _ = build_analysis([str(tmp_path)], Config(root=str(tmp_path)), use_cache=False)
    assert not problems
    return analysis


def parts_at(analysis, filename: str, function: str):
    """The prompt parts of the one model call made in `function` of `filename`."""
    calls = [c for c in analysis.model_calls if c.module.path.endswith(filename) and c.function.name == function]
    assert len(calls) == 1, [(c.module.path, c.function.name) for c in analysis.model_calls]
    return prompt_of(analysis, calls[0])


OPENAI = """\
from openai import OpenAI

client = OpenAI(timeout=30)
"""


def test_literals_fstrings_format_percent_join_and_dedent(tmp_path):
    analysis = analyse(tmp_path, {"app.py": OPENAI + '''
import textwrap

INTRO = "You review pull requests."
RULES = ["Be brief.", "Be kind."]
TEMPLATE = textwrap.dedent("""\\
    {intro}
    Language: %s
    """)


def review(diff: str, language: str) -> str:
    prompt = TEMPLATE.format(intro=INTRO) % language
    prompt += "\\n".join(RULES)
    prompt += f"\\n\\nDiff:\\n{diff}"
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
'''})
    (part,) = parts_at(analysis, "app.py", "review")
    assert part.role == "user"
    assert part.pieces == ("You review pull requests.\nLanguage: ", Hole("language"), "\nBe brief.\nBe kind.\n\nDiff:\n", Hole("diff"))
    assert part.definition.name == "prompt" and part.definition.span.line == 16


def test_constants_imported_from_other_modules_and_passed_through_a_helper(tmp_path):
    analysis = analyse(tmp_path, {
        "shop/__init__.py": "",
        "shop/prompts/__init__.py": "from shop.prompts.main import SYSTEM\n",
        "shop/prompts/parts.py": 'PERSONA = "You are Juniper."\nFACTS = "We sell tents."\n',
        "shop/prompts/main.py": "from shop.prompts.parts import FACTS, PERSONA\n\nSYSTEM = PERSONA + '\\n' + FACTS\n",
        "shop/llm.py": OPENAI + '''

def ask(system: str, question: str) -> str:
    messages = [{"role": "system", "content": system}]
    messages.append({"role": "user", "content": question})
    return client.chat.completions.create(model="gpt-4o-mini", messages=messages)
''',
        "shop/chat.py": "from shop.llm import ask\nfrom shop.prompts import SYSTEM\n\n\ndef answer(q):\n    return ask(SYSTEM, q)\n",
    })
    system, user = parts_at(analysis, "llm.py", "ask")
    assert (system.role, system.text) == ("system", "You are Juniper.\nWe sell tents.")
    assert system.definition.name == "SYSTEM" and system.definition.path.endswith("main.py")
    assert [v.callee for v in system.via] == ["ask"]
    assert (user.role, user.text) == ("user", "{q}")


def test_messages_classes_templates_and_prompt_files(tmp_path):
    analysis = analyse(tmp_path, {
        "prompts/system.txt": "You answer questions about the handbook.",
        "bot.py": '''
from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

SYSTEM = (Path(__file__).parent / "prompts" / "system.txt").read_text()
PROMPT = ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", "Question: {question}")])
llm = ChatOpenAI(model="gpt-4o-mini", timeout=30)
chain = PROMPT | llm


def ask(question):
    return chain.invoke({"question": question})


def ask_direct(question):
    return llm.invoke([SystemMessage(content=SYSTEM), HumanMessage(content=question)])
'''})
    system, human = parts_at(analysis, "bot.py", "ask")
    assert (system.role, system.text, system.definition.name) == ("system", "You answer questions about the handbook.", "SYSTEM")
    assert (human.role, human.pieces) == ("user", ("Question: ", Hole("question")))
    system, human = parts_at(analysis, "bot.py", "ask_direct")
    assert system.text == "You answer questions about the handbook." and human.role == "user"


def test_what_cannot_be_known_is_a_hole_and_never_inflates_size(tmp_path):
    analysis = analyse(tmp_path, {"app.py": OPENAI + '''
import os

from prompt_store import load_prompt


def run(name: str, text: str):
    system = load_prompt(name)
    with open(os.path.join(os.environ["PROMPTS"], name)) as handle:
        extra = handle.read()
    return client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": system + extra}, {"role": "user", "content": text}],
    )
'''})
    system, user = parts_at(analysis, "app.py", "run")
    assert system.pieces == (Hole("system"), Hole("extra")) and not system.is_known
    assert estimate_tokens(system) <= 6 and estimate_tokens(user) <= 3


@pytest.mark.parametrize(
    "text, jobs",
    [
        ("Do all of this:\n1. Summarize the email.\n2. Extract the dates.\n3. Classify the urgency.\n"
         "4. Draft a reply.\n5. Translate the reply into French.", ["summarize", "extract", "classify", "write", "translate"]),
        ("Steps:\n1. Read the ticket.\n2. Identify the product.\n3. Find the manual section.\n4. Answer the question.\n"
         "5. Cite the section.", []),
        ("To connect WhatsApp:\n1. Open Settings.\n2. Click Channels.\n3. Create a new channel.\n4. Paste the token.\n"
         "5. Generate a webhook secret.", []),
        ("1. Extract the invoice number.\n2. Extract the date.\n3. Extract the total.\n4. Extract the VAT number.", ["extract"]),
        ("Rules:\n- Answer in French.\n- Write concisely.\n- Summarize nothing.", []),
        ("Your tasks:\n- Summarize the call.\n- Rate the rep from 1 to 5.", ["summarize", "rate"]),
        ("Write the welcome email. Also, suggest three features. Then estimate the savings. Finally, translate it.",
         ["recommend", "estimate", "translate"]),
        ("Plans:\n- Starter: $19 per seat.\n- Growth: $49 per seat.", []),
    ],
)
def test_task_instructions(text, jobs):
    assert task_instructions(text) == jobs
    assert count_tasks(text) == len(jobs)


def test_requests_group_the_parts_one_caller_sends(tmp_path):
    analysis = analyse(tmp_path, {"app.py": OPENAI + '''

def complete(system: str, prompt: str) -> str:
    return client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}],
    )


def translate(text):
    return complete("Translate into French.", text)


def title(text):
    return complete("Write a title.", f"Text:\\n{text}")
'''})
    call = analysis.model_calls[0]
    requests = sorted((tuple(p.text for p in r.parts) for r in requests_of(analysis, call)))
    assert requests == [("Translate into French.", "{text}"), ("Write a title.", "Text:\n{text}")]


def test_additions_in_different_arms_of_an_if_are_alternatives(tmp_path):
    analysis = analyse(tmp_path, {"app.py": OPENAI + '''
BASE = "You answer billing questions."
ENTERPRISE = "Enterprise accounts have a named manager."
STANDARD = "Standard accounts use the help centre."


def answer(plan: str, question: str, formal: bool):
    prompt = BASE
    if plan == "enterprise":
        prompt += ENTERPRISE
    else:
        prompt += STANDARD
    if formal:
        prompt += " Be formal."
    messages = [{"role": "system", "content": prompt}]
    if plan == "trial":
        messages.append({"role": "system", "content": "Mention the trial."})
    elif plan == "free":
        messages.append({"role": "system", "content": "Mention the paid plans and their prices."})
    messages.append({"role": "user", "content": question})
    return client.chat.completions.create(model="gpt-4o-mini", messages=messages)
'''})
    texts = [p.text for p in parts_at(analysis, "app.py", "answer")]
    assert texts == ["You answer billing questions.Standard accounts use the help centre. Be formal.", "Mention the trial.", "{question}"]


def test_quoted_example_requests_are_not_jobs():
    text = 'Examples of tasks you can handle:\n- "Calculate the compound interest"\n- "Summarize this PDF"\n- "Translate it"'
    assert task_instructions(text) == []
