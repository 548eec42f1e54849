"""What both supervisors do with their children (`clearway up --workers N` and
`clearway up --processes`): wait for them to start, watch them, stop them on a signal.

A child is a process of either kind: a `multiprocessing` process (a worker) or a command
(`clearway serve PART`), seen through the same few operations.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Protocol

log = logging.getLogger("clearway.supervisor")

START_SECONDS = 120.0
STOP_SECONDS = 40.0
POLL_SECONDS = 0.2


class Child(Protocol):
    """A child process, as `multiprocessing` shows one."""

    @property
    def name(self) -> str: ...

    @property
    def exitcode(self) -> int | None: ...

    def is_alive(self) -> bool: ...

    def terminate(self) -> None:
        """Ask it to stop gracefully (SIGTERM)."""

    def join(self, timeout: float | None = None) -> None: ...

    def kill(self) -> None: ...


class Command:
    """A child started from a command line, shown as a `Child`."""

    def __init__(self, name: str, process: subprocess.Popen[bytes]) -> None:
        self.name = name
        self.process = process

    @property
    def exitcode(self) -> int | None:
        return self.process.poll()

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)

    def kill(self) -> None:
        self.process.kill()


class Supervisor:
    """Children by name; `stopping` once SIGTERM or SIGINT arrives while `run` runs."""

    def __init__(self) -> None:
        self.children: dict[str, Child] = {}
        self.stopping = False

    def run(self) -> int:
        """`supervise` with the signals caught, then every child stopped, whatever happened."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            return self.supervise()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def supervise(self) -> int:
        """Start the children and watch them until asked to stop; the exit code."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop every child; a supervisor whose children depend on each other orders them."""
        self.stop_children(list(self.children))

    def wait_started(self, names: Iterable[str], started: Callable[[str], bool]) -> bool:
        """Until each of `names` is `started`; false if one exits, the time runs out or a
        signal came first."""
        names = list(names)
        deadline = time.monotonic() + START_SECONDS
        while not self.stopping and time.monotonic() < deadline:
            for name in names:
                if not self.children[name].is_alive():
                    log.error("%s exited during start-up", name)
                    return False
            if all(started(name) for name in names):
                return True
            time.sleep(0.05)
        if not self.stopping:
            log.error("%s did not start within %.0f s", ", ".join(names), START_SECONDS)
        return False

    def watch(self, exited: Callable[[str, Child], bool]) -> int:
        """Until a signal: each child that exits is handed to `exited`, which says whether to
        carry on (it may have replaced the child); 1 once it says no, 0 after a signal."""
        while not self.stopping:
            for name, child in list(self.children.items()):
                if child.is_alive() or self.stopping:
                    continue
                if not exited(name, child):
                    return 1
            time.sleep(POLL_SECONDS)
        return 0

    def stop_children(self, names: Iterable[str]) -> None:
        """SIGTERM to each, then wait for all of them; one that outlives `STOP_SECONDS` is
        killed."""
        running = [self.children[n] for n in names if n in self.children]
        running = [child for child in running if child.is_alive()]
        for child in running:
            child.terminate()
        for child in running:
            child.join(STOP_SECONDS)
            if child.is_alive():
                log.error("%s did not stop within %.0f s; killing it", child.name, STOP_SECONDS)
                child.kill()
                child.join()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
