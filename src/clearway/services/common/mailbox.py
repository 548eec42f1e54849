"""The local mailbox: where mail goes when no SMTP relay is configured, readable by admins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.crypto import BlindIndex, FieldCipher, ShreddedError
from clearway.kit.db import Database, page
from clearway.kit.mail import MailMessage
from clearway.services.common.domain import user_subject
from clearway.services.common.tables import mailbox

SUBJECT = "service:mailbox"  # mail to no known user (none today), and mail stored before
FIELDS = ("recipient", "subject", "text", "html")
# What a mail of a deleted user reads as: its key is shredded, its fields are noise.
ERASED = "erased"


@dataclass(frozen=True)
class StoredMail:
    id: str
    message_id: str
    template: str | None
    recipient: str
    subject: str
    text: str
    html: str | None
    created_at: datetime


class Mailbox:
    def __init__(self, db: Database, cipher: FieldCipher, blind_index: BlindIndex) -> None:
        self.db = db
        self.cipher = cipher
        self.blind_index = blind_index

    def _index(self, recipient: str) -> str:
        return self.blind_index.compute("common", "mailbox", "recipient", recipient)

    async def store(
        self,
        session: AsyncSession,
        message: MailMessage,
        event_id: str | None,
        user_id: str | None = None,
    ) -> None:
        mail_id = uuid.uuid4().hex
        subject = user_subject(user_id) if user_id else SUBJECT
        plain = {
            "recipient": message.to,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
        }
        values: dict[str, object] = {}
        for column, value in plain.items():
            values[f"{column}_enc"] = (
                None
                if value is None
                else await self.cipher.encrypt(
                    session, subject, "mailbox", f"{column}_enc", mail_id, value
                )
            )
        await session.execute(
            mailbox.insert().values(
                id=mail_id,
                message_id=message.message_id,
                template=message.template,
                event_id=event_id,
                recipient_index=self._index(message.to),
                user_id=user_id,
                created_at=datetime.now(UTC),
                **values,
            )
        )

    async def list(
        self, *, recipient: str | None, template: str | None, limit: int, offset: int
    ) -> tuple[list[StoredMail], int]:
        conditions = []
        if template:
            conditions.append(mailbox.c.template == template)
        if recipient:
            conditions.append(mailbox.c.recipient_index == self._index(recipient))
        async with self.db.read() as session:
            order = [mailbox.c.created_at.desc(), mailbox.c.id]
            rows, total = await page(session, mailbox, conditions, order, limit, offset)
            return [await self._open(session, row) for row in rows], total

    async def get(self, mail_id: str) -> StoredMail | None:
        async with self.db.read() as session:
            row = (await session.execute(select(mailbox).where(mailbox.c.id == mail_id))).first()
            return None if row is None else await self._open(session, row)

    async def erase(self, session: AsyncSession, user_id: str) -> None:
        """Crypto-shred the user's mail and forget its address's index: what stays is a row
        that says a mail of some template was sent, and reads as erased."""
        # A key to shred even if no mail was kept yet, so mail that arrives late is refused too.
        await self.cipher.encrypt(session, user_subject(user_id), "mailbox", ERASED, user_id, "")
        await self.cipher.shred(session, user_subject(user_id))
        await session.execute(
            update(mailbox).where(mailbox.c.user_id == user_id).values(recipient_index=ERASED)
        )

    async def _open(self, session: AsyncSession, row: object) -> StoredMail:
        mail_id: str = row.id  # type: ignore[attr-defined]
        values: dict[str, str | None] = {}
        try:
            for column in FIELDS:
                sealed = getattr(row, f"{column}_enc")
                values[column] = (
                    None
                    if sealed is None
                    else await self.cipher.decrypt(
                        session, "mailbox", f"{column}_enc", mail_id, sealed
                    )
                )
        except ShreddedError:
            values = {"recipient": ERASED, "subject": ERASED, "text": ERASED, "html": None}
        return StoredMail(
            id=mail_id,
            message_id=row.message_id,  # type: ignore[attr-defined]
            template=row.template,  # type: ignore[attr-defined]
            recipient=values["recipient"] or "",
            subject=values["subject"] or "",
            text=values["text"] or "",
            html=values["html"],
            created_at=row.created_at,  # type: ignore[attr-defined]
        )
