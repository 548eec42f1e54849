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

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus import CloudEvent, publish
from clearway.kit.crypto import Sealer
from clearway.kit.mail import MailMessage, MailTemplates, SmtpMailer
from clearway.kit.service import ServiceCallError, ServiceCalls
from clearway.services.common.inapp import InAppNotifications
from clearway.services.common.mailbox import Mailbox, user_subject

SOURCE = "/clearway/common"


def _recipient_context(user_id: str) -> str:
    # The same binding identity seals with: a recipient opens only for the user it names.
    return f"mail-recipient|{user_id}"


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


ORDER_HEADLINES = {
    "order.created": "New order {order} awaits your answer",
    "order.answer_reminder": "Reminder: order {order} expires soon without your answer",
    "order.quoted": "Order {order} has a quote",
    "order.accepted": "The quote for order {order} was accepted",
    "order.declined": "Order {order} was declined",
    "order.started": "Work on order {order} has started",
    "order.report_delivered": "The reports of order {order} are delivered",
    "order.completed": "Order {order} is completed",
    "order.cancelled": "Order {order} was cancelled",
    "order.expired": "Order {order} expired unanswered",
    "order.message_posted": "New message on order {order}",
    "order.attachment_added": "New document on order {order}",
    "report.issued": "Report {report} was delivered for order {order}",
    "report.withdrawn": "Report {report} of order {order} was withdrawn",
    "report.expiring": "Report {report} of order {order} expires on {expires_on}",
    "clearance.issued": "Shipment clearance {clearance} is issued",
    "clearance.revoked": "Shipment clearance {clearance} was revoked",
}
MAIL_REQUESTED = "mail.requested"
# What an account's owner is told when an administrator changes its state: headline, then why.
ACCOUNT_UPDATES = {
    "user.verified": (
        "Your Clearway account is verified",
        "An administrator has checked your provider account: sign in to complete your profile "
        "and receive orders.",
    ),
    "user.suspended": (
        "Your Clearway account is suspended",
        "An administrator has suspended your account; you cannot sign in until it is reinstated.",
    ),
    "user.reinstated": (
        "Your Clearway account is active again",
        "An administrator has reinstated your account: you can sign in again.",
    ),
}

# event type -> (template, extra context from the event's data)
TEMPLATES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "user.registered": ("welcome", lambda data: {"status": data.get("status")}),
    "user.registration_repeated": ("registration_repeated", lambda data: {}),
    "user.password_reset_requested": (
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

    async def on_event(self, event: CloudEvent, session: AsyncSession) -> None:
        template, extras = TEMPLATES[event.type]
        data = event.data
        if "notify" in data:
            await self._notify_users(event, session, template, extras(data))
            return
        sealed = data.get("recipient")
        user_id = data.get("user_id")
        if not sealed or not isinstance(user_id, str):
            return  # accounts made by an operator (seeded) get no mail
        if await self._erased(session, user_id):
            return
        context = _recipient_context(user_id)
        recipient = orjson.loads(self.sealer.open_text(sealed, context))
        values: dict[str, Any] = {"name": recipient["name"], "public_url": self.public_url}
        values.update(extras(data))
        for key in SEALED_EXTRAS:
            if key in data:
                values[key] = self.sealer.open_text(data[key], context)
        message = self.templates.render(template, **values).addressed_to(recipient["email"])
        await self.deliver(session, message, event.id, user_id)
        await publish(
            session,
            CloudEvent.new(
                SOURCE,
                "mail.sent",
                {"template": template, "event_id": event.id, "user_id": user_id},
            ),
        )

    async def _notify_users(
        self, event: CloudEvent, session: AsyncSession, template: str, values: dict[str, Any]
    ) -> None:
        for user_id in event.data["notify"]:
            if not isinstance(user_id, str) or await self._erased(session, user_id):
                continue
            await self.inapp.add(
                session,
                user_id=user_id,
                event_id=event.id,
                type=event.type,
                title=values["headline"],
                link=values.get("path"),
            )
            await publish(
                session,
                CloudEvent.new(
                    SOURCE,
                    MAIL_REQUESTED,
                    {"user_id": user_id, "template": template, "values": values, "cause": event.id},
                    subject=user_id,
                ),
            )

    async def on_mail_requested(self, event: CloudEvent, session: AsyncSession) -> None:
        """Mail a user known by id: identity says where to (never kept here in clear)."""
        user_id, template = event.data["user_id"], event.data["template"]
        if await self._erased(session, user_id):
            return
        try:
            contact = await self.calls.get_json(
                "identity", f"/internal/identity/users/{user_id}/contact"
            )
        except ServiceCallError as exc:
            if exc.status == 404:
                return  # the account is gone: nobody to write to
            raise
        message = self.templates.render(
            template, name=contact["name"], public_url=self.public_url, **event.data["values"]
        ).addressed_to(contact["email"], message_id=f"<{event.id}@clearway.local>")
        await self.deliver(session, message, event.id, user_id)
        await publish(
            session,
            CloudEvent.new(
                SOURCE,
                "mail.sent",
                {"template": template, "event_id": event.id, "user_id": user_id},
            ),
        )

    async def deliver(
        self, session: AsyncSession, message: MailMessage, event_id: str, user_id: str
    ) -> None:
        if self.smtp is not None:
            await self.smtp.send(message)
        else:
            await self.mailbox.store(session, message, event_id, user_id)

    async def on_user_deleted(self, event: CloudEvent, session: AsyncSession) -> None:
        """Erasure: the user's mail is shredded and their notifications are gone."""
        user_id = event.data.get("user_id")
        if isinstance(user_id, str):
            await self.mailbox.erase(session, user_id)
            await self.inapp.erase(session, user_id)

    async def _erased(self, session: AsyncSession, user_id: str) -> bool:
        """A user deleted before this event was handled: nothing more is kept for them."""
        return await self.mailbox.cipher.shredded(session, user_subject(user_id))
