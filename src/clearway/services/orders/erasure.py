"""Erasure: when an account is deleted, what its user wrote or received in orders goes with it.

An order's free text (the note, messages, reasons, attachment names) is encrypted under that
order's own data key, subject `order:<id>`: a key that serves only the two users of the order,
its customer and its provider. So the keys of a user's orders together are the user's subject
keys for what they wrote or received. On `user.deleted` (from identity, through the bus) they
are shredded and the files the order carried are removed; what remains reads as erased.
"""

from __future__ import annotations

import logging
from typing import overload

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.identity import UserDeleted
from clearway.kit.crypto import FieldCipher, ShreddedError
from clearway.kit.files import FileStore
from clearway.services.orders.tables import attachments, orders

FILES = "attachments"
ERASED = "[erased]"

log = logging.getLogger(__name__)


def order_subject(order_id: str) -> str:
    return f"order:{order_id}"


class OrderTexts:
    """An order's free text, encrypted under the order's own key: so erasing one user's orders
    is shredding their keys."""

    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    async def seal(
        self,
        session: AsyncSession,
        order_id: str,
        table: str,
        column: str,
        record_id: str,
        text: str,
    ) -> bytes:
        return await self.cipher.encrypt(
            session, order_subject(order_id), table, column, record_id, text
        )

    @overload
    async def read(
        self, session: AsyncSession, table: str, column: str, record_id: str, value: bytes
    ) -> str: ...

    @overload
    async def read(
        self, session: AsyncSession, table: str, column: str, record_id: str, value: bytes | None
    ) -> str | None: ...

    async def read(
        self, session: AsyncSession, table: str, column: str, record_id: str, value: bytes | None
    ) -> str | None:
        """A field's text; `ERASED` once its key was shredded (an erasure, not damage)."""
        if value is None:
            return None
        try:
            return await self.cipher.decrypt(session, table, column, record_id, value)
        except ShreddedError:
            return ERASED


class Erasure:
    def __init__(self, cipher: FieldCipher, files: FileStore) -> None:
        self.cipher = cipher
        self.files = files

    async def on_user_deleted(self, event: UserDeleted, session: AsyncSession) -> None:
        user_id = event.user_id
        order_ids = (
            await session.scalars(
                select(orders.c.id).where(
                    or_(orders.c.customer_id == user_id, orders.c.provider_id == user_id)
                )
            )
        ).all()
        if not order_ids:
            return
        for order_id in order_ids:
            await self.cipher.shred(session, order_subject(order_id))
        files = (
            await session.scalars(
                select(attachments.c.id).where(attachments.c.order_id.in_(order_ids))
            )
        ).all()
        # Deleting is idempotent: should the transaction roll back, the redelivery finishes it.
        for attachment_id in files:
            await self.files.delete(FILES, attachment_id)
        log.info(
            "erased %d orders' texts and %d files of a deleted user", len(order_ids), len(files)
        )
