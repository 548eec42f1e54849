"""Common's HTTP API: the mailbox and the key service, for administrators."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, EmailStr

from clearway.contracts.common import KeyRotated
from clearway.kit.bus import publish
from clearway.kit.caller import Admin
from clearway.kit.crypto import KeyStore
from clearway.kit.db import Database
from clearway.kit.problems import Problem
from clearway.services.common.mailbox import Mailbox


class MailOut(BaseModel):
    id: str
    message_id: str
    template: str | None
    recipient: str
    subject: str
    text: str
    html: str | None
    created_at: datetime


class MailPage(BaseModel):
    items: list[MailOut]
    total: int
    limit: int
    offset: int


class KeyVersion(BaseModel):
    version: int
    state: str
    created_at: datetime


class Rotated(BaseModel):
    version: int


def build_router(mailbox: Mailbox, keystore: KeyStore, db: Database) -> APIRouter:
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
        keystore.reload()
        return [asdict(k) for k in keystore.versions()]

    @router.post("/api/common/keys/rotate", response_model=Rotated)
    async def rotate(admin: Admin) -> Any:
        """Make a new master key version; every service rewraps its data keys in the background."""
        version = await rotate_master_key(keystore, db, by=admin.user_id)
        return {"version": version}

    return router


async def rotate_master_key(keystore: KeyStore, db: Database, by: str | None) -> int:
    version = keystore.rotate()
    async with db.transaction() as session:
        await publish(session, KeyRotated(version=version, by=by))
    return version
