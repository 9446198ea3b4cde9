"""The per-file phase: read, pre-filter, then parse and index the files that matter, from the cache or in a
process pool. Everything here is per file and independent, so it runs on every core."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from llmlint.cache import Cache, cache_key
from llmlint.finding import Problem
from llmlint.prefilter import select_relevant
from llmlint.source import MAX_BYTES, decode_source, parse_and_index

IN_PROCESS_LIMIT = 24  # fewer files to parse than this: no pool (its start-up costs more than it saves)


def _read(path: str):
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError:
        return None


def _index_one(job):
    path, display, module, is_package, data = job
    if len(data) > MAX_BYTES:
        return None, Problem(display, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if b"\x00" in data:
        return None, Problem(display, "binary file (contains NUL bytes)")
    text, problem = decode_source(data, display)
    if problem is not None:
        return None, problem
    return parse_and_index(text, path, display, module, is_package)


def _index_chunk(jobs):
    return [_index_one(job) for job in jobs]


def index_files(files, cache_root: str | None, jobs: int = 0, prefilter: bool = True):
    """Index `files` (discovery SourceFiles). Returns (indexes, problems, parsed_count)."""
    data = {f: _read(f.path) for f in files}
    problems = []
    for f, content in data.items():
        if content is None:
            problems.append(Problem(f.display, "cannot read file"))
    readable = [f for f in files if data[f] is not None]
    relevant = select_relevant(readable, data.get) if prefilter else set(readable)
    for f in readable:
        if f not in relevant and (b"\x00" in data[f] or len(data[f]) > MAX_BYTES):
            problems.append(_index_one((f.path, f.display, f.module, f.is_package, data[f]))[1])
    cache = Cache(cache_root) if cache_root else None
    results, todo = {}, []
    for f in sorted(relevant, key=lambda f: f.path):
        key = cache_key(data[f], f.module, f.is_package)
        cached = cache.get(key) if cache else None
        if cached is not None:
            results[f] = cached
        else:
            todo.append((f, key))
    jobs_list = [(f.path, f.display, f.module, f.is_package, data[f]) for f, _ in todo]
    for (f, key), result in zip(todo, _run(jobs_list, jobs)):
        results[f] = result
        if cache:
            cache.put(key, result)
    indexes = []
    for f in sorted(results, key=lambda f: f.path):
        index, problem = results[f]
        if problem is not None:
            problems.append(problem)
        if index is not None:
            index.path = f.path  # the cache is keyed by content: the same bytes may live elsewhere
            indexes.append(index)
    return indexes, problems, len(todo)


def _run(jobs_list, jobs: int):
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or len(jobs_list) < IN_PROCESS_LIMIT:
        return [_index_one(job) for job in jobs_list]
    # biggest files first so that one huge file does not finish last; chunks keep pickling overhead low
    order = sorted(range(len(jobs_list)), key=lambda i: -len(jobs_list[i][4]))
    chunk = max(1, min(32, len(order) // (workers * 8) or 1))
    chunks = [order[i : i + chunk] for i in range(0, len(order), chunk)]
    results = [None] * len(jobs_list)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for ids, out in zip(chunks, pool.map(_index_chunk, [[jobs_list[i] for i in ids] for ids in chunks])):
            for i, result in zip(ids, out):
                results[i] = result
    return results
