"""Identity's administration of users: search, read, verify, suspend, reinstate, reset a lost
second factor, delete.

Every change names the administrator (`by`) in its event, so the audit trail records it and
the account's owner is told of it (see `clearway.contracts.ACCOUNT_NOTICES`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update

from clearway.contracts.identity import (
    AccountChange,
    SecondFactorReset,
    UserDeleted,
    UserReinstated,
    UserSuspended,
    UserVerified,
)
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.crypto import FieldCipher
from clearway.kit.db import Database, page
from clearway.services.identity import domain
from clearway.services.identity.domain import Role, Status
from clearway.services.identity.profiles import Profiles
from clearway.services.identity.records import Profile, UserRecords, data_subject
from clearway.services.identity.second_factor import SecondFactors
from clearway.services.identity.sessions import Sessions
from clearway.services.identity.tables import password_resets, registration_notices, users


class Users:
    def __init__(
        self,
        db: Database,
        cipher: FieldCipher,
        records: UserRecords,
        profiles: Profiles,
        sessions: Sessions,
        second_factors: SecondFactors,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.records = records
        self.profiles = profiles
        self.sessions = sessions
        self.second_factors = second_factors

    async def search(
        self,
        *,
        role: Role | None,
        status: Status | None,
        email: str | None,
        country: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Profile], int]:
        """A page of accounts and how many match in all; the e-mail matches exactly."""
        conditions = [users.c.status != Status.DELETED]
        if role:
            conditions.append(users.c.role == role)
        if status:
            conditions.append(users.c.status == status)
        if country:
            conditions.append(users.c.country == country)
        if email:
            conditions.append(users.c.email_index == self.records.email_index(email))
        async with self.db.read() as session:
            order = [users.c.created_at, users.c.id]
            rows, total = await page(session, users, conditions, order, limit, offset)
            return [await self.records.profile(session, row) for row in rows], total

    async def get(self, user_id: str) -> Profile:
        return await self.profiles.read(user_id)

    async def verify(self, admin: Caller, user_id: str) -> Profile:
        return await self._change_status(admin, user_id, domain.verify, UserVerified)

    async def suspend(self, admin: Caller, user_id: str) -> Profile:
        if admin.user_id == user_id:
            raise domain.Conflict("self-suspension", "Administrators cannot suspend themselves.")
        return await self._change_status(admin, user_id, domain.suspend, UserSuspended)

    async def reinstate(self, admin: Caller, user_id: str) -> Profile:
        return await self._change_status(admin, user_id, domain.reinstate, UserReinstated)

    async def _change_status(
        self,
        admin: Caller,
        user_id: str,
        decide: Callable[[Status], Status],
        event_type: type[AccountChange],
    ) -> Profile:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await self.records.user(session, user_id)
            new_status = decide(Status(row.status))
            await session.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(status=new_status.value, updated_at=now)
            )
            if new_status is Status.SUSPENDED:
                await self.sessions.end_all(session, user_id, now)
            await publish(session, event_type(user_id=user_id, role=row.role, by=admin.user_id))
            profile = await self.records.profile(session, await self.records.user(session, user_id))
        await self.profiles.changed(user_id)
        return profile

    async def reset_second_factor(self, admin: Caller, user_id: str) -> None:
        """For a user who lost their authenticator app: the factor goes, and so do the user's
        sessions, as whoever holds the app or a session may be someone else now."""
        if admin.user_id == user_id:
            # Or a stolen administrator's session could shed the factor without a code.
            raise domain.Conflict(
                "self-reset",
                "Administrators cannot reset their own second factor; another administrator can.",
            )
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await self.records.user(session, user_id)
            await self.second_factors.reset(session, user_id)
            await self.sessions.end_all(session, user_id, now)
            await publish(
                session, SecondFactorReset(user_id=user_id, role=row.role, by=admin.user_id)
            )

    async def delete(self, admin: Caller, user_id: str) -> None:
        """Crypto-shred: the user's data key is destroyed, so every copy of their data is noise."""
        if admin.user_id == user_id:
            raise domain.Conflict("self-deletion", "Administrators cannot delete themselves.")
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await self.records.user(session, user_id)
            await self.cipher.shred(session, data_subject(user_id))
            await session.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(
                    status=Status.DELETED.value,
                    email_index=None,
                    email_enc=None,
                    name_enc=None,
                    company_enc=None,
                    phone_enc=None,
                    password_hash=None,
                    updated_at=now,
                )
            )
            await session.execute(
                password_resets.delete().where(password_resets.c.user_id == user_id)
            )
            await self.second_factors.remove(session, user_id)
            await session.execute(
                registration_notices.delete().where(registration_notices.c.user_id == user_id)
            )
            await self.sessions.end_all(session, user_id, now)
            await publish(session, UserDeleted(user_id=user_id, role=row.role, by=admin.user_id))
        await self.profiles.changed(user_id)

    async def an_admin(self) -> str | None:
        """The e-mail of the first active administrator, if there is one."""
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(users)
                    .where(users.c.role == Role.ADMIN, users.c.status == Status.ACTIVE)
                    .order_by(users.c.created_at, users.c.id)
                    .limit(1)
                )
            ).first()
            return None if row is None else (await self.records.profile(session, row)).email
