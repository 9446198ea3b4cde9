"""Which files a run checks: walk the given paths for *.py, *.pyi and Jupyter notebooks (*.ipynb), minus default excludes,
configured excludes and .gitignore.

A path named on the command line is checked even when excluded (pre-commit passes explicit file lists), unless
`force_exclude`; a named file that is not Python (no .py/.pyi suffix and no python shebang) is skipped. Every
Python file left out for a reason other than an exclusion becomes a Problem (`path: skipped: reason`): a folder that
cannot be read, a special file (FIFO, socket, device: never opened), a symbolic link that is broken, loops or leads
out of the checked folder. A path that does not exist is a DiscoveryError. A .gitignore line that is not a valid
pattern is passed over with a warning.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from typing import NamedTuple

from llmlint.engine.config import Config, ConfigError
from llmlint.engine.gitinfo import report_base, repository_top
from llmlint.results.finding import Problem

SUFFIXES = (".py", ".pyi", ".ipynb")  # a notebook's code cells are checked as a module (notebook.py)
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".direnv", "node_modules", "build", "dist", "__pycache__",
    "__pypackages__", "site-packages", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pytype",
    ".llmlint_cache", ".ipynb_checkpoints", ".eggs", "*.egg-info",
)  # fmt: skip
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "llmlint.toml", ".llmlint.toml")
PACKAGE_MARKERS = ("__init__.py", "__init__.pyi")
MAX_IGNORE_BYTES = 8 * 1024 * 1024  # a bigger .gitignore is not hand-written: its first 8 MiB are read


class DiscoveryError(Exception):
    """A path given to check does not exist."""

    def __init__(self, path: str):
        self.path = path
        super().__init__(f"{path}: no such file or directory")


class SourceFile(NamedTuple):  # (a tuple: 10,000 of them are made in a fifth of a frozen dataclass's time)
    path: str  # absolute
    display: str  # relative to the current directory when under it, POSIX separators; else absolute
    module: str  # dotted module name
    is_package: bool  # an __init__ module
    project_root: str  # folder of the nearest project marker above the file, else the checked root holding it


@dataclass
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # one line each for stderr


# Glob patterns with gitignore semantics


@dataclass(frozen=True)
class Pattern:
    """One gitignore-style line, compiled. It matches paths relative to `base` (POSIX)."""

    base: str
    regex: re.Pattern
    negate: bool
    dir_only: bool
    anchored: bool
    text: str

    def matches(self, relative: str, is_dir: bool) -> bool:
        return (is_dir or not self.dir_only) and self.regex.fullmatch(relative) is not None


def compile_pattern(line: str, base: str) -> Pattern | None:
    """Compile one .gitignore line (None for blanks and comments): `!` negates, a trailing `/` matches folders only,
    a `/` at the start or in the middle anchors the pattern to `base`, else it matches at any depth. Raises re.error
    for a line that is not a valid pattern (a character range such as `[z-a]`)."""
    text = line.rstrip("\n\r")
    if not text.strip() or text.startswith("#"):
        return None
    # trailing spaces are dropped unless escaped
    stripped = text.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(text):
        stripped += " "
    text = stripped
    negate = False
    if text.startswith("!"):
        negate, text = True, text[1:]
    elif text.startswith("\\!") or text.startswith("\\#"):
        text = text[1:]
    dir_only = text.endswith("/")
    text = text.rstrip("/")
    if not text:
        return None
    anchored = "/" in text
    text = text.lstrip("/")
    body = _glob_to_regex(text)
    if not anchored:
        body = "(?:.*/)?" + body
    return Pattern(base, re.compile(body, re.S), negate, dir_only, anchored, line.strip())


def _glob_to_regex(glob: str) -> str:
    out = []
    i, n = 0, len(glob)
    while i < n:
        char = glob[i]
        if char == "*" and glob.startswith("**", i) and (i == 0 or glob[i - 1] == "/") and (i + 2 == n or glob[i + 2] == "/"):
            if i + 2 == n:
                out.append(".*")  # "a/**": everything inside a
                i += 2
            else:
                out.append("(?:.*/)?")  # "**/" : zero or more folders
                i += 3
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = i + 1
            if end < n and glob[end] in "!^":
                end += 1
            if end < n and glob[end] == "]":
                end += 1
            while end < n and glob[end] != "]":
                end += 1
            if end >= n:  # no closing bracket: a literal "["
                out.append(re.escape(char))
            else:
                inner = glob[i + 1 : end]
                if inner[:1] in ("!", "^"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end
        elif char == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_ignore_file(path: str, base: str, invalid: list | None = None) -> tuple[Pattern, ...]:
    """The patterns of one ignore file. A line that is not a valid pattern is left out, and (line number, text,
    why) is added to `invalid` when given."""
    try:
        lines = _LINE_BREAK.split(read_regular(path, MAX_IGNORE_BYTES).decode("utf-8", "replace"))
    except OSError:
        return ()
    patterns = []
    for number, line in enumerate(lines, 1):
        try:
            pattern = compile_pattern(line, base)
        except (re.error, RecursionError) as error:
            if invalid is not None:
                invalid.append((number, line.strip(), error.msg if isinstance(error, re.error) else "nested too deeply"))
            continue
        if pattern is not None:
            patterns.append(pattern)
    return tuple(patterns)


def is_ignored(patterns: tuple[Pattern, ...], path: str, is_dir: bool) -> bool:
    """gitignore's verdict on `path` (absolute): the last pattern that matches decides."""
    ignored = False
    for pattern in patterns:
        relative = _relative(path, pattern.base)
        if relative is not None and pattern.matches(relative, is_dir):
            ignored = not pattern.negate
    return ignored


class IgnoreRules:
    """A chain of .gitignore patterns compiled for the walk: runs of consecutive patterns from one file that agree on
    `!` become one regex, so an entry costs a regex match per run, not one per pattern."""

    def __init__(self, patterns: tuple[Pattern, ...] = ()):
        self.patterns = patterns
        runs: list[list[Pattern]] = []
        for pattern in patterns:
            if runs and runs[-1][0].base == pattern.base and runs[-1][0].negate == pattern.negate:
                runs[-1].append(pattern)
            else:
                runs.append([pattern])
        self.runs = [(run[0].base, run[0].negate, _union(p for p in run if not p.dir_only), _union(run)) for run in reversed(runs)]

    def extended(self, patterns: tuple[Pattern, ...]) -> IgnoreRules:
        return IgnoreRules(self.patterns + patterns) if patterns else self

    def inside(self, folder: str) -> list[tuple]:
        """The runs, last first, with the path of `folder` relative to each run's base ("" or ending in "/")."""
        bound = []
        for base, negate, files, folders in self.runs:
            prefix = "" if folder == base else _relative(folder, base)
            if prefix is not None:
                bound.append((prefix + "/" if prefix else "", negate, files, folders))
        return bound


def ignored_in(bound: list[tuple], name: str, is_dir: bool) -> bool:
    """gitignore's verdict on the entry `name` of the folder `bound` was made for (IgnoreRules.inside)."""
    for prefix, negate, files, folders in bound:
        regex = folders if is_dir else files
        if regex is not None and regex.fullmatch(prefix + name) is not None:
            return not negate  # the last pattern that matches decides
    return False


class Excludes:
    """Default and configured excludes compiled for the walk: plain names in a set, the rest as two regexes (one
    matched against the entry's name, one against its path from the configuration root)."""

    def __init__(self, patterns: tuple[Pattern, ...]):
        self.names = frozenset(p.text.lstrip("!") for p in patterns if _is_plain_name(p))
        by_name = [p for p in patterns if not p.anchored and not _is_plain_name(p)]
        anchored = [p for p in patterns if p.anchored]
        self.name_files, self.name_folders = _union(p for p in by_name if not p.dir_only), _union(by_name)
        self.path_files, self.path_folders = _union(p for p in anchored if not p.dir_only), _union(anchored)

    def matches(self, name: str, relative: str | None, is_dir: bool) -> bool:
        if name in self.names:
            return True
        regex = self.name_folders if is_dir else self.name_files
        if regex is not None and regex.fullmatch(name) is not None:
            return True
        regex = self.path_folders if is_dir else self.path_files
        return relative is not None and regex is not None and regex.fullmatch(relative) is not None


def _is_plain_name(pattern: Pattern) -> bool:
    name = pattern.text.lstrip("!") if pattern.negate else pattern.text
    return not pattern.anchored and not pattern.dir_only and pattern.regex.pattern == "(?:.*/)?" + re.escape(name)


def _union(patterns) -> re.Pattern | None:
    bodies = [p.regex.pattern for p in patterns]
    return re.compile("|".join(f"(?:{body})" for body in bodies), re.S) if bodies else None


def _relative(path: str, folder: str) -> str | None:
    """`path` below `folder` as a POSIX relative path (both absolute and normalised), or None when it is not below."""
    prefix = folder if folder.endswith(os.sep) else folder + os.sep
    if not path.startswith(prefix) or len(path) == len(prefix):
        return None
    relative = path[len(prefix):]
    return relative if os.sep == "/" else relative.replace(os.sep, "/")


# The walk


class _Walker:
    def __init__(self, config: Config):
        self.config = config
        self.cwd = report_base()  # display paths are relative to the repository's top (else the current folder)
        self.excludes = Excludes(tuple(
            p for p in (_exclude_pattern(text, config) for text in (*DEFAULT_EXCLUDES, *config.exclude, *config.extend_exclude))
            if p is not None
        ))
        self.files: dict[str, SourceFile] = {}  # real path -> file
        self.problems: list[Problem] = []
        self.warnings: dict[str, None] = {}  # in order, each once
        self._is_package_dir: dict[str, bool] = {}
        self._namespaces: dict[tuple, list] = {}
        self._packages: dict[str, str] = {}
        self._project_root: dict[str, str | None] = {}
        self._folder_facts: dict[str, tuple] = {}
        self._has_marker: dict[str, bool] = {}  # folder -> holds a project marker

    # exclusion
    def is_excluded(self, path: str, is_dir: bool) -> bool:
        """Default and configured excludes: a pattern with a '/' matches the path from the configuration root, one
        without matches a file or folder name at any depth. A folder holding pyvenv.cfg is a virtualenv."""
        return self._excluded(path, os.path.basename(path), _relative(path, self.config.root), is_dir)

    def _excluded(self, path: str, name: str, relative: str | None, is_dir: bool) -> bool:
        """is_excluded, given the entry's name and its path from the configuration root (None when outside it)."""
        return self.excludes.matches(name, relative, is_dir) or (is_dir and os.path.isfile(os.path.join(path, "pyvenv.cfg")))

    def ignore_chain(self, folder: str) -> tuple[Pattern, ...]:
        """The .gitignore patterns (and .git/info/exclude) that apply inside `folder`, from the repository top down to `folder`'s parent."""
        top = repository_top(folder)
        if top is None:
            root = self.config.root
            top = root if folder == root or folder.startswith(root.rstrip(os.sep) + os.sep) else folder
        patterns: tuple[Pattern, ...] = self._ignore_file(os.path.join(top, ".git", "info", "exclude"), top)
        current = top
        for part in _parts_between(top, folder):
            patterns += self._ignore_file(os.path.join(current, ".gitignore"), current)
            current = os.path.join(current, part)
        return patterns

    def _ignore_file(self, path: str, base: str) -> tuple[Pattern, ...]:
        invalid: list = []
        patterns = read_ignore_file(path, base, invalid)
        for number, text, why in invalid:
            self.warnings[f"warning: {self.display(path)}:{number}: '{text}' is not a valid pattern ({why}); line ignored"] = None
        return patterns

    def skip(self, path: str, reason: str) -> None:
        self.problems.append(Problem(self.display(path), reason))

    def is_force_excluded(self, path: str) -> bool:
        """For --force-exclude: is the named path, or a folder between the configuration root (or repository top) and it, excluded?"""
        is_dir = os.path.isdir(path)
        root = self.config.root
        if path.startswith(root.rstrip(os.sep) + os.sep):
            folders, current = [], root
            for part in _parts_between(root, os.path.dirname(path)):
                current = os.path.join(current, part)
                folders.append(current)
            if any(self.is_excluded(folder, True) for folder in folders):
                return True
        if self.is_excluded(path, is_dir):
            return True
        top = repository_top(os.path.dirname(path)) or (root if path.startswith(root.rstrip(os.sep) + os.sep) else None)
        if top is None:
            return False
        patterns = self._ignore_file(os.path.join(top, ".git", "info", "exclude"), top)
        current = top
        for part in _parts_between(top, path):
            patterns += self._ignore_file(os.path.join(current, ".gitignore"), current)
            current = os.path.join(current, part)
            if is_ignored(patterns, current, current != path or is_dir):
                return True
        return False

    # files
    def add(self, path: str, real: str, checked_root: str) -> None:
        folder, name = os.path.split(path)
        self._add(folder, name, path, real, checked_root)

    def _add(self, folder: str, name: str, path: str, real: str, checked_root: str) -> None:
        prefix, package, project_root = self.folder_facts(folder)
        display = prefix + name
        known = self.files.get(real)
        if known is not None and _preference(known.path, real, known.display) <= _preference(path, real, display):
            return
        stem = name.rsplit(".", 1)[0]
        is_package = stem == "__init__" and not name.endswith(".ipynb")
        module = package if is_package else (f"{package}.{stem}" if package else stem)
        self.files[real] = SourceFile(path, display, module, is_package, project_root or checked_root)

    def folder_facts(self, folder: str) -> tuple[str, str, str | None]:
        """(display prefix, dotted package, project root) shared by every file in `folder`, worked out once."""
        facts = self._folder_facts.get(folder)
        if facts is None:
            facts = self._folder_facts[folder] = (self.display_prefix(folder), self._package_of(folder), self.project_root(folder))
        return facts

    def display(self, path: str) -> str:
        if path == self.cwd:
            return "."
        folder, name = os.path.split(path)
        if not name:  # the file system's root
            return path.replace(os.sep, "/") if os.sep != "/" else path
        return self.display_prefix(folder) + name

    def display_prefix(self, folder: str) -> str:
        """What a display path of an entry of `folder` starts with: relative to the current directory when under
        it, else absolute; POSIX separators."""
        if folder == self.cwd:
            return ""
        base = self.cwd.rstrip(os.sep) + os.sep
        if folder.startswith(base):  # (both normalised: what follows is the relative path)
            return folder[len(base):].replace(os.sep, "/") + "/"
        return (folder.replace(os.sep, "/") if os.sep != "/" else folder).rstrip("/") + "/"

    def is_package_dir(self, folder: str) -> bool:
        if folder not in self._is_package_dir:
            self._is_package_dir[folder] = any(os.path.isfile(os.path.join(folder, m)) for m in PACKAGE_MARKERS)
        return self._is_package_dir[folder]

    def _package_of(self, folder: str) -> str:
        """The dotted package name of `folder` ("" when it is not inside a package), once per folder. Inside a
        package folder, a folder's name is its parent's followed by its own (whether or not it is a package itself:
        a folder without __init__.py there is a PEP 420 namespace package)."""
        found = self._packages.get(folder)
        if found is not None:
            return found
        below = []  # folders whose parent is a package folder, from `folder` up
        probe = folder
        while True:
            parent = os.path.dirname(probe)
            if parent == probe or not self.is_package_dir(parent):
                break
            below.append(probe)
            probe = parent
            if probe in self._packages:
                break
        found = self._packages.get(probe)
        if found is None:
            found = self._packages[probe] = self._package_above(probe)
        for sub in reversed(below):
            name = os.path.basename(sub)
            found = self._packages[sub] = f"{found}.{name}" if found else name
        return found

    def _package_above(self, folder: str) -> str:
        """`_package_of`, worked out from `folder` up."""
        parts: list[str] = []
        probe = folder
        while True:
            while self.is_package_dir(probe):
                parent = os.path.dirname(probe)
                if parent == probe:
                    break
                parts.append(os.path.basename(probe))
                probe = parent
            gap = self._namespace_gap(probe)
            if not gap:
                break
            parts.extend(gap)  # PEP 420 folders without __init__.py inside a regular package
            probe = _up(probe, len(gap))
        if parts:
            parts.extend(self._namespace_parents(probe, parts[-1]))
        return ".".join(reversed(parts))

    def _namespace_parents(self, folder: str, top: str, limit: int = 3) -> list[str]:
        """Names of the PEP 420 namespace folders above the top-level package `top` in `folder` (`llama_index`
        above `core`). A folder without __init__.py counts as one only when the package's __init__.py names
        itself by the longer name (`llama_index.core`); otherwise the folder is just where the code lives."""
        key = (folder, top)
        if key not in self._namespaces:
            names: list[str] = []
            try:
                head = read_regular(os.path.join(folder, top, "__init__.py"), 65536)
            except OSError:
                head = b""
            probe = folder
            while head and len(names) < limit:
                name = os.path.basename(probe)
                if not name.isidentifier() or self.is_package_dir(probe) or os.path.dirname(probe) == probe:
                    break
                dotted = ".".join([name, *reversed(names), top]).encode()
                if not re.search(rb"(?<![\w.])" + re.escape(dotted) + rb"\b", head):
                    break
                names.append(name)
                probe = os.path.dirname(probe)
            self._namespaces[key] = names
        return self._namespaces[key]

    def _namespace_gap(self, folder: str, limit: int = 4) -> list[str]:
        """Names of the folders from `folder` up to (not including) the nearest package folder above it, when
        there is one within `limit` levels: those are implicit namespace packages inside a package."""
        names, probe = [], folder
        for _ in range(limit):
            parent = os.path.dirname(probe)
            if parent == probe:
                return []
            names.append(os.path.basename(probe))
            if self.is_package_dir(parent):
                return names
            probe = parent
        return []

    def project_root(self, folder: str) -> str | None:
        seen = []
        result = None
        while True:
            if folder in self._project_root:
                result = self._project_root[folder]
                break
            seen.append(folder)
            marked = self._has_marker.get(folder)
            if marked is None:
                marked = any(os.path.isfile(os.path.join(folder, marker)) for marker in PROJECT_MARKERS)
            if marked:
                result = folder
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        for item in seen:
            self._project_root[item] = result
        return result

    def walk(self, top: str) -> None:
        """Walk the folder `top` depth-first in name order. Symlinked folders are followed only when they stay inside
        `top` and lead to a folder not walked yet (real paths are tracked, so loops end)."""
        real_top = os.path.realpath(top)
        visited = {real_top}
        stack = [(top, real_top, IgnoreRules(self.ignore_chain(top)))]
        root = self.config.root
        excludes = self.excludes
        while stack:
            folder, real_folder, rules = stack.pop()
            try:
                with os.scandir(folder) as scan:
                    entries = sorted(scan, key=_name)
            except OSError as error:
                self.problems.append(Problem(self.display(folder), f"cannot read directory: {error.strerror or error}"))
                continue
            if folder != top and _holds_pyvenv_cfg(entries):  # a virtualenv (excluded, as `is_excluded` says)
                continue
            self._learn(folder, entries)
            if any(entry.name == ".gitignore" for entry in entries):
                rules = rules.extended(self._ignore_file(os.path.join(folder, ".gitignore"), folder))
            ignore = rules.inside(folder)
            from_root = "" if folder == root else _relative(folder, root)
            if from_root:
                from_root += "/"
            prefix = folder if folder.endswith(os.sep) else folder + os.sep
            real_prefix = real_folder if real_folder.endswith(os.sep) else real_folder + os.sep
            subfolders = []
            for entry in entries:
                name = entry.name
                unresolved = None  # why a symbolic link named like a Python file leads nowhere
                try:
                    is_link = entry.is_symlink()
                    is_dir = entry.is_dir()  # follows symlinks; False for a dangling one
                    is_file = not is_dir and entry.is_file()
                except OSError as error:
                    is_link, is_dir, is_file, unresolved = True, False, False, _link_problem(error)
                is_python = name.endswith(SUFFIXES)
                if not is_dir and not is_python:
                    continue
                path = prefix + name
                # (a folder holding pyvenv.cfg is excluded when it is walked: its listing says so without a stat)
                if excludes.matches(name, None if from_root is None else from_root + name, is_dir) or ignored_in(ignore, name, is_dir):
                    continue
                if not is_dir and not is_file:
                    self.skip(path, unresolved or _special_problem(path))  # a broken link, a FIFO, a socket...
                    continue
                real = os.path.realpath(path) if is_link else real_prefix + name
                if is_link and not _is_within(real, real_top):
                    self.skip(path, f"symbolic link to {self.display(real)}, outside the checked folder {self.display(top)}")
                    continue
                if is_dir:
                    if is_link and real in visited:
                        if _is_within(real_folder, real):
                            self.skip(path, f"symbolic link loop (to {self.display(real)}, a folder that holds it)")
                        continue  # else a folder walked already, under its own path
                    visited.add(real)
                    subfolders.append((path, real, rules))
                else:
                    self._add(folder, name, path, real, top)
            stack.extend(reversed(subfolders))


    def _learn(self, folder: str, entries: list) -> None:
        """What a folder's listing already says: whether it is a package and whether it holds a project marker."""
        files = set()
        for entry in entries:
            if entry.name in _MARKER_NAMES:
                try:
                    if entry.is_file():
                        files.add(entry.name)
                except OSError:
                    pass
        self._is_package_dir.setdefault(folder, any(m in files for m in PACKAGE_MARKERS))
        self._has_marker.setdefault(folder, any(m in files for m in PROJECT_MARKERS))


_MARKER_NAMES = frozenset(PACKAGE_MARKERS + PROJECT_MARKERS)


def _name(entry: os.DirEntry) -> str:
    return entry.name


def _holds_pyvenv_cfg(entries: list) -> bool:
    """Whether a folder's listing holds a file named pyvenv.cfg (a symlink to a file counts, as os.path.isfile)."""
    for entry in entries:
        if entry.name == "pyvenv.cfg":
            try:
                return entry.is_file()
            except OSError:
                return False
    return False


def discover(paths: list[str], config: Config, force_exclude: bool = False) -> Discovery:
    """The files to check under `paths`, sorted by display path and unique by real path."""
    walker = _Walker(config)
    absolute = []
    for given in paths:
        if not os.path.lexists(given):
            raise DiscoveryError(given)
        absolute.append(os.path.normpath(os.path.abspath(given)))
    for path in absolute:
        if force_exclude and walker.is_force_excluded(path):
            continue
        try:
            mode = os.stat(path).st_mode  # (never opens it: a FIFO would block)
        except OSError as error:
            walker.skip(path, _link_problem(error))
            continue
        if stat.S_ISDIR(mode):
            walker.walk(path)
        elif not stat.S_ISREG(mode):
            walker.skip(path, _special_problem(path, mode))
        elif not path.endswith(SUFFIXES) and not _has_python_shebang(path):
            walker.skip(path, "not a Python file")
        else:
            walker.add(path, os.path.realpath(path), os.path.dirname(path))
    files = sorted(walker.files.values(), key=lambda f: (f.display, f.path))
    warnings = list(walker.warnings)
    if not files:
        warnings.append(f"warning: no Python files found in {', '.join(paths)}")
    return Discovery(files=files, problems=walker.problems, warnings=warnings)


def _exclude_pattern(text: str, config: Config) -> Pattern | None:
    try:
        return compile_pattern(text, config.root)
    except (re.error, RecursionError) as error:  # (load_config rejects these; a Config may be built by hand)
        why = error.msg if isinstance(error, re.error) else "nested too deeply"
        raise ConfigError(config.path or "configuration", "exclude", f"'{text}' is not a valid glob pattern: {why}") from None


_SHEBANG = re.compile(rb"#![^\n]*\bpython[\d.]*\b")


def _has_python_shebang(path: str) -> bool:
    """A script named on the command line without a .py suffix (pre-commit passes these as Python)."""
    try:
        return _SHEBANG.match(read_regular(path, 256)) is not None
    except OSError:
        return False


def read_regular(path: str, limit: int) -> bytes:
    """Up to `limit` bytes of the regular file at `path`. Anything else raises OSError without blocking: a FIFO
    checked in as `.gitignore` or `__init__.py` would otherwise hang the run on open."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        return handle.read(limit)


def _link_problem(error: OSError) -> str:
    """Why a path that `os.stat` cannot follow is skipped."""
    if error.errno == errno.ELOOP:
        return "symbolic link loop"
    if error.errno == errno.ENOENT:
        return "broken symbolic link (its target does not exist)"
    return f"cannot read file: {error.strerror or error}"


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _special_problem(path: str, mode: int | None = None) -> str:
    """Why a path that is neither a folder nor a regular file is skipped (from its mode: it is never opened)."""
    if mode is None:
        try:
            mode = os.stat(path).st_mode
        except OSError as error:
            return _link_problem(error)
    kind = next((what for test, what in _KINDS if test(mode)), "a special file")
    return f"not a regular file ({kind})"


def _parts_between(top: str, path: str) -> list[str]:
    """The path components leading from `top` down to `path` ([] when they are the same)."""
    relative = os.path.relpath(path, top)
    return [] if relative == os.curdir else relative.split(os.sep)


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _preference(path: str, real: str, display: str) -> tuple:
    """Among paths to one real file, prefer the one without symlinks, then the shortest, then the first in order."""
    return (real != path, len(display), display)


def _up(folder: str, levels: int) -> str:
    for _ in range(levels):
        folder = os.path.dirname(folder)
    return folder
