"""`python -m llmlint`."""

import os
import sys


def _without_current_folder(path: list) -> list:
    """`path` without the current folder: `python -m` puts it first on sys.path, so inside an analysed repository its
    `click.py` (or `libcst/`) would be imported instead of the real one and run its code (pylint drops it too)."""
    try:
        here = os.path.realpath(os.getcwd())
    except OSError:  # the current folder was removed
        here = None
    return [entry for entry in path if entry not in ("", ".") and (here is None or os.path.realpath(entry) != here)]


sys.path[:] = _without_current_folder(sys.path)

from llmlint.cli import entry  # noqa: E402  (after sys.path is safe)

if __name__ == "__main__":
    entry()
