"""Imports written against a source root below the checked folder.

`backend/server/utils.py` is imported as `server.utils` when the app runs from `backend/`, and
`babyagi/functionz/core/framework.py` as `functionz.core.framework` after a `sys.path` insert. A dotted import of two
or more parts that names no project module is taken to be the one project module whose name ends with it, when
exactly one does. Single names are left alone: `import redis` must not become a project's `app/redis.py`.
"""

from __future__ import annotations


class ModuleSuffixes:
    def __init__(self, names):
        self._by_suffix: dict[str, set] = {}
        for name in names:
            parts = name.split(".")
            for start in range(1, len(parts) - 1):
                self._by_suffix.setdefault(".".join(parts[start:]), set()).add(name)

    def unique(self, name: str) -> str | None:
        """The one project module whose dotted name ends with `name` (two or more parts), else None."""
        found = self._by_suffix.get(name) if name.count(".") >= 1 else None
        return next(iter(found)) if found and len(found) == 1 else None
