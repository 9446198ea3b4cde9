"""Which files the pre-filter keeps for the full libcst index (tests/test_engine_equivalence.py proves that
keeping only those changes no finding)."""

from __future__ import annotations

from llmlint.engine.config import Config
from llmlint.engine.discovery import discover
from llmlint.engine.indexfiles import survey
from llmlint.engine.prefilter import relevant_closure, scan


def kept(root) -> set[str]:
    found = discover([str(root)], Config(root=str(root)))
    states = survey(found.files, None)
    keep = relevant_closure([(s.file, *s.scanned) for s in states])
    return {f.module for f in keep}


def write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_scan_reports_markers_imports_and_what_a_package_defines():
    marked, imports, defined = scan(
        b"from openai import OpenAI\nfrom . import prompts\nfrom .util import fmt, slug as s\nimport os.path\n"
        b"TIMEOUT: int = 30\ndef ask(q):\n    return q\nclass Bot:\n    pass\n",
        "app",
        True,
    )
    assert marked
    assert imports == ("app.util:fmt", "app.util:slug", "app:prompts", "openai:OpenAI", "os.path")
    assert defined == ("Bot", "TIMEOUT", "ask")


def test_package_reexports_count_only_for_the_names_that_lead_to_a_model_call(tmp_path):
    write(tmp_path, {
        "app/__init__.py": "from .llm import ask\nfrom .util import slugify\n\nVERSION = '1'\n",
        "app/llm.py": "from openai import OpenAI\n\nfrom .prompts import SYSTEM\n\ndef ask(q):\n    return OpenAI().responses.create(model='gpt-4o-mini', input=SYSTEM + q)\n",
        "app/prompts.py": "SYSTEM = 'Answer briefly.'\n",
        "app/util.py": "def slugify(text):\n    return text.lower()\n",
        "app/views.py": "from app import ask\n\ndef answer(q):\n    return ask(q)\n",
        "app/urls.py": "from app import slugify\n\nROUTES = [slugify('Home')]\n",
        "app/about.py": "from app import VERSION\n\nTITLE = 'v' + VERSION\n",
    })  # fmt: skip
    assert kept(tmp_path) == {"app", "app.llm", "app.prompts", "app.views", "app.about", "app.util"}
    # app.urls takes only `slugify`, which app/__init__.py re-exports from a module with no model call; app.about
    # takes VERSION, defined by the __init__ itself (which imports the model-calling module): kept to be safe;
    # app.util is kept because the relevant app/__init__.py imports it


def test_a_model_sdks_own_sources_are_not_followed_into_the_rest_of_the_sdk(tmp_path):
    write(tmp_path, {
        "anthropic/__init__.py": "from ._client import Anthropic\n",
        "anthropic/_client.py": "from ._base import BaseClient\n\nclass Anthropic(BaseClient):\n    pass\n",
        "anthropic/_base.py": "class BaseClient:\n    pass\n",
        "anthropic/lib/__init__.py": "",
        "anthropic/lib/bedrock.py": "import boto3\n\nfrom .._base import BaseClient\n\nclass Bedrock(BaseClient):\n    def __init__(self):\n        self.runtime = boto3.client('bedrock-runtime')\n",
        "service/__init__.py": "",
        "service/chat.py": "from anthropic import Anthropic\n\nfrom .settings import MODEL\n\ndef reply(q):\n    return Anthropic().messages.create(model=MODEL, max_tokens=100, messages=[])\n",
        "service/settings.py": "MODEL = 'claude-haiku-4-5'\n",
    })  # fmt: skip
    assert kept(tmp_path) == {"anthropic.lib.bedrock", "service.chat", "service.settings"}


def test_scan_reads_name_lists_over_several_lines():
    """Formatters wrap long imports in parentheses (or old code in backslashes): every name counts, comments do not."""
    source = (
        b"from agents import (\n    Agent,  # the triage agent\n    Runner,\n)\n"
        b"from app.settings import MODEL, \\\n    TIMEOUT\n"
        b"from app.prompts import (SYSTEM as system_prompt, USER)\n"
    )
    marked, imports, _ = scan(source, "app.service", False)
    assert marked  # the Agents SDK's runner, named on the third line of the import
    assert {"agents:Agent", "agents:Runner", "app.settings:MODEL", "app.settings:TIMEOUT", "app.prompts:SYSTEM",
            "app.prompts:USER"} <= set(imports)
    assert not any("#" in entry or "triage" in entry for entry in imports)
