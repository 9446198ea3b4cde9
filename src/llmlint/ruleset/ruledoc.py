"""Rule documents (rules/<ID>-<name>.md): the single source of a rule's id, name, severity, options and prose."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from llmlint.engine._toml import toml
from llmlint.results.finding import Severity

SECTIONS = (
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Options",
    "Known limitations",
    "References",
)
_FRONT_MATTER = re.compile(r"\A\+\+\+\n(.*?)\n\+\+\+\n", re.S)
_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@dataclass(frozen=True)
class RuleMeta:
    id: str
    name: str
    severity: Severity
    gap: str
    fixable: bool
    options: dict
    tags: tuple[str, ...]
    precision: str
    security_severity: str | None
    markdown: str  # the whole document without front matter
    sections: dict = field(hash=False, compare=False, default_factory=dict)
    filename: str = ""
    title: str = ""  # one sentence under 100 characters: SARIF's shortDescription, the title GitHub shows on an alert

    @property
    def summary(self) -> str:
        """The one-sentence 'What it does'."""
        text = " ".join(self.sections.get("What it does", "").split())
        return text

    def example(self, section: str) -> str:
        """The python code block of the 'Example' or 'Use instead' section."""
        match = _CODE_BLOCK.search(self.sections.get(section, ""))
        return match.group(1) if match else ""


def parse_rule_doc(text: str, filename: str = "") -> RuleMeta:
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ValueError(f"{filename}: no +++ front matter")
    front = toml.loads(match.group(1))
    body = text[match.end():]
    sections: dict[str, str] = {}
    current = None
    for line in body.splitlines(keepends=True):
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line
    return RuleMeta(
        id=front["id"],
        name=front["name"],
        severity=Severity.parse(front["severity"]),
        gap=front.get("gap", "anti-pattern"),
        fixable=bool(front.get("fixable", False)),
        options=dict(front.get("options", {})),
        tags=tuple(front.get("tags", ())),
        precision=front.get("precision", "high"),
        security_severity=front.get("security-severity"),
        markdown=body.strip() + "\n",
        sections={k: v.strip() for k, v in sections.items()},
        filename=filename,
        title=front.get("title", ""),
    )


def _docs_dir():
    here = Path(__file__).parent.parent  # the llmlint package
    if not here.is_dir():  # imported from an archive: importlib.resources reads it (else not imported: start-up time)
        from importlib import resources

        return resources.files("llmlint") / "ruledocs"
    if (here / "ruledocs").is_dir():  # installed
        return here / "ruledocs"
    # Running from a source checkout or an editable install: rules/ sits at the repository root.
    return here.resolve().parents[1] / "rules"


@lru_cache(maxsize=1)
def load_rule_docs() -> dict[str, RuleMeta]:
    """Every rule document, by id, in id order."""
    docs = {}
    for entry in sorted(_docs_dir().iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".md") and re.match(r"LLM\d{3}-", entry.name):
            meta = parse_rule_doc(entry.read_text(encoding="utf-8"), entry.name)
            docs[meta.id] = meta
    return docs
