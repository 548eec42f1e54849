"""The AWS bus: one SNS FIFO topic fanned out to an SQS FIFO queue per subscribing service.

Layout for the name prefix `clearway` (`bus_url` `sns-sqs://clearway`):

- topic `clearway-events.fifo`: every event, its type in the message attribute `type` (what
  subscriptions filter on). The deduplication id is the event id, so a batch the outbox relay
  publishes again within five minutes adds no copy (past that, the consumer's inbox absorbs
  it); the group id is the event's subject, else its id, so the events about one order or one
  user arrive in order and everything else in parallel;
- queue `clearway-<queue>.fifo` per subscribing queue, subscribed with raw delivery (the body
  is the CloudEvent) and a filter policy made from its topics (`order.*` is the prefix
  `order.`, `*` no filter); its dead-letter queue `clearway-<queue>-dlq.fifo`, with a redrive
  policy after `max_attempts + 2` receives: a net for a consumer that died while handling.

Retries and dead letters are Clearway's, as on the other buses: a failed message becomes visible
again after the back-off (visibility timeouts are whole seconds), and its last failure is copied
to the dead-letter queue with attempts, error and time as message attributes, then deleted. The
same code settles a batch that Lambda's SQS trigger hands to a function (`settle`), which then
reports the failed ones as partial batch failures. A replay sends the event straight back to the
queue it came from, so no other queue sees it twice.

`aws` holds the names and clients, `provisioning` creates what is missing, `publishing` sends to
the topic, `bus` consumes and settles, `dead_letters` lists and replays.
"""

from clearway.kit.bus.sns_sqs.bus import SnsSqsBus
from clearway.kit.bus.sns_sqs.messages import SCHEME, Received

__all__ = ["SCHEME", "Received", "SnsSqsBus"]
