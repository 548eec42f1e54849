"""Identity's second factor use cases: enrol, confirm, check at sign-in, disable, new codes.

A user turns TOTP on in two steps (enrol: a secret to scan; confirm: a code from the app, which
answers the recovery codes), and from then on signs in with a code as well (`otp` beside the
password; a recovery code works once in its place).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.crypto import FieldCipher
from clearway.kit.db import Database
from clearway.services.identity import totp
from clearway.services.identity.domain import Conflict, Forbidden, Role, Unauthorized
from clearway.services.identity.hashing import PasswordHashing
from clearway.services.identity.records import UserRecords, data_subject
from clearway.services.identity.tables import recovery_codes, second_factors
from clearway.settings import Settings

TABLE, COLUMN = "second_factors", "secret_enc"
MFA_REQUIRED = Unauthorized(
    "mfa-required",
    "This account signs in with a second factor: send the code from the authenticator app "
    "(or a recovery code) as `otp` with the e-mail and password.",
)
INVALID_CODE = Unauthorized("invalid-mfa-code", "The code is wrong, expired or already used.")


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str


@dataclass(frozen=True)
class FactorStatus:
    enabled: bool
    recovery_codes_left: int


class SecondFactors:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        cipher: FieldCipher,
        records: UserRecords,
        hashing: PasswordHashing,
    ) -> None:
        self.settings = settings
        self.db = db
        self.cipher = cipher
        self.records = records
        self.hashing = hashing

    async def _row(self, session: AsyncSession, user_id: str) -> Any:
        query = select(second_factors).where(second_factors.c.user_id == user_id)
        return (await session.execute(query)).first()

    async def _secret(self, session: AsyncSession, row: Any) -> str:
        return await self.cipher.decrypt(session, TABLE, COLUMN, row.user_id, row.secret_enc)

    async def _pending(self, session: AsyncSession, user_id: str, email: str) -> Enrolment:
        """A new secret waiting for its first code (replacing an unconfirmed one)."""
        secret = totp.new_secret()
        # Under the user's data key: deleting the user shreds the secret too.
        sealed = await self.cipher.encrypt(
            session, data_subject(user_id), TABLE, COLUMN, user_id, secret
        )
        await session.execute(delete(second_factors).where(second_factors.c.user_id == user_id))
        await session.execute(
            second_factors.insert().values(
                user_id=user_id, secret_enc=sealed, created_at=datetime.now(UTC)
            )
        )
        return Enrolment(secret, totp.provisioning_uri(secret, email))

    async def _use_code(self, session: AsyncSession, row: Any, code: str) -> bool:
        """Accept a TOTP code (once) or, for an enabled factor, an unused recovery code."""
        step = totp.matching_step(
            await self._secret(session, row), code, totp.clock(), row.last_step
        )
        if step is not None:
            claimed = await session.execute(
                update(second_factors)
                .where(
                    second_factors.c.user_id == row.user_id,
                    (second_factors.c.last_step.is_(None)) | (second_factors.c.last_step < step),
                )
                .values(last_step=step)
            )
            return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]
        if row.enabled_at is None:
            return False
        used = await session.execute(
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == row.user_id,
                recovery_codes.c.code_hash == totp.recovery_digest(code),
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=datetime.now(UTC))
        )
        return bool(used.rowcount == 1)  # type: ignore[attr-defined]

    async def _new_codes(self, session: AsyncSession, user_id: str) -> list[str]:
        codes = totp.new_recovery_codes()
        await session.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
        await session.execute(
            recovery_codes.insert(),
            [
                {"id": uuid.uuid4().hex, "user_id": user_id, "code_hash": totp.recovery_digest(c)}
                for c in codes
            ],
        )
        return codes

    # --- the user's own --------------------------------------------------------------------

    async def status(self, user_id: str) -> FactorStatus:
        async with self.db.read() as session:
            row = await self._row(session, user_id)
            left = (
                await session.execute(
                    select(func.count())
                    .select_from(recovery_codes)
                    .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
                )
            ).scalar_one()
        enabled = row is not None and row.enabled_at is not None
        return FactorStatus(enabled, left if enabled else 0)

    async def enrol(self, user_id: str) -> Enrolment:
        async with self.db.transaction() as session:
            row = await self._row(session, user_id)
            if row is not None and row.enabled_at is not None:
                raise Conflict("mfa-enabled", "The second factor is already on; disable it first.")
            user = await self.records.user(session, user_id)
            email = await self.records.decrypt(session, user_id, "email", user.email_enc)
            return await self._pending(session, user_id, email or "")

    async def confirm(self, user_id: str, code: str) -> list[str]:
        """Turn the pending factor on with its first code; the recovery codes, shown once."""
        async with self.db.transaction() as session:
            row = await self._row(session, user_id)
            if row is None or row.enabled_at is not None:
                raise Conflict(
                    "mfa-not-pending", "Start with enrolment: there is nothing to confirm."
                )
            if not await self._use_code(session, row, code):
                raise INVALID_CODE
            await session.execute(
                update(second_factors)
                .where(second_factors.c.user_id == user_id)
                .values(enabled_at=datetime.now(UTC))
            )
            return await self._new_codes(session, user_id)

    async def renew_codes(self, user_id: str, code: str) -> list[str]:
        async with self.db.transaction() as session:
            row = await self._enabled(session, user_id)
            if not await self._use_code(session, row, code):
                raise INVALID_CODE
            return await self._new_codes(session, user_id)

    async def disable(self, user_id: str, password: str, code: str) -> None:
        """Turn the factor off: the password and a code (or recovery code) prove it."""
        async with self.db.read() as session:
            user = await self.records.user(session, user_id)
        if self.settings.require_admin_mfa and user.role == Role.ADMIN:
            raise Conflict(
                "mfa-required-for-admins", "Administrators must keep their second factor."
            )
        if not await self.hashing.matches(user.password_hash, password):
            raise Forbidden("wrong-password", "The password is wrong.")
        async with self.db.transaction() as session:
            row = await self._enabled(session, user_id)
            if not await self._use_code(session, row, code):
                raise INVALID_CODE
            await self.remove(session, user_id)

    async def _enabled(self, session: AsyncSession, user_id: str) -> Any:
        row = await self._row(session, user_id)
        if row is None or row.enabled_at is None:
            raise Conflict("mfa-disabled", "The second factor is not on.")
        return row

    async def reset(self, session: AsyncSession, user_id: str) -> None:
        """Remove a factor the owner lost, on or still pending, without a code (an
        administrator's decision, in the caller's transaction)."""
        if await self._row(session, user_id) is None:
            raise Conflict("mfa-disabled", "This account has no second factor to reset.")
        await self.remove(session, user_id)

    async def remove(self, session: AsyncSession, user_id: str) -> None:
        await session.execute(delete(second_factors).where(second_factors.c.user_id == user_id))
        await session.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))

    # --- at sign-in ------------------------------------------------------------------------

    async def at_sign_in(
        self, user_id: str, email: str, code: str | None, *, required: bool
    ) -> None:
        """Let a sign-in through, or raise: the code is needed, wrong, or (`required` and no
        factor yet) the factor must be set up now, with the secret in the answer; the next
        sign-in with a code from it turns it on."""
        if not required:
            async with self.db.read() as session:  # most sign-ins: a read, no write lock
                row = await self._row(session, user_id)
            if row is None or row.enabled_at is None:
                return  # an unconfirmed enrolment does not guard the account yet
        setup: Enrolment | None = None
        async with self.db.transaction() as session:
            row = await self._row(session, user_id)
            enabled = row is not None and row.enabled_at is not None
            if not enabled and not required:
                return
            if not enabled and row is None:
                setup = await self._pending(session, user_id, email)
            elif not enabled and code is None:
                secret = await self._secret(session, row)  # the same pending one, shown again
                setup = Enrolment(secret, totp.provisioning_uri(secret, email))
            elif code is None:
                raise MFA_REQUIRED
            elif not await self._use_code(session, row, code):
                raise INVALID_CODE
            elif not enabled:
                await session.execute(
                    update(second_factors)
                    .where(second_factors.c.user_id == user_id)
                    .values(enabled_at=datetime.now(UTC))
                )
        if setup is not None:  # raised once the pending secret is stored
            raise Unauthorized(
                "mfa-setup-required",
                "Administrators sign in with a second factor. Add this secret to an "
                "authenticator app, then sign in again with its code as `otp`.",
                secret=setup.secret,
                otpauth_uri=setup.otpauth_uri,
            )
