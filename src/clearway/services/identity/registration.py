"""Identity's registration: new accounts, by their owners or seeded by the platform.

Registering an address that has an account answers the same as a new registration; only the
owner learns of it, by mail, at most once an hour.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.identity import UserRegistered, UserRegistrationRepeated, UserVerified
from clearway.kit.bus import publish
from clearway.kit.db import Database
from clearway.services.identity import domain
from clearway.services.identity.domain import Role, Status
from clearway.services.identity.hashing import PasswordHashing
from clearway.services.identity.records import UserRecords
from clearway.services.identity.tables import registration_notices, users

REPEAT_NOTICE_EVERY = timedelta(hours=1)


class Registrations:
    def __init__(self, db: Database, records: UserRecords, hashing: PasswordHashing) -> None:
        self.db = db
        self.records = records
        self.hashing = hashing

    async def register(
        self,
        *,
        email: str,
        password: str,
        role: Role,
        name: str,
        company: str | None,
        phone: str | None,
        country: str | None,
    ) -> None:
        """Same answer whether or not the address is taken: the owner learns it by mail."""
        domain.check_password(password, email=email)
        status = domain.initial_status(role)
        async with self.db.transaction() as session:
            existing = await self.records.by_email(session, email)
            if existing is not None:
                await self.hashing.hash(password)  # the same work as a real registration
                if not await self._repeat_notice_due(session, existing.id):
                    return
                known_name = await self.records.decrypt(
                    session, existing.id, "name", existing.name_enc
                )
                recipient = self.records.sealed_recipient(existing.id, email, known_name or "")
                await publish(
                    session, UserRegistrationRepeated(user_id=existing.id, recipient=recipient)
                )
                return
            user_id = await self._create(
                session,
                email=email,
                password=password,
                role=role,
                status=status,
                name=name,
                company=company,
                phone=phone,
                country=country,
            )
            await publish(
                session,
                UserRegistered(
                    user_id=user_id,
                    role=role.value,
                    status=status.value,
                    country=country,
                    recipient=self.records.sealed_recipient(user_id, email, name),
                ),
            )

    async def ensure_user(
        self, *, email: str, password: str, role: Role, name: str, country: str | None = None
    ) -> bool:
        """Create an active account unless one with this e-mail exists; True if created."""
        async with self.db.transaction() as session:
            if await self.records.by_email(session, email) is not None:
                return False
            user_id = await self._create(
                session,
                email=email,
                password=password,
                role=role,
                status=Status.ACTIVE,
                name=name,
                company=None,
                phone=None,
                country=country,
            )
            if role is not Role.ADMIN:
                await publish(
                    session,
                    (UserVerified if role is Role.PROVIDER else UserRegistered)(
                        user_id=user_id,
                        role=role.value,
                        status=Status.ACTIVE.value,
                        country=country,
                    ),
                )
            return True

    async def _create(
        self,
        session: AsyncSession,
        *,
        email: str,
        password: str,
        role: Role,
        status: Status,
        name: str,
        company: str | None,
        phone: str | None,
        country: str | None,
    ) -> str:
        user_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "id": user_id,
            "email_index": self.records.email_index(email),
            "country": country,
            "role": role.value,
            "status": status.value,
            "password_hash": await self.hashing.hash(password),
            "created_at": now,
            "updated_at": now,
        }
        for column, value in (
            ("email", email),
            ("name", name),
            ("company", company),
            ("phone", phone),
        ):
            values[f"{column}_enc"] = await self.records.encrypt(session, user_id, column, value)
        await session.execute(users.insert().values(**values))
        return user_id

    async def _repeat_notice_due(self, session: AsyncSession, user_id: str) -> bool:
        """Whether to tell the owner of a taken address about another registration: at most
        once an hour, so registering someone's address over and over cannot flood them."""
        now = datetime.now(UTC)
        claimed = await session.execute(
            update(registration_notices)
            .where(
                registration_notices.c.user_id == user_id,
                registration_notices.c.sent_at <= now - REPEAT_NOTICE_EVERY,
            )
            .values(sent_at=now)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return True
        known = select(registration_notices.c.user_id).where(
            registration_notices.c.user_id == user_id
        )
        if (await session.execute(known)).first() is not None:
            return False
        try:
            async with session.begin_nested():
                await session.execute(
                    registration_notices.insert().values(user_id=user_id, sent_at=now)
                )
        except IntegrityError:
            return False  # a concurrent registration claimed it
        return True
