"""Abstract values the linker resolves expressions to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ctx:
    """Where an expression stands: a module (by path) and a function in it (qualname)."""

    path: str
    function: str


@dataclass(frozen=True, slots=True)
class Ext:
    """Something from outside the project: a module, class or function, by qualified name (`openai.OpenAI`)."""

    name: str


@dataclass(frozen=True, slots=True)
class Obj:
    """An object made by calling something external (`OpenAI(timeout=5)`), seen through attribute `path`.

    `ctor` is the constructor call and `ctor_ctx` where it stands; `chain` holds the method calls made on the way
    (`with_options(...)`, `bind(...)`, `as_query_engine(...)`), each with its context; `parts` the members of a
    LangChain pipe (`prompt | llm | parser`)."""

    cls: str
    ctor: object = None
    ctor_ctx: Ctx | None = None
    path: str = ""
    chain: tuple = ()
    parts: tuple = ()

    def attr(self, name: str) -> "Obj":
        return Obj(self.cls, self.ctor, self.ctor_ctx, f"{self.path}.{name}" if self.path else name, self.chain, self.parts)


@dataclass(frozen=True, slots=True)
class Func:
    path: str
    qualname: str


@dataclass(frozen=True, slots=True)
class Klass:
    path: str
    qualname: str


@dataclass(frozen=True, slots=True)
class Inst:
    """An instance of a project class."""

    path: str
    qualname: str


@dataclass(frozen=True, slots=True)
class Mod:
    """A module of the project."""

    path: str


@dataclass(frozen=True, slots=True)
class Lit:
    """A constant or string-ish expression, with the context it stands in."""

    expr: object
    ctx: Ctx
