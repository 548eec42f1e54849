"""Identity's passwords: a reset link by mail for a forgotten one, the reset with it, and a
change by the signed-in user. A new password ends the account's other sessions."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.identity import PasswordChanged, PasswordResetRequested, recipient_context
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.db import Database
from clearway.services.identity import domain
from clearway.services.identity.domain import Status
from clearway.services.identity.hashing import PasswordHashing
from clearway.services.identity.records import UserRecords
from clearway.services.identity.sessions import Sessions
from clearway.services.identity.tables import password_resets, users
from clearway.services.identity.throttle import LoginThrottle
from clearway.settings import Settings


class Passwords:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        records: UserRecords,
        hashing: PasswordHashing,
        sessions: Sessions,
        throttle: LoginThrottle,
    ) -> None:
        self.settings = settings
        self.db = db
        self.records = records
        self.hashing = hashing
        self.sessions = sessions
        self.throttle = throttle

    async def forgot(self, email: str) -> None:
        """Mail a single-use reset link; nothing happens for an unknown or barred account."""
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=self.settings.password_reset_ttl_seconds)
        async with self.db.transaction() as session:
            row = await self.records.by_email(session, email)
            if row is None or row.status in (Status.DELETED, Status.SUSPENDED):
                return
            secret = secrets.token_urlsafe(32)
            await session.execute(
                password_resets.insert().values(
                    id=uuid.uuid4().hex,
                    user_id=row.id,
                    secret_hash=domain.secret_digest(secret),
                    expires_at=expires_at,
                    created_at=now,
                )
            )
            name = await self.records.decrypt(session, row.id, "name", row.name_enc)
            link = f"{self.settings.public_url}/reset-password?token={secret}"
            await publish(
                session,
                PasswordResetRequested(
                    user_id=row.id,
                    recipient=self.records.sealed_recipient(row.id, email, name or ""),
                    link=self.records.sealer.seal_text(link, recipient_context(row.id)),
                    expires_at=expires_at,
                ),
            )

    async def reset(self, token: str, new_password: str) -> None:
        now = datetime.now(UTC)
        invalid = domain.Invalid(
            "invalid-reset-link", "This link is invalid, already used or expired."
        )
        async with self.db.transaction() as session:
            reset = (
                await session.execute(
                    select(password_resets).where(
                        password_resets.c.secret_hash == domain.secret_digest(token)
                    )
                )
            ).first()
            if reset is None or reset.used_at is not None or reset.expires_at <= now:
                raise invalid
            user = await self.records.user(session, reset.user_id)
            email = await self.records.decrypt(session, user.id, "email", user.email_enc)
            domain.check_password(new_password, email=email)
            claimed = await session.execute(
                update(password_resets)
                .where(password_resets.c.id == reset.id, password_resets.c.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise invalid
            await self._set(session, user.id, new_password, now)
            await self.throttle.clear_account(session, user.email_index)

    async def change(self, caller: Caller, current: str, new: str) -> None:
        """Change the caller's password; their other sessions end."""
        assert caller.user_id is not None
        now = datetime.now(UTC)
        async with self.db.read() as session:
            user = await self.records.user(session, caller.user_id)
            email = await self.records.decrypt(session, user.id, "email", user.email_enc)
        if not await self.hashing.matches(user.password_hash, current):
            raise domain.Forbidden("wrong-password", "The current password is wrong.")
        domain.check_password(new, email=email)
        async with self.db.transaction() as session:
            await self._set(session, user.id, new, now, keep=caller.session_id)

    async def _set(
        self,
        session: AsyncSession,
        user_id: str,
        password: str,
        now: datetime,
        keep: str | None = None,
    ) -> None:
        await session.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password_hash=await self.hashing.hash(password), updated_at=now)
        )
        await self.sessions.end_all(session, user_id, now, keep=keep)
        await publish(session, PasswordChanged(user_id=user_id))
