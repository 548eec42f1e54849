"""In-app notifications: each user reads and marks only their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.caller import SignedIn
from clearway.kit.db import Database
from clearway.kit.problems import Problem
from clearway.services.common.tables import notifications


class NotificationOut(BaseModel):
    id: str
    type: str
    title: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


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
        dialect = session.get_bind().dialect.name
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(notifications)
        await session.execute(
            insert.values(
                id=uuid.uuid4().hex,
                user_id=user_id,
                event_id=event_id,
                type=type,
                title=title[:300],
                link=link,
                created_at=datetime.now(UTC),
            ).on_conflict_do_nothing()
        )

    async def erase(self, session: AsyncSession, user_id: str) -> None:
        await session.execute(delete(notifications).where(notifications.c.user_id == user_id))

    async def list(
        self, user_id: str, *, unread_only: bool, limit: int, offset: int
    ) -> dict[str, Any]:
        mine = notifications.c.user_id == user_id
        conditions = [mine, notifications.c.read_at.is_(None)] if unread_only else [mine]
        async with self.db.read() as session:
            total = (
                await session.execute(
                    select(func.count()).select_from(notifications).where(*conditions)
                )
            ).scalar_one()
            unread = (
                await session.execute(
                    select(func.count())
                    .select_from(notifications)
                    .where(mine, notifications.c.read_at.is_(None))
                )
            ).scalar_one()
            rows = (
                await session.execute(
                    select(notifications)
                    .where(*conditions)
                    .order_by(notifications.c.created_at.desc(), notifications.c.id)
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
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

    async def mark_read(self, user_id: str, notification_id: str | None) -> int:
        """Mark one (or, without an id, every) unread notification of the user as read."""
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
                    raise Problem(404, detail="No such notification.")
            result = await session.execute(
                update(notifications).where(*conditions).values(read_at=datetime.now(UTC))
            )
            return int(result.rowcount)  # type: ignore[attr-defined]


def build_inapp_router(store: InAppNotifications) -> APIRouter:
    router = APIRouter()

    @router.get("/api/common/notifications", response_model=NotificationPage)
    async def list_notifications(
        caller: SignedIn,
        unread: bool = False,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> Any:
        """Your notifications, newest first."""
        assert caller.user_id is not None
        return await store.list(caller.user_id, unread_only=unread, limit=limit, offset=offset)

    @router.post("/api/common/notifications/read", status_code=204)
    async def read_all(caller: SignedIn) -> Response:
        assert caller.user_id is not None
        await store.mark_read(caller.user_id, None)
        return Response(status_code=204)

    @router.post("/api/common/notifications/{notification_id}/read", status_code=204)
    async def read_one(notification_id: str, caller: SignedIn) -> Response:
        assert caller.user_id is not None
        await store.mark_read(caller.user_id, notification_id)
        return Response(status_code=204)

    return router
