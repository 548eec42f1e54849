"""Identity's use cases: each one a transaction over identity's own tables and outbox."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.cache_bus import CacheBus, LocalCacheBus
from clearway.kit.caller import Caller
from clearway.kit.crypto import BlindIndex, FieldCipher, Sealer
from clearway.kit.db import Database
from clearway.services.identity import domain, events
from clearway.services.identity.domain import (
    INVALID_CREDENTIALS,
    BackoffPolicy,
    Role,
    Status,
    ThrottlePolicy,
    ThrottleState,
)
from clearway.services.identity.hashing import PasswordHashing
from clearway.services.identity.profiles import ProfileCache
from clearway.services.identity.second_factor import INVALID_CODE, Enrolment, SecondFactors
from clearway.services.identity.tables import (
    login_throttle,
    password_resets,
    refresh_tokens,
    registration_notices,
    revocations,
    users,
)
from clearway.services.identity.tokens import TokenIssuer
from clearway.settings import Settings

SERVICE = "identity"
PROFILE_CACHE_SECONDS = 5.0
PROFILE_CACHE_SIZE = 50_000
PROFILE_KEY = "profile:"  # cache-bus key: profile:<user id>
PERSONAL = ("email", "name", "company", "phone")
# Longer than a revoking transaction can take (pool wait included) between its clock reading
# and its commit.
REVOCATION_SETTLE = timedelta(seconds=120)
REPEAT_NOTICE_EVERY = timedelta(hours=1)
# A wrong password is forgotten after a day without another one from the same place.
BACKOFF_MEMORY = timedelta(days=1)
ADDRESS_POLICY = ThrottlePolicy(
    max_failures=20, window=timedelta(minutes=15), lockout=timedelta(minutes=15)
)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


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


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _subject(user_id: str) -> str:
    return f"user:{user_id}"


def _pair_prefix(email_index: str) -> str:
    return f"pair:{email_index[:32]}:"


class Accounts:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        cipher: FieldCipher,
        blind_index: BlindIndex,
        sealer: Sealer,
        issuer: TokenIssuer,
        cache: CacheBus | None = None,
    ) -> None:
        self.settings = settings
        self.cache = cache or LocalCacheBus()
        self.db = db
        self.cipher = cipher
        self.blind_index = blind_index
        self.sealer = sealer
        self.issuer = issuer
        self.profiles = ProfileCache(self.get_user, PROFILE_CACHE_SECONDS, PROFILE_CACHE_SIZE)
        self.hashing = PasswordHashing(
            PasswordHasher(
                time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
            ),
            settings.password_hashing_concurrency,
            settings.password_hashing_queue,
        )
        self.second_factors = SecondFactors(db, cipher)
        self.backoff = BackoffPolicy(
            free_failures=settings.login_free_failures,
            first_wait=timedelta(seconds=settings.login_backoff_seconds),
            longest_wait=timedelta(seconds=settings.login_backoff_max_seconds),
            forget_after=BACKOFF_MEMORY,
        )

    # --- helpers -------------------------------------------------------------------------

    def email_index(self, email: str) -> str:
        return self.blind_index.compute(SERVICE, "users", "email", email)

    def _throttle_keys(self, email_index: str, address: str) -> tuple[str, str]:
        """Throttle keys of (account and client address) and of the address, both pseudonymous:
        the client address is kept only as a keyed digest."""
        client = self.blind_index.compute(SERVICE, "login_throttle", "client", address)[:32]
        return f"{_pair_prefix(email_index)}{client}", f"addr:{client}"

    async def _encrypt(
        self, session: AsyncSession, user_id: str, column: str, value: str | None
    ) -> bytes | None:
        if value is None:
            return None
        return await self.cipher.encrypt(
            session, _subject(user_id), "users", f"{column}_enc", user_id, value
        )

    async def _decrypt(
        self, session: AsyncSession, user_id: str, column: str, value: bytes | None
    ) -> str | None:
        if value is None:
            return None
        return await self.cipher.decrypt(session, "users", f"{column}_enc", user_id, value)

    async def _profile(self, session: AsyncSession, row: Any) -> Profile:
        fields = {
            c: await self._decrypt(session, row.id, c, getattr(row, f"{c}_enc")) for c in PERSONAL
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

    async def _user(self, session: AsyncSession, user_id: str) -> Any:
        row = (await session.execute(select(users).where(users.c.id == user_id))).first()
        if row is None or row.status == Status.DELETED:
            raise domain.NotFound("user-not-found", "No such user.")
        return row

    # --- registration --------------------------------------------------------------------

    async def create_user(
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
            "email_index": self.email_index(email),
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
            values[f"{column}_enc"] = await self._encrypt(session, user_id, column, value)
        await session.execute(users.insert().values(**values))
        return user_id

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
            existing = (
                await session.execute(
                    select(users.c.id, users.c.name_enc).where(
                        users.c.email_index == self.email_index(email)
                    )
                )
            ).first()
            if existing is not None:
                await self.hashing.hash(password)  # the same work as a real registration
                if not await self._repeat_notice_due(session, existing.id):
                    return
                known_name = await self._decrypt(session, existing.id, "name", existing.name_enc)
                await events.emit(
                    session,
                    events.USER_REGISTRATION_REPEATED,
                    {
                        "user_id": existing.id,
                        "recipient": events.sealed_recipient(
                            self.sealer, existing.id, email, known_name or ""
                        ),
                    },
                    subject=existing.id,
                )
                return
            user_id = await self.create_user(
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
            await events.emit(
                session,
                events.USER_REGISTERED,
                {
                    "user_id": user_id,
                    "role": role.value,
                    "status": status.value,
                    "country": country,
                    "recipient": events.sealed_recipient(self.sealer, user_id, email, name),
                },
                subject=user_id,
            )

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

    # --- sign-in and sessions --------------------------------------------------------------

    async def _throttle(self, session: AsyncSession, key: str) -> ThrottleState:
        row = (
            await session.execute(select(login_throttle).where(login_throttle.c.key == key))
        ).first()
        if row is None:
            return ThrottleState(0, datetime.now(UTC), None)
        return ThrottleState(row.failures, row.window_started, row.locked_until)

    async def _save_throttle(self, session: AsyncSession, key: str, state: ThrottleState) -> None:
        values = {
            "failures": state.failures,
            "window_started": state.window_started,
            "locked_until": state.locked_until,
        }
        result = await session.execute(
            update(login_throttle).where(login_throttle.c.key == key).values(**values)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            await session.execute(login_throttle.insert().values(key=key, **values))

    async def login(
        self, email: str, password: str, address: str, otp: str | None = None
    ) -> TokenPair:
        """Throttled before any hashing: per account and address (back-off) and per address."""
        now = datetime.now(UTC)
        index = self.email_index(email)
        pair_key, address_key = self._throttle_keys(index, address)
        async with self.db.read() as session:
            for key in (pair_key, address_key):
                wait = (await self._throttle(session, key)).retry_after(now)
                if wait:
                    raise domain.Throttled(wait)
            row = (await session.execute(select(users).where(users.c.email_index == index))).first()
        matches = await self.hashing.matches(row.password_hash if row else None, password)
        if row is None or not matches or row.status == Status.DELETED:
            await self._failed_login(pair_key, address_key, row.id if row else None, address, now)
            raise INVALID_CREDENTIALS
        domain.check_can_sign_in(Status(row.status))
        required = self.settings.require_admin_mfa and row.role == Role.ADMIN
        try:
            await self.second_factors.at_sign_in(row.id, email, otp, required=required)
        except domain.Unauthorized as refused:
            if refused is INVALID_CODE:  # guessing codes is throttled like guessing passwords
                await self._failed_login(pair_key, address_key, row.id, address, now)
            raise
        async with self.db.transaction() as session:
            await session.execute(login_throttle.delete().where(login_throttle.c.key == pair_key))
            return await self._start_session(session, row.id, row.role, family_id=uuid.uuid4().hex)

    async def prune_throttle(self) -> int:
        """Forget throttle entries past their memory and their wait; how many went."""
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            gone = await session.execute(
                login_throttle.delete().where(
                    login_throttle.c.window_started < now - BACKOFF_MEMORY,
                    or_(
                        login_throttle.c.locked_until.is_(None), login_throttle.c.locked_until < now
                    ),
                )
            )
            return int(gone.rowcount)  # type: ignore[attr-defined]

    async def _failed_login(
        self, pair_key: str, address_key: str, user_id: str | None, address: str, now: datetime
    ) -> None:
        async with self.db.transaction() as session:
            pair = await self._throttle(session, pair_key)
            # Reported once, when the waits start; each further failure doubles the wait.
            locked = (
                pair.record_backoff(now, self.backoff)
                and pair.failures == self.backoff.free_failures
            )
            await self._save_throttle(session, pair_key, pair)
            by_address = await self._throttle(session, address_key)
            address_locked = by_address.record_failure(now, ADDRESS_POLICY)
            await self._save_throttle(session, address_key, by_address)
            await events.emit(session, events.LOGIN_FAILED, {"user_id": user_id, "client": address})
            if locked or address_locked:
                await events.emit(
                    session,
                    events.LOCKOUT,
                    {
                        "user_id": user_id,
                        "client": address,
                        "scope": "account-address" if locked else "address",
                    },
                )

    async def _start_session(
        self, session: AsyncSession, user_id: str, role: str, family_id: str
    ) -> TokenPair:
        token_id, secret = uuid.uuid4().hex, secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await session.execute(
            refresh_tokens.insert().values(
                id=token_id,
                family_id=family_id,
                user_id=user_id,
                secret_hash=_digest(secret),
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
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
            return None
        return row

    async def refresh(self, presented: str) -> TokenPair:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await self._find_refresh(session, presented)
            if row is None:
                raise domain.Unauthorized(
                    "invalid-refresh-token", "The refresh token is not valid."
                )
            token = domain.RefreshToken(
                row.id, row.family_id, row.user_id, row.expires_at, row.used_at, row.revoked_at
            )
            verdict = domain.judge_refresh(token, now)
            if verdict is domain.RefreshVerdict.REUSED:
                await self._revoke_families(session, [row.family_id], now)
                await events.emit(
                    session,
                    events.REFRESH_REUSE,
                    {"user_id": row.user_id, "session_id": row.family_id},
                )
        # Raised outside the block so the family's revocation commits.
        if verdict is domain.RefreshVerdict.REUSED:
            raise domain.Unauthorized(
                "refresh-token-reused",
                "This refresh token was already used; the session has been ended.",
            )
        if verdict is domain.RefreshVerdict.DEAD:
            raise domain.Unauthorized("invalid-refresh-token", "The refresh token is not valid.")
        async with self.db.transaction() as session:
            user = (
                await session.execute(
                    select(users.c.role, users.c.status).where(users.c.id == row.user_id)
                )
            ).first()
            if user is None or user.status != Status.ACTIVE:
                raise domain.Unauthorized(
                    "invalid-refresh-token", "The refresh token is not valid."
                )
            claimed = await session.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.id == row.id, refresh_tokens.c.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a concurrent refresh won
                raise domain.Unauthorized(
                    "invalid-refresh-token", "The refresh token is not valid."
                )
            return await self._start_session(
                session, row.user_id, user.role, family_id=row.family_id
            )

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

    async def _revoke_user_sessions(
        self, session: AsyncSession, user_id: str, now: datetime, keep: str | None = None
    ) -> None:
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

    async def logout(self, presented: str | None, caller: Caller) -> None:
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

    async def revocations_after(self, after: int) -> tuple[list[dict[str, Any]], int]:
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
                    .limit(5000)
                )
            ).all()
            cursor = (await session.execute(select(func.max(revocations.c.seq)))).scalar() or 0
        entries = [{"session_id": r.session_id, "until": r.expires_at.timestamp()} for r in rows]
        return entries, max(cursor, after) if len(rows) < 5000 else rows[-1].seq

    # --- passwords -----------------------------------------------------------------------

    async def forgot_password(self, email: str) -> None:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = (
                await session.execute(
                    select(users).where(users.c.email_index == self.email_index(email))
                )
            ).first()
            if row is None or row.status in (Status.DELETED, Status.SUSPENDED):
                return
            secret = secrets.token_urlsafe(32)
            await session.execute(
                password_resets.insert().values(
                    id=uuid.uuid4().hex,
                    user_id=row.id,
                    secret_hash=_digest(secret),
                    expires_at=now + timedelta(seconds=self.settings.password_reset_ttl_seconds),
                    created_at=now,
                )
            )
            name = await self._decrypt(session, row.id, "name", row.name_enc)
            link = f"{self.settings.public_url}/reset-password?token={secret}"
            await events.emit(
                session,
                events.PASSWORD_RESET_REQUESTED,
                {
                    "user_id": row.id,
                    "recipient": events.sealed_recipient(self.sealer, row.id, email, name or ""),
                    "link": self.sealer.seal_text(link, events.recipient_context(row.id)),
                    "expires_at": (
                        now + timedelta(seconds=self.settings.password_reset_ttl_seconds)
                    ).isoformat(),
                },
                subject=row.id,
            )

    async def reset_password(self, token: str, new_password: str) -> None:
        now = datetime.now(UTC)
        invalid = domain.Invalid(
            "invalid-reset-link", "This link is invalid, already used or expired."
        )
        async with self.db.transaction() as session:
            reset = (
                await session.execute(
                    select(password_resets).where(password_resets.c.secret_hash == _digest(token))
                )
            ).first()
            if reset is None or reset.used_at is not None or reset.expires_at <= now:
                raise invalid
            user = await self._user(session, reset.user_id)
            email = await self._decrypt(session, user.id, "email", user.email_enc)
            domain.check_password(new_password, email=email)
            claimed = await session.execute(
                update(password_resets)
                .where(password_resets.c.id == reset.id, password_resets.c.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise invalid
            await self._set_password(session, user.id, new_password, now)
            await session.execute(
                login_throttle.delete().where(
                    login_throttle.c.key.startswith(_pair_prefix(user.email_index), autoescape=True)
                )
            )

    async def _set_password(
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
        await self._revoke_user_sessions(session, user_id, now, keep=keep)
        await events.emit(session, events.PASSWORD_CHANGED, {"user_id": user_id}, subject=user_id)

    async def change_password(self, caller: Caller, current: str, new: str) -> None:
        assert caller.user_id is not None
        now = datetime.now(UTC)
        async with self.db.read() as session:
            user = await self._user(session, caller.user_id)
            email = await self._decrypt(session, user.id, "email", user.email_enc)
        if not await self.hashing.matches(user.password_hash, current):
            raise domain.Forbidden("wrong-password", "The current password is wrong.")
        domain.check_password(new, email=email)
        async with self.db.transaction() as session:
            await self._set_password(session, user.id, new, now, keep=caller.session_id)

    # --- second factor -------------------------------------------------------------------

    async def enrol_second_factor(self, user_id: str) -> Enrolment:
        profile = await self.me(user_id)
        return await self.second_factors.enrol(user_id, profile.email)

    async def disable_second_factor(self, user_id: str, password: str, code: str) -> None:
        async with self.db.read() as session:
            user = await self._user(session, user_id)
        if self.settings.require_admin_mfa and user.role == Role.ADMIN:
            raise domain.Conflict(
                "mfa-required-for-admins", "Administrators must keep their second factor."
            )
        if not await self.hashing.matches(user.password_hash, password):
            raise domain.Forbidden("wrong-password", "The password is wrong.")
        await self.second_factors.disable(user_id, code)

    # --- profiles ------------------------------------------------------------------------

    async def me(self, user_id: str) -> Profile:
        """The caller's own profile, from memory (see `profiles`): a write shows at once."""
        return await self.profiles.get(user_id)

    def drop_profile(self, user_id: str) -> None:
        self.profiles.drop(user_id)

    async def _profile_changed(self, user_id: str) -> None:
        """Drop the cached profile here and, through the cache bus, in every other process."""
        self.drop_profile(user_id)
        await self.cache.publish("identity", PROFILE_KEY + user_id)

    async def update_me(self, user_id: str, changes: dict[str, Any]) -> Profile:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            await self._user(session, user_id)
            values: dict[str, Any] = {"updated_at": now}
            for column in ("name", "company", "phone"):
                if column in changes:
                    values[f"{column}_enc"] = await self._encrypt(
                        session, user_id, column, changes[column]
                    )
            if "country" in changes:
                values["country"] = changes["country"]
            await session.execute(update(users).where(users.c.id == user_id).values(**values))
            await events.emit(
                session,
                events.USER_UPDATED,
                {"user_id": user_id, "fields": sorted(changes)},
                subject=user_id,
            )
            profile = await self._profile(session, await self._user(session, user_id))
        await self._profile_changed(user_id)
        return profile

    # --- administration ------------------------------------------------------------------

    async def list_users(
        self,
        *,
        role: str | None,
        status: str | None,
        email: str | None,
        country: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Profile], int]:
        conditions = [users.c.status != Status.DELETED]
        if role:
            conditions.append(users.c.role == role)
        if status:
            conditions.append(users.c.status == status)
        if country:
            conditions.append(users.c.country == country)
        if email:
            conditions.append(users.c.email_index == self.email_index(email))
        async with self.db.read() as session:
            total = (
                await session.execute(select(func.count()).select_from(users).where(*conditions))
            ).scalar_one()
            rows = (
                await session.execute(
                    select(users)
                    .where(*conditions)
                    .order_by(users.c.created_at, users.c.id)
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
            return [await self._profile(session, row) for row in rows], total

    async def get_user(self, user_id: str) -> Profile:
        async with self.db.read() as session:
            return await self._profile(session, await self._user(session, user_id))

    async def _change_status(
        self, admin: Caller, user_id: str, decide: Any, event_type: str
    ) -> Profile:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await self._user(session, user_id)
            new_status: Status = decide(Status(row.status))
            await session.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(status=new_status.value, updated_at=now)
            )
            if new_status is Status.SUSPENDED:
                await self._revoke_user_sessions(session, user_id, now)
            await events.emit(
                session,
                event_type,
                # `notify`: the owner is told (mail and in-app) by common.
                {"user_id": user_id, "role": row.role, "by": admin.user_id, "notify": [user_id]},
                subject=user_id,
            )
            profile = await self._profile(session, await self._user(session, user_id))
        await self._profile_changed(user_id)
        return profile

    async def verify(self, admin: Caller, user_id: str) -> Profile:
        return await self._change_status(admin, user_id, domain.verify, events.USER_VERIFIED)

    async def suspend(self, admin: Caller, user_id: str) -> Profile:
        if admin.user_id == user_id:
            raise domain.Conflict("self-suspension", "Administrators cannot suspend themselves.")
        return await self._change_status(admin, user_id, domain.suspend, events.USER_SUSPENDED)

    async def reinstate(self, admin: Caller, user_id: str) -> Profile:
        return await self._change_status(admin, user_id, domain.reinstate, events.USER_REINSTATED)

    async def delete(self, admin: Caller, user_id: str) -> None:
        """Crypto-shred: the user's data key is destroyed, so every copy of their data is noise."""
        if admin.user_id == user_id:
            raise domain.Conflict("self-deletion", "Administrators cannot delete themselves.")
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await self._user(session, user_id)
            await self.cipher.shred(session, _subject(user_id))
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
            await self._revoke_user_sessions(session, user_id, now)
            await events.emit(
                session,
                events.USER_DELETED,
                {"user_id": user_id, "role": row.role, "by": admin.user_id},
                subject=user_id,
            )
        await self._profile_changed(user_id)

    # --- first start ---------------------------------------------------------------------

    async def ensure_user(
        self, *, email: str, password: str, role: Role, name: str, country: str | None = None
    ) -> bool:
        """Create an active account unless one with this e-mail exists; True if created."""
        async with self.db.transaction() as session:
            exists = (
                await session.execute(
                    select(users.c.id).where(users.c.email_index == self.email_index(email))
                )
            ).first()
            if exists is not None:
                return False
            user_id = await self.create_user(
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
                await events.emit(
                    session,
                    events.USER_VERIFIED if role is Role.PROVIDER else events.USER_REGISTERED,
                    {
                        "user_id": user_id,
                        "role": role.value,
                        "status": Status.ACTIVE.value,
                        "country": country,
                    },
                    subject=user_id,
                )
            return True

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
            return None if row is None else (await self._profile(session, row)).email
