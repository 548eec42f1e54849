"""`clearway up --workers N`: N identical processes, each the whole platform, on one port.

One Python process uses one core. Workers share everything else: the data directory (SQLite
serializes writers across processes, the embedded bus hands each event to one of them, the
cache bus tells all of them what to drop) and the port. On Linux each worker listens on its own
socket bound to that port (SO_REUSEPORT), so the kernel spreads connections evenly; elsewhere
they accept from one shared socket.

Worker 0 starts first and alone, so first-start steps (keys, the administrator, the shipped rule
base) happen once; it is also the leader that runs maintenance jobs. The supervisor holds the
sockets, replaces a worker that dies, and on SIGTERM or SIGINT stops every worker gracefully.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType

import uvicorn
import uvloop

from clearway.kit.logging import configure_logging
from clearway.runtime.platform import Platform
from clearway.runtime.server import connectable, server_config
from clearway.settings import Settings

log = logging.getLogger("clearway.workers")

START_SECONDS = 120.0
STOP_SECONDS = 40.0
# A worker that keeps dying this soon after each start is failing, not unlucky: after
# `CRASH_LOOP_LIMIT` such deaths in a row the supervisor stops instead of looping.
CRASH_LOOP_SECONDS = 10.0
CRASH_LOOP_LIMIT = 3
BACKLOG = 2048


def listening_sockets(settings: Settings, count: int) -> list[socket.socket]:
    """One socket per worker on the configured port (one shared where SO_REUSEPORT can't)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    # First a plain bind, as one process would do: a port already taken fails here, with its
    # reason, instead of being silently shared with whoever holds it.
    first = socket.socket(family, socket.SOCK_STREAM)
    first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        first.bind((settings.host, settings.port))
    except OSError as exc:
        first.close()
        raise SystemExit(f"cannot listen on {settings.host}:{settings.port}: {exc}") from exc
    if sys.platform != "linux" or count == 1:
        first.listen(BACKLOG)
        first.set_inheritable(True)
        return [first] * count
    port = first.getsockname()[1]
    first.close()
    sockets = []
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((settings.host, port))
        sock.listen(BACKLOG)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def worker_settings(settings: Settings, index: int) -> Settings:
    """Each worker's metrics listener gets its own port: metrics port + worker index."""
    if settings.metrics_port is None:
        return settings
    return settings.model_copy(update={"metrics_port": settings.metrics_port + index})


def work(settings: Settings, index: int, sock: socket.socket, started: Event) -> None:
    """A worker process: the platform on `sock` until SIGTERM or until its supervisor dies."""
    # Ctrl-C in a terminal signals the whole process group; only the supervisor should hear it,
    # so that each worker is stopped once, gracefully.
    os.setpgrp()
    configure_logging(settings.log_level, json=settings.log_json)
    server = uvicorn.Server(server_config(Platform(settings, leader=index == 0), settings))
    # uvicorn re-raises SIGTERM once its graceful shutdown is over: that is a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    supervisor = os.getppid()

    async def serve() -> None:
        watch = asyncio.create_task(_watch(server, started, supervisor))
        try:
            await server.serve(sockets=[sock])
        finally:
            watch.cancel()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve())


async def _watch(server: uvicorn.Server, started: Event, supervisor: int) -> None:
    """Tell the supervisor once serving; stop if it is gone (killed, not asked to stop us)."""
    # Both are flags without an event to wait on: uvicorn's `started`, and our parent's pid.
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    started.set()
    while os.getppid() == supervisor:  # noqa: ASYNC110
        await asyncio.sleep(1.0)
    log.warning("the supervisor is gone; stopping")
    server.should_exit = True


class Workers:
    """The supervisor: starts the workers, replaces one that dies, stops them on a signal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.count = settings.workers
        self.context = multiprocessing.get_context("spawn")
        self.processes: dict[int, SpawnProcess] = {}
        self.events: dict[int, Event] = {}
        self.started_at: dict[int, float] = {}
        self.quick_deaths: dict[int, int] = {}
        self.sockets: list[socket.socket] = []
        self.stopping = False

    def run(self) -> int:
        if self.settings.ratelimit_backend == "memory":
            log.warning(
                "each of the %d workers keeps its own rate-limit buckets; set"
                " CLEARWAY_RATELIMIT_BACKEND to a redis:// URL to share them",
                self.count,
            )
        self.sockets = listening_sockets(self.settings, self.count)
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._spawn(0)  # first alone: it does the first-start steps
            if not self._wait_started([0]):
                return 0 if self.stopping else 1
            for index in range(1, self.count):
                self._spawn(index)
            if not self._wait_started(list(range(1, self.count))):
                return 0 if self.stopping else 1
            address = f"http://{connectable(self.settings.host)}:{self.settings.port}"
            print(f"Clearway on {address} ({self.count} workers)", flush=True)
            return self._supervise()
        finally:
            self._stop_all()
            for sock in set(self.sockets):
                sock.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _spawn(self, index: int) -> None:
        event = self.context.Event()
        process = self.context.Process(
            target=work,
            args=(worker_settings(self.settings, index), index, self.sockets[index], event),
            name=f"clearway-worker-{index}",
        )
        process.start()
        self.processes[index] = process
        self.events[index] = event
        self.started_at[index] = time.monotonic()

    def _wait_started(self, indexes: list[int]) -> bool:
        deadline = time.monotonic() + START_SECONDS
        while not self.stopping and time.monotonic() < deadline:
            if all(self.events[i].is_set() for i in indexes):
                return True
            for i in indexes:
                if not self.processes[i].is_alive():
                    log.error("worker %d exited during start-up", i)
                    return False
            time.sleep(0.05)
        if not self.stopping:
            log.error("the workers did not start within %.0f s", START_SECONDS)
        return False

    def _supervise(self) -> int:
        while not self.stopping:
            for index, process in list(self.processes.items()):
                if process.is_alive() or self.stopping:
                    continue
                code = process.exitcode
                quick = time.monotonic() - self.started_at[index] < CRASH_LOOP_SECONDS
                self.quick_deaths[index] = self.quick_deaths.get(index, 0) + 1 if quick else 0
                if self.quick_deaths[index] >= CRASH_LOOP_LIMIT:
                    log.error("worker %d keeps exiting (code %s); stopping", index, code)
                    return 1
                log.warning("worker %d exited (code %s); replacing it", index, code)
                time.sleep(self.quick_deaths[index])  # back off while it keeps failing
                self._spawn(index)
            time.sleep(0.2)
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        running = [p for p in self.processes.values() if p.is_alive()]
        for process in running:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in running:
            process.join(STOP_SECONDS)
            if process.is_alive():
                log.error("%s did not stop within %.0f s; killing it", process.name, STOP_SECONDS)
                process.kill()
                process.join()
