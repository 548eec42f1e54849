"""The inbox: which events each consumer has already applied, in the consumer's own database.

Delivery is at least once, so a consumer records the event id in the same transaction as the
change the event causes; a second delivery finds the row and is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, CursorResult, DateTime, String, Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from clearway.kit.db import Database
from clearway.kit.tables import metadata

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, index=True),
)


async def record(session: AsyncSession, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """Record the events as applied by `consumer`; return the ids that were not recorded before."""
    now = datetime.now(UTC)
    rows = [
        {"consumer": consumer, "event_id": event_id, "processed_at": now} for event_id in event_ids
    ]
    if not rows:
        return set()
    result = await session.execute(_insert_new(session.get_bind().dialect.name), rows)
    return set(result.scalars())


def _insert_new(dialect: str) -> ReturningInsert[str]:
    # Both engines Clearway runs on say in one statement, without aborting a PostgreSQL
    # transaction on a duplicate, which ids were new: INSERT … ON CONFLICT DO NOTHING RETURNING.
    if dialect == "sqlite":
        return sqlite.insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
    if dialect == "postgresql":
        return postgresql.insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
    raise NotImplementedError(f"the inbox does not support {dialect}")


async def prune(db: Database, older_than: timedelta) -> int:
    """Forget applied events older than the window in which a duplicate can still arrive."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(inbox).where(inbox.c.processed_at < datetime.now(UTC) - older_than)
        )
    return cast(CursorResult[Any], result).rowcount
