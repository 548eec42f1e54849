"""Common's HTTP API: the mailbox, the key service and the dead letters for administrators,
and each signed-in user's own in-app notifications."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import EmailStr

from clearway.kit.bus import Bus
from clearway.kit.caller import Admin, SignedIn
from clearway.kit.crypto import KeyStore
from clearway.kit.db import Database
from clearway.kit.problems import Problem
from clearway.services.common.keys import master_key_versions, rotate_master_key
from clearway.services.common.mailbox import Mailbox
from clearway.services.common.notifications import InAppNotifications
from clearway.services.common.schemas import (
    QUEUE_NAME,
    DeadLetterOut,
    KeyVersion,
    MailOut,
    MailPage,
    NotificationPage,
    Replayed,
    ReplayIn,
    Rotated,
)


def build_router(
    mailbox: Mailbox,
    inapp: InAppNotifications,
    keystore: KeyStore,
    db: Database,
    bus: Bus,
) -> APIRouter:
    router = APIRouter()

    @router.get("/api/common/mailbox", response_model=MailPage)
    async def list_mail(
        _: Admin,
        recipient: EmailStr | None = None,
        template: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> Any:
        """Mail kept in the local mailbox (when no SMTP relay is configured), newest first."""
        items, total = await mailbox.list(
            recipient=str(recipient) if recipient else None,
            template=template,
            limit=limit,
            offset=offset,
        )
        return {
            "items": [asdict(m) for m in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    @router.get("/api/common/mailbox/{message_id}", response_model=MailOut)
    async def read_mail(message_id: str, _: Admin) -> Any:
        mail = await mailbox.get(message_id)
        if mail is None:
            raise Problem(404, detail="No such mail.")
        return asdict(mail)

    @router.get("/api/common/keys", response_model=list[KeyVersion])
    async def key_versions(_: Admin) -> Any:
        """Versions of the platform master key; only the active one wraps new data keys."""
        return [asdict(k) for k in master_key_versions(keystore)]

    @router.post("/api/common/keys/rotate", response_model=Rotated)
    async def rotate(admin: Admin) -> Any:
        """Make a new master key version; every service rewraps its data keys in the background."""
        version = await rotate_master_key(keystore, db, by=admin.user_id)
        return {"version": version}

    @router.get("/api/common/notifications", response_model=NotificationPage)
    async def list_notifications(
        caller: SignedIn,
        unread: bool = False,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> Any:
        """Your notifications, newest first."""
        assert caller.user_id is not None
        return await inapp.list(caller.user_id, unread_only=unread, limit=limit, offset=offset)

    @router.post("/api/common/notifications/read", status_code=204)
    async def read_all(caller: SignedIn) -> Response:
        assert caller.user_id is not None
        await inapp.mark_read(caller.user_id, None)
        return Response(status_code=204)

    @router.post("/api/common/notifications/{notification_id}/read", status_code=204)
    async def read_one(notification_id: str, caller: SignedIn) -> Response:
        assert caller.user_id is not None
        if await inapp.mark_read(caller.user_id, notification_id) is None:
            raise Problem(404, detail="No such notification.")
        return Response(status_code=204)

    @router.get("/api/common/dead-letters", response_model=list[DeadLetterOut])
    async def list_dead_letters(
        _: Admin, queue: Annotated[str | None, Query(pattern=QUEUE_NAME)] = None
    ) -> Any:
        """Events a service's queue gave up on, oldest first; replay puts them back."""
        # The same bus operations as `clearway events dlq list|replay`.
        return [
            {
                "id": letter.id,
                "queue": letter.queue,
                "event_id": letter.event.id,
                "event_type": letter.event.type,
                "event_source": letter.event.source,
                "subject": letter.event.subject,
                "data": letter.event.data,
                "attempts": letter.attempts,
                "last_error": letter.last_error,
                "failed_at": letter.failed_at,
            }
            for letter in await bus.dead_letters(queue)
        ]

    @router.post("/api/common/dead-letters/replay", response_model=Replayed)
    async def replay_dead_letters(body: ReplayIn, _: Admin) -> Any:
        """Put dead letters back on their queues with fresh attempts."""
        count = await bus.replay(None if body.all else body.ids, body.queue)
        if body.ids and count == 0:
            raise Problem(404, detail="None of these dead letters exists (any more).")
        return {"replayed": count}

    return router
