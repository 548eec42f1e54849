"""Documents attached to an order: checked, scanned, stored sealed, counted against the order's
and the uploader's quotas, and gone (410) once erased with the account of one of its users."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.orders import AttachmentAdded
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.db import Database
from clearway.kit.files import FileNotFound, FileStore
from clearway.services.orders import domain
from clearway.services.orders.access import order_row, party_of, require_side
from clearway.services.orders.erasure import ERASED, FILES, OrderTexts
from clearway.services.orders.scanning import Scanner, check_upload
from clearway.services.orders.storage import take_storage
from clearway.services.orders.tables import attachments
from clearway.settings import Settings

ATTACHMENT_ERASED = domain.Gone(
    "attachment-erased", "This attachment was erased with the account of one of the order's users."
)


@dataclass(frozen=True)
class Attachment:
    id: str
    order_id: str
    uploader_id: str
    filename: str  # `ERASED` once the order's key was shredded
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class Attachments:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        texts: OrderTexts,
        files: FileStore,
        scanner: Scanner,
    ) -> None:
        self.max_bytes = settings.orders_attachment_max_bytes
        self.order_quota = settings.orders_order_storage_bytes
        self.user_quota = settings.orders_user_storage_bytes
        self.db = db
        self.texts = texts
        self.files = files
        self.scanner = scanner

    async def add(
        self, caller: Caller, order_id: str, filename: str, content_type: str, content: bytes
    ) -> Attachment:
        assert caller.user_id is not None
        async with self.db.read() as session:
            row = await order_row(session, caller, order_id)
        party = require_side(party_of(caller, row))
        domain.check_open(row.state, "attachments")
        upload = check_upload(filename, content_type, content, self.max_bytes)
        verdict = await self.scanner.scan(upload)
        if not verdict.clean:
            raise domain.Invalid("file-rejected", f"The file was refused: {verdict.reason}.")
        attachment_id = uuid.uuid4().hex
        stored = await self.files.put(FILES, attachment_id, upload.content, upload.content_type)
        now = datetime.now(UTC)
        try:
            async with self.db.transaction() as session:
                current = await order_row(session, caller, order_id)
                domain.check_open(current.state, "attachments")
                await take_storage(
                    session,
                    order_id=row.id,
                    user_id=caller.user_id,
                    size=stored.size,
                    order_limit=self.order_quota,
                    user_limit=self.user_quota,
                )
                await session.execute(
                    attachments.insert().values(
                        id=attachment_id,
                        order_id=row.id,
                        uploader_id=caller.user_id,
                        filename_enc=await self.texts.seal(
                            session,
                            row.id,
                            "attachments",
                            "filename_enc",
                            attachment_id,
                            upload.filename,
                        ),
                        content_type=stored.content_type,
                        size=stored.size,
                        sha256=stored.sha256,
                        created_at=now,
                    )
                )
                await publish(
                    session,
                    AttachmentAdded(
                        order_id=row.id,
                        attachment_id=attachment_id,
                        party=party.value,
                        notify=domain.other_party(party, row.customer_id, row.provider_id),
                    ),
                )
        except BaseException:
            with contextlib.suppress(Exception):
                await self.files.delete(FILES, attachment_id)
            raise
        return Attachment(
            id=attachment_id,
            order_id=row.id,
            uploader_id=caller.user_id,
            filename=upload.filename,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            created_at=now,
        )

    async def list(self, caller: Caller, order_id: str) -> list[Attachment]:
        async with self.db.read() as session:
            row = await order_row(session, caller, order_id)
            found = (
                await session.execute(
                    select(attachments)
                    .where(attachments.c.order_id == row.id)
                    .order_by(attachments.c.created_at, attachments.c.id)
                )
            ).all()
            return [await self._attachment(session, a) for a in found]

    async def _attachment(self, session: AsyncSession, a: Any) -> Attachment:
        return Attachment(
            id=a.id,
            order_id=a.order_id,
            uploader_id=a.uploader_id,
            filename=await self.texts.read(
                session, "attachments", "filename_enc", a.id, a.filename_enc
            ),
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            created_at=a.created_at,
        )

    async def download(
        self, caller: Caller, order_id: str, attachment_id: str
    ) -> tuple[Attachment, bytes]:
        """The attachment and its content (410 once erased)."""
        async with self.db.read() as session:
            row = await order_row(session, caller, order_id)
            found = (
                await session.execute(
                    select(attachments).where(
                        attachments.c.id == attachment_id, attachments.c.order_id == row.id
                    )
                )
            ).first()
            if found is None:
                raise domain.NotFound("attachment-not-found", "No such attachment.")
            meta = await self._attachment(session, found)
        if meta.filename == ERASED:
            raise ATTACHMENT_ERASED
        try:
            content, _ = await self.files.get(FILES, attachment_id)
        except FileNotFound as exc:
            raise ATTACHMENT_ERASED from exc
        return meta, content
