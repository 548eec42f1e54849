"""Who may see an order: its customer, its provider, and administrators. To anyone else an
order does not exist (404, so ids cannot be probed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.caller import Caller
from clearway.services.orders import domain
from clearway.services.orders.domain import Party
from clearway.services.orders.tables import orders

NOT_FOUND = domain.NotFound("order-not-found", "No such order.")


def party_of(caller: Caller, row: Any) -> Party:
    """The caller's side of this order; raises NotFound for anyone who has none."""
    if caller.role == "customer" and caller.user_id == row.customer_id:
        return Party.CUSTOMER
    if caller.role == "provider" and caller.user_id == row.provider_id:
        return Party.PROVIDER
    if caller.is_admin:
        return Party.ADMIN
    raise NOT_FOUND


def visible_to(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition for the orders a caller may list."""
    if caller.is_admin:
        return orders.c.id.is_not(None)
    if caller.role == "provider":
        return orders.c.provider_id == caller.user_id
    return orders.c.customer_id == caller.user_id


async def order_row(session: AsyncSession, caller: Caller, order_id: str) -> Any:
    """The order's row, if the caller may see it."""
    row = (await session.execute(select(orders).where(orders.c.id == order_id))).first()
    if row is None:
        raise NOT_FOUND
    party_of(caller, row)
    return row


def require_side(party: Party) -> Party:
    """Messages and files come from the two sides of an order, not from administrators."""
    if party not in (Party.CUSTOMER, Party.PROVIDER):
        raise domain.Forbidden(
            "not-a-party", "Only the customer and the provider of an order take part in it."
        )
    return party
