"""The events orders publishes. They carry ids, states and dates, never personal data.

`notify` lists the users the change concerns; the common service tells them (in the app and
by mail) without orders knowing anyone's address.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus import CloudEvent, publish

SOURCE = "/clearway/orders"

ORDER_CREATED = "order.created"
ORDER_REMINDER = "order.answer_reminder"
MESSAGE_POSTED = "order.message_posted"
ATTACHMENT_ADDED = "order.attachment_added"
REPORT_ISSUED = "report.issued"
REPORT_WITHDRAWN = "report.withdrawn"
REPORT_EXPIRING = "report.expiring"
CLEARANCE_ISSUED = "clearance.issued"
CLEARANCE_REVOKED = "clearance.revoked"
PROVIDER_LISTED = "provider.listed"
PROVIDER_UPDATED = "provider.updated"
PROVIDER_SUSPENDED = "provider.suspended"


async def emit(
    session: AsyncSession,
    type: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
    notify: list[str] | None = None,
) -> None:
    if notify is not None:
        data = {**data, "notify": sorted(set(notify))}
    await publish(session, CloudEvent.new(SOURCE, type, data, subject=subject))
