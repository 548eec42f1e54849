"""Mail that events call for: which template, to whom, with what.

Recipients travel sealed inside events; they are opened here, used, and not kept in clear.
Services that know only user ids (orders) list them in `notify`, and an account's owner hears
of an administrator's change to its standing: each gets an in-app notification at once, and a
`mail.requested` event whose delivery looks the address up with identity. A failed delivery
raises, so the bus retries that mail alone and finally dead-letters it (replayable); the
in-app notification is kept whatever happens to the mail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts import identity, orders
from clearway.contracts.common import MailRequested, MailSent, Update
from clearway.contracts.identity import Contact, UserDeleted, contact_path, recipient_context
from clearway.kit.bus import Event, publish
from clearway.kit.crypto import Sealer
from clearway.kit.mail import MailMessage, MailTemplates, SmtpMailer
from clearway.kit.service import ServiceCallError, ServiceCalls
from clearway.services.common.inapp import InAppNotifications
from clearway.services.common.mailbox import Mailbox, user_subject


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


def _told(event: Event) -> list[str] | None:
    """Whom an event is told to in the app and by mail looked up by id (`None`: it carries its
    sealed recipient instead): the users an order event names, an account's owner."""
    if isinstance(event, orders.Notifying):
        return event.notify
    if isinstance(event, identity.AccountChange):
        return [event.user_id]
    return None


# The only values a subject may show (see `MailTemplates`): never a name or other user text.
SUBJECT_VALUES = frozenset({"headline"})


class Notifier:
    def __init__(
        self,
        templates: MailTemplates,
        sealer: Sealer,
        mailbox: Mailbox,
        smtp: SmtpMailer | None,
        public_url: str,
        inapp: InAppNotifications,
        calls: ServiceCalls,
    ) -> None:
        self.templates = templates
        self.sealer = sealer
        self.mailbox = mailbox
        self.smtp = smtp
        self.public_url = public_url
        self.inapp = inapp
        self.calls = calls

    async def on_event(self, event: Event, session: AsyncSession) -> None:
        template, extras = TEMPLATES[type(event)]
        data = event.payload()
        told = _told(event)
        if told is not None:
            await self._notify_users(event, told, session, template, extras(data))
            return
        sealed = data.get("recipient")
        user_id = data.get("user_id")
        if not sealed or not isinstance(user_id, str):
            return  # accounts made by an operator (seeded) get no mail
        if await self._erased(session, user_id):
            return
        context = recipient_context(user_id)
        recipient = Contact.model_validate_json(self.sealer.open_text(sealed, context))
        values: dict[str, Any] = {"name": recipient.name, "public_url": self.public_url}
        values.update(extras(data))
        for key in SEALED_EXTRAS:
            if key in data:
                values[key] = self.sealer.open_text(data[key], context)
        message = self.templates.render(template, **values).addressed_to(recipient.email)
        await self.deliver(session, message, event.envelope.id, template, user_id)

    async def _notify_users(
        self,
        event: Event,
        users: list[str],
        session: AsyncSession,
        template: str,
        values: dict[str, Any],
    ) -> None:
        update = Update.model_validate(values)
        for user_id in users:
            if await self._erased(session, user_id):
                continue
            await self.inapp.add(
                session,
                user_id=user_id,
                event_id=event.envelope.id,
                type=event.TYPE,
                title=update.headline,
                link=update.path,
            )
            await publish(
                session,
                MailRequested(
                    user_id=user_id, template=template, values=update, cause=event.envelope.id
                ),
            )

    async def on_mail_requested(self, event: MailRequested, session: AsyncSession) -> None:
        """Mail a user known by id: identity says where to (never kept here in clear)."""
        user_id, template, event_id = event.user_id, event.template, event.envelope.id
        if await self._erased(session, user_id):
            return
        try:
            contact = Contact.model_validate(
                await self.calls.get_json("identity", contact_path(user_id))
            )
        except ServiceCallError as exc:
            if exc.status == 404:
                return  # the account is gone: nobody to write to
            raise
        message = self.templates.render(
            template, name=contact.name, public_url=self.public_url, **event.values.model_dump()
        ).addressed_to(contact.email, message_id=f"<{event_id}@clearway.local>")
        await self.deliver(session, message, event_id, template, user_id)

    async def deliver(
        self,
        session: AsyncSession,
        message: MailMessage,
        event_id: str,
        template: str,
        user_id: str,
    ) -> None:
        """Send (or keep in the mailbox) the mail an event called for, and say it was sent."""
        if self.smtp is not None:
            await self.smtp.send(message)
        else:
            await self.mailbox.store(session, message, event_id, user_id)
        await publish(session, MailSent(template=template, event_id=event_id, user_id=user_id))

    async def on_user_deleted(self, event: UserDeleted, session: AsyncSession) -> None:
        """Erasure: the user's mail is shredded and their notifications are gone."""
        await self.mailbox.erase(session, event.user_id)
        await self.inapp.erase(session, event.user_id)

    async def _erased(self, session: AsyncSession, user_id: str) -> bool:
        """A user deleted before this event was handled: nothing more is kept for them."""
        return await self.mailbox.cipher.shredded(session, user_subject(user_id))
