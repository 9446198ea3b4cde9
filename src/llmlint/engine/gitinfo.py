"""What a report needs to know of the git repository it was made in: its top folder (the base of every reported
path), the commit checked out and the remote's address (SARIF versionControlProvenance).

Read from the files under `.git` without running git: a repository's own configuration can make git run programs
(core.fsmonitor, hooks), and the analysed repository is not trusted. Anything unexpected reads as "not known".
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_LIMIT = 1 << 20  # no git metadata file this reads is larger


def repository_top(folder: str) -> str | None:
    """The nearest folder at or above `folder` that holds a `.git` folder or file."""
    current = os.path.abspath(folder)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def report_base() -> str:
    """The folder reported paths are relative to: the top of the git work tree holding the current directory,
    else the current directory (so that paths and fingerprints do not depend on where in the tree llmlint ran)."""
    cwd = os.getcwd()
    return repository_top(cwd) or cwd


def revision_and_remote(top: str) -> tuple[str | None, str | None]:
    """(the commit checked out, the `origin` remote's URL without credentials) of the work tree at `top`."""
    git_dir = _git_dir(top)
    if git_dir is None:
        return None, None
    return _revision(git_dir), _remote(_common_dir(git_dir))


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            if not os.path.isfile(path):
                return None
            return handle.read(_LIMIT).decode("utf-8", "replace")
    except OSError:
        return None


def _git_dir(top: str) -> str | None:
    dot_git = os.path.join(top, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    text = _read(dot_git)  # a worktree or submodule: "gitdir: <path>"
    if text and text.startswith("gitdir:"):
        target = text[len("gitdir:"):].strip()
        target = target if os.path.isabs(target) else os.path.join(top, target)
        return target if os.path.isdir(target) else None
    return None


def _common_dir(git_dir: str) -> str:
    text = _read(os.path.join(git_dir, "commondir"))
    if text:
        target = text.strip()
        target = target if os.path.isabs(target) else os.path.join(git_dir, target)
        if os.path.isdir(target):
            return target
    return git_dir


def _revision(git_dir: str) -> str | None:
    head = (_read(os.path.join(git_dir, "HEAD")) or "").strip()
    if _SHA.match(head):
        return head  # a detached HEAD
    if not head.startswith("ref: "):
        return None
    ref = head[5:].strip()
    if not ref.startswith("refs/") or ".." in ref.split("/"):
        return None
    for folder in (git_dir, _common_dir(git_dir)):
        value = (_read(os.path.join(folder, *ref.split("/"))) or "").strip()
        if _SHA.match(value):
            return value
    for line in (_read(os.path.join(_common_dir(git_dir), "packed-refs")) or "").splitlines():
        sha, _, name = line.partition(" ")
        if name.strip() == ref and _SHA.match(sha):
            return sha
    return None


def _remote(common_dir: str) -> str | None:
    section, url = None, None
    for raw in (_read(os.path.join(common_dir, "config")) or "").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
        elif section in ('[remote "origin"]',) and line.startswith("url") and "=" in line:
            url = line.split("=", 1)[1].strip()
    return _without_credentials(url) if url else None


def _without_credentials(url: str) -> str | None:
    """`https://user:token@host/x.git` -> `https://host/x.git`; scp-like `git@host:x.git` -> `ssh://host/x.git`."""
    if re.match(r"^[\w.-]+@[\w.-]+:(?!//)", url):
        host, _, path = url.split("@", 1)[1].partition(":")
        return f"ssh://{host}/{path.lstrip('/')}"
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            return None
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return None
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
