"""`clearway up --workers N`: N identical processes serving the whole platform on one port, and
one background process beside them.

One Python process uses one core. Workers share everything else: the data directory (SQLite
serializes writers across processes, the embedded bus hands each event to one of them, the
cache bus tells all of them what to drop) and the port. On Linux each worker listens on its own
socket bound to that port (SO_REUSEPORT), so the kernel spreads connections evenly; elsewhere
they accept from one shared socket.

The background process hosts the five services without the gateway or a listener: it is the
leader that runs the maintenance jobs and ingests the high-volume telemetry, so that work is
scheduled by the operating system beside the serving processes instead of queueing inside
their event loops. It starts first and alone, so first-start steps (keys, the administrator,
the shipped rule base) happen once. The supervisor holds the sockets, replaces a process that
dies, and on SIGTERM or SIGINT stops every one gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.synchronize import Event

import uvicorn
import uvloop

from clearway.kit.logging import configure_logging
from clearway.runtime.foundation import Foundation
from clearway.runtime.hosting import Host
from clearway.runtime.metrics import MetricsEndpoint, MetricsServer
from clearway.runtime.platform import Platform, host_services
from clearway.runtime.server import connectable, server_config
from clearway.runtime.supervision import Child, Supervisor
from clearway.settings import Settings

log = logging.getLogger("clearway.workers")

BACKGROUND, WORKER = "clearway-background", "clearway-worker"
# A worker that keeps dying this soon after each start is failing, not unlucky: after
# `CRASH_LOOP_LIMIT` such deaths in a row the supervisor stops instead of looping.
CRASH_LOOP_SECONDS = 10.0
CRASH_LOOP_LIMIT = 3
BACKGROUND_NICENESS = 10


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
        first.listen(settings.backlog)
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
        sock.listen(settings.backlog)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def worker_settings(settings: Settings, index: int) -> Settings:
    """Each process's metrics listener gets its own port: metrics port + its slot (the workers
    0 … N-1, then the background process)."""
    if settings.metrics_port is None:
        return settings
    return settings.model_copy(update={"metrics_port": settings.metrics_port + index})


def work(settings: Settings, sock: socket.socket, started: Event) -> None:
    """A worker process: the platform on `sock` until SIGTERM or until its supervisor dies."""
    _detach(settings)
    server = uvicorn.Server(server_config(Platform(settings, leader=False), settings))
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


def background(settings: Settings, started: Event) -> None:
    """The background process: every service, no listener, until SIGTERM or orphaned."""
    _detach(settings)
    # Requests first: at full load the workers take the cores and telemetry waits, durably
    # queued, to be ingested as soon as they leave room (measured: 5,500 searches/s with p99
    # 45 ms at niceness 10, against 4,400 and 59 ms at 0, where ingest kept pace instead).
    os.nice(BACKGROUND_NICENESS)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_background(settings, started, os.getppid()))


async def _background(settings: Settings, started: Event, supervisor: int) -> None:
    base = Foundation(settings, leader=True)
    upstreams, hosted = host_services(base)
    host = Host(base, hosted, None, upstreams)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await host.start()
    # Its own metrics (the monitor's ingest counters live here), on the port after the workers'.
    metrics = None
    if settings.metrics_port is not None:
        endpoint = MetricsEndpoint(upstreams, base.credentials)
        metrics = MetricsServer(endpoint, settings.metrics_host, settings.metrics_port)
        await metrics.start()
    started.set()
    while not stop.is_set() and os.getppid() == supervisor:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    if metrics is not None:
        await metrics.stop()
    await host.stop()


def _detach(settings: Settings) -> None:
    # Ctrl-C in a terminal signals the whole process group; only the supervisor should hear it,
    # so that each process is stopped once, gracefully.
    os.setpgrp()
    configure_logging(settings.log_level, json=settings.log_json)


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


class Workers(Supervisor):
    """Starts the background process, then the workers; replaces one that dies."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.count = settings.workers
        self.context = multiprocessing.get_context("spawn")
        self.events: dict[str, Event] = {}
        self.started_at: dict[str, float] = {}
        self.quick_deaths: dict[str, int] = {}
        self.sockets: list[socket.socket] = []

    def run(self) -> int:
        if self.settings.ratelimit_backend == "memory":
            log.warning(
                "each of the %d workers keeps its own rate-limit buckets; set"
                " CLEARWAY_RATELIMIT_BACKEND to a redis:// URL to share them",
                self.count,
            )
        self.sockets = listening_sockets(self.settings, self.count)
        try:
            return super().run()
        finally:
            for sock in set(self.sockets):
                sock.close()

    def supervise(self) -> int:
        self._spawn(self.count)  # the background process, first and alone: first-start steps
        if not self.wait_started([BACKGROUND], self._started):
            return 0 if self.stopping else 1
        for index in range(self.count):
            self._spawn(index)
        if not self.wait_started(self._worker_names(), self._started):
            return 0 if self.stopping else 1
        address = f"http://{connectable(self.settings.host)}:{self.settings.port}"
        print(f"Clearway on {address} ({self.count} workers)", flush=True)
        return self.watch(self._replace)

    def _worker_names(self) -> list[str]:
        return [f"{WORKER}-{index}" for index in range(self.count)]

    def _started(self, name: str) -> bool:
        return self.events[name].is_set()

    def _spawn(self, index: int) -> None:
        """Worker `index`, or the background process at the slot after the workers'."""
        event = self.context.Event()
        settings = worker_settings(self.settings, index)
        if index == self.count:
            process = self.context.Process(
                target=background, args=(settings, event), name=BACKGROUND
            )
        else:
            process = self.context.Process(
                target=work, args=(settings, self.sockets[index], event), name=f"{WORKER}-{index}"
            )
        process.start()
        self.children[process.name] = process
        self.events[process.name] = event
        self.started_at[process.name] = time.monotonic()

    def _replace(self, name: str, child: Child) -> bool:
        quick = time.monotonic() - self.started_at[name] < CRASH_LOOP_SECONDS
        self.quick_deaths[name] = self.quick_deaths.get(name, 0) + 1 if quick else 0
        if self.quick_deaths[name] >= CRASH_LOOP_LIMIT:
            log.error("%s keeps exiting (code %s); stopping", name, child.exitcode)
            return False
        log.warning("%s exited (code %s); replacing it", name, child.exitcode)
        time.sleep(self.quick_deaths[name])  # back off while it keeps failing
        self._spawn(self.count if name == BACKGROUND else int(name.rsplit("-", 1)[1]))
        return True
