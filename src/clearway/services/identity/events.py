"""What identity reacts to on the bus: its subscriptions and their handlers.

The events it publishes are contracts (`clearway.contracts.identity`), published by the use
cases in the transaction that made the change.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.common import KeyRotated
from clearway.contracts.identity import SigningKeyRotated
from clearway.kit.bus import Subscription, publish, subscribe
from clearway.services.identity.tokens import TokenIssuer


def subscriptions(issuer: TokenIssuer) -> list[Subscription]:
    async def on_key_rotated(event: KeyRotated, session: AsyncSession) -> None:
        # A platform key rotation also rotates the token signing key; old tokens stay valid.
        kid = await issuer.rotate(session)
        await publish(session, SigningKeyRotated(kid=kid))

    return [subscribe(KeyRotated, on_key_rotated)]
