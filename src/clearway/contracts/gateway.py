"""What the gateway publishes for the monitor: one record per request it answered, and an
audit event for every change an administrator asks for."""

from __future__ import annotations

from typing import ClassVar

from clearway.contracts._types import CallerRole
from clearway.kit.bus.contract import Event

SOURCE = "/clearway/gateway"


class GatewayRequest(Event):
    """A request and its answer. High-volume: published in telemetry batches
    (`<type>.batch`), not through an outbox."""

    TYPE: ClassVar[str] = "gateway.request"
    SOURCE: ClassVar[str] = SOURCE
    route: str
    """The route template (`/api/orders/{order_id}`), never the concrete path."""
    method: str
    status: int
    latency_ms: float
    role: CallerRole
    user_id: str | None
    client: str | None
    """The client's address (the monitor keeps only a keyed pseudonym of it)."""
    request_id: str


class AdminRequest(Event):
    """An administrator asked for a change (a write through the gateway). Published durably,
    straight to the bus, before the request reaches the service: if it cannot be, the change
    is refused, so no change goes unaudited."""

    TYPE: ClassVar[str] = "admin.request"
    SOURCE: ClassVar[str] = SOURCE
    by: str
    """The administrator's user id."""
    route: str
    """The route template, never the concrete path."""
    method: str
    request_id: str
    client: str | None
    """The client's address (the monitor's audit keeps only a keyed pseudonym of it)."""


EVENTS: tuple[type[Event], ...] = (GatewayRequest, AdminRequest)
