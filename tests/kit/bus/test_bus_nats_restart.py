"""NATS restarted in the middle of a burst: nothing committed is lost, nothing applied twice.

This restarts the machine's nats-server (SIGTERM, then the same command line again), so it is
always started again in a `finally`, and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clearway.kit.bus import CloudEvent, NatsBus, OutboxRelay, idempotent, publish
from clearway.kit.db import Database

from .conftest import (
    applied_ids,
    apply,
    delete_streams,
    jetstream_answers,
    unique_stream,
)

PER_TRANSACTION = 10
BEFORE_RESTART = 300
AFTER_RESTART = 300


def running_server() -> tuple[int, list[str]]:
    """The pid and command line of the local nats-server."""
    found = subprocess.run(["pgrep", "-x", "nats-server"], capture_output=True, text=True)
    pids = [int(pid) for pid in found.stdout.split()]
    if len(pids) != 1:
        pytest.fail(f"expected one local nats-server to restart, found {pids}", pytrace=False)
    argv = Path(f"/proc/{pids[0]}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    return pids[0], [arg.decode() for arg in argv]


async def wait_until_gone(pid: int, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)


async def start_server(argv: list[str], url: str) -> None:
    """Start nats-server with `argv` (if it is not running) and wait for JetStream to answer."""
    daemon = await asyncio.create_subprocess_exec(
        *("start-stop-daemon", "--start", "--oknodo", "--background", "--exec", argv[0], "--"),
        *argv[1:],
    )
    assert await asyncio.wait_for(daemon.wait(), 10) == 0, "start-stop-daemon failed"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        try:
            await jetstream_answers(url)
            return
        except Exception:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


@pytest.fixture
async def server(nats_url: str) -> AsyncIterator[list[str]]:
    """The server's command line; whatever happens in the test, it runs again afterwards."""
    _, argv = running_server()
    try:
        yield argv
    finally:
        await start_server(argv, nats_url)


async def restart(argv: list[str], url: str) -> None:
    pid, _ = running_server()
    os.kill(pid, signal.SIGTERM)
    if not await wait_until_gone(pid, 15):
        os.kill(pid, signal.SIGKILL)
        assert await wait_until_gone(pid, 5), "nats-server did not exit"
    await asyncio.sleep(0.5)  # the burst goes on against a missing broker for a while
    await start_server(argv, url)


async def test_broker_restarted_mid_burst_loses_nothing_applies_once(
    db: Database, nats_url: str, server: list[str]
) -> None:
    stream = unique_stream()
    bus = NatsBus(
        nats_url,
        stream=stream,
        max_attempts=5,
        retry_base_seconds=0.05,
        poll_seconds=0.2,
        request_timeout_seconds=2.0,
    )
    deliveries: Counter[str] = Counter()
    handle = idempotent(db, "svc", apply)

    async def counted(e: CloudEvent) -> None:
        deliveries[e.id] += 1
        await handle(e)

    bus.subscribe("svc", ["burst.*"], counted)
    relay = OutboxRelay(db, bus, poll_seconds=0.1)
    committed: list[str] = []
    restarting: asyncio.Task[None] | None = None
    loop = asyncio.get_running_loop()
    await bus.start()
    relay.start()
    try:
        # Events are committed before, during and for a while after the restart.
        deadline = loop.time() + 90
        back_at: int | None = None
        while back_at is None or len(committed) < back_at + AFTER_RESTART:
            assert loop.time() < deadline, f"the burst stalled at {len(committed)} events"
            events = [
                CloudEvent.new("/clearway/test", "burst.written", {"n": len(committed) + i})
                for i in range(PER_TRANSACTION)
            ]
            async with db.transaction() as session:
                for e in events:
                    await publish(session, e)
            committed.extend(e.id for e in events)
            if restarting is None and len(committed) >= BEFORE_RESTART:
                restarting = asyncio.create_task(restart(server, nats_url))
            if back_at is None and restarting is not None and restarting.done():
                restarting.result()  # a failed restart fails the test here
                back_at = len(committed)
            await asyncio.sleep(0.01)  # a steady stream rather than one instant batch
        while (done := len(set(await applied_ids(db)))) < len(committed):
            assert loop.time() < deadline, f"{done} of {len(committed)} events applied in time"
            await asyncio.sleep(0.1)
    finally:
        if restarting is not None and not restarting.done():
            restarting.cancel()
        await start_server(server, nats_url)  # it may still be down: restore it first
        await relay.stop()
        await bus.stop()
        await delete_streams(nats_url, stream)

    applications = Counter(await applied_ids(db))
    assert set(applications) == set(committed), "every committed event applied"
    assert set(applications.values()) == {1}, "none applied twice"
    assert back_at is not None and back_at > BEFORE_RESTART, "events were written while it was down"
    # Deliveries may repeat (an ack lost in the restart); the inbox absorbed them.
    assert set(deliveries) == set(committed)
