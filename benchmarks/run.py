#!/usr/bin/env python3
"""Benchmark harness for llmlint against ruff and bandit.

Run from anywhere:  python benchmarks/run.py [--quick] [--smoke] ...

Full mode creates benchmarks/.work/venv (llmlint from this checkout plus
pinned ruff and bandit), builds two corpora under benchmarks/.work/corpora
(reused when already built), measures every tool/mode several times and
writes benchmarks/RESULTS.md.  --smoke is a network-free self-check for CI.
Standard library only.  See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import venv
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "benchmarks"
WORK_DIR = BENCH_DIR / ".work"
VENV_DIR = WORK_DIR / "venv"
CORPORA_DIR = WORK_DIR / "corpora"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
FAILED_RESULTS_MD = WORK_DIR / "RESULTS-failed.md"
RAW_RESULTS_JSON = WORK_DIR / "last-results.json"

RUFF_VERSION = "0.17.6"
BANDIT_VERSION = "1.9.4"
LLM_PACKAGES = {
    "langchain-community": "0.4.2",
    "llama-index-core": "0.14.25",
    "openai": "3.57.0",
    "anthropic": "2.14.0",
    "litellm": "1.110.2",
}
# Bump to force corpora to be rebuilt when the build recipe changes.
CORPUS_FORMAT = 1
MANIFEST_NAME = ".bench-corpus.json"

CACHE_DIR_NAME = ".llmlint_cache"
# a file llmlint analyses (it calls the openai SDK); the SDK's own sources are not analysed, so touching one of
# them would measure nothing
TOUCH_PREFERRED = ("langchain_community/llms/openai.py",)
TOUCH_NEEDLE = "chat.completions.create"
TOUCH_FALLBACK = "json/decoder.py"
TOUCH_MARKER = "# llmlint-bench touch"

STDLIB_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}
SMOKE_STDLIB_FILES = ("json/decoder.py", "textwrap.py", "shlex.py", "fnmatch.py", "string.py")
SMOKE_FILE_COUNT = 5

# Targets (see RESULTS.md).
TARGET_COLD_VS_BANDIT = 1.0
TARGET_COLD_STDLIB_VS_RUFF = 3.0
TARGET_WARM_VS_RUFF = 1.0
TARGET_ONE_FILE_SECONDS = 0.5  # a comment edited in one file (issue 12)
TARGET_CODE_CHANGE_SECONDS = 2.0  # a function added to one file (issue 12)
TARGET_NAMED_FILE_SECONDS = 1.0  # `llmlint one_file.py` inside the warm corpus (issue 12)
TARGET_RSS_MB = 1024.0

LLMLINT_MODES = ("cold", "warm", "one file changed", "one file's code changed", "one file named")
MARKER_PYPROJECT = (
    "# Written by benchmarks/run.py: makes this corpus its own project root so\n"
    "# no tool picks up the llmlint repository's configuration.\n"
    "[tool.llmlint]\n"
)


# --------------------------------------------------------------------------
# Data


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    maxrss_mb: float  # largest single process (wait4 ru_maxrss)
    tree_mb: float | None  # sampled peak of the summed process tree (PSS)
    returncode: int
    timed_out: bool = False
    stderr_tail: str = ""


@dataclass
class Measurement:
    tool: str
    mode: str
    runs: list[Run] = field(default_factory=list)
    skipped: str | None = None
    crashed: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.runs) and not self.skipped and not self.crashed

    def seconds(self) -> list[float]:
        return [r.seconds for r in self.runs]

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds()) if self.ok else None

    @property
    def peak_mb(self) -> float | None:
        """Largest of single-process peak and sampled tree peak over all runs."""
        if not self.ok:
            return None
        return max(max(r.maxrss_mb, r.tree_mb or 0.0) for r in self.runs)


@dataclass
class CorpusResult:
    name: str
    title: str
    path: str
    files: int
    lines: int
    touch_file: str | None
    measurements: list[Measurement]

    def get(self, tool: str, mode: str) -> Measurement | None:
        for m in self.measurements:
            if m.tool == tool and m.mode == mode:
                return m
        return None


@dataclass
class Tools:
    llmlint: list[str]
    ruff: list[str] | None
    bandit: list[str] | None
    versions: dict[str, str]


# --------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3, help="measured runs per tool/mode (median reported; default 3)")
    p.add_argument("--quick", action="store_true", help="1 repeat; bandit only on the LLM-heavy corpus")
    p.add_argument("--skip-bandit", action="store_true", help="do not run bandit")
    p.add_argument("--smoke", action="store_true",
                   help="CI self-check: tiny corpus, 1 repeat, no venv/network, current interpreter's llmlint")
    p.add_argument("--llmlint", metavar="CMD",
                   help="command replacing `llmlint` (it is called as: CMD check PATH ...); "
                        "default: the benchmark venv's llmlint, or `python -m llmlint` with --smoke")
    p.add_argument("--corpus", choices=("llm", "stdlib", "both"), default="both")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="llmlint --jobs (default: core count)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds before a single run is killed")
    p.add_argument("--output", type=Path,
                   help="results file (default benchmarks/RESULTS.md; a temp file with --smoke)")
    p.add_argument("--rebuild-corpora", action="store_true", help="rebuild corpora even if present")
    args = p.parse_args(argv)
    if args.quick or args.smoke:
        args.repeat = 1
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    return args


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run_setup_command(cmd: list[str], **kw) -> None:
    """Run a setup (non-measured) command, failing loudly."""
    log("$ " + shlex.join(cmd))
    subprocess.run(cmd, check=True, **kw)


# --------------------------------------------------------------------------
# Environment: venv and tool commands


def venv_bin(name: str) -> Path:
    return VENV_DIR / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_venv() -> Path:
    """Create benchmarks/.work/venv if missing; return its python."""
    python = venv_bin("python")
    if not python.exists():
        log(f"creating venv {VENV_DIR}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
    return python


def install_tools(python: Path) -> None:
    """Install the pinned ruff and bandit into the benchmark venv."""
    run_setup_command([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                       f"ruff=={RUFF_VERSION}", f"bandit=={BANDIT_VERSION}"])


def install_llmlint(python: Path) -> None:
    """Install llmlint from this checkout, replacing any earlier install."""
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run_setup_command(pip + [str(REPO_ROOT)])
    # The sources change between runs while the version number does not:
    # make sure the installed copy is the current checkout.
    run_setup_command(pip + ["--no-deps", "--force-reinstall", str(REPO_ROOT)])


def find_executable(name: str) -> str | None:
    """Find NAME next to the current interpreter or on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def command_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd + ["--version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc.__class__.__name__})"
    text = (out.stdout or out.stderr).strip()
    if out.returncode != 0 or not text:
        return f"unknown (--version exited {out.returncode})"
    return text.splitlines()[0].strip()


def llmlint_version(cmd: list[str]) -> str:
    version = command_version(cmd)
    rev = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True)
    if rev.returncode == 0:
        version += f" (checkout {rev.stdout.strip()}{'+dirty' if dirty.stdout.strip() else ''})"
    return version


def resolve_tools(args: argparse.Namespace) -> Tools:
    """Decide the commands to benchmark; install them unless in smoke mode."""
    if args.smoke:
        llmlint = shlex.split(args.llmlint) if args.llmlint else [sys.executable, "-m", "llmlint"]
        ruff_exe, bandit_exe = find_executable("ruff"), find_executable("bandit")
        ruff = [ruff_exe] if ruff_exe else None
        bandit = [bandit_exe] if bandit_exe and not args.skip_bandit else None
    else:
        python = ensure_venv()
        install_tools(python)
        if not args.llmlint:
            install_llmlint(python)
        llmlint = shlex.split(args.llmlint) if args.llmlint else [str(venv_bin("llmlint"))]
        ruff = [str(venv_bin("ruff"))]
        bandit = None if args.skip_bandit else [str(venv_bin("bandit"))]
    versions = {"llmlint": llmlint_version(llmlint)}
    versions["ruff"] = command_version(ruff) if ruff else "not installed (skipped)"
    versions["bandit"] = command_version(bandit) if bandit else "skipped"
    return Tools(llmlint=llmlint, ruff=ruff, bandit=bandit, versions=versions)


# --------------------------------------------------------------------------
# Corpora


def read_manifest(path: Path) -> dict | None:
    try:
        return json.loads((path / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None


def finish_corpus(tmp: Path, dest: Path, spec: dict) -> Path:
    """Mark TMP as its own project, record its spec and move it to DEST."""
    (tmp / "pyproject.toml").write_text(MARKER_PYPROJECT)
    (tmp / MANIFEST_NAME).write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest


def ensure_corpus(name: str, spec: dict, builder, rebuild: bool) -> Path:
    """Return corpus NAME, building it with BUILDER(tmp_dir) unless already built to SPEC."""
    dest = CORPORA_DIR / name
    if not rebuild and read_manifest(dest) == spec:
        log(f"reusing corpus {dest}")
        return dest
    tmp = CORPORA_DIR / f"{name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    log(f"building corpus {name} in {dest}")
    builder(tmp)
    return finish_corpus(tmp, dest, spec)


def llm_corpus_spec() -> dict:
    return {"format": CORPUS_FORMAT, "kind": "llm-heavy", "packages": LLM_PACKAGES,
            "python": platform.python_version()}


def build_llm_corpus(dest: Path, python: Path) -> None:
    """pip-install the pinned LLM packages' sources (no dependencies) into DEST."""
    pins = [f"{name}=={version}" for name, version in LLM_PACKAGES.items()]
    run_setup_command([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                       "--no-deps", "--no-compile", "--target", str(dest)] + pins)
    shutil.rmtree(dest / "bin", ignore_errors=True)


def stdlib_corpus_spec() -> dict:
    return {"format": CORPUS_FORMAT, "kind": "stdlib", "python": sys.version,
            "source": sysconfig.get_paths()["stdlib"]}


def stdlib_ignore(directory: str, names: list[str]) -> set[str]:
    """copytree filter: keep .py files, drop test directories and site-packages."""
    ignored = set()
    for name in names:
        full = os.path.join(directory, name)
        if os.path.isdir(full):
            if name in STDLIB_SKIP_DIRS:
                ignored.add(name)
        elif not name.endswith(".py"):
            ignored.add(name)
    return ignored


def build_stdlib_corpus(dest: Path) -> None:
    source = sysconfig.get_paths()["stdlib"]
    shutil.copytree(source, dest, ignore=stdlib_ignore, symlinks=False)


def build_smoke_corpus(dest: Path) -> Path:
    """Copy a handful of fixture (or stdlib) Python files into DEST."""
    dest.mkdir(parents=True, exist_ok=True)
    fixtures = sorted((REPO_ROOT / "fixtures").rglob("*.py"))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sources = fixtures[:SMOKE_FILE_COUNT]
    for rel in SMOKE_STDLIB_FILES:
        if len(sources) >= SMOKE_FILE_COUNT:
            break
        if (stdlib / rel).exists():
            sources.append(stdlib / rel)
    for i, src in enumerate(sources):
        shutil.copyfile(src, dest / f"m{i}_{src.name}")
    (dest / "pyproject.toml").write_text(MARKER_PYPROJECT)
    return dest


def iter_python_files(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", CACHE_DIR_NAME))
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield Path(dirpath) / name


def count_corpus(root: Path) -> tuple[int, int]:
    """Number of .py files and lines (this also warms the page cache)."""
    files = lines = 0
    for path in iter_python_files(root):
        data = path.read_bytes()
        files += 1
        lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return files, lines


# --------------------------------------------------------------------------
# llmlint cache and the one-file edit


def clear_llmlint_cache(root: Path) -> int:
    """Delete every .llmlint_cache directory under ROOT; return how many."""
    found = [Path(d) / CACHE_DIR_NAME for d, dirs, _ in os.walk(root) if CACHE_DIR_NAME in dirs]
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return len(found)


def has_llmlint_cache(root: Path) -> bool:
    return any(CACHE_DIR_NAME in dirs for _, dirs, _ in os.walk(root))


def find_touch_file(root: Path) -> Path | None:
    """A model-calling file to edit: a preferred path, else the first file calling the API."""
    for rel in TOUCH_PREFERRED:
        if (root / rel).is_file():
            return root / rel
    for path in iter_python_files(root):
        try:
            if TOUCH_NEEDLE in path.read_text(encoding="utf-8", errors="replace"):
                return path
        except OSError:
            continue
    if (root / TOUCH_FALLBACK).is_file():
        return root / TOUCH_FALLBACK
    return next(iter_python_files(root), None)


def appended_comment(path: Path, serial: int):
    """Append a unique comment line to PATH for the duration of the block: the code stays as it was."""
    return appended(path, f"{TOUCH_MARKER} {serial} {time.time_ns()}\n")


def appended_function(path: Path, serial: int):
    """Append a small new function to PATH for the duration of the block: a change to code, not comments."""
    return appended(path, f"\n\ndef _llmlint_bench_probe_{serial}_{time.time_ns()}():\n    return {serial}\n")


@contextlib.contextmanager
def appended(path: Path, text: str):
    original = path.read_bytes()
    sep = b"" if original.endswith(b"\n") or not original else b"\n"
    path.write_bytes(original + sep + text.encode())
    try:
        yield
    finally:
        path.write_bytes(original)


# --------------------------------------------------------------------------
# Measuring one child process


def _children(pid: int) -> list[int]:
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
    except (OSError, ValueError):
        pass
    return kids


def _process_memory_kb(pid: int) -> int:
    """Proportional set size (falls back to RSS) of one process in KB."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError, IndexError):
        return 0


class TreeMemorySampler(threading.Thread):
    """Samples the summed memory of a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.available = os.path.exists(f"/proc/{pid}/task")
        self.peak_kb = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        stack, total = [self.pid], 0
        while stack:
            pid = stack.pop()
            total += _process_memory_kb(pid)
            stack.extend(_children(pid))
        self.peak_kb = max(self.peak_kb, total)

    def run(self) -> None:
        while self.available and not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def measure(cmd: list[str], cwd: Path, timeout: float) -> Run:
    """Run CMD once; return wall time, CPU time and peak memory of the child."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
        sampler = TreeMemorySampler(proc.pid)
        sampler.start()
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            _kill_group(proc.pid)

        timer = threading.Timer(timeout, on_timeout)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            elapsed = time.perf_counter() - start
            timer.cancel()
            sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        _kill_group(proc.pid)  # stray workers of the child, if any
        err.seek(0)
        tail = err.read()[-4000:].decode("utf-8", "replace")
    return Run(
        seconds=elapsed,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        maxrss_mb=usage.ru_maxrss / 1024,  # KB on Linux
        tree_mb=sampler.peak_kb / 1024 if sampler.available else None,
        returncode=proc.returncode,
        timed_out=timed_out.is_set(),
        stderr_tail=tail,
    )


def llmlint_crash(run: Run, output: Path) -> str | None:
    """Why an llmlint run counts as crashed, or None.

    Crashed: killed by the timeout, an exit code other than 0/1, a Python
    traceback on stderr, or no --output file (e.g. `No module named llmlint`).
    """
    if run.timed_out:
        return "timed out"
    if run.returncode not in (0, 1):
        return f"exit code {run.returncode}"
    if "Traceback (most recent call last)" in run.stderr_tail:
        return f"traceback (exit code {run.returncode})"
    if not output.exists():
        return f"no --output file written (exit code {run.returncode})"
    return None


def measure_repeated(tool: str, mode: str, make_cmd, cwd: Path, args: argparse.Namespace,
                     crash_check=None, around=None) -> Measurement:
    """Measure make_cmd(i) args.repeat times; AROUND(i) is an optional context manager per run."""
    result = Measurement(tool, mode)
    for i in range(args.repeat):
        ctx = around(i) if around else contextlib.nullcontext()
        with ctx:
            run = measure(make_cmd(i), cwd, args.timeout)
        log(f"  {tool} {mode} #{i + 1}: {run.seconds:.2f} s, {run.maxrss_mb:.0f} MB, exit {run.returncode}")
        result.runs.append(run)
        problem = crash_check(run) if crash_check else ("timed out" if run.timed_out else None)
        if problem:
            result.crashed = problem
            log(f"  {tool} {mode} FAILED ({problem}); stderr tail:\n{run.stderr_tail}")
            break
    return result


# --------------------------------------------------------------------------
# Tool invocations


def reported_findings(output: Path) -> list:
    """(rule, path, line, column, message) of each finding in a JSON report; [] when there is none to read."""
    try:
        findings = json.loads(output.read_text(encoding="utf-8"))["findings"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return sorted(json.dumps(f, sort_keys=True) for f in findings)


def llmlint_command(tools: Tools, corpus: Path, output: Path, use_cache: bool, jobs: int) -> list[str]:
    cmd = tools.llmlint + ["check", str(corpus)]
    if not use_cache:
        cmd.append("--no-cache")
    return cmd + ["--exit-zero", "-q", "--format", "json", "--output", str(output), "--jobs", str(jobs)]


def ruff_command(tools: Tools, corpus: Path) -> list[str]:
    return tools.ruff + ["check", "--isolated", "--no-cache", "--exit-zero", str(corpus)]


def bandit_command(tools: Tools, corpus: Path) -> list[str]:
    return tools.bandit + ["-r", "-q", str(corpus)]


def benchmark_llmlint(tools: Tools, corpus: Path, touch: Path | None, args, scratch: Path) -> list[Measurement]:
    """Cold, warm and one-file-changed llmlint measurements on CORPUS."""
    out = scratch / "llmlint-output.json"

    def command(use_cache: bool, target: Path = corpus) -> list[str]:
        out.unlink(missing_ok=True)  # so a run that writes nothing is noticed
        return llmlint_command(tools, target, out, use_cache, args.jobs)

    def check(run: Run) -> str | None:
        return llmlint_crash(run, out)

    clear_llmlint_cache(corpus)
    cold = measure_repeated("llmlint", "cold", lambda i: command(False), corpus, args, check)
    if cold.crashed:
        return [cold] + [Measurement("llmlint", m, skipped="cold run failed") for m in LLMLINT_MODES[1:]]
    if has_llmlint_cache(corpus):
        cold.note = f"{CACHE_DIR_NAME} written despite --no-cache"

    clear_llmlint_cache(corpus)
    log("  llmlint warm-up run (fills the cache, not measured)")
    setup = measure(command(True), corpus, args.timeout)
    problem = check(setup)
    if problem:
        log(f"  llmlint warm-up FAILED ({problem}); stderr tail:\n{setup.stderr_tail}")
        return [cold, Measurement("llmlint", "warm", runs=[setup], crashed=f"cache-filling run: {problem}")] + [
            Measurement("llmlint", m, skipped="warm-up failed") for m in LLMLINT_MODES[2:]]
    cached = has_llmlint_cache(corpus)
    warm = measure_repeated("llmlint", "warm", lambda i: command(True), corpus, args, check)
    expected = reported_findings(out)

    def same_findings(run: Run) -> str | None:
        """The appended function is never called: the edited corpus has the findings it had (incremental.py must
        give what a cold run gives)."""
        problem = check(run)
        if problem is None and reported_findings(out) != expected:
            problem = "findings differ from the unedited corpus's"
        return problem
    if not cached:
        warm.note = f"no {CACHE_DIR_NAME} directory appeared under the corpus"

    if touch is None:
        changed = Measurement("llmlint", "one file changed", skipped="no file to edit")
        recoded = Measurement("llmlint", "one file's code changed", skipped="no file to edit")
        named = Measurement("llmlint", "one file named", skipped="no file to edit")
    else:
        changed = measure_repeated("llmlint", "one file changed", lambda i: command(True), corpus, args, check,
                                   around=lambda i: appended_comment(touch, i))
        recoded = measure_repeated("llmlint", "one file's code changed", lambda i: command(True), corpus, args,
                                   same_findings,
                                   around=lambda i: appended_function(touch, i))
        named = measure_repeated("llmlint", "one file named", lambda i: command(True, touch), corpus, args, check)
    clear_llmlint_cache(corpus)
    return [cold, warm, changed, recoded, named]


def benchmark_ruff(tools: Tools, corpus: Path, args) -> Measurement:
    if not tools.ruff:
        return Measurement("ruff", "cold", skipped="ruff not installed")
    return measure_repeated("ruff", "cold", lambda i: ruff_command(tools, corpus), corpus, args,
                            crash_check=lambda r: "timed out" if r.timed_out else
                            (f"exit code {r.returncode}" if r.returncode != 0 else None))


def benchmark_bandit(tools: Tools, corpus: Path, args, wanted: bool) -> Measurement:
    if not tools.bandit:
        return Measurement("bandit", "cold", skipped="bandit skipped")
    if not wanted:
        return Measurement("bandit", "cold", skipped="skipped in --quick mode")
    # bandit exits 1 when it finds issues; only a timeout counts as failure.
    return measure_repeated("bandit", "cold", lambda i: bandit_command(tools, corpus), corpus, args)


def benchmark_corpus(name: str, title: str, corpus: Path, tools: Tools, args, bandit_wanted: bool) -> CorpusResult:
    log(f"corpus {title}: {corpus}")
    files, lines = count_corpus(corpus)
    log(f"  {files} files, {lines} lines")
    touch = find_touch_file(corpus)
    with tempfile.TemporaryDirectory(prefix="llmlint-bench-") as scratch:
        measurements = [benchmark_ruff(tools, corpus, args),
                        benchmark_bandit(tools, corpus, args, bandit_wanted)]
        measurements += benchmark_llmlint(tools, corpus, touch, args, Path(scratch))
    return CorpusResult(name, title, str(corpus), files, lines,
                        str(touch.relative_to(corpus)) if touch else None, measurements)


# --------------------------------------------------------------------------
# Ratios, targets and the report


def ratio(a: Measurement | None, b: Measurement | None) -> float | None:
    if a is None or b is None or a.median is None or b.median is None or b.median == 0:
        return None
    return a.median / b.median


def corpus_ratios(c: CorpusResult) -> list[tuple[str, float | None, str]]:
    cold, warm, touch, recoded, named = (c.get("llmlint", m) for m in LLMLINT_MODES)
    ruff, bandit = c.get("ruff", "cold"), c.get("bandit", "cold")
    return [
        ("llmlint cold / bandit", ratio(cold, bandit), "x"),
        ("llmlint cold / ruff", ratio(cold, ruff), "x"),
        ("llmlint warm / ruff cold", ratio(warm, ruff), "x"),
        ("llmlint one file changed (comment)", touch.median if touch else None, "s"),
        ("llmlint one file's code changed (function added)", recoded.median if recoded else None, "s"),
        ("llmlint one file named (warm)", named.median if named else None, "s"),
    ]


def verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "n/a (not measured)"
    return "PASS" if value <= limit else "FAIL"


def evaluate_targets(results: dict[str, CorpusResult]) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/FAIL/n/a) rows."""
    llm, std = results.get("llm"), results.get("stdlib")

    def get(c, tool, mode="cold"):
        return c.get(tool, mode) if c else None

    def fmt(v, unit):
        return "-" if v is None else f"{v:.2f}{unit}"

    rows = []
    v = ratio(get(llm, "llmlint"), get(llm, "bandit"))
    rows.append((f"cold LLM-heavy llmlint <= {TARGET_COLD_VS_BANDIT}x bandit", fmt(v, "x"),
                 verdict(v, TARGET_COLD_VS_BANDIT)))
    v = ratio(get(std, "llmlint"), get(std, "ruff"))
    rows.append((f"cold stdlib llmlint <= {TARGET_COLD_STDLIB_VS_RUFF}x ruff", fmt(v, "x"),
                 verdict(v, TARGET_COLD_STDLIB_VS_RUFF)))
    v = ratio(get(llm, "llmlint", "warm"), get(llm, "ruff"))
    rows.append((f"warm LLM-heavy llmlint <= {TARGET_WARM_VS_RUFF}x ruff cold", fmt(v, "x"),
                 verdict(v, TARGET_WARM_VS_RUFF)))
    m = get(llm, "llmlint", "one file changed")
    v = m.median if m else None
    rows.append((f"LLM-heavy one file changed (comment) <= {TARGET_ONE_FILE_SECONDS} s", fmt(v, " s"),
                 verdict(v, TARGET_ONE_FILE_SECONDS)))
    m = get(llm, "llmlint", "one file's code changed")
    v = m.median if m else None
    rows.append((f"LLM-heavy one file's code changed (function added) <= {TARGET_CODE_CHANGE_SECONDS} s",
                 fmt(v, " s"), verdict(v, TARGET_CODE_CHANGE_SECONDS)))
    m = get(llm, "llmlint", "one file named")
    v = m.median if m else None
    rows.append((f"LLM-heavy `llmlint one_file.py`, warm <= {TARGET_NAMED_FILE_SECONDS} s", fmt(v, " s"),
                 verdict(v, TARGET_NAMED_FILE_SECONDS)))
    peaks = [get(llm, "llmlint", mode).peak_mb for mode in LLMLINT_MODES if get(llm, "llmlint", mode)]
    peaks = [p for p in peaks if p is not None]
    v = max(peaks) if peaks else None
    rows.append((f"peak memory LLM-heavy llmlint <= {TARGET_RSS_MB:.0f} MB", fmt(v, " MB"),
                 verdict(v, TARGET_RSS_MB)))
    return rows


def measurement_row(m: Measurement) -> str:
    label = f"{m.tool} {m.mode}"
    if m.skipped:
        return f"| {label} | skipped: {m.skipped} | | | | | | |"
    if m.crashed:
        return f"| {label} | **FAILED: {m.crashed}** | | | | | | |"
    secs = m.seconds()
    cpu = statistics.median(r.cpu_seconds for r in m.runs)
    rss = max(r.maxrss_mb for r in m.runs)
    trees = [r.tree_mb for r in m.runs if r.tree_mb is not None]
    tree = f"{max(trees):.0f}" if trees else "-"
    note = f" ({m.note})" if m.note else ""
    return (f"| {label}{note} | {statistics.median(secs):.2f} | {min(secs):.2f} | {max(secs):.2f} "
            f"| {cpu:.2f} | {rss:.0f} | {tree} | {len(secs)} |")


def render_corpus(c: CorpusResult) -> list[str]:
    lines = [f"## {c.title} corpus: {c.files} files, {c.lines} lines", "",
             "| tool / mode | median s | min s | max s | CPU s (median) | peak RSS MB | tree peak MB | runs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [measurement_row(m) for m in c.measurements]
    lines += ["", f"One-file edits of `{c.touch_file}`: a comment line appended (one file changed), or a small"
              " function appended (one file's code changed).", "",
              "| ratio | value |", "|---|---:|"]
    for label, value, unit in corpus_ratios(c):
        lines.append(f"| {label} | {'-' if value is None else f'{value:.2f}{unit}'} |")
    return lines + [""]


def render_report(results: dict[str, CorpusResult], tools: Tools, args, started: datetime.datetime) -> str:
    lines = ["# llmlint benchmark results", "",
             f"Generated by `python benchmarks/run.py{' ' + shlex.join(sys.argv[1:]) if sys.argv[1:] else ''}`"
             f" on {started:%Y-%m-%d %H:%M} UTC.", "",
             f"- cores (os.cpu_count()): {os.cpu_count()}; llmlint --jobs {args.jobs}",
             f"- Python {platform.python_version()} ({platform.python_implementation()}, {platform.platform()})",
             f"- repeats per measurement: {args.repeat} (median, min, max of wall seconds)"]
    lines += [f"- {name}: {version}" for name, version in tools.versions.items()]
    if "llm" in results:
        lines.append("- LLM-heavy corpus packages: " + ", ".join(f"{k}=={v}" for k, v in LLM_PACKAGES.items()))
    lines.append("")
    if not args.smoke:
        lines += ["## Targets", "", "| target | measured | result |", "|---|---:|---|"]
        lines += [f"| {t} | {m} | {r} |" for t, m, r in evaluate_targets(results)]
        lines.append("")
    for c in results.values():
        lines += render_corpus(c)
    lines += [
        "Peak RSS is `ru_maxrss` of the child from `wait4` (largest single process, including waited-for",
        "workers). Tree peak is the sum of PSS over the child's process tree sampled every 0.1 s (Linux only).",
        "The memory target uses the larger of the two. Warm: one unmeasured run fills the cache, then nothing",
        "changes. One file changed: warm cache, then a comment line is appended to one file before each run.",
        "One file's code changed: the same, with a new function appended instead; nothing calls it, so the",
        "findings must be the unedited corpus's (checked on every run) and the last run's linked results stand",
        "(incremental.py). One file named: `llmlint check <that file>` on the warm cache, judged within its project.",
        ""]
    return "\n".join(lines)


def write_raw_results(results: dict[str, CorpusResult], tools: Tools, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"tools": asdict(tools), "corpora": {k: asdict(v) for k, v in results.items()}}
    path.write_text(json.dumps(payload, indent=2) + "\n")


def llmlint_crashed(results: dict[str, CorpusResult]) -> bool:
    return any(m.tool == "llmlint" and m.crashed for c in results.values() for m in c.measurements)


# --------------------------------------------------------------------------
# Entry points


def run_smoke(args) -> int:
    tools = resolve_tools(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="llmlint-smoke-") as tmp:
        corpus = build_smoke_corpus(Path(tmp) / "corpus")
        results = {"smoke": benchmark_corpus("smoke", "Smoke", corpus, tools, args, bandit_wanted=True)}
    report = render_report(results, tools, args, started)
    output = args.output or Path(tempfile.mkstemp(prefix="llmlint-smoke-", suffix=".md")[1])
    output.write_text(report)
    print(report)
    log(f"smoke results written to {output}")
    if llmlint_crashed(results):
        log("llmlint crashed")
        return 1
    return 0


def run_full(args) -> int:
    started = datetime.datetime.now(datetime.timezone.utc)
    tools = resolve_tools(args)
    corpora = {}
    if args.corpus in ("llm", "both"):
        python = venv_bin("python")
        corpora["llm"] = ("LLM-heavy", ensure_corpus("llm", llm_corpus_spec(),
                                                     lambda d: build_llm_corpus(d, python), args.rebuild_corpora))
    if args.corpus in ("stdlib", "both"):
        corpora["stdlib"] = ("stdlib", ensure_corpus("stdlib", stdlib_corpus_spec(),
                                                     build_stdlib_corpus, args.rebuild_corpora))
    results = {}
    for name, (title, path) in corpora.items():
        bandit_wanted = not (args.quick and name != "llm")
        results[name] = benchmark_corpus(name, title, path, tools, args, bandit_wanted)
    report = render_report(results, tools, args, started)
    write_raw_results(results, tools, RAW_RESULTS_JSON)
    print(report)
    if llmlint_crashed(results):
        output = args.output or FAILED_RESULTS_MD
        output.write_text(report)
        log(f"llmlint failed; results written to {output} (RESULTS.md left alone)")
        return 1
    output = args.output or RESULTS_MD
    output.write_text(report)
    log(f"results written to {output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_smoke(args) if args.smoke else run_full(args)


if __name__ == "__main__":
    sys.exit(main())
