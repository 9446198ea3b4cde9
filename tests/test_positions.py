"""Positions taken from CPython's `ast` tree equal libcst's PositionProvider, node for node, and comments equal
libcst's Comment nodes; a file whose trees do not line up falls back to PositionProvider."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from llmlint.engine import indexer as index_module
from llmlint.engine.positions import AstPositions, PositionMismatch
from llmlint.engine.sourcelines import comment_lines

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

TRICKY = '''\
import os, sys  # two names
from typing import (  # a comment inside parentheses
    Any,
)

TABLE = (
    "a"  # part one
    "b"  # part two
)
NOTE = """a # inside a string, not a comment"""


@decorate(1, key="x")
@other
def handler(event: dict, *args, retries=(1, 2), **kwargs) -> Any:
    """Docstring # still a string."""
    total = (compute(event))  # parenthesised call
    first, *rest = split(event["body"], (",",), (a, b,))
    ratio = 2 ** (total).bit_length()
    label = f"{describe(event)!r} done ({len(rest)})"
    flag = any(check(x) for x in rest) and all((y in TABLE) for y in (rest or ()))
    joined = ", ".join(
        name.upper()
        for name in rest
    )
    café = "é" + call_after_unicode(café_arg)  # non-ASCII columns
    try:
        with open(os.path.join("a", "b")) as (fh):
            data = fh.read()
    except (ValueError, KeyError) as error:
        raise RuntimeError(str(error)) from error
    else:
        del data
    finally:
        cleanup()
    while retry(total):
        if total > 3: break
        elif total: continue
        else:
            total += step(total)
    match event:
        case {"kind": kind} if valid(kind):
            return handle(kind)
        case _:
            pass
    lambda: go(x if pick(x) else other(x))
    return [transform(x) for x in load(event) if keep(x)]


class Service(Base, metaclass=make_meta()):
    client: Any = create_client(timeout=30)
'''


def _diff(old, new, path="index"):
    """The first place two index objects differ, or None."""
    if type(old) is not type(new):
        return path, old, new
    if dataclasses.is_dataclass(old):
        for field in dataclasses.fields(old):
            found = _diff(getattr(old, field.name), getattr(new, field.name), f"{path}.{field.name}")
            if found:
                return found
        return None
    if isinstance(old, dict):
        for key in sorted(set(old) | set(new), key=repr):
            found = _diff(old.get(key), new.get(key), f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(old, (list, tuple)):
        if len(old) != len(new):
            return f"{path} length", len(old), len(new)
        for i, (a, b) in enumerate(zip(old, new)):
            found = _diff(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if old == new else (path, old, new)


def _both_ways(text: str):
    """(index with PositionProvider and libcst comments, index with ast positions and scanned comments)."""
    module = cst.parse_module(text)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    old = index_module._walk(module, "m.py", "m", False, 1, positions, comments=True)
    tree = ast.parse(text)
    fresh = cst.parse_module(text)
    new = index_module._walk(fresh, "m.py", "m", False, 1, AstPositions(text, tree, fresh), comments=False)
    new.comments = comment_lines(text, tree)
    return old, new


def test_tricky_source_gets_libcst_positions_and_comments():
    old, new = _both_ways(TRICKY)
    assert sorted(old.comments) == [1, 2, 7, 8, 17, 26]
    assert _diff(old, new) is None
    calls = {site.call.func.id: site.call for fn in new.functions.values() for site in fn.calls if hasattr(site.call.func, "id")}
    unicode_call = calls["call_after_unicode"]  # columns count characters, not UTF-8 bytes
    assert (unicode_call.line, unicode_call.col, unicode_call.end_col) == (26, 18, 46)


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.py")), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_gets_libcst_positions(path):
    text = path.read_text(encoding="utf-8")
    old, new = _both_ways(text)
    assert _diff(old, new) is None


def test_trees_that_disagree_fall_back_to_position_provider():
    text = "value = compute(1)\n"
    other = ast.parse("value = different(1)\n")
    module = cst.parse_module(text)
    with pytest.raises(PositionMismatch):
        index_module._walk(module, "m.py", "m", False, 1, AstPositions(text, other, module), comments=False)
    index = index_module.build_index(cst.parse_module(text), "m.py", "m", False, 2, text, other)
    (site,) = index.functions["<module>"].calls
    assert (site.call.line, site.call.col) == (1, 9)
