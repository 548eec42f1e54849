"""Events: CloudEvents through a transactional outbox to a bus, applied once through an inbox.

A service writes events with `publish(session, event)` inside its own transaction; an
`OutboxRelay` moves them to the `Bus`, which fans them out to one durable queue per subscriber;
handlers wrapped in `idempotent` apply each event once however often it is delivered.
"""

from clearway.kit.bus.bus import BatchHandler, Bus, DeadLetter, Handler, Publisher, matches
from clearway.kit.bus.consumer import idempotent, idempotent_batch
from clearway.kit.bus.embedded import EmbeddedBus
from clearway.kit.bus.events import CloudEvent
from clearway.kit.bus.factory import open_bus
from clearway.kit.bus.inbox import prune as prune_inbox
from clearway.kit.bus.nats import NatsBus
from clearway.kit.bus.outbox import OutboxRelay, publish

__all__ = [
    "BatchHandler",
    "Bus",
    "CloudEvent",
    "DeadLetter",
    "EmbeddedBus",
    "Handler",
    "NatsBus",
    "OutboxRelay",
    "Publisher",
    "idempotent",
    "idempotent_batch",
    "matches",
    "open_bus",
    "prune_inbox",
    "publish",
]
