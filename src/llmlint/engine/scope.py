"""Two scopes: what the user names (the report scope) and the projects that hold it (the analysis scope).

`llmlint app/classify.py` (what pre-commit runs when one file changed) judges that file within its project: the
client it uses may be made in `app/llm.py`, its caller may catch errors in `app/api.py`. So the analysis covers every
project (the folder of the nearest project marker above a named path, else its repository's top) that holds a
named path, and the report keeps only findings whose primary location is in a named file or under a named folder.
"""

from __future__ import annotations

import os

from llmlint.engine.discovery import PROJECT_MARKERS


def analysis_scope(paths: list[str]) -> list[str]:
    """The project folders holding `paths` (a path with no project above it stands for itself), outermost first
    and none inside another."""
    roots = []
    for given in paths:
        path = os.path.normpath(os.path.abspath(given))
        folder = path if os.path.isdir(path) else os.path.dirname(path)
        roots.append(project_folder(folder) or path)
    kept = []
    for root in sorted(set(roots), key=len):
        if not any(root == k or root.startswith(k.rstrip(os.sep) + os.sep) for k in kept):
            kept.append(root)
    return kept


def project_folder(folder: str) -> str | None:
    """The nearest folder at or above `folder` holding a project marker, else the top of the repository holding it."""
    while True:
        try:
            names = set(os.listdir(folder))
        except OSError:
            names = set()
        if any(marker in names for marker in PROJECT_MARKERS) or ".git" in names:
            return folder  # (a repository without project files is one project)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def covers(paths: list[str]) -> bool:
    """Whether the named paths are their own analysis scope already (`llmlint .` at a project's root)."""
    named = {os.path.normpath(os.path.abspath(p)) for p in paths}
    return all(root in named for root in analysis_scope(paths))
