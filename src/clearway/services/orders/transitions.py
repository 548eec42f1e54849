"""Writing an order's transition: the conditional update from the version that was read, the
step in its history (the reason encrypted under the order's key) and the event it publishes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus import publish
from clearway.services.orders import domain
from clearway.services.orders.domain import Action, Party, State
from clearway.services.orders.erasure import OrderTexts
from clearway.services.orders.tables import order_transitions, orders


async def record_step(
    session: AsyncSession,
    texts: OrderTexts,
    order_id: str,
    action: str,
    source: State | None,
    target: State,
    party: Party,
    actor_id: str | None,
    reason: str | None,
    now: datetime,
) -> None:
    step_id = uuid.uuid4().hex
    await session.execute(
        order_transitions.insert().values(
            id=step_id,
            order_id=order_id,
            action=action,
            from_state=source.value if source else None,
            to_state=target.value,
            party=party.value,
            actor_id=actor_id,
            reason_enc=(
                await texts.seal(
                    session, order_id, "order_transitions", "reason_enc", step_id, reason
                )
                if reason
                else None
            ),
            at=now,
        )
    )


async def apply_transition(
    session: AsyncSession,
    texts: OrderTexts,
    row: Any,
    action: Action,
    target: State,
    party: Party,
    actor_id: str | None,
    reason: str | None,
    values: dict[str, Any],
) -> None:
    """The conditional write that makes a transition: only from the version that was read."""
    now = datetime.now(UTC)
    result = await session.execute(
        update(orders)
        .where(orders.c.id == row.id, orders.c.version == row.version)
        .values(state=target.value, version=row.version + 1, updated_at=now, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise domain.CONCURRENT_CHANGE
    await record_step(
        session, texts, row.id, action.value, State(row.state), target, party, actor_id, reason, now
    )
    await publish(
        session,
        domain.EVENT_OF[action](
            order_id=row.id,
            customer_id=row.customer_id,
            provider_id=row.provider_id,
            from_state=row.state,
            state=target.value,
            party=party.value,
            version=row.version + 1,
            notify=domain.other_party(party, row.customer_id, row.provider_id),
        ),
    )
