"""Cache invalidations between workers on one machine: Unix datagram sockets in one directory."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from clearway.kit.cache_bus import (
    Handler,
    LocalCacheBus,
    RedisCacheBus,
    SocketCacheBus,
    cache_bus_from_settings,
    cache_socket_dir,
)
from tests.conftest import test_settings

OpenBus = Callable[..., Awaitable[SocketCacheBus]]


@pytest.fixture
async def open_bus() -> AsyncIterator[OpenBus]:
    """Start buses with their subscriptions; every one is stopped after the test."""
    started: list[SocketCacheBus] = []

    async def open_(directory: Path, name: str, **subscriptions: Handler) -> SocketCacheBus:
        bus = SocketCacheBus(directory, name=name)
        for service, handler in subscriptions.items():
            bus.subscribe(service, handler)
        await bus.start()
        started.append(bus)
        return bus

    yield open_
    for bus in started:
        await bus.stop()


async def eventually(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Wait, in short steps, until `condition` holds (delivery is asynchronous)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


async def test_a_publish_reaches_the_other_process_and_this_one_once(
    tmp_path: Path, open_bus: OpenBus
) -> None:
    heard_a: list[str] = []
    heard_b: list[str] = []
    synced: list[str] = []
    a = await open_bus(tmp_path, "a", identity=heard_a.append, rules=synced.append)
    b = await open_bus(tmp_path, "b", identity=heard_b.append)

    await a.publish("identity", "profile:1")
    assert heard_a == ["profile:1"]  # at once, before any datagram is read
    await eventually(lambda: heard_b == ["profile:1"])

    # A round trip back to A: had A also sent to itself, that copy would have arrived by now.
    await b.publish("rules", "sync")
    await eventually(lambda: synced == ["sync"])
    assert heard_a == ["profile:1"]
    assert heard_b == ["profile:1"]


async def test_a_service_without_handlers_here_is_ignored(
    tmp_path: Path, open_bus: OpenBus
) -> None:
    identity: list[str] = []
    rules: list[str] = []
    a = await open_bus(tmp_path, "a")
    await open_bus(tmp_path, "b", identity=identity.append, rules=rules.append)

    await a.publish("orders", "order:7")  # nobody in B caches for orders
    await a.publish("rules", "snapshot")
    await eventually(lambda: rules == ["snapshot"])
    assert identity == []


async def test_a_stale_socket_file_is_removed_and_the_live_peer_still_hears(
    tmp_path: Path, open_bus: OpenBus
) -> None:
    heard: list[str] = []
    a = await open_bus(tmp_path, "a")
    await open_bus(tmp_path, "b", identity=heard.append)
    stale = tmp_path / "12345.sock"  # a worker that died without cleaning up
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as dead:
        dead.bind(os.fspath(stale))
    assert stale.exists()

    await a.publish("identity", "profile:2")
    assert not stale.exists()
    await eventually(lambda: heard == ["profile:2"])


async def test_stop_removes_its_socket_and_can_be_repeated(tmp_path: Path) -> None:
    bus = SocketCacheBus(tmp_path, name="a")
    await bus.start()
    assert stat.S_ISSOCK(os.lstat(bus.path).st_mode)
    assert stat.S_IMODE(os.lstat(bus.path).st_mode) == 0o600
    await bus.stop()
    assert not bus.path.exists()
    await bus.stop()
    await bus.publish("identity", "profile:3")  # after stop: no socket, no error


async def test_the_default_name_is_the_pid(tmp_path: Path) -> None:
    bus = SocketCacheBus(tmp_path)
    await bus.start()
    try:
        assert bus.path == tmp_path / f"{os.getpid()}.sock"
        assert bus.path.exists()
    finally:
        await bus.stop()


async def test_a_publish_before_start_still_reaches_the_workers(
    tmp_path: Path, open_bus: OpenBus
) -> None:
    heard: list[str] = []
    await open_bus(tmp_path, "worker", rules=heard.append)
    one_off = SocketCacheBus(tmp_path, name="command")  # e.g. a CLI command, never started
    await one_off.publish("rules", "snapshot")
    await eventually(lambda: heard == ["snapshot"])


async def test_a_long_data_dir_falls_back_to_a_private_temp_directory(
    tmp_path: Path, open_bus: OpenBus
) -> None:
    data_dir = (tmp_path / ("long-" * 25)).resolve()
    assert len(os.fsencode(data_dir)) > 100
    assert cache_socket_dir(tmp_path) == tmp_path / "run" / "cache"

    directory = cache_socket_dir(data_dir)
    assert directory.parent == Path(tempfile.gettempdir())
    assert directory.name.startswith("clearway-")
    assert cache_socket_dir(data_dir) == directory  # every worker finds the same one
    try:
        heard: list[str] = []
        a = await open_bus(directory, "a")
        await open_bus(directory, "b", identity=heard.append)
        assert stat.S_IMODE(os.lstat(directory).st_mode) == 0o700
        await a.publish("identity", "profile:4")
        await eventually(lambda: heard == ["profile:4"])
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def test_the_backend_setting_picks_the_transport(tmp_path: Path) -> None:
    assert isinstance(cache_bus_from_settings(test_settings(tmp_path)), LocalCacheBus)

    settings = test_settings(tmp_path, workers=2)
    workers = cache_bus_from_settings(settings)
    assert isinstance(workers, SocketCacheBus)
    assert workers.directory == settings.resolved_data_dir / "run" / "cache"

    for count in (1, 3):
        settings = test_settings(tmp_path, workers=count, cache_backend="redis://127.0.0.1:6379/0")
        redis = cache_bus_from_settings(settings)
        assert isinstance(redis, RedisCacheBus)
        await redis.stop()  # never connected: only closes the pool


async def test_a_malformed_datagram_does_not_stop_later_messages(
    tmp_path: Path, open_bus: OpenBus, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[str] = []

    def fragile(key: str) -> None:
        if key == "boom":
            raise ValueError(key)
        heard.append(key)

    a = await open_bus(tmp_path, "a")
    b = await open_bus(tmp_path, "b", identity=fragile)
    with (
        caplog.at_level(logging.WARNING, "clearway.cache_bus"),
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as raw,
    ):
        for junk in (b"no newline", b"\xff\xfe\nprofile:x", b""):
            raw.sendto(junk, os.fspath(b.path))
        await a.publish("identity", "boom")  # a failing handler is logged, not fatal
        await a.publish("identity", "profile:5")
        await eventually(lambda: heard == ["profile:5"])
    assert sum("malformed" in r.getMessage() for r in caplog.records) == 3
