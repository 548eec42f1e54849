"""What the consumers of the NATS and AWS buses do around a handler: admit a delivery (or send
it straight to the dead letters), and hand a group of deliveries to the queue's handler."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clearway.kit.bus.bus import QueueSubscription, describe_error
from clearway.kit.bus.events import CloudEvent

NOT_SETTLED = "delivered again after the last attempt (did the consumer crash?)"


@dataclass(frozen=True, slots=True)
class Refused:
    """A delivery no handler may see: dead-lettered with `attempts` and `error` at once."""

    attempts: int
    error: str


def admit(body: str | bytes, attempt: int, max_attempts: int) -> CloudEvent | Refused:
    """The event of a delivery on its `attempt`, or why it goes to the dead letters instead:
    it is not an event, or it is back after the last attempt (its consumer died handling it)."""
    try:
        event = CloudEvent.from_json(body)
    except ValueError as error:
        return Refused(attempt, describe_error(error))
    if attempt > max_attempts:
        return Refused(attempt - 1, NOT_SETTLED)
    return event


async def hand_over(subscription: QueueSubscription, events: Sequence[CloudEvent]) -> None:
    """A group of deliveries (`delivery_groups`) to the queue's handler: all of them to a batch
    handler, else the one event; raises what the handler raised."""
    if subscription.batch_handler is not None:
        await subscription.batch_handler(events)
    else:
        assert subscription.handler is not None
        await subscription.handler(events[0])
