"""What a module stores into its dicts after building them: `payload["think"] = True`, `kwargs.update({...})`,
`payload.setdefault("options", {}).setdefault("num_ctx", n)`.

Request settings are often a dict built in one statement and filled in later, in branches, before it is sent
(`**kwargs`, `json=payload`). A store of a constant key adds that key (it may be there at the call); anything else
(a computed key, `d |= other`, the dict handed to a function that may fill it) makes the dict's keys unknown;
`d.update(other)` with a mapping that is not a literal is kept as a SPREAD of that expression, for the resolver to
open (`request.update(token_budget(model, 300))`, a helper returning a dict literal) or to find unknown. The table is per module and per dotted name, over all its functions: a `payload` in two functions
counts as one, which only ever adds keys or makes them unknown (never a finding that should not be).
"""

from __future__ import annotations

from llmlint.engine import exprs as E

UNKNOWN = None  # the value a name gets when something changes its keys in a way not followed here
SPREAD = "**"  # the key of a fill `d.update(mapping)`: every key of `mapping` (its value) goes into d
MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "__setitem__"})
REMOVERS = frozenset({"pop", "popitem", "clear"})  # take keys out: nothing may appear that was not there
# Calls a dict may be given without being filled in: copies, checks, logging, serialising.
READERS = frozenset({"len", "print", "str", "repr", "dict", "list", "bool", "sorted", "isinstance", "id", "hash",
                     "json.dumps", "copy.copy", "copy.deepcopy", "pprint.pprint"})
LOGGING_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})


def dict_fills(index) -> dict:
    """{dotted name: ((key, value Expr), ...) stored into it in this module, or UNKNOWN}. A nested store
    (`d.setdefault("options", {})["num_ctx"] = n`) is the key with a DictExpr of what was stored inside it."""
    table: dict = {}
    for fn in index.functions.values():
        for assign in fn.assigns:
            _assignment(table, assign)
        for site in fn.calls:
            _call(table, site.call)
    return table


def _add(table: dict, name: str | None, key, value) -> None:
    if name is None:
        return
    if table.get(name, ()) is UNKNOWN:
        return
    if key is UNKNOWN:
        table[name] = UNKNOWN
    else:
        table[name] = (*table.get(name, ()), (key, value))


def _const_key(expr):
    return expr.value if isinstance(expr, E.Const) and isinstance(expr.value, str) else UNKNOWN


def _assignment(table: dict, assign) -> None:
    target = assign.target_expr
    if isinstance(target, E.Subscript):
        outer = _inner_dict(target.value)
        if outer is not None:  # d["options"]["x"] = v / d.setdefault("options", {})["x"] = v
            name, key = outer
            inner = _const_key(target.index)
            _add(table, name, key if inner is not UNKNOWN else UNKNOWN, E.DictExpr(((E.Const(inner), assign.value),)))
        else:
            _add(table, E.dotted(target.value), _const_key(target.index), assign.value)
    elif assign.op not in ("=", "for", "with") and assign.target and "." not in assign.target:
        _add(table, assign.target, UNKNOWN, None)  # d |= other


def _call(table: dict, call) -> None:
    func = call.func
    if isinstance(func, E.Attr) and func.attr in MUTATORS:
        name = E.dotted(func.base)
        if name is not None:
            for key, value in _stored(call, func.attr):
                _add(table, name, key, value)
            return
        outer = _inner_dict(func.base)
        if outer is not None:
            name, key = outer
            stored = _stored(call, func.attr)
            if any(k is UNKNOWN for k, _ in stored):
                _add(table, name, UNKNOWN, None)
            elif stored:
                _add(table, name, key, E.DictExpr(tuple((E.Const(k), v) for k, v in stored)))
            return
    callee = E.dotted(func) or ""
    if callee in READERS or (isinstance(func, E.Attr) and func.attr in LOGGING_METHODS):
        return
    for arg in call.args:  # handed to a function that may fill it in (`_apply_defaults(payload)`)
        name = E.dotted(arg)
        if name is not None:
            _add(table, name, UNKNOWN, None)


def _stored(call, method: str) -> tuple:
    """((key or UNKNOWN, value), ...) that `d.<method>(...)` may add to d."""
    if method in REMOVERS:
        return ()
    if method == "setdefault" or method == "__setitem__":
        key = _const_key(call.arg(0))
        value = call.arg(1) if len(call.args) > 1 else E.Const(None)
        return ((key, value),)
    stored = []  # update
    for arg in call.args:
        if isinstance(arg, E.DictExpr):
            stored.extend((_const_key(k) if k is not None else UNKNOWN, v) for k, v in arg.items)
        elif method == "update" and isinstance(arg, (E.Call, E.Name, E.Attr)):
            stored.append((SPREAD, arg))
        else:
            stored.append((UNKNOWN, None))
    stored.extend((k if k is not None else UNKNOWN, v) for k, v in call.kwargs)
    return tuple(stored)


def _inner_dict(expr):
    """(dotted name, key) when `expr` is a dict inside a named dict: `d["k"]` or `d.setdefault("k", ...)`."""
    if isinstance(expr, E.Subscript) and E.dotted(expr.value) is not None:
        return E.dotted(expr.value), _const_key(expr.index)
    if isinstance(expr, E.Call) and isinstance(expr.func, E.Attr) and expr.func.attr == "setdefault" \
            and E.dotted(expr.func.base) is not None:
        return E.dotted(expr.func.base), _const_key(expr.arg(0))
    return None


def with_fills(items: list, fills: tuple, ctx) -> list:
    """`items` ((key, value Expr, Ctx), ...) of a dict as built, with the keys `fills` may add: a nested store is
    merged into the dict literal already under that key, so a lookup inside it sees both."""
    items = list(items)
    for key, value in fills:
        at = next((i for i, (k, _, _) in enumerate(items) if k == key), None)
        if at is not None and isinstance(value, E.DictExpr) and isinstance(items[at][1], E.DictExpr):
            items[at] = (key, E.DictExpr(items[at][1].items + value.items), items[at][2])
        else:
            items.append((key, value, ctx))
    return items
