"""Every value an expression may hold, where `Project.resolve` answers with one: what dynamic dispatch can reach.

`resolve` answers one value (the first arm that resolves, the last assignment, the value under a literal key),
which is what settings and model names need. A call graph needs every object a receiver may be: both arms of
`Claude() if kind == "claude" else OpenAI()`, every value of a project dict or list read with a key that is not
known (`BACKENDS[name]`), every assignment that may reach a name (`if`/`elif` arms: `flow.reaching.alternatives`),
every value a `self.attr` is set to, every value a project function may return (`return REGISTRY[name]()`) and an
instance of the project class its return annotation names (`-> Backend`), and the elements a `for` loop takes from
a literal list. Resolve's own answer always comes first, so a single-valued expression keeps exactly its old
answer; the rest are added. Bounded: at most MAX_ALTERNATIVES values, else resolve's answer alone.
"""

from __future__ import annotations

from llmlint.engine import exprs as E
from llmlint.flow.reaching import alternatives as reaching_alternatives
from llmlint.link.bindings import scope_lookup
from llmlint.link.project import is_something
from llmlint.link.values import Ctx, Func, Inst, Klass, Lit

MAX_ALTERNATIVES = 16
MAX_DEPTH = 8


class Alternatives:
    """Built once per Project (`Project.alternatives`); answers are memoised."""

    def __init__(self, project):
        self.project = project
        self._memo: dict = {}
        self._sets: dict = {}  # (path, class) -> what its methods set its attributes to

    def of(self, expr, ctx: Ctx, at_line: int | None = None, depth: int = 0) -> tuple:
        """The values `expr` may hold (resolve's answer first; unknown and `None` left out of the others)."""
        key = (expr, ctx, at_line)
        found = self._memo.get(key)
        if found is not None:
            return found
        first = self.project.resolve(expr, ctx, at_line)
        if depth > MAX_DEPTH or not self._may_have_more(expr, ctx, at_line, depth + 1):
            return (first,)  # (not kept: most expressions are single-valued, and the memo would hold them all)
        self._memo[key] = (first,)  # a value met again while it is worked out adds nothing
        more = self._more(expr, ctx, at_line, depth + 1)
        found = (first,) + tuple(dict.fromkeys(v for v in more if is_something(v) and v != first))
        if len(found) > MAX_ALTERNATIVES:
            found = (first,)
        self._memo[key] = found
        return found

    def _may_have_more(self, expr, ctx: Ctx, at_line, depth: int) -> bool:
        """Whether `_more` has anything to look at: not a name bound by no assignment here (a parameter, an import,
        a def, a global), nor an attribute of a single value that is no project instance (`os.path`,
        `self.client.chat`), nor an expression of a kind it does not follow."""
        if isinstance(expr, E.Name):
            return scope_lookup(self.project, expr.id, ctx, at_line)[0] == "assign"
        if isinstance(expr, E.Attr):
            bases = self.of(expr.base, ctx, at_line, depth)
            return len(bases) > 1 or _sets_its_own(bases[0], expr.base)
        return isinstance(expr, (E.IfExp, E.Await, E.Subscript, E.Call)) or (isinstance(expr, E.Unknown) and expr.kind == "BooleanOperation")

    def _union(self, exprs, ctx: Ctx, at_line, depth: int) -> list:
        out = []
        for expr in exprs:
            out.extend(self.of(expr, ctx, at_line, depth))
        return out

    def _more(self, expr, ctx: Ctx, at_line, depth: int) -> list:
        if isinstance(expr, E.IfExp):
            return self._union((expr.body, expr.orelse), ctx, at_line, depth)
        if isinstance(expr, E.Unknown) and expr.kind == "BooleanOperation":  # `backend or DefaultBackend()`
            return self._union(expr.children, ctx, at_line, depth)
        if isinstance(expr, E.Await):
            return list(self.of(expr.value, ctx, at_line, depth))
        if isinstance(expr, E.Name):
            return self._name(expr.id, ctx, at_line, depth)
        if isinstance(expr, E.Attr):
            return self._attr(expr, ctx, at_line, depth)
        if isinstance(expr, E.Subscript):
            return self._item(expr, ctx, at_line, depth)
        if isinstance(expr, E.Call):
            return self._call(expr, ctx, at_line, depth)
        return []

    def _name(self, name: str, ctx: Ctx, at_line, depth: int) -> list:
        how, fn, what = scope_lookup(self.project, name, ctx, at_line)
        if how != "assign":
            return []
        _, assigns = what
        own = fn.qualname == ctx.function
        line = at_line + 1 if own and at_line is not None else None  # (resolve counts an assignment on the line itself)
        where = Ctx(ctx.path, fn.qualname)
        out = []
        for assign in reaching_alternatives(assigns, line):
            if assign.op == "for":
                out.extend(self._iterated(assign.value, where, assign.line, depth))
            else:
                out.extend(self.of(assign.value, where, assign.line - 1, depth))
        return out

    def _iterated(self, value, ctx: Ctx, line: int, depth: int) -> list:
        """The items `for x in ITEMS:` takes: the elements of a literal list or tuple, the values of `d.values()`."""
        if not (isinstance(value, E.Unknown) and value.kind == "for" and value.children):
            return []
        source = value.children[0]
        if isinstance(source, E.Call) and isinstance(source.func, E.Attr) and source.func.attr == "values" and not source.args:
            return self._values(source.func.base, ctx, line, depth)
        return self._elements(source, ctx, line, depth)

    def _attr(self, expr: E.Attr, ctx: Ctx, at_line, depth: int) -> list:
        bases = self.of(expr.base, ctx, at_line, depth)
        if len(bases) > 1:  # `backend.answer` of `backend = A() if ... else B()`
            return [self.project.member(base, expr.attr) for base in bases]
        if _sets_its_own(bases[0], expr.base):
            return self._self_attr(bases[0], expr.attr, depth)
        return []

    def _self_attr(self, owner, attr: str, depth: int) -> list:
        """Every value the methods of the object's class set `self.attr` (or `cls.attr`) to."""
        out = []
        for value, ctx, line in self._attribute_sets(owner.path, owner.qualname).get(attr, ()):
            out.extend(self.of(value, ctx, line, depth))
        return out

    def _attribute_sets(self, path: str, cls: str) -> dict:
        """{attribute: [(value, Ctx, line)]} of the `self.x = ...` (`cls.x = ...`) in the methods of a class, once per class."""
        found = self._sets.get((path, cls))
        if found is None:
            found = self._sets[(path, cls)] = {}
            idx = self.project.indexes[path]
            for fn in idx.functions.values():
                if fn.cls != cls:
                    continue
                for assign in fn.assigns:
                    owner, _, attr = assign.target.partition(".")
                    if owner in ("self", "cls") and attr and "." not in attr and assign.op in ("=", "with") \
                            and f"{cls}.{attr}" not in idx.functions:  # (not a method or a property)
                        found.setdefault(attr, []).append((assign.value, Ctx(path, fn.qualname), assign.line - 1))
        return found

    def _item(self, expr: E.Subscript, ctx: Ctx, at_line, depth: int) -> list:
        """`BACKENDS[name]`: every value of the project dict (or element of the list) when the key is not a constant."""
        if isinstance(expr.index, E.Const) or self.project.store_read(expr, ctx, at_line) is not None:
            return []  # resolve's one answer is the value
        return self._values(expr.value, ctx, at_line, depth) or self._elements(expr.value, ctx, at_line, depth)

    def _values(self, mapping, ctx: Ctx, at_line, depth: int) -> list:
        """The values of a project dict: those of its literal, whatever the keys (`{Provider.GPT.name: GptModel()}`),
        and those stored into it under a constant key."""
        held = self.project.resolve(mapping, ctx, at_line)
        items = [(value, held.ctx) for key, value in held.expr.items if key is not None] \
            if isinstance(held, Lit) and isinstance(held.expr, E.DictExpr) else []
        found = self.project.dict_items(mapping, ctx, at_line)
        items += [(value, where) for _, value, where in (found[0] if found else ())]
        out = []
        for value, where in dict.fromkeys(items):
            out.extend(self.of(value, where, None, depth))
        return out

    def _elements(self, source, ctx: Ctx, at_line, depth: int) -> list:
        held = self.project.resolve(source, ctx, at_line)
        if isinstance(held, Lit) and isinstance(held.expr, E.Seq):
            return self._union(held.expr.elts, held.ctx, None, depth)
        return []

    def _call(self, call: E.Call, ctx: Ctx, at_line, depth: int) -> list:
        """What a call may give: an instance of each class it may construct, each value a project function it may call
        returns."""
        out = []
        for func in self.of(call.func, ctx, call.line, depth):
            if isinstance(func, Klass):
                out.append(Inst(func.path, func.qualname))
            elif isinstance(func, Func):
                fn = self.project.function(func)
                for value in fn.returns if fn is not None else ():
                    out.extend(self.of(value, Ctx(func.path, fn.qualname), None, depth))
                out.append(self.project.annotated_instance(func))  # `def get_backend(name) -> Backend:` gives a Backend
        return out


def _sets_its_own(base, base_expr) -> bool:
    """Whether the attributes of `base` are those its class's methods set: a project instance, or the class itself
    read through `cls` in a classmethod."""
    return isinstance(base, Inst) or (isinstance(base, Klass) and base_expr == E.Name("cls"))
