"""SQLite through aiosqlite, one call to the connection's thread per statement.

aiosqlite runs each sqlite3 call on a thread of its own and wakes the event loop with the
answer. SQLAlchemy's adapter makes three or four such calls for every statement (open a
cursor, execute, fetch the rows, close the cursor), and four more around them (BEGIN, COMMIT,
and the pool's ROLLBACK when it takes the connection back), while SQLite answers a statement
of Clearway's in microseconds: the calls are the cost. Each is a wake-up of that thread and
then of the event loop, and under load each waits for the next turn of a busy loop, for as
long as a write transaction holds the one writer. Here:

- a statement is one call: the cursor executes, fetches and closes on the thread and keeps
  the rows, which SQLAlchemy then reads from memory;
- BEGIN waits for the transaction's first statement and goes in the same call (a transaction
  with no statement makes no call at all); the engines hand it over directly
  (`begin_with_next_statement`), not as a statement of their own;
- a ROLLBACK with no transaction open (the pool's, after a COMMIT) makes no call.

A read is then two calls (BEGIN with its statement, COMMIT), a write transaction one per
statement and one for its COMMIT: ten and seventeen before, for a read of one row and an
order's four inserts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

# What one call brings back: description, rowcount, lastrowid, rows.
_Outcome = tuple[Any, int, int | None, list[Any]]


def _run(
    connection: sqlite3.Connection, begin: str | None, many: bool, sql: str, parameters: Any
) -> _Outcome:
    """On the connection's thread: the BEGIN held back, the statement, its rows, and a closed
    cursor."""
    if begin is not None:
        connection.execute(begin)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


_BEGINS = frozenset({"BEGIN", "BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})


class OneCallCursor:
    """The cursor SQLAlchemy's aiosqlite adapter drives. Opening and closing it cost no call;
    `execute` is the one call; the fetches read what it brought back."""

    arraysize = 1

    def __init__(self, connection: OneCallConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneCallCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> OneCallCursor:
        return await self._call(False, sql, parameters)

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> OneCallCursor:
        return await self._call(True, sql, parameters)

    async def _call(self, many: bool, sql: str, parameters: Any) -> OneCallCursor:
        outcome = await self._connection.statement(many, sql, parameters)
        self.description, self.rowcount, self.lastrowid, rows = outcome
        self._rows = rows
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        self._rows = []


class OneCallConnection(aiosqlite.Connection):
    """aiosqlite's connection with cursors that make one call per statement."""

    # A BEGIN not sent yet: it goes with the transaction's first statement.
    _begin: str | None = None

    def cursor(self) -> OneCallCursor:  # type: ignore[override]
        return OneCallCursor(self)

    def begin_with_next_statement(self, begin: str) -> None:
        """Hold `begin` (BEGIN or BEGIN IMMEDIATE) for the next statement: what executing it
        through SQLAlchemy would do, without SQLAlchemy's work for a statement."""
        if not self.in_transaction:
            self._begin = begin

    async def statement(self, many: bool, sql: str, parameters: Any) -> _Outcome:
        if not many and not parameters and sql.upper() in _BEGINS:
            self.begin_with_next_statement(sql)
            return None, -1, None, []
        begin, self._begin = self._begin, None
        call = partial(_run, self._conn, begin, many, sql, parameters)
        outcome: _Outcome = await self._execute(call)  # type: ignore[no-untyped-call]
        return outcome

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open, or about to be with the next statement. Read
        between calls only, when the thread is not using the connection."""
        return self._begin is not None or self._conn.in_transaction

    async def commit(self) -> None:
        if self._begin is not None:
            self._begin = None  # nothing ran, nothing to commit
            return
        await super().commit()

    async def rollback(self) -> None:
        if self._begin is not None:
            self._begin = None
            return
        if self._conn.in_transaction:
            await super().rollback()


def connector(url: str) -> Callable[[], Awaitable[OneCallConnection]]:
    """An `async_creator` for SQLAlchemy: opens the database of `url` with the arguments its
    aiosqlite dialect would use."""
    arguments, options = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))

    async def connect() -> OneCallConnection:
        opener = partial(sqlite3.connect, *arguments, **options)
        connection = OneCallConnection(opener, iter_chunk_size=64)
        connection._thread.daemon = True  # as the dialect does: a pool never holds exit up
        await connection
        return connection

    return connect
