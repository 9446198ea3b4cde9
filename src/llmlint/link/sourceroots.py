"""Imports written against a source root below the checked folder.

`backend/server/utils.py` is imported as `server.utils` when the app runs from `backend/`, and
`babyagi/functionz/core/framework.py` as `functionz.core.framework` after a `sys.path` insert. A dotted import of two
or more parts that names no project module is taken to be the one project module whose name ends with it, when
exactly one does. Single names are left alone: `import redis` must not become a project's `app/redis.py`.

The same holds for the folders above a module that are not packages (PEP 420 namespace folders, no __init__.py):
`common/log.py` of an app run from its root is the module `log` to the discovery, and `common.log` to the code that
imports it. A dotted import matches the one module whose file path ends with it.
"""

from __future__ import annotations

import os


class ModuleSuffixes:
    def __init__(self, names, paths=()):
        """`names`: the project's dotted module names; `paths`: (name, file path) of its modules."""
        self._by_suffix: dict[str, set] = {}
        for name in names:
            parts = name.split(".")
            for start in range(1, len(parts) - 1):
                self._by_suffix.setdefault(".".join(parts[start:]), set()).add(name)
        for name, path in paths:
            folders = os.path.splitext(path.replace(os.sep, "/"))[0].split("/")
            if folders[-1] == "__init__":
                folders.pop()
            for start in range(max(len(folders) - 6, 0), len(folders) - 1):  # (a few folders up is enough)
                suffix = ".".join(folders[start:])
                if suffix != name and all(part.isidentifier() for part in folders[start:]):
                    self._by_suffix.setdefault(suffix, set()).add(name)

    def unique(self, name: str) -> str | None:
        """The one project module whose dotted name ends with `name` (two or more parts), else None."""
        found = self._by_suffix.get(name) if name.count(".") >= 1 else None
        return next(iter(found)) if found and len(found) == 1 else None
