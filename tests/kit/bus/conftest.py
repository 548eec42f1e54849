from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from clearway.kit.bus import CloudEvent, EmbeddedBus
from clearway.kit.bus.inbox import inbox
from clearway.kit.bus.outbox import outbox
from clearway.kit.db import Database

# Test-only tables live on their own metadata so the kit's shared one stays clean.
test_metadata = MetaData()
applied = Table(
    "applied",
    test_metadata,
    Column("n", Integer, primary_key=True),
    Column("event_id", String(64), nullable=False),
)


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait, in short steps, until `condition` holds; fail after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def queued(path: Path, queue: str) -> list[tuple[str, int, int]]:
    """(event_id, attempts, dead) of every message in a queue, read straight from the file."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT event_id, attempts, dead FROM messages WHERE queue = ? ORDER BY id", (queue,)
        ).fetchall()


def event(type: str = "order.created", **data: object) -> CloudEvent:
    return CloudEvent.new("/clearway/test", type, dict(data))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database("orders", f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}")
    async with database.writer.begin() as connection:
        await connection.run_sync(outbox.metadata.create_all, tables=[outbox, inbox])
        await connection.run_sync(test_metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def bus_path(tmp_path: Path) -> Path:
    return tmp_path / "bus.db"


@pytest.fixture
async def bus(bus_path: Path) -> AsyncIterator[EmbeddedBus]:
    embedded = EmbeddedBus(bus_path, max_attempts=3, retry_base_seconds=0.1, poll_seconds=0.2)
    yield embedded
    await embedded.stop()
