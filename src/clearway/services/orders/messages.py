"""Messages between the two sides of an order, encrypted under the order's key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.orders import MessagePosted
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.db import Database
from clearway.services.orders import domain
from clearway.services.orders.access import order_row, party_of, require_side
from clearway.services.orders.domain import Party
from clearway.services.orders.erasure import OrderTexts
from clearway.services.orders.tables import messages


@dataclass(frozen=True)
class Message:
    id: str
    order_id: str
    author_id: str
    author_party: str
    body: str  # `ERASED` once the order's key was shredded
    created_at: datetime


async def insert_message(
    session: AsyncSession,
    texts: OrderTexts,
    order_id: str,
    author_id: str,
    party: Party,
    text: str,
    now: datetime,
) -> Message:
    """Store a message (also the note an order is placed with)."""
    message_id = uuid.uuid4().hex
    await session.execute(
        messages.insert().values(
            id=message_id,
            order_id=order_id,
            author_id=author_id,
            author_party=party.value,
            body_enc=await texts.seal(session, order_id, "messages", "body_enc", message_id, text),
            created_at=now,
        )
    )
    return Message(message_id, order_id, author_id, party.value, text, now)


class Messages:
    def __init__(self, db: Database, texts: OrderTexts) -> None:
        self.db = db
        self.texts = texts

    async def post(self, caller: Caller, order_id: str, text: str) -> Message:
        assert caller.user_id is not None
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await order_row(session, caller, order_id)
            party = require_side(party_of(caller, row))
            domain.check_open(row.state, "messages")
            message = await insert_message(
                session, self.texts, row.id, caller.user_id, party, text, now
            )
            await publish(
                session,
                MessagePosted(
                    order_id=row.id,
                    message_id=message.id,
                    party=party.value,
                    notify=domain.other_party(party, row.customer_id, row.provider_id),
                ),
            )
            return message

    async def list(self, caller: Caller, order_id: str) -> list[Message]:
        async with self.db.read() as session:
            row = await order_row(session, caller, order_id)
            found = (
                await session.execute(
                    select(messages)
                    .where(messages.c.order_id == row.id)
                    .order_by(messages.c.created_at, messages.c.id)
                )
            ).all()
            return [
                Message(
                    id=m.id,
                    order_id=m.order_id,
                    author_id=m.author_id,
                    author_party=m.author_party,
                    body=await self.texts.read(session, "messages", "body_enc", m.id, m.body_enc),
                    created_at=m.created_at,
                )
                for m in found
            ]
