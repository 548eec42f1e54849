"""Every request through the gateway becomes a `gateway.request` event for the monitor.

Recording costs the request path one append; the kit's `Telemetry` publishes in batches.
"""

from __future__ import annotations

from typing import Any

from clearway.contracts.gateway import GatewayRequest
from clearway.kit.bus import Publisher
from clearway.kit.bus.telemetry import Telemetry


class RequestRecorder(Telemetry):
    def __init__(self, bus: Publisher) -> None:
        super().__init__(bus, "gateway-requests")

    def record(self, data: dict[str, Any]) -> None:
        self.add(GatewayRequest(**data))
