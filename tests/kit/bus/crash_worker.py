"""A service under SIGKILL, for test_bus_crash: `burst` writes events until killed, `drain`
restarts on the same files and runs until every committed event has been applied.

Each event is written with a row in `committed` in the same transaction, and applied by an
idempotent consumer that adds a row to `applied`; the test compares the two tables.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus import CloudEvent, EmbeddedBus, OutboxRelay, idempotent, publish
from clearway.kit.bus.inbox import inbox
from clearway.kit.bus.outbox import outbox
from clearway.kit.db import Database

side = MetaData()
committed = Table("committed", side, Column("event_id", String(64), primary_key=True))
applied = Table(
    "applied",
    side,
    Column("n", Integer, primary_key=True),
    Column("event_id", String(64), nullable=False),
)


def create_tables(connection: Connection) -> None:
    outbox.metadata.create_all(connection, tables=[outbox, inbox])
    side.create_all(connection)


async def apply(event: CloudEvent, session: AsyncSession) -> None:
    await session.execute(insert(applied).values(event_id=event.id))


async def drained(db: Database, bus_file: Path) -> bool:
    """Every committed event applied, nothing left to relay or to deliver (duplicates included)."""
    async with db.read() as session:
        written = await session.scalar(select(func.count()).select_from(committed))
        done = await session.scalar(select(func.count(func.distinct(applied.c.event_id))))
        relaying = await session.scalar(select(func.count()).select_from(outbox))
    with closing(sqlite3.connect(bus_file)) as conn:
        (queued,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    return written == done and relaying == 0 and queued == 0


async def main(directory: Path, mode: str, total: int) -> None:
    db = Database("svc", f"sqlite+aiosqlite:///{directory / 'svc.db'}")
    async with db.writer.begin() as connection:
        await connection.run_sync(create_tables)
    bus = EmbeddedBus(directory / "bus.db", 5, 0.05, lease_seconds=1.0, poll_seconds=0.1)
    bus.subscribe("svc", ["burst.*"], idempotent(db, "svc", apply))
    await bus.start()
    relay = OutboxRelay(db, bus, poll_seconds=0.1)
    relay.start()
    if mode == "burst":
        for n in range(total):
            async with db.transaction() as session:
                event = CloudEvent.new("/clearway/test", "burst.written", {"n": n})
                await publish(session, event)
                await session.execute(insert(committed).values(event_id=event.id))
            if n % 50 == 0:
                print(n, flush=True)
    else:
        deadline = time.monotonic() + 30  # generous: the machine may be busy
        while not await drained(db, directory / "bus.db"):
            if time.monotonic() > deadline:
                sys.exit("drain did not finish in time")
            await asyncio.sleep(0.05)
    await relay.stop()
    await bus.stop()
    await db.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
