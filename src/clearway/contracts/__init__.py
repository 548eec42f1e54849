"""The published language of Clearway: everything one service may rely on from another.

One module per publisher holds its events (typed payloads with their CloudEvents type, source,
subject and schema version), the internal HTTP API it offers (paths and answer models, used by
both sides), and what it seals for whom. Services import these, never each other. This module
adds who publishes and who subscribes, which the event catalogue (`clearway docs events`, the
AsyncAPI document at `/api/asyncapi.json`) is generated from; a test checks it against the
subscriptions the services really make.
"""

from __future__ import annotations

from clearway.contracts import common, gateway, identity, orders, rules
from clearway.kit.bus.contract import Event

PUBLISHERS: dict[str, tuple[type[Event], ...]] = {
    "identity": identity.EVENTS,
    "rules": rules.EVENTS,
    "orders": orders.EVENTS,
    "common": common.EVENTS,
    "gateway": gateway.EVENTS,
}
"""Every event, by the one component that publishes it."""

EVENTS: tuple[type[Event], ...] = tuple(e for events in PUBLISHERS.values() for e in events)

TELEMETRY: tuple[type[Event], ...] = (gateway.GatewayRequest, rules.SearchPerformed)
"""The high-volume streams, published in batches straight to the bus (no outbox)."""

DOMAIN_EVENTS: tuple[type[Event], ...] = tuple(e for e in EVENTS if e not in TELEMETRY)

ACCOUNT_STANDING: tuple[type[identity.AccountChange], ...] = (
    identity.UserVerified,
    identity.UserSuspended,
    identity.UserReinstated,
    identity.UserDeleted,
)
"""What decides whether a provider is listed in the orders directory."""

ACCOUNT_NOTICES: tuple[type[identity.AccountChange], ...] = (
    identity.UserVerified,
    identity.UserSuspended,
    identity.UserReinstated,
    identity.SecondFactorReset,
)
"""An administrator's changes to an account that its owner is told of (in the app and by
mail, the address looked up by id)."""

ORDER_UPDATES: tuple[type[orders.Notifying], ...] = tuple(
    e for e in orders.EVENTS if issubclass(e, orders.Notifying)
)
"""The order events their users are told of (in the app and by mail)."""

ACCOUNT_MAIL: tuple[type[identity.UserEvent], ...] = (
    identity.UserRegistered,
    identity.UserRegistrationRepeated,
    identity.PasswordResetRequested,
)
"""The identity events that mail the account's owner (their recipient travels sealed)."""

SUBSCRIBERS: dict[str, tuple[type[Event], ...]] = {
    # Every service: the runtime rewraps its data keys after a master key rotation.
    "runtime": (common.KeyRotated,),
    "identity": (common.KeyRotated,),
    "rules": (rules.RulePublished, rules.RuleRetired),
    "orders": (*ACCOUNT_STANDING, rules.ChecklistAnswered, common.KeyRotated),
    "common": (
        *ACCOUNT_MAIL,
        *ACCOUNT_NOTICES,
        *ORDER_UPDATES,
        common.MailRequested,
        identity.UserDeleted,
    ),
    "monitor": (*DOMAIN_EVENTS, *TELEMETRY),
}
"""What each component consumes (monitor: domain events one by one, telemetry in batches)."""


def subscribers_of(event: type[Event]) -> list[str]:
    return [name for name, events in SUBSCRIBERS.items() if event in events]


def publisher_of(event: type[Event]) -> str:
    return next(name for name, events in PUBLISHERS.items() if event in events)
