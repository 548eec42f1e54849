"""Mail that events call for: which template, to whom, with what.

Recipients travel sealed inside events; they are opened here, used, and not kept in clear.
Services that know only user ids (orders) list them in `notify`: each gets an in-app
notification at once, and a `mail.requested` event whose delivery looks the address up with
identity. A failed delivery raises, so the bus retries that mail alone and finally
dead-letters it (replayable); the in-app notification is kept whatever happens to the mail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts import identity, orders
from clearway.contracts.common import MailRequested, MailSent, OrderUpdate
from clearway.contracts.identity import Contact, contact_path, recipient_context
from clearway.kit.bus import Event, publish
from clearway.kit.crypto import Sealer
from clearway.kit.mail import MailMessage, MailTemplates, SmtpMailer
from clearway.kit.service import ServiceCallError, ServiceCalls
from clearway.services.common.inapp import InAppNotifications
from clearway.services.common.mailbox import Mailbox


def _order_update(headline: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The context of an `order_update` mail: a headline and where to look in the app."""

    def extras(data: dict[str, Any]) -> dict[str, Any]:
        ids = {k: str(data.get(f"{k}_id") or "")[:8] for k in ("order", "report", "clearance")}
        values = {**ids, "expires_on": data.get("expires_on") or "", "state": data.get("state")}
        if data.get("clearance_id"):
            path = f"/clearances/{data['clearance_id']}"
        elif data.get("order_id"):
            path = f"/orders/{data['order_id']}"
        else:
            path = "/"
        return {"headline": headline.format(**values), "path": path}

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

# event class -> (template, extra context from the event's data)
TEMPLATES: dict[type[Event], tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    identity.UserRegistered: ("welcome", lambda data: {"status": data.get("status")}),
    identity.UserRegistrationRepeated: ("registration_repeated", lambda data: {}),
    identity.PasswordResetRequested: (
        "password_reset",
        lambda data: {"expires_at": data.get("expires_at")},
    ),
    **{kind: ("order_update", _order_update(text)) for kind, text in ORDER_HEADLINES.items()},
}
SEALED_EXTRAS = ("link",)


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
        if isinstance(event, orders.Notifying):
            await self._notify_users(event, session, template, extras(data))
            return
        sealed = data.get("recipient")
        user_id = data.get("user_id")
        if not sealed or not isinstance(user_id, str):
            return  # accounts made by an operator (seeded) get no mail
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
        self, event: orders.Notifying, session: AsyncSession, template: str, values: dict[str, Any]
    ) -> None:
        update = OrderUpdate.model_validate(values)
        for user_id in event.notify:
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
            await self.mailbox.store(session, message, event_id)
        await publish(session, MailSent(template=template, event_id=event_id, user_id=user_id))
