"""What common does with the events it takes: the mail and in-app notices they call for, and
erasure when a user is deleted.

Recipients travel sealed inside events; they are opened here, used, and not kept in clear.
Services that know only user ids (orders) list them in `notify`, and an account's owner hears
of an administrator's change to its standing: each gets an in-app notification at once, and a
`mail.requested` event whose delivery looks the address up with identity. A failed delivery
raises, so the bus retries that mail alone and finally dead-letters it (replayable); the
in-app notification is kept whatever happens to the mail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.common import MailRequested, MailSent, Update
from clearway.contracts.identity import Contact, UserDeleted, contact_path, recipient_context
from clearway.kit.bus import Event, publish, subscribe
from clearway.kit.bus.contract import Subscription
from clearway.kit.crypto import Sealer
from clearway.kit.mail import MailMessage, MailTemplates, SmtpMailer
from clearway.kit.service import ServiceCallError, ServiceCalls
from clearway.services.common.domain import SEALED_EXTRAS, TEMPLATES, told, user_subject
from clearway.services.common.mailbox import Mailbox
from clearway.services.common.notifications import InAppNotifications


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
        told_to = told(event)
        if told_to is not None:
            await self._notify_users(event, told_to, session, template, extras(data))
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


def subscriptions(notifier: Notifier) -> list[Subscription]:
    return [
        subscribe(tuple(TEMPLATES), notifier.on_event),
        subscribe(MailRequested, notifier.on_mail_requested),
        subscribe(UserDeleted, notifier.on_user_deleted),
    ]
