"""What the gateway publishes: one record per request it answered, for the monitor."""

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


EVENTS: tuple[type[Event], ...] = (GatewayRequest,)
