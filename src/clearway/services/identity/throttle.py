"""Sign-in throttling kept in identity's database: back-off per account and client address,
and a limit per address (the rules are `domain.ThrottleState`).

The client address is never kept: throttle keys hold a keyed digest of it, and the security
events a prefix of that digest (`client_ref`), so an attack from one address can be followed in
the audit trail without the address being stored anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.crypto import BlindIndex
from clearway.kit.db import Database
from clearway.services.identity.domain import BackoffPolicy, ThrottlePolicy, ThrottleState
from clearway.services.identity.records import SERVICE
from clearway.services.identity.tables import login_throttle

# A wrong password is forgotten after a day without another one from the same place.
BACKOFF_MEMORY = timedelta(days=1)
ADDRESS_POLICY = ThrottlePolicy(
    max_failures=20, window=timedelta(minutes=15), lockout=timedelta(minutes=15)
)
# How much of the address digest events carry: 64 bits tell addresses apart.
REFERENCE_LENGTH = 16


@dataclass(frozen=True)
class ThrottleKeys:
    """Where one sign-in attempt is counted: the account from this address, and the address."""

    pair: str
    address: str
    client_ref: str
    """The address as security events name it: equal for equal addresses."""


@dataclass(frozen=True)
class Failure:
    """What one more failed sign-in started: waits for the pair, or a lock of the address."""

    pair_waits: bool
    address_locked: bool


def pair_prefix(email_index: str) -> str:
    """The start of every pair key of one account (to clear them all at once)."""
    return f"pair:{email_index[:32]}:"


class LoginThrottle:
    def __init__(self, db: Database, blind_index: BlindIndex, backoff: BackoffPolicy) -> None:
        self.db = db
        self.blind_index = blind_index
        self.backoff = backoff

    def keys(self, email_index: str, address: str) -> ThrottleKeys:
        """The keys of an attempt, all pseudonymous: the address only as a keyed digest (HMAC
        under the platform's blind-index key), which cannot be reversed without that key."""
        client = self.blind_index.compute(SERVICE, "login_throttle", "client", address)[:32]
        return ThrottleKeys(
            pair=f"{pair_prefix(email_index)}{client}",
            address=f"addr:{client}",
            client_ref=client[:REFERENCE_LENGTH],
        )

    async def retry_after(self, session: AsyncSession, keys: ThrottleKeys, now: datetime) -> int:
        """Seconds until this attempt may be made (the pair's wait first); 0: now."""
        for key in (keys.pair, keys.address):
            wait = (await self._state(session, key)).retry_after(now)
            if wait:
                return wait
        return 0

    async def fail(self, session: AsyncSession, keys: ThrottleKeys, now: datetime) -> Failure:
        """Count a failed attempt on both keys."""
        pair = await self._state(session, keys.pair)
        # Reported once, when the waits start; each further failure doubles the wait.
        started = pair.record_backoff(now, self.backoff)
        waits = started and pair.failures == self.backoff.free_failures
        await self._save(session, keys.pair, pair)
        by_address = await self._state(session, keys.address)
        address_locked = by_address.record_failure(now, ADDRESS_POLICY)
        await self._save(session, keys.address, by_address)
        return Failure(waits, address_locked)

    async def clear_pair(self, session: AsyncSession, keys: ThrottleKeys) -> None:
        """A success from the address ends the back-off of the account there."""
        await session.execute(login_throttle.delete().where(login_throttle.c.key == keys.pair))

    async def clear_account(self, session: AsyncSession, email_index: str) -> None:
        """A new password ends the back-off of the account from every address."""
        await session.execute(
            login_throttle.delete().where(
                login_throttle.c.key.startswith(pair_prefix(email_index), autoescape=True)
            )
        )

    async def prune(self) -> int:
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

    async def _state(self, session: AsyncSession, key: str) -> ThrottleState:
        row = (
            await session.execute(select(login_throttle).where(login_throttle.c.key == key))
        ).first()
        if row is None:
            return ThrottleState(0, datetime.now(UTC), None)
        return ThrottleState(row.failures, row.window_started, row.locked_until)

    async def _save(self, session: AsyncSession, key: str, state: ThrottleState) -> None:
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
