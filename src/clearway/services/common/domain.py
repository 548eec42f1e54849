"""Which mail and notice an event calls for, in plain Python: the template, the headline (our
words, ids and dates only: it is the subject), where to look in the app, and whom to tell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clearway.contracts import identity, orders
from clearway.kit.bus.contract import Event


def _token(value: Any, length: int) -> str:
    """An id or a date for a headline: letters, digits and dashes only, whatever came in."""
    return "".join(c for c in str(value or "") if c.isascii() and (c.isalnum() or c == "-"))[
        :length
    ]


def _order_update(headline: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The context of an `order_update` mail: a headline (our words, ids and a date only: it
    is the subject) and where to look in the app."""

    def extras(data: dict[str, Any]) -> dict[str, Any]:
        ids = {k: _token(data.get(f"{k}_id"), 8) for k in ("order", "report", "clearance")}
        values = {**ids, "expires_on": _token(data.get("expires_on"), 10)}
        if data.get("clearance_id"):
            path = f"/clearances/{data['clearance_id']}"
        elif data.get("order_id"):
            path = f"/orders/{data['order_id']}"
        else:
            path = "/"
        return {"headline": headline.format(**values), "path": path}

    return extras


def _account_update(headline: str, detail: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def extras(data: dict[str, Any]) -> dict[str, Any]:
        return {"headline": headline, "detail": detail, "path": "/"}

    return extras


ORDER_HEADLINES: dict[type[Event], str] = {
    orders.OrderCreated: "New order {order} awaits your answer",
    orders.OrderAnswerReminder: "Reminder: order {order} expires soon without your answer",
    orders.OrderQuoted: "Order {order} has a quote",
    orders.OrderAccepted: "The quote for order {order} was accepted",
    orders.OrderDeclined: "Order {order} was declined",
    orders.OrderStarted: "Work on order {order} has started",
    orders.OrderReportDelivered: "The reports of order {order} are delivered",
    orders.OrderCompleted: "Order {order} is completed",
    orders.OrderCancelled: "Order {order} was cancelled",
    orders.OrderExpired: "Order {order} expired unanswered",
    orders.MessagePosted: "New message on order {order}",
    orders.AttachmentAdded: "New document on order {order}",
    orders.ReportIssued: "Report {report} was delivered for order {order}",
    orders.ReportWithdrawn: "Report {report} of order {order} was withdrawn",
    orders.ReportExpiring: "Report {report} of order {order} expires on {expires_on}",
    orders.ClearanceIssued: "Shipment clearance {clearance} is issued",
    orders.ClearanceRevoked: "Shipment clearance {clearance} was revoked",
}
# What an account's owner is told when an administrator changes its state: headline, then why.
ACCOUNT_UPDATES: dict[type[identity.AccountChange], tuple[str, str]] = {
    identity.UserVerified: (
        "Your Clearway account is verified",
        "An administrator has checked your provider account: sign in to complete your profile "
        "and receive orders.",
    ),
    identity.UserSuspended: (
        "Your Clearway account is suspended",
        "An administrator has suspended your account; you cannot sign in until it is reinstated.",
    ),
    identity.UserReinstated: (
        "Your Clearway account is active again",
        "An administrator has reinstated your account: you can sign in again.",
    ),
    identity.SecondFactorReset: (
        "The second factor of your Clearway account was reset",
        "An administrator has removed the authenticator app from your account and signed it "
        "out everywhere: sign in with your password alone, then turn the second factor on "
        "again. If you did not ask for this, change your password at once.",
    ),
}

# event class -> (template, extra context from the event's data)
TEMPLATES: dict[type[Event], tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    identity.UserRegistered: ("welcome", lambda data: {"status": data.get("status")}),
    identity.UserRegistrationRepeated: ("registration_repeated", lambda data: {}),
    identity.PasswordResetRequested: (
        "password_reset",
        lambda data: {"expires_at": data.get("expires_at")},
    ),
    **{kind: ("order_update", _order_update(text)) for kind, text in ORDER_HEADLINES.items()},
    **{
        kind: ("account_update", _account_update(headline, detail))
        for kind, (headline, detail) in ACCOUNT_UPDATES.items()
    },
}
SEALED_EXTRAS = ("link",)


def told(event: Event) -> list[str] | None:
    """Whom an event is told to in the app and by mail looked up by id (`None`: it carries its
    sealed recipient instead): the users an order event names, an account's owner."""
    if isinstance(event, orders.Notifying):
        return event.notify
    if isinstance(event, identity.AccountChange):
        return [event.user_id]
    return None


# The only values a subject may show (see `MailTemplates`): never a name or other user text.
SUBJECT_VALUES = frozenset({"headline"})


def user_subject(user_id: str) -> str:
    """Common's key for one user's data: shredded when the user is deleted."""
    return f"user:{user_id}"
