"""How much attachment storage an order and a user may take.

Checked in the transaction that records the attachment, so on SQLite (one writer) two uploads
cannot both pass; on PostgreSQL concurrent uploads may overshoot by at most one file each.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.services.orders import domain
from clearway.services.orders.tables import attachments


async def _used(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(attachments.c.size), 0)).where(condition)
    )
    return int(total or 0)


async def check_quota(
    session: AsyncSession,
    *,
    order_id: str,
    user_id: str,
    size: int,
    order_limit: int,
    user_limit: int,
) -> None:
    """Refuse (413, with the figures) a file that would take an order or a user past its quota."""
    for scope, condition, limit in (
        ("order", attachments.c.order_id == order_id, order_limit),
        ("user", attachments.c.uploader_id == user_id, user_limit),
    ):
        used = await _used(session, condition)
        if used + size > limit:
            raise domain.TooLarge(
                f"{scope}-storage-full",
                f"This file has {size} bytes; the {scope}'s attachments already take {used} of "
                f"the {limit} bytes allowed.",
                size=size,
                used=used,
                limit=limit,
            )
