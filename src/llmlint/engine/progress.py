"""A progress line on stderr for long runs: `llmlint: parsing 1,234/10,000 files, 14 s`, overwritten in place.

The engine says what it is doing with `stage()` and `advance()`, which cost a dictionary update when nobody shows
them. The CLI shows them (`progress_line`) only when stderr is a terminal, never under -q, and only once the run
has taken longer than DELAY seconds, so pipes, CI logs and quick runs see nothing; the line is erased when the run
ends. A few lines of our own rather than rich or tqdm: one line, no dependency, and nothing drawn for short runs.
"""

from __future__ import annotations

import contextlib
import threading
import time

DELAY = 2.0  # seconds before the line first appears
INTERVAL = 0.25  # seconds between redraws
_CLEAR = "\r\x1b[K"

_state = {"stage": "starting", "done": 0, "total": 0}
_lock = threading.Lock()


def stage(name: str, total: int = 0) -> None:
    """The run is now doing `name` ("parsing", "linking"...), over `total` files (0: not counted)."""
    with _lock:
        _state.update(stage=name, done=0, total=total)


def advance(count: int = 1) -> None:
    with _lock:
        _state["done"] += count


def status() -> str:
    with _lock:
        name, done, total = _state["stage"], _state["done"], _state["total"]
    return f"{name} {done:,}/{total:,} files" if total else name


class ProgressLine:
    """Draws `llmlint: <status>, <elapsed> s` on `stream` once `delay` seconds have passed, from a daemon thread."""

    def __init__(self, stream, delay: float = DELAY, interval: float = INTERVAL, clock=time.monotonic):
        self.stream, self.delay, self.interval, self.clock = stream, delay, interval, clock
        self.started = clock()
        self.shown = False
        self._stop = threading.Event()
        self._thread = None

    def tick(self) -> None:
        """Redraw the line if the run has taken longer than `delay`."""
        elapsed = self.clock() - self.started
        if elapsed < self.delay:
            return
        self.stream.write(f"{_CLEAR}llmlint: {status()}, {elapsed:.0f} s")
        self.stream.flush()
        self.shown = True

    def start(self) -> "ProgressLine":
        stage("starting")
        self._thread = threading.Thread(target=self._run, name="llmlint-progress", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            try:
                self.tick()
            except (OSError, ValueError):  # stderr closed under us: stop drawing, never fail the run
                return
            self._stop.wait(self.interval)

    def stop(self) -> None:
        """Stop drawing and erase the line, so what follows starts on a clean line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.shown:
            with contextlib.suppress(OSError, ValueError):
                self.stream.write(_CLEAR)
                self.stream.flush()


@contextlib.contextmanager
def progress_line(enabled: bool, stream=None):
    """Show a ProgressLine on `stream` (default: sys.stderr) for the duration of the block, when `enabled`."""
    if not enabled:
        yield None
        return
    import sys

    line = ProgressLine(stream or sys.stderr, delay=DELAY).start()
    try:
        yield line
    finally:
        line.stop()
