"""What the gateway tells the monitor about requests.

Every request becomes a `gateway.request` record: statistics, best-effort (the kit's
`Telemetry` publishes in batches; a crash loses at most its last quarter second). An
administrator's change is different: an `admin.request` event is published durably *before*
the request reaches the service, so no change an administrator makes can go unaudited, even if
the process dies the moment after.
"""

from __future__ import annotations

from typing import Any

from clearway.contracts.gateway import AdminRequest, GatewayRequest
from clearway.kit.bus import Publisher
from clearway.kit.bus.telemetry import Telemetry

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestRecorder(Telemetry):
    def __init__(self, bus: Publisher) -> None:
        super().__init__(bus, "gateway-requests")
        self.bus = bus

    def record(self, data: dict[str, Any]) -> None:
        self.add(GatewayRequest, data)

    async def admin_action(self, action: AdminRequest) -> None:
        """Durably queued when this returns (raises when it cannot be)."""
        await self.bus.publish_many([action.to_cloudevent()])
