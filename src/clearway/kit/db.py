"""One database per service: SQLAlchemy 2 (async), SQLite by default, PostgreSQL by URL
(`postgresql+asyncpg://…`, one database or schema per service; see docs/postgresql.md).

SQLite allows one writer at a time. Write transactions therefore go through a single pooled
connection that opens them with `BEGIN IMMEDIATE` (so a reader never has to upgrade its lock
and fail with SQLITE_BUSY), while reads use their own pool and never wait for the writer (WAL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Dialect,
    Row,
    Table,
    TypeDecorator,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from clearway.kit.owner_only import owner_only_file
from clearway.kit.sqlite_driver import OneCallConnection, connector

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
    # Shredded keys and deleted personal data must not linger in free pages.
    "PRAGMA secure_delete=ON",
)


def _sqlite_engine(url: str, *, writer: bool) -> AsyncEngine:
    engine = create_async_engine(
        url,
        async_creator=connector(url),
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1 if writer else 8,
        max_overflow=0 if writer else 8,
        pool_timeout=30,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver, which sends it with the first statement: executed as a
        # statement, it cost SQLAlchemy a statement's work in every transaction.
        driver = conn.connection.driver_connection
        assert isinstance(driver, OneCallConnection)
        driver.begin_with_next_statement(begin)

    return engine


# Per service and process: five services in one process, or several processes per service,
# must stay well under the server's max_connections (100 by default); see docs/postgresql.md.
POSTGRESQL_POOL_SIZE = 5
POSTGRESQL_MAX_OVERFLOW = 5


def _postgresql_engine(url: str, service: str, *, statement_cache: bool = True) -> AsyncEngine:
    """One pool for reads and writes: PostgreSQL has row locks and MVCC, no single writer.

    `?schema=<name>` in the URL puts the service in a schema of a shared database instead of a
    database of its own (the schema is created by the first migration if the role may).
    Without `statement_cache` (behind RDS Proxy or PgBouncer in transaction mode, where the next
    transaction may run on another server connection) neither asyncpg nor SQLAlchemy keeps
    prepared statements between queries.
    """
    parsed = make_url(url)
    settings = {"application_name": f"clearway-{service}"}
    if schema := parsed.query.get("schema"):
        # Then public, so the connection has a current schema before the first migration.
        settings["search_path"] = f'"{schema}", public'
        parsed = parsed.difference_update_query(["schema"])
    connect_args: dict[str, Any] = {"server_settings": settings}
    if not statement_cache:
        connect_args["statement_cache_size"] = 0
        parsed = parsed.update_query_dict({"prepared_statement_cache_size": "0"})
    return create_async_engine(
        parsed,
        pool_size=POSTGRESQL_POOL_SIZE,
        max_overflow=POSTGRESQL_MAX_OVERFLOW,
        pool_timeout=30,
        # A connection the server, a restart or a proxy closed is replaced before it is used.
        pool_pre_ping=True,
        # Idle connections are renewed before a firewall or pgbouncer drops them silently.
        pool_recycle=1800,
        connect_args=connect_args,
    )


T = TypeVar("T")


class Database:
    """The database of one service. Nothing else holds its URL."""

    def __init__(self, service: str, url: str, *, statement_cache: bool = True) -> None:
        self.service = service
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        schema = None if self.is_sqlite else make_url(url).query.get("schema")
        self.schema = str(schema) if schema else None
        if self.is_sqlite:
            path = make_url(url).database
            if path and path != ":memory:":
                owner_only_file(Path(path))
            self.writer = _sqlite_engine(url, writer=True)
            self.reader = _sqlite_engine(url, writer=False)
        else:
            self.writer = _postgresql_engine(url, service, statement_cache=statement_cache)
            self.reader = self.writer
        self._write_sessions = async_sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.reader, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed when the block ends, rolled back on error."""
        async with self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session that never waits for the writer."""
        async with self._read_sessions() as session, session.begin():
            yield session

    async def in_transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` in one write transaction: a start hook or a job that is one call."""
        async with self.transaction() as session:
            return await work(session)

    async def reading(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` in one read-only session."""
        async with self.read() as session:
            return await work(session)

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, on SQLite (which drops it) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dialect_insert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say what to do on a conflict (`on_conflict_do_nothing` or
    `_do_update`), in the dialect of the session: SQLite or PostgreSQL."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no INSERT … ON CONFLICT for {dialect}")


def insert_ignoring(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT DO NOTHING: a row already there is skipped, without aborting a
    PostgreSQL transaction (add `.returning(...)` to learn which rows were new)."""
    return dialect_insert(session, table).on_conflict_do_nothing()


async def page(
    session: AsyncSession,
    table: Table,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    limit: int,
    offset: int,
    columns: Sequence[ColumnElement[Any]] | None = None,
) -> tuple[Sequence[Row[Any]], int]:
    """One page of the rows of `table` that match `where` (their `columns`, or all), and how
    many match in all."""
    total = await session.scalar(select(func.count()).select_from(table).where(*where))
    chosen = select(*columns) if columns is not None else select(table)
    rows = (
        await session.execute(chosen.where(*where).order_by(*order_by).limit(limit).offset(offset))
    ).all()
    return rows, int(total or 0)
