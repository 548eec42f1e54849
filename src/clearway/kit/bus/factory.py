"""Which bus the settings ask for: the embedded one, or NATS JetStream for several machines."""

from __future__ import annotations

from clearway.kit.bus.bus import Bus
from clearway.kit.bus.embedded import EmbeddedBus
from clearway.kit.bus.nats import NatsBus
from clearway.settings import Settings


def open_bus(settings: Settings) -> Bus:
    """`bus_url` "embedded" (a SQLite file under the data directory) or `nats://host:port`."""
    if settings.bus_url == "embedded":
        return EmbeddedBus.from_settings(settings)
    if settings.bus_url.startswith(("nats://", "tls://")):
        return NatsBus.from_settings(settings)
    raise ValueError(f"unsupported bus_url {settings.bus_url!r}: use 'embedded' or nats://...")
