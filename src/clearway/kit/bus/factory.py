"""Which bus the settings ask for: the embedded one, or NATS JetStream for several machines."""

from __future__ import annotations

from clearway.kit.bus.bus import Bus
from clearway.kit.bus.embedded import EmbeddedBus
from clearway.kit.bus.nats import NatsBus
from clearway.kit.bus.sns_sqs import SCHEME as SNS_SQS
from clearway.kit.bus.sns_sqs import SnsSqsBus
from clearway.settings import Settings


def open_bus(settings: Settings) -> Bus:
    """`bus_url` "embedded" (a SQLite file under the data directory), `nats://host:port`, or
    `sns-sqs://<name prefix>` (SNS and SQS on AWS)."""
    if settings.bus_url == "embedded":
        return EmbeddedBus.from_settings(settings)
    if settings.bus_url.startswith(("nats://", "tls://")):
        return NatsBus.from_settings(settings)
    if settings.bus_url.startswith(SNS_SQS):
        return SnsSqsBus.from_settings(settings)
    raise ValueError(
        f"unsupported bus_url {settings.bus_url!r}: use 'embedded', nats://... or sns-sqs://..."
    )
