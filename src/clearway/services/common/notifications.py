"""In-app notifications: each user reads and marks only their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.db import Database, insert_ignoring, page
from clearway.services.common.tables import notifications


class InAppNotifications:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        session: AsyncSession,
        *,
        user_id: str,
        event_id: str,
        type: str,
        title: str,
        link: str | None,
    ) -> None:
        """Store one notification; the same event twice for a user is kept once."""
        await session.execute(
            insert_ignoring(session, notifications).values(
                id=uuid.uuid4().hex,
                user_id=user_id,
                event_id=event_id,
                type=type,
                title=title[:300],
                link=link,
                created_at=datetime.now(UTC),
            )
        )

    async def erase(self, session: AsyncSession, user_id: str) -> None:
        await session.execute(delete(notifications).where(notifications.c.user_id == user_id))

    async def list(
        self, user_id: str, *, unread_only: bool, limit: int, offset: int
    ) -> dict[str, Any]:
        mine = notifications.c.user_id == user_id
        conditions = [mine, notifications.c.read_at.is_(None)] if unread_only else [mine]
        async with self.db.read() as session:
            order = [notifications.c.created_at.desc(), notifications.c.id]
            rows, total = await page(session, notifications, conditions, order, limit, offset)
            unread = (
                await session.execute(
                    select(func.count())
                    .select_from(notifications)
                    .where(mine, notifications.c.read_at.is_(None))
                )
            ).scalar_one()
        return {
            "items": [
                {
                    "id": r.id,
                    "type": r.type,
                    "title": r.title,
                    "link": r.link,
                    "created_at": r.created_at,
                    "read_at": r.read_at,
                }
                for r in rows
            ],
            "total": total,
            "unread": unread,
            "limit": limit,
            "offset": offset,
        }

    async def mark_read(self, user_id: str, notification_id: str | None) -> int | None:
        """Mark one (or, without an id, every) unread notification of the user as read; how
        many. `None`: the user has no notification of that id."""
        conditions = [notifications.c.user_id == user_id, notifications.c.read_at.is_(None)]
        if notification_id is not None:
            conditions.append(notifications.c.id == notification_id)
        async with self.db.transaction() as session:
            if notification_id is not None:
                exists = await session.execute(
                    select(notifications.c.id).where(
                        notifications.c.id == notification_id, notifications.c.user_id == user_id
                    )
                )
                if exists.first() is None:
                    return None
            result = await session.execute(
                update(notifications).where(*conditions).values(read_at=datetime.now(UTC))
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
