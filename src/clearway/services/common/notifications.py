"""Mail that events call for: which template, to whom, with what.

Recipients travel sealed inside events; they are opened here, used, and not kept in clear.
A failed delivery raises, so the bus retries the event and finally dead-letters it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus import CloudEvent, publish
from clearway.kit.crypto import Sealer
from clearway.kit.mail import MailMessage, MailTemplates, SmtpMailer
from clearway.services.common.mailbox import Mailbox

SOURCE = "/clearway/common"


def _recipient_context(user_id: str) -> str:
    # The same binding identity seals with: a recipient opens only for the user it names.
    return f"mail-recipient|{user_id}"


# event type -> (template, extra context from the event's data)
TEMPLATES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "user.registered": ("welcome", lambda data: {"status": data.get("status")}),
    "user.registration_repeated": ("registration_repeated", lambda data: {}),
    "user.password_reset_requested": (
        "password_reset",
        lambda data: {"expires_at": data.get("expires_at")},
    ),
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
    ) -> None:
        self.templates = templates
        self.sealer = sealer
        self.mailbox = mailbox
        self.smtp = smtp
        self.public_url = public_url

    async def on_event(self, event: CloudEvent, session: AsyncSession) -> None:
        template, extras = TEMPLATES[event.type]
        data = event.data
        sealed = data.get("recipient")
        user_id = data.get("user_id")
        if not sealed or not isinstance(user_id, str):
            return  # accounts made by an operator (seeded) get no mail
        context = _recipient_context(user_id)
        recipient = orjson.loads(self.sealer.open_text(sealed, context))
        values: dict[str, Any] = {"name": recipient["name"], "public_url": self.public_url}
        values.update(extras(data))
        for key in SEALED_EXTRAS:
            if key in data:
                values[key] = self.sealer.open_text(data[key], context)
        message = self.templates.render(template, **values).addressed_to(recipient["email"])
        await self.deliver(session, message, event.id)
        await publish(
            session,
            CloudEvent.new(
                SOURCE,
                "mail.sent",
                {"template": template, "event_id": event.id, "user_id": user_id},
            ),
        )

    async def deliver(self, session: AsyncSession, message: MailMessage, event_id: str) -> None:
        if self.smtp is not None:
            await self.smtp.send(message)
        else:
            await self.mailbox.store(session, message, event_id)
