"""Early cut-off for code edits: when every change since the last run is a change no rule can see, the last run's
linked results stand, and the project is not linked again.

A run's results are a function of every relevant module's index. After an edit, the indexes of the edited files
differ; this module compares each edited file's index with the one the last run linked, definition by definition,
and accepts the edit only when every definition that differs (added, removed or changed, positions included) is
*inert*, in its old and its new form:

- a function or method with no call site (decorators, defaults and calls in its body all count), no decorator, no
  loop or try, no assignment to anything but its own locals (not `self.x`, not a `global`), not a dunder (those
  are called implicitly: `__init__`, `__getattr__`, `__call__`), and
- whose name no relevant module mentions anywhere in its code (a call, an attribute, an import, a string for
  `getattr`), before or after the edit.

Such a function is never called, defines nothing another definition reads and makes no call, so every fact a
rule derives (model calls, the call graph, what values resolve to, error paths) is what it was. Everything else of
the edited module (imports, classes, module-level code, key literals, every other definition with its positions)
must be identical; so a definition inserted above other code, which moves them, is linked again in full.

Mentions are kept per module as crc32 values of identifiers (`ModuleIndex.names`, no source text), and per run as
a count of the modules mentioning each (`names` beside the run record), so the check reads two indexes and one
table, not the project.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

from llmlint.engine.moduleindex import MODULE_SCOPE

_IDENTIFIER = re.compile(r"\b(?:def|class)[ \t]+[^\W\d]\w*|([^\W\d]\w*)")


def referenced_names(code: str) -> frozenset:
    """crc32 of every identifier in `code` except the names given by `def` and `class` (definitions, not uses).
    Identifiers in strings count: `getattr(obj, "name")` uses `name`."""
    return frozenset(zlib.crc32(m.encode("utf-8", "surrogatepass")) for m in _IDENTIFIER.findall(code) if m)


def name_counts(indexes) -> Counter:
    """{crc32 of an identifier: how many of `indexes` mention it}."""
    counts = Counter()
    for index in indexes:
        counts.update(index.names)
    return counts


def after_edit(counts: Counter, old, new) -> Counter:
    """The mention counts once module `old` has become `new`."""
    updated = Counter(counts)
    updated.subtract(old.names)
    updated.update(new.names)
    return +updated


def invisible_edit(old, new, before: Counter, after: Counter) -> bool:
    """Whether replacing module index `old` with `new` changes no fact any rule reads (see the module docstring).
    `before` and `after` count the modules mentioning each identifier, with the old and with the new index."""
    if (old.module, old.is_package) != (new.module, new.is_package):
        return False
    if old.imports != new.imports or old.classes != new.classes or old.key_strings != new.key_strings:
        return False
    if not _same_module_code(old, new):
        return False
    for qualname in set(old.functions) | set(new.functions):
        if qualname == MODULE_SCOPE:
            continue
        was, now = old.functions.get(qualname), new.functions.get(qualname)
        if was is not None and now is not None and was == now:
            continue
        if not all(fn is None or _inert(fn, before) and _inert(fn, after) for fn in (was, now)):
            return False
    return True


def _inert(fn, mentions: Counter) -> bool:
    name = fn.name
    if name.startswith("__") and name.endswith("__"):
        return False
    if fn.calls or fn.decorators or fn.loops or fn.tries:
        return False
    if any("." in a.target or not a.target or a.target in fn.global_names for a in fn.assigns):
        return False
    return mentions.get(zlib.crc32(name.encode("utf-8", "surrogatepass")), 0) == 0


def _same_module_code(old, new) -> bool:
    """The module-level pseudo-function is the same but for its span (the file's length)."""
    was, now = old.functions.get(MODULE_SCOPE), new.functions.get(MODULE_SCOPE)
    if was is None or now is None:
        return was is now
    saved = was.span, now.span
    was.span = now.span = None
    try:
        return was == now
    finally:
        was.span, now.span = saved
