"""Per-file results cached by content: `.llmlint_cache/` at the project root, keyed by the file's bytes,
llmlint's version, the file's module name and the index format.

The folder sits in the analysed tree (like `.ruff_cache/`), where the repository, not this llmlint, decides what
it holds: a clone may bring a `.llmlint_cache/` of its own. So nothing read from it is trusted. Every file is
`MAGIC + tag + pickle`, where the tag is a keyed BLAKE2b MAC of the pickle, llmlint's version, the index format,
the kind of entry and the name it is stored under, keyed by a per-user secret that lives outside any analysed
tree (`secret_folder()`). A file whose tag does not verify is never unpickled; a verified one is unpickled and its
shape checked; anything else is ignored and rebuilt. Writes refuse to go through a symlink: every folder of the
cache is checked to be a real folder before a file is created in it (`mkstemp`, which does not follow links), and
renamed into place. Without a usable secret or a usable folder, the run goes on without a cache."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import stat
import tempfile
from collections import Counter
from pathlib import Path

from llmlint import __version__
from llmlint.results.finding import Edit, Finding, Problem

CACHE_DIR = ".llmlint_cache"
INDEX_FORMAT = "28"  # 28: a function keeps the values it yields; 27: the pre-filter reads wrapped import lists and PEP 420 folders; 26: a function keeps the class its return annotation names; 25: the pre-filter marks users of PydanticAI, the Agents SDK and more vendor SDKs; 24: modules moved into folders (engine/, link/, knowledge/...), pickled classes have new paths; 23: tuple subscripts (Annotated[...]); 22: the position of an unpacked element; 21: pre-filter facts of injected names; 20: identifiers a module mentions, class fields, streamed tokens; 19: findings carry autofixes
MAGIC = b"llmlint-cache\0"
TAG_BYTES = 32
SECRET_BYTES = 32
MAX_ENTRY_BYTES = 1 << 28  # a bigger file in the cache folder is not ours: not even read
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_secrets: dict[str, bytes | None] = {}  # secret path -> the secret read (or created) there by this process


def cache_key(data: bytes, module: str, is_package: bool, salt: str = "") -> str:
    digest = hashlib.blake2b(digest_size=20)
    for part in (__version__, INDEX_FORMAT, module, str(is_package), salt):
        digest.update(_encode(part))  # a module named after a file name that is not UTF-8 holds lone surrogates
        digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def secret_folder() -> Path | None:
    """Where the user's cache secret lives: `$LLMLINT_CACHE_HOME`, else `$XDG_CACHE_HOME/llmlint`, else
    `~/.cache/llmlint`; None when there is no home to put it in."""
    explicit = os.environ.get("LLMLINT_CACHE_HOME")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "llmlint"
    try:
        return Path.home() / ".cache" / "llmlint"
    except (RuntimeError, KeyError, OSError):
        return None


def user_secret(root: str) -> bytes | None:
    """The per-user key that authenticates cache files, created (mode 0600, atomically) on first use. None when it
    cannot be read or created, or when it sits inside the analysed tree (which could then have planted it), unless
    that tree is the whole file system or the user's home (a run from `/` in a container, or from `~`)."""
    folder = secret_folder()
    if folder is None:
        return None
    try:
        folder, top = folder.resolve(), Path(root).resolve()
        if folder.is_relative_to(top) and top != Path(top.anchor) and top != Path.home().resolve():
            return None
    except (OSError, RuntimeError, ValueError, KeyError):
        return None
    path = folder / "secret"
    if str(path) not in _secrets:
        secret = _read_secret(path)
        if secret is None and not os.path.lexists(path):
            _create_secret(folder, path)
            secret = _read_secret(path)
        _secrets[str(path)] = secret
    return _secrets[str(path)]


def _read_secret(path: Path) -> bytes | None:
    """The secret at `path`: a regular file of SECRET_BYTES that only this user can read, else None."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != SECRET_BYTES:
            return None
        if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o077):
            return None  # another user's file, or one others may read (a checked-out file is 0644)
        data = handle.read(SECRET_BYTES + 1)
    return data if len(data) == SECRET_BYTES else None


def _create_secret(folder: Path, path: Path) -> None:
    """Write a new secret beside `path` and link it into place: a concurrent run either wins (and both use its
    secret) or finds this one; nobody reads half a secret."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".secret-")  # mode 0600, never through a symlink
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(SECRET_BYTES))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system: the last writer wins, and entries it did not sign are rebuilt
            os.replace(tmp, path)
    except OSError:
        pass
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def open_cache(root: str) -> Cache | None:
    """The cache of the project at `root`, or None (run without one) when there is no secret to authenticate it
    or when its folder is not a real folder (a symlink committed to the repository, a file)."""
    secret = user_secret(root)
    if secret is None:
        return None
    cache = Cache(root, secret)
    for folder in (cache.dir.parent, cache.dir):
        if os.path.lexists(folder) and not _is_real_folder(folder):
            return None
    return cache


def _is_real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


class Cache:
    def __init__(self, root: str, secret: bytes):
        self.dir = Path(root) / CACHE_DIR / f"v{INDEX_FORMAT}"
        self._secret = secret
        self._verified: set[Path] = set()  # folders checked to be real folders (created if missing)

    def get(self, key: str):
        """An index entry: (index, problem, digest, code key), as `put`; checked by indexing.cached_entry."""
        return self._load("index", key, self._entry(key))

    def put(self, key: str, value) -> None:
        self._write("index", key, self._entry(key), _dumps(value))

    def put_pickled(self, key: str, data: bytes) -> None:
        """Store an index entry that is already pickled."""
        self._write("index", key, self._entry(key), data)

    def manifest(self) -> dict:
        """path -> ((size, mtime_ns, ctime_ns, inode, module, is_package), content key, scan key): the last survey's
        facts (each entry is checked where the survey uses it), and "__saved__": when it was written."""
        return self._table("manifest")

    def save_manifest(self, manifest: dict) -> None:
        self._save_table("manifest", manifest)

    def manifest_changes(self) -> dict:
        """Entries of the manifest's shape recorded since it was last written, which take precedence over its own,
        and "__saved__" (indexing.survey folds them in once they are many)."""
        return self._table("manifest-changes")

    def save_manifest_changes(self, changes: dict) -> None:
        self._save_table("manifest-changes", changes)

    def scans(self) -> dict:
        """scan key -> the pre-filter's facts (prefilter.scan) of the files with that key (checked where used)."""
        return self._table("scans")

    def save_scans(self, scans: dict) -> None:
        self._save_table("scans", scans)

    def facts(self) -> dict:
        """content key -> (Problem or None, index digest or None, code key or None) of every file indexed so far:
        what a run needs to know about a file whose index it may never have to load."""
        facts = self._table("facts")
        return facts if all(type(k) is str and _is_fact(v) for k, v in facts.items()) else {}

    def save_facts(self, facts: dict) -> None:
        self._save_table("facts", facts)

    def closure(self) -> dict:
        """{"key": digest of the survey's facts, "paths": the files the pre-filter kept for them, "called": the names
        files call without binding them}, from the last run ("called" is checked where it is used)."""
        closure = self._table("closure")
        key, paths = closure.get("key"), closure.get("paths")
        if type(key) is str and type(paths) is list and all(type(p) is str for p in paths):
            return closure
        return {}

    def save_closure(self, closure: dict) -> None:
        self._save_table("closure", closure)

    def syntax(self) -> dict:
        """content key -> Problem or None: CPython's verdict on each file the pre-filter passed over (not indexed)."""
        verdicts = self._table("syntax")
        return verdicts if all(type(k) is str and (v is None or type(v) is Problem) for k, v in verdicts.items()) else {}

    def save_syntax(self, verdicts: dict) -> None:
        self._save_table("syntax", verdicts)

    def get_run(self, key: str):
        """The linked results of an earlier run over exactly the same code and configuration: (findings, comments
        by displayed path, statement lines by (path, line)), or None."""
        record = self._load("run", key, self._entry("run-" + key))
        if not (type(record) is tuple and len(record) == 3):
            return None
        findings, comments, statements = record
        if type(findings) is list and all(type(f) is Finding for f in findings) and type(comments) is dict \
                and all(type(c) is dict for c in comments.values()) and type(statements) is dict:
            return record
        return None

    def put_run(self, key: str, value) -> None:
        self._write("run", key, self._entry("run-" + key), _dumps(value))

    def get_edits(self, key: str):
        """The textual edits worked out for one file's fixes (fixes.apply.with_edits), or None."""
        edits = self._load("edits", key, self._entry("edits-" + key))
        if type(edits) is list and all(type(e) is tuple and all(type(x) is Edit for x in e) for e in edits):
            return edits
        return None

    def put_edits(self, key: str, edits: list) -> None:
        self._write("edits", key, self._entry("edits-" + key), _dumps(edits))

    def get_names(self, key: str):
        """The identifier mention counts of the modules linked by run `key` (incremental.name_counts), or None."""
        counts = self._load("names", key, self._entry("names-" + key))
        if type(counts) is Counter and all(type(k) is int and type(v) is int for k, v in counts.items()):
            return counts
        return None

    def put_names(self, key: str, counts) -> None:
        self._write("names", key, self._entry("names-" + key), _dumps(counts))

    def _entry(self, name: str) -> Path:
        return self.dir / name[:2] / name

    def _tag(self, kind: str, name: str, payload: bytes) -> bytes:
        """What authenticates a file: whose llmlint wrote it, for which version and format, as which kind of
        entry, under which name. A file copied to another name or from another kind does not verify."""
        mac = hashlib.blake2b(key=self._secret, digest_size=TAG_BYTES, person=b"llmlint-cache")
        mac.update(_encode(f"{__version__}\0{INDEX_FORMAT}\0{kind}\0{name}\0"))
        mac.update(payload)
        return mac.digest()

    def _load(self, kind: str, name: str, path: Path):
        """What `path` holds, or None when it is absent, corrupt or not written by this user's llmlint as `kind`
        `name` (it is rebuilt). The tag is checked before anything is unpickled."""
        try:
            fd = os.open(path, _READ_FLAGS)
        except (OSError, ValueError):
            return None
        try:
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                    return None  # a FIFO or device would hang or never end
                blob = handle.read(MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        head = len(MAGIC) + TAG_BYTES
        if len(blob) <= head or not blob.startswith(MAGIC):
            return None
        payload = memoryview(blob)[head:]
        if not hmac.compare_digest(blob[len(MAGIC):head], self._tag(kind, name, payload)):
            return None
        try:
            return pickle.loads(payload)
        except Exception:
            return None

    def _table(self, name: str) -> dict:
        data = self._load("table", name, self.dir / name)
        return data if type(data) is dict else {}

    def _save_table(self, name: str, value: dict) -> None:
        self._write("table", name, self.dir / name, _dumps(value))

    def _write(self, kind: str, name: str, target: Path, payload: bytes) -> None:
        """Store `payload` at `target`, atomically and never through a symlink; on any failure, store nothing (a
        read-only tree still gets checked, just without a cache)."""
        folder = target.parent
        if not self._prepare(folder):
            return
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")  # O_EXCL | O_NOFOLLOW: a new file, never a link
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(MAGIC)
                handle.write(self._tag(kind, name, payload))
                handle.write(payload)
            os.replace(tmp, target)  # replaces a symlink at `target` itself, never what it points to
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def _prepare(self, folder: Path) -> bool:
        """Whether `folder` and every cache folder above it are real folders (made if missing), never symlinks."""
        if folder in self._verified:
            return True
        top = self.dir.parent
        chain = [top, self.dir] + ([folder] if folder != self.dir else [])
        for path in chain:
            if path in self._verified:
                continue
            try:
                os.mkdir(path)
            except FileExistsError:
                pass
            except OSError:
                return False
            if not _is_real_folder(path):
                return False
            if path == top:
                _write_gitignore(top)
            self._verified.add(path)
        return True


def _write_gitignore(top: Path) -> None:
    """`.llmlint_cache/.gitignore` (`*`), unless something is there already: never written through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(top / ".gitignore", flags, 0o644)
    except OSError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"# Created by llmlint automatically.\n*\n")


def _dumps(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _is_fact(value) -> bool:
    """(Problem or None, digest or None, code key or None), with a problem or a digest (else the file would drop
    out of the analysis unnoticed)."""
    return (type(value) is tuple and len(value) == 3 and (value[0] is None or type(value[0]) is Problem)
            and all(v is None or type(v) is str for v in value[1:]) and (value[0] is not None or value[1] is not None))


def is_index_entry(entry) -> bool:
    """Whether `entry` has the shape of an index entry: (ModuleIndex or None, Problem or None, digest or None,
    code key or None), with an index or a problem, and a digest exactly when there is an index."""
    from llmlint.engine.moduleindex import ModuleIndex

    if not (type(entry) is tuple and len(entry) == 4):
        return False
    index, problem, digest, code = entry
    return ((index is None or type(index) is ModuleIndex) and (problem is None or type(problem) is Problem)
            and (index is not None or problem is not None)
            and (digest is None) == (index is None) and (digest is None or type(digest) is str)
            and (code is None or type(code) is str))


def clean(root: str) -> bool:
    """Remove the cache under `root`; True when there was one. A symlink there is removed, not what it points to."""
    target = Path(root) / CACHE_DIR
    if os.path.islink(target):
        try:
            target.unlink()
        except OSError:
            return False
        return True
    if target.is_dir():
        import shutil

        shutil.rmtree(target, ignore_errors=True)
        return True
    return False
