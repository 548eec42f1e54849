"""SQLite with one call to the connection's thread per statement (`kit.sqlite_driver`): the
calls a transaction makes, and that transactions mean what they meant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    event,
    insert,
    select,
    text,
    update,
)

from clearway.kit.db import Database
from clearway.kit.sqlite_driver import OneCallConnection

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", String(50), nullable=False),
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database("notes", f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    async with database.transaction() as session:
        await session.run_sync(lambda s: metadata.create_all(s.connection()))
    yield database
    await database.dispose()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls made to connections' threads, by the name of what ran there."""
    made: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(
        self: aiosqlite.Connection, fn: Callable[..., Any], *a: Any, **kw: Any
    ) -> Any:
        made.append(getattr(getattr(fn, "func", fn), "__name__", "?"))
        return await execute(self, fn, *a, **kw)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return made


async def test_the_engines_connections_are_one_call_connections(db: Database) -> None:
    for engine in (db.reader, db.writer):
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert isinstance(raw.driver_connection, OneCallConnection)


async def test_a_read_is_two_calls_and_a_write_one_per_statement_and_its_commit(
    db: Database, calls: list[str]
) -> None:
    async with db.transaction() as session:  # the connections exist before counting
        await session.execute(insert(notes).values(id=1, body="first"))
    async with db.read() as session:
        await session.execute(select(notes))
    calls.clear()

    async with db.read() as session:
        rows = (await session.execute(select(notes.c.body))).scalars().all()
    assert rows == ["first"]
    assert calls == ["_run", "commit"]  # BEGIN rides with the SELECT; no ROLLBACK after it

    calls.clear()
    async with db.transaction() as session:
        await session.execute(insert(notes).values(id=2, body="second"))
        await session.execute(update(notes).where(notes.c.id == 1).values(body="changed"))
    assert calls == ["_run", "_run", "commit"]

    calls.clear()
    async with db.transaction():
        pass
    assert calls == []  # a transaction that ran nothing sends nothing


async def test_begin_is_handed_to_the_driver_not_executed_as_a_statement(db: Database) -> None:
    """SQLAlchemy executes only the statements a transaction's code asked for: its BEGIN (and
    the writer's BEGIN IMMEDIATE) costs no statement of SQLAlchemy's own."""
    executed: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        executed.append(statement.split()[0])

    for engine in (db.reader, db.writer):
        event.listen(engine.sync_engine, "before_cursor_execute", seen)
    async with db.read() as session:
        await session.execute(select(notes))
    async with db.transaction() as session:
        await session.execute(insert(notes).values(id=1, body="one"))
    assert executed == ["SELECT", "INSERT"]


async def test_rowcount_lastrowid_returning_and_executemany_come_back(db: Database) -> None:
    async with db.transaction() as session:
        inserted = await session.execute(insert(notes).values(body="a"))
        assert inserted.inserted_primary_key == (1,)
        await session.execute(insert(notes), [{"body": "b"}, {"body": "c"}, {"body": "d"}])
        changed = await session.execute(update(notes).where(notes.c.id > 2).values(body="x"))
        assert changed.rowcount == 2  # type: ignore[attr-defined]
        returned = await session.execute(
            update(notes).where(notes.c.id == 1).values(body="y").returning(notes.c.id)
        )
        assert returned.scalars().all() == [1]
    async with db.read() as session:
        rows = (await session.execute(select(notes.c.body).order_by(notes.c.id))).all()
    assert [r.body for r in rows] == ["y", "b", "x", "x"]


async def test_an_error_rolls_the_whole_transaction_back(db: Database) -> None:
    with pytest.raises(Exception, match="UNIQUE"):
        async with db.transaction() as session:
            await session.execute(insert(notes).values(id=1, body="kept?"))
            await session.execute(insert(notes).values(id=1, body="again"))
    async with db.read() as session:
        assert (await session.execute(select(notes))).all() == []
    async with db.transaction() as session:  # the connection is clean for the next one
        await session.execute(insert(notes).values(id=1, body="kept"))
    async with db.read() as session:
        assert (await session.execute(select(notes.c.body))).scalars().all() == ["kept"]


async def test_a_failed_first_statement_leaves_no_transaction_open(db: Database) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO nowhere VALUES (1)"))
    async with db.writer.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert isinstance(raw, OneCallConnection) and not raw.in_transaction


async def test_a_read_sees_one_snapshot_while_a_write_commits(db: Database) -> None:
    """BEGIN held back until the first statement still opens the snapshot there: what a
    writer commits after it is not seen by the read's next statement."""
    async with db.transaction() as session:
        await session.execute(insert(notes).values(id=1, body="before"))
    async with db.read() as session:
        first = (await session.execute(select(notes.c.body))).scalars().all()
        async with db.transaction() as writer:
            await writer.execute(insert(notes).values(id=2, body="during"))
        second = (await session.execute(select(notes.c.body))).scalars().all()
    assert first == second == ["before"]


async def test_a_second_writer_waits_for_the_first_to_commit(db: Database) -> None:
    """Two processes' writers on one file (two Databases here): the second's BEGIN IMMEDIATE,
    sent with its first statement, waits for the first writer's COMMIT, then goes on."""
    other = Database("notes", str(db.url))
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with db.transaction() as session:
            await session.execute(insert(notes).values(id=1, body="first"))
            first_in.set()
            await release.wait()
            order.append("first commits")

    async def second() -> None:
        await first_in.wait()
        async with other.transaction() as session:
            await session.execute(insert(notes).values(id=2, body="second"))
            order.append("second wrote")

    async def let_go() -> None:
        await first_in.wait()
        await asyncio.sleep(0.5)  # the second writer is waiting meanwhile (or not yet: passes)
        release.set()

    try:
        await asyncio.gather(first(), second(), let_go())
    finally:
        await other.dispose()
    assert order == ["first commits", "second wrote"]
    async with db.read() as session:
        assert (await session.execute(select(notes.c.id).order_by(notes.c.id))).scalars().all() == [
            1,
            2,
        ]
