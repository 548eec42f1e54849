"""Events: CloudEvents through a transactional outbox to a bus, applied once through an inbox.

Events are typed (`Event` subclasses, the contracts in `clearway.contracts`). A service writes
them with `publish(session, OrderCreated(...))` inside its own transaction and reacts to them
with `subscribe(OrderCreated, handler)`; an
`OutboxRelay` moves them to the `Bus`, which fans them out to one durable queue per subscriber;
handlers wrapped in `idempotent` apply each event once however often it is delivered.
"""

from clearway.kit.bus.bus import (
    Bus,
    DeadLetter,
    Handler,
    Publisher,
    matches,
)
from clearway.kit.bus.consumer import idempotent, idempotent_batch
from clearway.kit.bus.contract import Event, Subscription, subscribe
from clearway.kit.bus.embedded import EmbeddedBus
from clearway.kit.bus.events import CloudEvent
from clearway.kit.bus.factory import open_bus
from clearway.kit.bus.inbox import prune as prune_inbox
from clearway.kit.bus.nats import NatsBus
from clearway.kit.bus.outbox import OutboxRelay, publish

__all__ = [
    "Bus",
    "CloudEvent",
    "DeadLetter",
    "EmbeddedBus",
    "Event",
    "Handler",
    "NatsBus",
    "OutboxRelay",
    "Publisher",
    "Subscription",
    "idempotent",
    "idempotent_batch",
    "matches",
    "open_bus",
    "prune_inbox",
    "publish",
    "subscribe",
]
