"""What a check produces: findings (with locations and fixes) and problems (files that could not be checked)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from llmlint.engine.redact import safe_text


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"note": 1, "warning": 2, "error": 3}[self.value]

    @classmethod
    def parse(cls, text: str) -> "Severity":
        return cls(text.strip().lower())


@dataclass(frozen=True)
class Cell:
    """Where a location in a Jupyter notebook is in its code cell: the cell's number among all the notebook's cells
    (1-based, as Jupyter shows them and ruff counts them) and the 1-based lines and columns within the cell."""

    number: int
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Location:
    """A span in a file. `path` is relative to the current directory when possible, POSIX separators.
    Lines and columns are 1-based; the end column is exclusive (as SARIF's endColumn). In a notebook, lines and
    columns are those of the notebook file's JSON text, and `cell` says where that is in the code cell."""

    path: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0
    cell: Cell | None = None

    def __post_init__(self) -> None:
        if not self.end_line:
            object.__setattr__(self, "end_line", self.line)
        if not self.end_column:
            object.__setattr__(self, "end_column", self.column + 1 if self.end_line == self.line else 1)

    def label(self, column: bool = True) -> str:
        """How a person is shown the location (text output, notices): `path:line:column`, or in a notebook
        `path:cell 3:2:5` (ruff's form: the cell, then the line and column in it)."""
        if self.cell is not None:
            where = f"{safe_text(self.path)}:cell {self.cell.number}:{self.cell.line}"
            return f"{where}:{self.cell.column}" if column else where
        where = f"{safe_text(self.path)}:{self.line}"
        return f"{where}:{self.column}" if column else where


@dataclass(frozen=True)
class Edit:
    """A machine-applicable replacement of the text at `location`."""

    location: Location
    replacement: str


@dataclass(frozen=True)
class Change:
    """One libcst transform of the node at `target`, applied by llmlint.fixes on a fresh parse at fix time.

    `action`: "add-keyword" (add `keyword=value` to the call at `target` unless one of `aliases` is there; a bare
    decorator name becomes a call), "set-value" (the value of the `keyword=` argument at `target` becomes `value`),
    "async-client" (`OpenAI(...)` -> `AsyncOpenAI(...)`), "await" (`await` the call). `callee` is the last name of the
    call's callee as analysed (`create` for `client.chat.completions.create(...)`), checked before the node is
    touched; empty for a bare decorator and a value."""

    action: str
    target: Location
    callee: str = ""
    keyword: str = ""
    value: str = ""
    aliases: tuple[str, ...] = ()
    imports: tuple[tuple[str, str], ...] = ()  # (module, name) that `value` needs: `from module import name`


@dataclass(frozen=True)
class Autofix:
    """A machine-applicable fix of a finding: all `changes` or none. `safe` in ruff's sense: it keeps the program's
    meaning apart from what the finding asks to change; an unsafe fix is applied only with `--unsafe-fixes`."""

    title: str
    changes: tuple[Change, ...]
    safe: bool = True


@dataclass(frozen=True)
class Related:
    """Another place that matters for a finding (the client that lacks a timeout, a caller on the path)."""

    location: Location
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", safe_text(self.message))


@dataclass(frozen=True)
class Finding:
    rule_id: str
    name: str
    severity: Severity
    location: Location
    message: str
    fix: str
    edits: tuple[Edit, ...] = ()
    related: tuple[Related, ...] = ()
    autofixes: tuple[Autofix, ...] = ()  # alternatives, the preferred first (the client, else the call)
    api: str = ""  # the canonical API of the model call it is about (`langchain.chain.invoke`); the message names the call as written
    note: str = ""  # context shared by a rule's findings in one project, shown once per project (LLM106's "no instrumentation")

    def __post_init__(self) -> None:
        # messages quote analysed code (a model name, a prompt): never a whole key, never a control character
        object.__setattr__(self, "message", safe_text(self.message))
        if self.fix:
            object.__setattr__(self, "fix", safe_text(self.fix))
        if self.note:
            object.__setattr__(self, "note", safe_text(self.note))

    @property
    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule_id, self.message)


@dataclass(frozen=True)
class Problem:
    """A file that was skipped: `path: skipped: reason`."""

    path: str
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", safe_text(self.reason))

    def __str__(self) -> str:
        return f"{safe_text(self.path)}: skipped: {self.reason}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files_checked: int = 0
    unused_suppressions: list = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # e.g. a bare `# llmlint: ignore` that suppresses nothing
    sources: dict = field(default_factory=dict)  # display path -> (path, content key, module, is_package), the files --fix may edit
