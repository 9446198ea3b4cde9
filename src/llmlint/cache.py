"""Per-file results cached by content: `.llmlint_cache/` at the project root, keyed by the file's bytes,
llmlint's version, the file's module name and the index format. Writes are atomic; unreadable entries are rebuilt."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
from pathlib import Path

from llmlint import __version__

CACHE_DIR = ".llmlint_cache"
INDEX_FORMAT = "14"


def cache_key(data: bytes, module: str, is_package: bool, salt: str = "") -> str:
    digest = hashlib.blake2b(digest_size=20)
    for part in (__version__, INDEX_FORMAT, module, str(is_package), salt):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


class Cache:
    def __init__(self, root: str):
        self.dir = Path(root) / CACHE_DIR / f"v{INDEX_FORMAT}"
        self._ready = False

    def _entry(self, key: str) -> Path:
        return self.dir / key[:2] / key

    def get(self, key: str):
        return self._load(self._entry(key))

    def put(self, key: str, value) -> None:
        self._write(self._entry(key), value)

    def put_pickled(self, key: str, data: bytes) -> None:
        """Store a value that is already pickled."""
        self._write(self._entry(key), data, pickled=True)

    def manifest(self) -> dict:
        """path -> ((size, mtime_ns, module, is_package), content key, marked, imports, defined names): the last
        survey's facts."""
        return self._table("manifest")

    def save_manifest(self, manifest: dict) -> None:
        self._write(self.dir / "manifest", manifest)

    def facts(self) -> dict:
        """content key -> (Problem or None, index digest or None, code key or None) of every file indexed so far:
        what a run needs to know about a file whose index it may never have to load."""
        return self._table("facts")

    def save_facts(self, facts: dict) -> None:
        self._write(self.dir / "facts", facts)

    def closure(self) -> dict:
        """{"key": digest of the survey's facts, "paths": the files the pre-filter kept for them}, from the last run."""
        return self._table("closure")

    def save_closure(self, closure: dict) -> None:
        self._write(self.dir / "closure", closure)

    def get_run(self, key: str):
        """The linked results of an earlier run over exactly the same code and configuration."""
        return self.get("run-" + key)

    def put_run(self, key: str, value) -> None:
        self.put("run-" + key, value)

    def _load(self, path: Path):
        """What `path` holds, or None when it is absent, corrupt or foreign (it is rebuilt)."""
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except Exception:
            return None

    def _table(self, name: str) -> dict:
        data = self._load(self.dir / name)
        return data if isinstance(data, dict) else {}

    def _write(self, target: Path, value, pickled: bool = False) -> None:
        try:
            self._prepare()
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                if pickled:
                    handle.write(value)
                else:
                    pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except OSError:
            pass  # a read-only tree still gets checked, just without a cache

    def _prepare(self) -> None:
        if self._ready:
            return
        top = self.dir.parent
        top.mkdir(parents=True, exist_ok=True)
        ignore = top / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Created by llmlint automatically.\n*\n", encoding="utf-8")
        self._ready = True


def clean(root: str) -> bool:
    """Remove the cache under `root`; True when there was one."""
    target = Path(root) / CACHE_DIR
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
        return True
    return False
