"""Identity's account records: the `users` rows with their personal fields encrypted under the
user's own data key, found by a blind index of the e-mail, read back as a `Profile`.

Every use case reads and writes accounts through here, so the encryption is in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.identity import Contact, recipient_context
from clearway.kit.crypto import BlindIndex, FieldCipher, Sealer
from clearway.services.identity import domain
from clearway.services.identity.domain import Status
from clearway.services.identity.tables import users

SERVICE = "identity"
PERSONAL = ("email", "name", "company", "phone")


@dataclass(frozen=True)
class Profile:
    id: str
    email: str
    name: str
    company: str | None
    phone: str | None
    country: str | None
    role: str
    status: str
    created_at: datetime


def data_subject(user_id: str) -> str:
    """The user's data key: destroying it (crypto-shredding) makes all their data noise."""
    return f"user:{user_id}"


class UserRecords:
    def __init__(self, cipher: FieldCipher, blind_index: BlindIndex, sealer: Sealer) -> None:
        self.cipher = cipher
        self.blind_index = blind_index
        self.sealer = sealer

    def email_index(self, email: str) -> str:
        return self.blind_index.compute(SERVICE, "users", "email", email)

    async def encrypt(
        self, session: AsyncSession, user_id: str, column: str, value: str | None
    ) -> bytes | None:
        if value is None:
            return None
        return await self.cipher.encrypt(
            session, data_subject(user_id), "users", f"{column}_enc", user_id, value
        )

    async def decrypt(
        self, session: AsyncSession, user_id: str, column: str, value: bytes | None
    ) -> str | None:
        if value is None:
            return None
        return await self.cipher.decrypt(session, "users", f"{column}_enc", user_id, value)

    async def profile(self, session: AsyncSession, row: Any) -> Profile:
        fields = {
            c: await self.decrypt(session, row.id, c, getattr(row, f"{c}_enc")) for c in PERSONAL
        }
        return Profile(
            id=row.id,
            email=fields["email"] or "",
            name=fields["name"] or "",
            company=fields["company"],
            phone=fields["phone"],
            country=row.country,
            role=row.role,
            status=row.status,
            created_at=row.created_at,
        )

    async def by_email(self, session: AsyncSession, email: str) -> Any:
        """The row of the account with this e-mail (deleted ones have none), or None."""
        query = select(users).where(users.c.email_index == self.email_index(email))
        return (await session.execute(query)).first()

    async def user(self, session: AsyncSession, user_id: str) -> Any:
        """The row of a user that exists and is not deleted; `NotFound` otherwise."""
        row = (await session.execute(select(users).where(users.c.id == user_id))).first()
        if row is None or row.status == Status.DELETED:
            raise domain.NotFound("user-not-found", "No such user.")
        return row

    def sealed_recipient(self, user_id: str, email: str, name: str) -> str:
        """A mail recipient for an event: personal data travels sealed, never in clear."""
        return self.sealer.seal_text(
            Contact(email=email, name=name).model_dump_json(), recipient_context(user_id)
        )
