"""Identity's sessions: sign in, rotate refresh tokens, sign out, and the list of sessions
ended early that the gateway polls.

A session is a family of refresh tokens (its id is the access tokens' `sid`): each refresh
uses one token and issues the next; ending a session revokes the family and lists it until
its last access token has expired.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.identity import (
    Lockout,
    LoginFailed,
    RefreshTokenReused,
    Revocation,
    Revocations,
)
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.db import Database
from clearway.services.identity import domain
from clearway.services.identity.domain import INVALID_CREDENTIALS, Role, Status
from clearway.services.identity.hashing import PasswordHashing
from clearway.services.identity.records import UserRecords
from clearway.services.identity.second_factor import INVALID_CODE, SecondFactors
from clearway.services.identity.tables import refresh_tokens, revocations, users
from clearway.services.identity.throttle import LoginThrottle, ThrottleKeys
from clearway.services.identity.tokens import TokenIssuer
from clearway.settings import Settings

# Longer than a revoking transaction can take (pool wait included) between its clock reading
# and its commit.
REVOCATION_SETTLE = timedelta(seconds=120)
REVOCATIONS_PER_POLL = 5000
INVALID_REFRESH = domain.Unauthorized("invalid-refresh-token", "The refresh token is not valid.")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


class Sessions:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        records: UserRecords,
        hashing: PasswordHashing,
        second_factors: SecondFactors,
        throttle: LoginThrottle,
        issuer: TokenIssuer,
    ) -> None:
        self.settings = settings
        self.db = db
        self.records = records
        self.hashing = hashing
        self.second_factors = second_factors
        self.throttle = throttle
        self.issuer = issuer

    async def login(
        self, email: str, password: str, address: str, otp: str | None = None
    ) -> TokenPair:
        """Throttled before any hashing: per account and address (back-off) and per address."""
        now = datetime.now(UTC)
        keys = self.throttle.keys(self.records.email_index(email), address)
        async with self.db.read() as session:
            wait = await self.throttle.retry_after(session, keys, now)
            if wait:
                raise domain.Throttled(wait)
            row = await self.records.by_email(session, email)
        matches = await self.hashing.matches(row.password_hash if row else None, password)
        if row is None or not matches or row.status == Status.DELETED:
            await self._failed(keys, row.id if row else None, now)
            raise INVALID_CREDENTIALS
        domain.check_can_sign_in(Status(row.status))
        required = self.settings.require_admin_mfa and row.role == Role.ADMIN
        try:
            await self.second_factors.at_sign_in(row.id, email, otp, required=required)
        except domain.Unauthorized as refused:
            if refused is INVALID_CODE:  # guessing codes is throttled like guessing passwords
                await self._failed(keys, row.id, now)
            raise
        async with self.db.transaction() as session:
            await self.throttle.clear_pair(session, keys)
            return await self._start(session, row.id, row.role, family_id=uuid.uuid4().hex)

    async def _failed(self, keys: ThrottleKeys, user_id: str | None, now: datetime) -> None:
        # The events name the client by its pseudonym only; `client` is sent, null, for the
        # consumers of version 1, which expect the field.
        ref = keys.client_ref
        async with self.db.transaction() as session:
            failure = await self.throttle.fail(session, keys, now)
            await publish(session, LoginFailed(user_id=user_id, client=None, client_ref=ref))
            if failure.pair_waits or failure.address_locked:
                scope = "account-address" if failure.pair_waits else "address"
                await publish(
                    session, Lockout(user_id=user_id, client=None, client_ref=ref, scope=scope)
                )

    async def _start(
        self, session: AsyncSession, user_id: str, role: str, family_id: str
    ) -> TokenPair:
        token_id, secret = uuid.uuid4().hex, secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await session.execute(
            refresh_tokens.insert().values(
                id=token_id,
                family_id=family_id,
                user_id=user_id,
                secret_hash=domain.secret_digest(secret),
                expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl_seconds),
                created_at=now,
            )
        )
        return TokenPair(
            access_token=self.issuer.issue(user_id, role, family_id),
            refresh_token=f"{token_id}.{secret}",
            expires_in=self.issuer.ttl,
        )

    async def _find_refresh(self, session: AsyncSession, presented: str) -> Any:
        token_id, _, secret = presented.partition(".")
        row = (
            await session.execute(select(refresh_tokens).where(refresh_tokens.c.id == token_id))
        ).first()
        if row is None or not hmac.compare_digest(row.secret_hash, domain.secret_digest(secret)):
            return None
        return row

    async def refresh(self, presented: str) -> TokenPair:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await self._find_refresh(session, presented)
            if row is None:
                raise INVALID_REFRESH
            token = domain.RefreshToken(
                row.id, row.family_id, row.user_id, row.expires_at, row.used_at, row.revoked_at
            )
            verdict = domain.judge_refresh(token, now)
            if verdict is domain.RefreshVerdict.REUSED:
                await self._revoke_families(session, [row.family_id], now)
                await publish(
                    session,
                    RefreshTokenReused(user_id=row.user_id, session_id=row.family_id),
                )
        # Raised outside the block so the family's revocation commits.
        if verdict is domain.RefreshVerdict.REUSED:
            raise domain.Unauthorized(
                "refresh-token-reused",
                "This refresh token was already used; the session has been ended.",
            )
        if verdict is domain.RefreshVerdict.DEAD:
            raise INVALID_REFRESH
        async with self.db.transaction() as session:
            user = (
                await session.execute(
                    select(users.c.role, users.c.status).where(users.c.id == row.user_id)
                )
            ).first()
            if user is None or user.status != Status.ACTIVE:
                raise INVALID_REFRESH
            claimed = await session.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.id == row.id, refresh_tokens.c.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a concurrent refresh won
                raise INVALID_REFRESH
            return await self._start(session, row.user_id, user.role, family_id=row.family_id)

    async def logout(self, presented: str | None, caller: Caller) -> None:
        """End the session of the refresh token and/or of the caller's access token."""
        now = datetime.now(UTC)
        families: set[str] = set()
        async with self.db.transaction() as session:
            if presented:
                row = await self._find_refresh(session, presented)
                if row is not None:
                    families.add(row.family_id)
            if caller.session_id:
                families.add(caller.session_id)
            await self._revoke_families(session, sorted(families), now)

    async def end_all(
        self, session: AsyncSession, user_id: str, now: datetime, keep: str | None = None
    ) -> None:
        """End every live session of a user (but `keep`), in the caller's transaction."""
        live = await session.execute(
            select(refresh_tokens.c.family_id)
            .where(
                refresh_tokens.c.user_id == user_id,
                refresh_tokens.c.revoked_at.is_(None),
                refresh_tokens.c.expires_at > now - timedelta(seconds=self.issuer.ttl),
            )
            .distinct()
        )
        await self._revoke_families(session, [f for (f,) in live if f != keep], now)

    async def _revoke_families(
        self, session: AsyncSession, families: list[str], now: datetime
    ) -> None:
        if not families:
            return
        await session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id.in_(families), refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        until = now + timedelta(seconds=self.issuer.ttl + 60)
        await session.execute(
            revocations.insert(),
            [{"session_id": f, "expires_at": until, "created_at": now} for f in families],
        )

    async def revocations_after(self, after: int) -> Revocations:
        """Sessions ended early whose access tokens may still be presented, after a cursor."""
        now = datetime.now(UTC)
        # On PostgreSQL, sequence order is not commit order: a revocation may become visible
        # after one with a higher seq was served and the cursor moved past it. Recent ones are
        # therefore served again (adding one twice is harmless) until they must have committed.
        recent = revocations.c.created_at > now - REVOCATION_SETTLE
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(revocations)
                    .where(or_(revocations.c.seq > after, recent), revocations.c.expires_at > now)
                    .order_by(revocations.c.seq)
                    .limit(REVOCATIONS_PER_POLL)
                )
            ).all()
            cursor = (await session.execute(select(func.max(revocations.c.seq)))).scalar() or 0
        items = [Revocation(session_id=r.session_id, until=r.expires_at.timestamp()) for r in rows]
        if len(rows) == REVOCATIONS_PER_POLL:
            return Revocations(items=items, cursor=rows[-1].seq)
        return Revocations(items=items, cursor=max(cursor, after))
