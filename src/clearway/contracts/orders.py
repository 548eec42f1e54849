"""The events orders publishes. They carry ids, states and dates, never personal data.

`notify` lists the users a change concerns; the common service tells them (in the app and by
mail) without orders knowing anyone's address.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import field_validator

from clearway.kit.bus.contract import Event

SOURCE = "/clearway/orders"

OrderState = Literal[
    "submitted",
    "quoted",
    "accepted",
    "in_progress",
    "report_delivered",
    "completed",
    "declined",
    "cancelled",
    "expired",
]
Party = Literal["customer", "provider", "admin", "system"]
"""Who acted on an order: one side of it, an administrator, or the platform."""
ProviderStatus = Literal["pending", "listed", "suspended", "removed"]


class OrdersEvent(Event):
    SOURCE: ClassVar[str] = SOURCE


class Notifying(OrdersEvent):
    """An event its users hear of: `notify` names them, each once, in a stable order."""

    notify: list[str]

    @field_validator("notify")
    @classmethod
    def _each_once(cls, users: list[str]) -> list[str]:
        return sorted(set(users))


class OrderEvent(Notifying):
    SUBJECT: ClassVar[str | None] = "order_id"
    order_id: str


class OrderCreated(OrderEvent):
    TYPE: ClassVar[str] = "order.created"
    customer_id: str
    provider_id: str
    market: str
    hs_code: str
    requirements: list[str]
    state: OrderState


class OrderTransitioned(OrderEvent):
    """An order moved from one state to another (each move has its own type below)."""

    customer_id: str
    provider_id: str
    from_state: OrderState
    state: OrderState
    party: Party
    version: int


class OrderQuoted(OrderTransitioned):
    TYPE: ClassVar[str] = "order.quoted"


class OrderAccepted(OrderTransitioned):
    TYPE: ClassVar[str] = "order.accepted"


class OrderDeclined(OrderTransitioned):
    TYPE: ClassVar[str] = "order.declined"


class OrderStarted(OrderTransitioned):
    TYPE: ClassVar[str] = "order.started"


class OrderReportDelivered(OrderTransitioned):
    TYPE: ClassVar[str] = "order.report_delivered"


class OrderCompleted(OrderTransitioned):
    TYPE: ClassVar[str] = "order.completed"


class OrderCancelled(OrderTransitioned):
    TYPE: ClassVar[str] = "order.cancelled"


class OrderExpired(OrderTransitioned):
    TYPE: ClassVar[str] = "order.expired"


class OrderAnswerReminder(OrderEvent):
    """A submitted order is close to expiring unanswered: its provider is reminded once."""

    TYPE: ClassVar[str] = "order.answer_reminder"
    customer_id: str
    provider_id: str
    state: OrderState
    answer_by: datetime


class MessagePosted(OrderEvent):
    TYPE: ClassVar[str] = "order.message_posted"
    message_id: str
    party: Party


class AttachmentAdded(OrderEvent):
    TYPE: ClassVar[str] = "order.attachment_added"
    attachment_id: str
    party: Party


class ReportEvent(Notifying):
    SUBJECT: ClassVar[str | None] = "report_id"
    order_id: str
    report_id: str
    provider_id: str
    customer_id: str


class ReportIssued(ReportEvent):
    TYPE: ClassVar[str] = "report.issued"
    requirements: list[str]
    expires_on: date


class ReportWithdrawn(ReportEvent):
    """Clearances relying on the report are revoked in the same transaction."""

    TYPE: ClassVar[str] = "report.withdrawn"


class ReportExpiring(ReportEvent):
    TYPE: ClassVar[str] = "report.expiring"
    expires_on: date


class ClearanceEvent(Notifying):
    SUBJECT: ClassVar[str | None] = "clearance_id"
    clearance_id: str
    customer_id: str


class ClearanceIssued(ClearanceEvent):
    TYPE: ClassVar[str] = "clearance.issued"
    market: str
    hs_code: str
    reports: list[str]


class ClearanceRevoked(ClearanceEvent):
    TYPE: ClassVar[str] = "clearance.revoked"
    reason: str


class ProviderEvent(OrdersEvent):
    """A provider's directory entry changed; `by` is the user who changed it, if one did."""

    SUBJECT: ClassVar[str | None] = "provider_id"
    provider_id: str
    status: ProviderStatus
    by: str | None


class ProviderListed(ProviderEvent):
    TYPE: ClassVar[str] = "provider.listed"


class ProviderUpdated(ProviderEvent):
    TYPE: ClassVar[str] = "provider.updated"


class ProviderSuspended(ProviderEvent):
    TYPE: ClassVar[str] = "provider.suspended"


EVENTS: tuple[type[Event], ...] = (
    OrderCreated,
    OrderQuoted,
    OrderAccepted,
    OrderDeclined,
    OrderStarted,
    OrderReportDelivered,
    OrderCompleted,
    OrderCancelled,
    OrderExpired,
    OrderAnswerReminder,
    MessagePosted,
    AttachmentAdded,
    ReportIssued,
    ReportWithdrawn,
    ReportExpiring,
    ClearanceIssued,
    ClearanceRevoked,
    ProviderListed,
    ProviderUpdated,
    ProviderSuspended,
)
