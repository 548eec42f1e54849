"""The inbox: which events each consumer has already applied, in the consumer's own database.

Delivery is at least once, so a consumer records the event id in the same transaction as the
change the event causes; a second delivery finds the row and is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, CursorResult, DateTime, String, Table, delete
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.db import Database, insert_ignoring
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
    # One statement on both engines says which ids were new, without aborting a PostgreSQL
    # transaction on a duplicate: INSERT … ON CONFLICT DO NOTHING RETURNING.
    result = await session.execute(
        insert_ignoring(session, inbox).returning(inbox.c.event_id), rows
    )
    return set(result.scalars())


async def prune(db: Database, older_than: timedelta) -> int:
    """Forget applied events older than the window in which a duplicate can still arrive."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(inbox).where(inbox.c.processed_at < datetime.now(UTC) - older_than)
        )
    return cast(CursorResult[Any], result).rowcount
