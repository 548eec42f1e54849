"""What orders hears on the bus, and who handles it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts import ACCOUNT_STANDING
from clearway.contracts.common import KeyRotated
from clearway.contracts.identity import UserDeleted, UserVerified
from clearway.contracts.rules import ChecklistAnswered
from clearway.kit.bus import Subscription, subscribe
from clearway.services.orders.certificates import CertificateSigner
from clearway.services.orders.clearances import Clearances
from clearway.services.orders.demo import DemoSeed
from clearway.services.orders.erasure import Erasure
from clearway.services.orders.providers import Directory


def subscriptions(
    directory: Directory,
    erasure: Erasure,
    signer: CertificateSigner,
    clearances: Clearances,
    demo: DemoSeed | None,
) -> list[Subscription]:
    """The directory follows provider accounts, a deleted user's texts are erased, a key
    rotation rotates the certificate key, changed answers may revoke clearances; with `demo`,
    the demo provider gets its profile."""

    async def on_key_rotated(event: KeyRotated, session: AsyncSession) -> None:
        # A platform key rotation also rotates the certificate key; old certificates verify.
        await signer.rotate(session)

    return [
        subscribe(ACCOUNT_STANDING, directory.on_account_event),
        subscribe(UserDeleted, erasure.on_user_deleted),
        subscribe(KeyRotated, on_key_rotated),
        subscribe(ChecklistAnswered, clearances.on_checklist_answered),
        *([subscribe(UserVerified, demo.on_provider_verified)] if demo else []),
    ]
