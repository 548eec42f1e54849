"""The events identity publishes. Personal data travels sealed, never in clear."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus import CloudEvent
from clearway.kit.bus.outbox import publish
from clearway.kit.crypto import Sealer

SOURCE = "/clearway/identity"

USER_REGISTERED = "user.registered"
USER_REGISTRATION_REPEATED = "user.registration_repeated"
USER_VERIFIED = "user.verified"
USER_SUSPENDED = "user.suspended"
USER_REINSTATED = "user.reinstated"
USER_DELETED = "user.deleted"
USER_UPDATED = "user.updated"
PASSWORD_RESET_REQUESTED = "user.password_reset_requested"  # noqa: S105
PASSWORD_CHANGED = "user.password_changed"  # noqa: S105
LOGIN_FAILED = "security.login_failed"
LOCKOUT = "security.lockout"
REFRESH_REUSE = "security.refresh_token_reused"
SIGNING_KEY_ROTATED = "security.signing_key_rotated"


def recipient_context(user_id: str) -> str:
    """What a sealed recipient is bound to: it opens only for the user it names."""
    return f"mail-recipient|{user_id}"


async def emit(
    session: AsyncSession,
    type: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
) -> None:
    await publish(session, CloudEvent.new(SOURCE, type, data, subject=subject))


def sealed_recipient(sealer: Sealer, user_id: str, email: str, name: str) -> str:
    payload = orjson.dumps({"email": email, "name": name}).decode()
    return sealer.seal_text(payload, recipient_context(user_id))
