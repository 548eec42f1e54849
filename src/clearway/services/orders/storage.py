"""How much attachment storage an order and a user may take.

Each has a usage row; an upload takes its bytes with one conditional UPDATE of that row in the
transaction that records the attachment. On PostgreSQL the row lock makes a concurrent upload
wait and then re-check the new total, on SQLite the single writer does, so concurrent uploads
never take an order or a user past its quota.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.db import insert_ignoring
from clearway.services.orders import domain
from clearway.services.orders.tables import storage_usage


async def _take(session: AsyncSession, scope: str, owner_id: str, size: int, limit: int) -> None:
    row = (storage_usage.c.scope == scope, storage_usage.c.owner_id == owner_id)
    await session.execute(
        insert_ignoring(session, storage_usage).values(scope=scope, owner_id=owner_id, used_bytes=0)
    )
    taken = await session.scalar(
        update(storage_usage)
        .where(*row, storage_usage.c.used_bytes + size <= limit)
        .values(used_bytes=storage_usage.c.used_bytes + size)
        .returning(storage_usage.c.used_bytes)
    )
    if taken is None:
        used = int(await session.scalar(select(storage_usage.c.used_bytes).where(*row)) or 0)
        raise domain.TooLarge(
            f"{scope}-storage-full",
            f"This file has {size} bytes; the {scope}'s attachments already take {used} of "
            f"the {limit} bytes allowed.",
            size=size,
            used=used,
            limit=limit,
        )


async def take_storage(
    session: AsyncSession,
    *,
    order_id: str,
    user_id: str,
    size: int,
    order_limit: int,
    user_limit: int,
) -> None:
    """Count a file against its order's and its uploader's quotas, or refuse it (413, with the
    figures). Always the order first, then the user: concurrent uploads lock in one order."""
    await _take(session, "order", order_id, size, order_limit)
    await _take(session, "user", user_id, size, user_limit)
