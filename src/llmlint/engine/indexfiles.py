"""The per-file phase: survey (stat, read what changed, pre-filter scan), then parse and index the files that
matter, from the cache or in a process pool. Everything here is per file and independent, so it runs on every core.

The cache keeps, besides each index (by content), a manifest of what the survey learnt about each path (size,
mtime, content key, pre-filter facts), so a run where nothing changed reads no file, and a digest of each index
without its comments, so that a change that leaves the code as it was does not invalidate the linked results."""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import time
from dataclasses import dataclass, field

from llmlint import __version__
from llmlint.engine import progress
from llmlint.engine.cache import Cache, cache_key, is_index_entry, open_cache
from llmlint.engine.notebook import (
    NotebookError,
    is_notebook,
    python_source,
    read_limit,
)
from llmlint.engine.redact import redact_comments
from llmlint.engine.source import (
    check_syntax,
    line_count,
    parse_and_index,
    python_tree,
    source_text,
)
from llmlint.engine.sourcelines import code_only, comment_lines
from llmlint.results.finding import Problem

IN_PROCESS_LIMIT = 24  # fewer files to parse than this: no pool (its start-up costs more than it saves)


@dataclass
class FileState:
    """What the survey knows about one discovered file."""

    file: object  # discovery.SourceFile
    key: str | None = None  # content key (None: unreadable)
    # prefilter.scan's (has markers of its own, what it may import, the names a package __init__ defines itself),
    # when this run scanned the file or needed the survey's record of it (`scans`)
    scanned: tuple | None = None
    scan_key: str | None = None  # a digest of `scanned`: what the survey records for the file, and the closure's key
    data: bytes | None = None  # its bytes, when read in this run
    previous: str | None = None  # the content key the last survey found at this path, when the file changed since
    previous_scan: str | None = None  # and the scan key it found then
    problem: Problem | None = None


@dataclass
class Indexed:
    """The outcome of the per-file phase."""

    states: list
    relevant: list  # FileStates worth linking, sorted by path
    problems: list
    digests: dict = field(default_factory=dict)  # path -> digest of the index without comments (None if skipped)
    fresh: dict = field(default_factory=dict)  # path -> ModuleIndex built or loaded in this run
    cache: Cache | None = None
    parsed: int = 0
    # path -> (content key, index digest) the last survey found, for each relevant file whose code changed since
    edited: dict = field(default_factory=dict)

    def load_all(self) -> list:
        """Every relevant file's index, from this run or from the cache (built again if gone from it)."""
        indexes = []
        for state in self.relevant:
            index = self.fresh.get(state.file.path)
            if index is None and self.cache is not None and self.digests.get(state.file.path) is not None:
                entry = cached_entry(self.cache, state.key)
                if entry is None or entry[0] is None:
                    entry = _index_one(_job(state.file, _read(state.file.path)))
                index = entry[0]
            if index is not None:
                index.path = state.file.path  # the cache is keyed by content: the same bytes may live elsewhere
                indexes.append(index)
        return indexes


def cached_entry(cache: Cache, key: str):
    """(index, problem, digest, code key) from the cache, or None when absent or not of this shape."""
    entry = cache.get(key)
    return entry if is_index_entry(entry) else None


def index_digest(index) -> str:
    """A digest of what an index says about the code, leaving out comments (suppressions are applied later) and
    the file's length (comment or blank lines added at its end change nothing)."""
    from llmlint.engine.moduleindex import (
        MODULE_SCOPE,  # (the index's modules load when an index is built or loaded)
    )

    module_fn = index.functions.get(MODULE_SCOPE)
    comments, index.comments = index.comments, {}
    line_count, index.line_count = index.line_count, 0
    span = module_fn.span if module_fn is not None else None
    if module_fn is not None:
        module_fn.span = None
    try:
        data = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        index.comments, index.line_count = comments, line_count
        if module_fn is not None:
            module_fn.span = span
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _index_one(job):
    """(index or None, problem or None, index digest, code key) of one file. Whatever goes wrong with one file,
    a bug of llmlint's included, is that file's Problem: the run goes on with the others."""
    path, display, module, is_package, data = job
    try:
        text, problem = source_text(data, display)
        if problem is not None:
            return None, problem, None, None
        index, problem = parse_and_index(text, path, display, module, is_package)
        if index is None:
            return None, problem, None, None
        code = code_only(text, index.comments)
        from llmlint.engine.incremental import referenced_names

        index.names = referenced_names(text if code is None else code)
        return index, problem, index_digest(index), code_key(code, module, is_package) if index.positions_from_ast else None
    except Exception as error:
        return None, internal_error(display, error), None, None


def internal_error(display: str, error: BaseException) -> Problem:
    return Problem(display, f"internal error: {type(error).__name__}: {error} (please report)")


def code_key(code: str | None, module: str, is_package: bool) -> str | None:
    """A key of the file's code without its comments (`sourcelines.code_only`): two versions with the same key have
    the same index but for comments and length (the index's positions come from the code alone)."""
    return None if code is None else cache_key(code.encode("utf-8", "surrogatepass"), module, is_package, salt="code")


def reindex_comments(state: FileState, facts: dict, cache: Cache):
    """The outcome for a changed file whose code is what it was at the last survey (only comments or blank lines at
    its end changed): the earlier index with the new comments, without parsing with libcst. None otherwise."""
    known = facts.get(state.previous) if state.previous else None
    if known is None or known[2] is None:
        return None
    f = state.file
    text, problem = source_text(state.data, f.display)
    tree = python_tree(text)[0] if problem is None else None
    if tree is None:
        return None
    comments = comment_lines(text, tree)
    if code_key(code_only(text, comments), f.module, f.is_package) != known[2]:
        return None
    entry = cached_entry(cache, state.previous)
    if entry is None or entry[0] is None:
        return None
    index = entry[0]
    index.path, index.comments, index.line_count = f.path, redact_comments(comments), line_count(text)
    from llmlint.engine.moduleindex import MODULE_SCOPE, Span

    index.functions[MODULE_SCOPE].span = Span(1, 1, index.line_count + 1, 1)
    return entry


def _index_chunk(jobs):
    """Index a chunk in a worker. Each outcome goes back pickled: the main process keeps the compact bytes while
    the pool runs (the workers' memory is at its highest then) and loads them only after the pool is gone."""
    results = [pickle.dumps(_index_one(job), protocol=pickle.HIGHEST_PROTOCOL) for job in jobs]
    gc.collect()  # workers are forked with the collector paused: free any cycle a chunk's trees left behind
    return results


def survey(files, cache: Cache | None, buffers: dict | None = None) -> list[FileState]:
    """Stat every file; read, hash and scan only those the manifest does not already describe. `buffers` holds
    the text of files given on standard input (an editor's unsaved buffer), by absolute path: those are taken as
    given and never recorded in the manifest, which describes the files on disk.

    The manifest keeps, per path, the stat key, the content key and a digest of what the pre-filter's scan found
    (the scan itself is kept apart, by that digest, in the cache's `scans` table, and read only when the closure
    has to be worked out again). The entries a run changes go to a second, small table (`manifest-changes`) that
    is folded into the manifest only once it holds many: an edit to one file does not rewrite the whole record."""
    manifest = cache.manifest() if cache else {}
    changes = cache.manifest_changes() if cache else {}
    buffers = buffers or {}
    # racy-git rule: a file modified (or its inode changed) within a second of the last survey may have changed
    # within one timestamp tick
    saved = max((stamp for stamp in (manifest.get("__saved__"), changes.get("__saved__")) if type(stamp) is int), default=None)
    trusted_before = saved - 1_000_000_000 if saved is not None else 0
    changed = False
    states = []
    for f in files:
        state = FileState(f)
        if f.path in buffers:
            try:
                _take_text(state, python_bytes(f.path, buffers[f.path]))
            except NotebookError as error:
                state.problem = Problem(f.display, error.reason)
            states.append(state)
            continue
        try:
            st = os.stat(f.path)
        except OSError as error:
            state.problem = Problem(f.display, f"cannot read file: {error.strerror or error}")
            states.append(state)
            continue
        # git's stat key: an edit that keeps size and mtime (restored with `touch -r`, or within one tick) still
        # changes the inode change time, or the inode when an editor writes a new file and renames it into place
        stat_key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, f.module, f.is_package)
        known = changes.get(f.path)
        if not _is_manifest_entry(known):
            known = manifest.get(f.path)
            if not _is_manifest_entry(known):
                known = None
        if known is not None and known[0] == stat_key and max(st.st_mtime_ns, st.st_ctime_ns) < trusted_before:
            _, state.key, state.scan_key = known
        else:
            if known is not None:
                state.previous, state.previous_scan = known[1], known[2]
            try:
                state.data = _read(f.path)
            except OSError as error:
                state.problem = Problem(f.display, f"cannot read file: {error.strerror or error}")
                states.append(state)
                continue
            except NotebookError as error:
                state.problem = Problem(f.display, error.reason)
                states.append(state)
                continue
            if not _take_text(state, state.data):
                states.append(state)
                continue
            changes[f.path] = (stat_key, state.key, state.scan_key)
            changed = True
        states.append(state)
    if cache is not None and changed:  # else the manifest holds as it is
        _save_manifest(cache, manifest, changes)
    return states


def _save_manifest(cache: Cache, manifest: dict, changes: dict) -> None:
    """Record `changes` (this run's entries and the ones not yet folded in): beside the manifest while they are few
    (an eighth of it, at most 256), else folded into it. Either way the record is stamped with the time now."""
    changes.pop("__saved__", None)
    now = time.time_ns()
    if len(changes) <= min(256, len(manifest) // 8):
        changes["__saved__"] = now
        cache.save_manifest_changes(changes)
        return
    manifest.update(changes)
    manifest["__saved__"] = now
    cache.save_manifest(manifest)
    cache.save_manifest_changes({})


def _take_text(state: FileState, data: bytes) -> bool:
    """Give `state` its text, content key and pre-filter facts; False when scanning it met a bug (the file is then
    skipped with that problem, and the run goes on)."""
    f = state.file
    state.data, state.key = data, cache_key(data, f.module, f.is_package)
    from llmlint.engine.prefilter import (
        scan,  # (the pre-filter and the index's modules load only when a file is read)
    )

    try:
        state.scanned = scan(data, f.module, f.is_package)
    except Exception as error:  # a bug of the pre-filter's
        state.problem, state.data = internal_error(f.display, error), None
        return False
    state.scan_key = scan_key(state.scanned)
    return True


def scan_key(scanned: tuple) -> str:
    """A digest of a file's pre-filter facts (prefilter.scan): equal facts, equal keys, whatever else the file holds."""
    return hashlib.blake2b(repr(scanned).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _is_manifest_entry(known) -> bool:
    """Whether a manifest entry has the shape the survey writes (anything else is ignored and the file read)."""
    return (type(known) is tuple and len(known) == 3 and type(known[0]) is tuple and type(known[1]) is str
            and type(known[2]) is str)


def _is_scan(scanned) -> bool:
    """Whether `scanned` has the shape of prefilter.scan's facts: (bool, tuple of str, tuple of str)."""
    return (type(scanned) is tuple and len(scanned) == 3 and type(scanned[0]) is bool
            and type(scanned[1]) is tuple and type(scanned[2]) is tuple
            and all(type(name) is str for name in scanned[1]) and all(type(name) is str for name in scanned[2]))


def index_files(files, cache_root: str | None, jobs: int = 0, prefilter: bool = True, buffers: dict | None = None) -> Indexed:
    """Survey `files` (discovery SourceFiles), then index the relevant ones that the cache does not hold."""
    cache = open_cache(cache_root) if cache_root else None
    progress.stage("reading", len(files))
    states = survey(files, cache, buffers)
    readable = [s for s in states if s.problem is None]
    if prefilter:
        keep = _closure(readable, cache)
        readable = [s for s in readable if s.problem is None]  # (a file read again for its facts may have failed)
        relevant = [s for s in readable if s.file.path in keep]
    else:
        relevant = list(readable)
    problems = [s.problem for s in states if s.problem is not None]
    result = Indexed(states, sorted(relevant, key=lambda s: s.file.path), problems, cache=cache)
    kept = set(id(s) for s in relevant)
    verdicts = cache.syntax() if cache else {}
    known_verdicts = len(verdicts)
    # files the pre-filter passed over are still named when they are not Python source
    problems.extend(_passed_over([s for s in readable if id(s) not in kept], verdicts, jobs))
    if cache is not None and len(verdicts) != known_verdicts:
        cache.save_syntax(verdicts)
    todo = []
    facts = cache.facts() if cache else {}
    known_facts = len(facts)
    for state in result.relevant:
        known = facts.get(state.previous) if state.previous else None
        if known is not None:
            result.edited[state.file.path] = (state.previous, known[1])
        if state.data is None and state.key in facts:  # unchanged: its index is loaded only if linking must rerun
            problem, result.digests[state.file.path], _ = facts[state.key]
            if problem is not None:
                problems.append(problem)
            continue
        entry = cached_entry(cache, state.key) if cache else None
        if entry is None and cache and state.previous:
            try:
                entry = reindex_comments(state, facts, cache)
            except Exception:  # the shortcut failed: the file is indexed in full, behind _index_one's boundary
                entry = None
            if entry is not None:
                cache.put(state.key, entry)
        if entry is not None:
            _take(result, facts, state, entry)
        else:
            todo.append(state)
    for state in todo:
        if state.data is None:  # described by the manifest, but its index is gone from the cache
            state.data = _read(state.file.path)
    jobs_list = [_job(s.file, s.data) for s in todo]
    progress.stage("parsing", len(jobs_list))
    for state in states:  # the bytes are in jobs_list now, or no longer needed
        state.data = None
    outcomes = _run(jobs_list, jobs)
    del jobs_list
    pooled = False
    for i, state in enumerate(todo):
        outcome, outcomes[i] = outcomes[i], None
        if isinstance(outcome, bytes):  # pickled by a worker: cached as it is
            pooled = True
            if cache:
                cache.put_pickled(state.key, outcome)
            outcome = pickle.loads(outcome)
        elif cache:
            cache.put(state.key, outcome)
        _take(result, facts, state, outcome)
    if pooled:
        _release_free_heap()
    if cache is not None and len(facts) != known_facts:
        cache.save_facts(facts)
    result.parsed = len(todo)
    progress.stage("linking and checking")
    return result


def _closure(readable: list, cache: Cache | None) -> set:
    """The paths of the files the pre-filter keeps. The closure depends only on what the survey found, so when that
    is what the last run found (a change that leaves every file's imports and markers alone), its answer is reused:
    it is keyed by each file's path, module and scan key, and the scans themselves are loaded only when it is not
    (nor is the pre-filter's module). It is reused too when the only scans that changed cannot change it
    (`_unchanged_closure`: a function added to a model-calling module)."""
    if cache is None:
        return {f.path for f in _relevant_closure([(s.file, *s.scanned) for s in readable])}
    key = _closure_key(readable)
    known = cache.closure()
    if known.get("key") == key:
        return set(known["paths"])
    paths = _unchanged_closure(readable, cache, known)
    if paths is not None:
        cache.save_closure({**known, "key": key})
        return paths
    entries = [(s.file, *s.scanned) for s in _with_scans(readable, cache)]
    paths = {f.path for f in _relevant_closure(entries)}
    from llmlint.engine.prefilter import called_free

    cache.save_closure({"key": key, "paths": sorted(paths), "called": sorted(called_free(entries))})
    return paths


def _closure_key(readable: list, earlier: dict | None = None) -> str:
    """A digest of what the closure depends on: each file's path, module and scan key (the one in `earlier`, by
    path, when given: the key of the survey before those files changed)."""
    earlier = earlier or {}
    digest = hashlib.blake2b(f"{__version__}\0".encode(), digest_size=16)
    digest.update("".join(f"{s.file.path}\0{s.file.module}\0{s.file.is_package:d}{earlier.get(s.file.path, s.scan_key)}\0"
                          for s in readable).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _unchanged_closure(readable: list, cache: Cache, known: dict) -> set | None:
    """The last closure's paths, when this survey differs from the one it was worked out for only in files (not
    packages) whose scan changed in a way that cannot change it (prefilter.same_closure); else None."""
    called = known.get("called")
    if type(called) is not list or not all(type(name) is str for name in called):
        return None
    changed = [s for s in readable if s.previous_scan is not None and s.previous_scan != s.scan_key]
    if not changed or any(s.file.is_package or s.scanned is None for s in changed):
        return None
    if _closure_key(readable, {s.file.path: s.previous_scan for s in changed}) != known["key"]:
        return None
    from llmlint.engine.prefilter import same_closure

    scans, called = cache.scans(), set(called)
    for state in changed:
        old = scans.get(state.previous_scan)
        if not _is_scan(old) or not same_closure(old, state.scanned, called):
            return None
    known_scans = len(scans)
    for state in changed:  # (the next edit is judged against these)
        scans.setdefault(state.scan_key, state.scanned)
    if len(scans) != known_scans:
        cache.save_scans(scans)
    return set(known["paths"])


def _relevant_closure(entries: list) -> set:
    from llmlint.engine.prefilter import relevant_closure

    return relevant_closure(entries)


def _with_scans(readable: list, cache: Cache) -> list:
    """`readable`, each with its pre-filter facts: from this run's scan, else from the cache's `scans` table by the
    survey's scan key, else (the table lost them) read and scanned again. Files that can no longer be read get
    their problem and are left out; new scans are added to the table."""
    scans = cache.scans()
    known = len(scans)
    for state in readable:
        if state.scanned is not None:
            scans.setdefault(state.scan_key, state.scanned)
            continue
        scanned = scans.get(state.scan_key)
        if _is_scan(scanned):
            state.scanned = scanned
            continue
        f = state.file
        try:
            if not _take_text(state, _read(f.path)):
                continue
        except OSError as error:
            state.problem = Problem(f.display, f"cannot read file: {error.strerror or error}")
            continue
        except NotebookError as error:
            state.problem = Problem(f.display, error.reason)
            continue
        state.data = None  # (the survey did not read it: its index is looked up as for an unchanged file)
        scans[state.scan_key] = state.scanned
    if len(scans) != known:
        cache.save_scans(scans)
    return [s for s in readable if s.problem is None]


def _passed_over(states: list, verdicts: dict, jobs: int) -> list:
    """Why each file the pre-filter passed over is not Python source (CPython's parser, no libcst, no index): the
    problems. A verdict is a fact of the file's content, kept by content key (`verdicts`, the cache's syntax table),
    so that a warm run does not parse the file again; the cold run's parses share the cores like indexing."""
    problems, todo, texts = [], [], []
    for state in states:
        if state.key in verdicts:
            continue
        try:
            data = state.data if state.data is not None else _read(state.file.path)
        except OSError as error:
            problems.append(Problem(state.file.display, f"cannot read file: {error.strerror or error}"))
            continue
        except NotebookError as error:
            problems.append(Problem(state.file.display, error.reason))
            continue
        todo.append(state)
        texts.append((state.file.display, data))
    for state, verdict in zip(todo, _map(_check_chunk, texts, [len(data) for _, data in texts], jobs)):
        verdicts[state.key] = verdict
    for state in states:
        known = verdicts.get(state.key)
        if known is not None:
            problems.append(Problem(state.file.display, known.reason))  # (the same bytes may sit at another path)
    return problems


def _check_chunk(texts) -> list:
    return [_checked_syntax(data, display) for display, data in texts]


def _checked_syntax(data: bytes, display: str):
    try:
        return check_syntax(data, display)
    except Exception as error:  # a bug met checking one file: that file's problem, the run goes on
        return internal_error(display, error)


def _take(result: Indexed, facts: dict, state: FileState, outcome: tuple) -> None:
    """Record one file's (index, problem, digest, code key), built in this run or loaded from the cache."""
    index, problem, digest, code = outcome
    facts[state.key] = (problem, digest, code)
    if index is not None:
        result.fresh[state.file.path] = index
    result.digests[state.file.path] = digest
    if problem is not None:
        result.problems.append(problem)


def _release_free_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc). The pickled outcomes and file bytes freed after a
    pool run leave holes in the heap that Python's object arenas (mapped separately) never reuse: about 140 MB of
    resident memory on a large project, for the rest of the run."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except Exception:  # not glibc (no malloc_trim), or no C library to load by that name (Windows)
        pass


def _job(f, data: bytes) -> tuple:
    return (f.path, f.display, f.module, f.is_package, data)


def _read(path: str) -> bytes:
    """The Python source of the file at `path` (read up to its size limit and one byte more): its bytes, or a
    notebook's code cells. Raises OSError, or NotebookError for a notebook that cannot be checked."""
    with open(path, "rb") as handle:
        return python_bytes(path, handle.read(read_limit(path)))


def python_bytes(path: str, data: bytes) -> bytes:
    """The Python source of a file whose bytes are `data`: those bytes, or a notebook's code cells (NotebookError)."""
    return python_source(data) if is_notebook(path) else data


def available_cores() -> int:
    """The CPUs this process may run on (its affinity mask or cgroup-aware count where the OS tells), at least 1."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        try:
            return len(os.sched_getaffinity(0)) or 1
        except OSError:
            pass
    return os.cpu_count() or 1


def worker_count(jobs: int) -> int:
    """The processes `-j jobs` asks for (0: one per core), never more than the cores available: more workers than
    cores only add memory and switching."""
    cores = available_cores()
    return min(jobs, cores) if jobs > 0 else cores


def _run(jobs_list, jobs: int) -> list:
    """Each job's (index, problem, digest), or those pickled when a pool built them."""
    return _map(_index_chunk, jobs_list, [len(job[4]) for job in jobs_list], jobs, in_process=_index_one)


def _map(chunk_function, items: list, sizes: list, jobs: int, in_process=None) -> list:
    """`chunk_function` over `items` in chunks (a list of results per chunk), in a process pool when there are
    enough items to repay its start-up, else here (one item at a time with `in_process` when given)."""
    workers = worker_count(jobs)
    if workers <= 1 or len(items) < IN_PROCESS_LIMIT:
        return [_counted(in_process, item) for item in items] if in_process else chunk_function(items)
    # biggest first so that one huge file does not finish last; chunks keep pickling overhead low
    order = sorted(range(len(items)), key=lambda i: -sizes[i])
    chunk = max(1, min(32, len(order) // (workers * 8) or 1))
    chunks = [order[i : i + chunk] for i in range(0, len(order), chunk)]
    results = [None] * len(items)
    from concurrent.futures import (
        ProcessPoolExecutor,  # (a warm run starts no pool: not imported then)
    )

    with ProcessPoolExecutor(max_workers=workers) as pool:
        for ids, out in zip(chunks, pool.map(chunk_function, [[items[i] for i in ids] for ids in chunks])):
            for i, result in zip(ids, out):
                results[i] = result
            progress.advance(len(ids))
    return results


def _counted(function, item):
    result = function(item)
    progress.advance()
    return result
