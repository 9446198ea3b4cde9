"""Where a name gets its value: one walk of Python's scopes, as the index records them, for every question about a
name. The resolver asks it for values (`Project.resolve_name`), prompt assembly for the definitions whose text it
reads (`binding_of`), the settings readers for the dict a name holds.

`scope_lookup` answers with the innermost scope that binds the name and how: an import, an assignment (the last
plain one in view: `=`, `with`, `for`), a parameter, a nested `def` or `class`, or nothing but the module's
globals. `binding_of` turns that into the `Binding` prompt assembly reads: the assignment with the additions made
after it (`+=`, `.append`, ...), the parameter, the module an import names, or none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from llmlint.engine import exprs as E
from llmlint.engine.moduleindex import MODULE_SCOPE
from llmlint.flow.reaching import PLAIN, additions
from llmlint.link.values import Ctx, Func, Inst, Klass, Mod

EXTENDING_OPS = frozenset({"+=", "append", "extend", "insert"})  # what prompt assembly reads as text added to a value
MAX_IMPORT_HOPS = 6


@dataclass(frozen=True)
class Binding:
    """Where a value is defined, for reading its text: an assignment (with the additions after it), a parameter
    (its value comes from the callers), a module, or none."""

    kind: str  # "assign", "param", "module", "none"
    assign: object = None  # the Assign
    ctx: Ctx | None = None  # where the assignment or the parameter's function is
    extra: tuple = ()  # `+=` / append / extend after the assignment, in source order
    fn: object = None  # FunctionIndex, for parameters
    param: str = ""
    value: object = None  # Mod, for modules


NO_BINDING = Binding("none")


def scope_lookup(project, name: str, ctx: Ctx, at_line: int | None, local_only: bool = False) -> tuple:
    """(how, scope, what) for the innermost scope around `ctx` that binds `name`:
    ("import", fn, qualified name), ("assign", fn, (chosen Assign, the scope's plain assignments of the name)),
    ("param", fn, None), ("def", fn, Func or Klass), ("global", None, None) when no scope binds it (the module's
    star imports, or something injected at run time), or ("none", fn, None) when `local_only` and `ctx`'s own
    function does not bind it. `at_line` limits assignments to those made by then, in `ctx`'s own function only."""
    idx = project.indexes[ctx.path]
    fn = idx.functions.get(ctx.function)
    first = True
    while fn is not None:
        if name in fn.imports:
            return "import", fn, fn.imports[name]
        assigns = project.plain_assigns(idx.path, fn, name)
        chosen = last_assign(assigns, at_line if first else None)
        if chosen is not None:
            return "assign", fn, (chosen, assigns)
        if name in fn.params and fn.qualname != MODULE_SCOPE:
            return "param", fn, None
        if local_only:
            return "none", fn, None
        local = local_definition(idx, fn.qualname, name)
        if local is not None:
            return "def", fn, local
        first = False
        fn = idx.functions.get(fn.parent) if fn.parent else (idx.functions[MODULE_SCOPE] if fn.qualname != MODULE_SCOPE else None)
    return "global", None, None


def last_assign(assigns, at_line: int | None):
    """The last of `assigns` made by `at_line` (the first one after it when none is)."""
    best = None
    for assign in assigns:
        if at_line is not None and assign.line > at_line and best is not None:
            continue
        best = assign
    return best


def local_definition(idx, scope: str, name: str):
    qual = name if scope == MODULE_SCOPE else f"{scope}.<locals>.{name}"
    if qual in idx.functions:
        return Func(idx.path, qual)
    if qual in idx.classes:
        return Klass(idx.path, qual)
    return None


# the definitions prompt assembly reads
def binding_of(project, expr, ctx: Ctx, line) -> Binding:
    """Where the value of `expr` (a name, `self.attr`, `module.NAME`, `Class.ATTR`, `d["key"]` of a dict literal)
    is defined."""
    if isinstance(expr, E.Name):
        return name_binding(project, expr.id, ctx, line)
    if isinstance(expr, E.Attr):
        if isinstance(expr.base, E.Name) and expr.base.id in ("self", "cls"):
            local = name_binding(project, f"{expr.base.id}.{expr.attr}", ctx, line, local_only=True)
            if local.kind == "assign":
                return local
        base = project.resolve(expr.base, ctx, line)
        if isinstance(base, Inst) and not (isinstance(expr.base, E.Name) and expr.base.id in ("self", "cls")) and not expr.attr.isupper():
            return NO_BINDING  # `ticket.subject`: a class default is not the instance's value
        return _member_binding(project, base, expr.attr)
    if isinstance(expr, E.Subscript) and isinstance(expr.index, E.Const):
        holder = binding_of(project, expr.value, ctx, line)
        if holder.kind == "assign" and isinstance(holder.assign.value, E.DictExpr):
            value = holder.assign.value.get(expr.index.value)
            if value is not None:
                return replace(holder, assign=replace(holder.assign, value=value), extra=())
    return NO_BINDING


def name_binding(project, name: str, ctx: Ctx, line, local_only: bool = False) -> Binding:
    if ctx.path not in project.indexes:
        return NO_BINDING
    how, fn, what = scope_lookup(project, name, ctx, line, local_only)
    idx = project.indexes[ctx.path]
    if how == "import":
        return _import_binding(project, what, idx, 0)
    if how == "assign":
        chosen, _ = what
        extra = _extended(fn.assigns, name, chosen, line if fn.qualname == ctx.function else None)
        return Binding("assign", chosen, Ctx(ctx.path, fn.qualname), extra)
    if how == "param":
        return Binding("param", ctx=Ctx(ctx.path, fn.qualname), fn=fn, param=name)
    if how == "global":
        return _global_binding(project, idx, name, 0)
    return NO_BINDING


def _extended(assigns, name: str, base, at_line) -> tuple:
    """What is added to `name` after its assignment `base` (by `at_line`): `+=`, `.append`, `.extend`, `.insert`."""
    mine = [a for a in assigns if a.target == name and (at_line is None or a.line <= at_line or a is base)]
    return tuple(additions(mine, base, EXTENDING_OPS))


def _global_binding(project, idx, name: str, hops: int) -> Binding:
    module_fn = idx.functions[MODULE_SCOPE]
    chosen = last_assign(project.plain_assigns(idx.path, module_fn, name), None)
    if chosen is not None:
        return Binding("assign", chosen, Ctx(idx.path, MODULE_SCOPE), _extended(module_fn.assigns, name, chosen, None))
    if name in idx.imports:
        return _import_binding(project, idx.imports[name], idx, hops + 1)
    for star in idx.imports.get("*", ()):
        target = project.module_named(star, idx.path)
        if target is not None and target is not idx and hops < MAX_IMPORT_HOPS:
            found = _global_binding(project, target, name, hops + 1)
            if found.kind != "none":
                return found
    return NO_BINDING


def _import_binding(project, qualified: str, idx, hops: int) -> Binding:
    if hops > MAX_IMPORT_HOPS:
        return NO_BINDING
    target = project.module_named(qualified, idx.path)
    if target is not None:
        return Binding("module", value=Mod(target.path))
    module, _, attr = qualified.rpartition(".")
    owner = project.module_named(module, idx.path) if module else None
    return _global_binding(project, owner, attr, hops) if owner is not None else NO_BINDING


def _member_binding(project, base, attr: str) -> Binding:
    if isinstance(base, Mod):
        return _global_binding(project, project.indexes[base.path], attr, 0)
    if isinstance(base, (Klass, Inst)):
        return _class_binding(project, base.path, base.qualname, attr, set())
    return NO_BINDING


def _class_binding(project, path: str, qualname: str, attr: str, seen: set) -> Binding:
    """A class attribute, or what `__init__` sets `self.attr` to, here or in a project base class."""
    if (path, qualname) in seen or len(seen) > 8:
        return NO_BINDING
    seen.add((path, qualname))
    idx = project.indexes[path]
    cls = idx.classes.get(qualname)
    if cls is None:
        return NO_BINDING
    chosen = _last_base(cls.attrs, attr)
    if chosen is not None:
        return Binding("assign", chosen, Ctx(path, MODULE_SCOPE), _extended(cls.attrs, attr, chosen, None))
    init = idx.functions.get(f"{qualname}.__init__")
    if init is not None:
        chosen = _last_base(init.assigns, f"self.{attr}")
        if chosen is not None:
            return Binding("assign", chosen, Ctx(path, init.qualname), _extended(init.assigns, f"self.{attr}", chosen, None))
    for base_expr in cls.bases:
        resolved = project.resolve(base_expr, Ctx(path, MODULE_SCOPE))
        if isinstance(resolved, Klass):
            found = _class_binding(project, resolved.path, resolved.qualname, attr, seen)
            if found.kind != "none":
                return found
    return NO_BINDING


def _last_base(assigns, target: str):
    """The last plain assignment to `target` among `assigns` (a class body, an `__init__`)."""
    chosen = None
    for assign in assigns:
        if assign.target == target and assign.op in PLAIN:
            chosen = assign
    return chosen
