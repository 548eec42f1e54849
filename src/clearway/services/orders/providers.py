"""The provider directory: profiles, listing by account verification, search for a checklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.identity import (
    AccountChange,
    UserDeleted,
    UserReinstated,
    UserSuspended,
    UserVerified,
)
from clearway.contracts.orders import ProviderListed, ProviderSuspended, ProviderUpdated
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.crypto import FieldCipher
from clearway.kit.db import Database
from clearway.services.orders import domain
from clearway.services.orders.domain import ProviderStatus
from clearway.services.orders.rules import RulesClient
from clearway.services.orders.tables import providers

LISTS = ("requirement_codes", "evidence_types", "markets", "accreditations")
PLAIN = ("display_name", "description", "turnaround_days", "price_min", "price_max", "currency")
CONTACT = ("contact_email", "contact_phone")


def _subject(user_id: str) -> str:
    return f"provider:{user_id}"


@dataclass(frozen=True)
class Profile:
    id: str
    status: str
    display_name: str | None
    description: str | None
    requirement_codes: list[str]
    evidence_types: list[str]
    markets: list[str]
    accreditations: list[dict[str, Any]]
    turnaround_days: int | None
    price_min: int | None
    price_max: int | None
    currency: str | None
    contact_email: str | None
    contact_phone: str | None
    updated_at: datetime


class Directory:
    def __init__(self, db: Database, cipher: FieldCipher, rules: RulesClient) -> None:
        self.db = db
        self.cipher = cipher
        self.rules = rules

    async def _profile(self, session: AsyncSession, row: Any) -> Profile:
        contact: dict[str, str | None] = {}
        for c in CONTACT:
            sealed = getattr(row, f"{c}_enc")
            contact[c] = (
                None
                if sealed is None
                else await self.cipher.decrypt(
                    session, "providers", f"{c}_enc", row.user_id, sealed
                )
            )
        return Profile(
            id=row.user_id,
            status=row.status,
            display_name=row.display_name,
            description=row.description,
            requirement_codes=orjson.loads(row.requirement_codes),
            evidence_types=orjson.loads(row.evidence_types),
            markets=orjson.loads(row.markets),
            accreditations=orjson.loads(row.accreditations),
            turnaround_days=row.turnaround_days,
            price_min=row.price_min,
            price_max=row.price_max,
            currency=row.currency,
            contact_email=contact["contact_email"],
            contact_phone=contact["contact_phone"],
            updated_at=row.updated_at,
        )

    async def _row(self, session: AsyncSession, provider_id: str) -> Any:
        return (
            await session.execute(select(providers).where(providers.c.user_id == provider_id))
        ).first()

    # --- what the directory hears from identity -------------------------------------------

    async def on_account_event(self, event: AccountChange, session: AsyncSession) -> None:
        """Listed once verified; follows the account's suspension, reinstatement, deletion."""
        if event.role != "provider":
            return
        user_id = event.user_id
        row = await self._row(session, user_id)
        if row is None:
            if not isinstance(event, UserVerified):
                return
            await self._insert(session, user_id)
            row = await self._row(session, user_id)
        changes: dict[str, Any] = {}
        if isinstance(event, UserVerified):
            changes["verified"] = 1
        elif isinstance(event, UserSuspended):
            changes["suspended"] = 1
        elif isinstance(event, UserReinstated):
            changes["suspended"] = 0
        elif isinstance(event, UserDeleted):
            changes = {"removed": 1, "contact_email_enc": None, "contact_phone_enc": None}
            await self.cipher.shred(session, _subject(user_id))
        await self._save(session, row, changes, by=None)

    async def _insert(self, session: AsyncSession, user_id: str) -> None:
        now = datetime.now(UTC)
        await session.execute(
            providers.insert().values(
                user_id=user_id,
                **dict.fromkeys(LISTS, "[]"),
                verified=0,
                suspended=0,
                removed=0,
                status=ProviderStatus.PENDING.value,
                created_at=now,
                updated_at=now,
            )
        )

    async def _save(
        self, session: AsyncSession, row: Any, changes: dict[str, Any], by: str | None
    ) -> None:
        flags = {f: changes.get(f, getattr(row, f)) for f in ("verified", "suspended", "removed")}
        status = domain.provider_status(
            bool(flags["verified"]), bool(flags["suspended"]), bool(flags["removed"])
        )
        await session.execute(
            update(providers)
            .where(providers.c.user_id == row.user_id)
            .values(**changes, status=status.value, updated_at=datetime.now(UTC))
        )
        if status.value != row.status:
            kind = {
                ProviderStatus.LISTED: ProviderListed,
                ProviderStatus.SUSPENDED: ProviderSuspended,
            }.get(status, ProviderUpdated)
        else:
            kind = ProviderUpdated
        await publish(session, kind(provider_id=row.user_id, status=status.value, by=by))

    # --- profiles --------------------------------------------------------------------------

    async def _values(
        self, session: AsyncSession, user_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column, value in changes.items():
            if column in LISTS:
                values[column] = orjson.dumps(value).decode()
            elif column in CONTACT:
                values[f"{column}_enc"] = (
                    None
                    if value is None
                    else await self.cipher.encrypt(
                        session, _subject(user_id), "providers", f"{column}_enc", user_id, value
                    )
                )
            elif column in PLAIN:
                values[column] = value
        return values

    async def update(self, caller: Caller, provider_id: str, changes: dict[str, Any]) -> Profile:
        """A provider edits its own profile; an administrator edits any."""
        if not caller.is_admin and caller.user_id != provider_id:
            raise domain.NotFound("provider-not-found", "No such provider.")
        async with self.db.transaction() as session:
            row = await self._row(session, provider_id)
            if row is None or row.status == ProviderStatus.REMOVED:
                raise domain.NotFound("provider-not-found", "No such provider.")
            merged = {c: getattr(row, c) for c in ("price_min", "price_max")} | changes
            if (
                merged["price_min"] is not None
                and merged["price_max"] is not None
                and merged["price_min"] > merged["price_max"]
            ):
                raise domain.Invalid("price-range", "The lowest price exceeds the highest.")
            await self._save(
                session, row, await self._values(session, provider_id, changes), by=caller.user_id
            )
            return await self._profile(session, await self._row(session, provider_id))

    async def add(self, admin: Caller, provider_id: str, profile: dict[str, Any]) -> Profile:
        """An administrator adds a profile; it is listed once the account is verified."""
        async with self.db.transaction() as session:
            if await self._row(session, provider_id) is not None:
                raise domain.Conflict("provider-exists", "This provider already has a profile.")
            await self._insert(session, provider_id)
        return await self.update(admin, provider_id, profile)

    async def set_suspended(self, admin: Caller, provider_id: str, suspended: bool) -> Profile:
        async with self.db.transaction() as session:
            row = await self._row(session, provider_id)
            if row is None or row.status == ProviderStatus.REMOVED:
                raise domain.NotFound("provider-not-found", "No such provider.")
            await self._save(session, row, {"suspended": int(suspended)}, by=admin.user_id)
            return await self._profile(session, await self._row(session, provider_id))

    async def get(self, caller: Caller, provider_id: str) -> Profile:
        """Listed profiles for everyone; a provider's own and, for administrators, any."""
        async with self.db.read() as session:
            row = await self._row(session, provider_id)
            visible = row is not None and (
                row.status == ProviderStatus.LISTED
                or caller.is_admin
                or caller.user_id == provider_id
            )
            if not visible:
                raise domain.NotFound("provider-not-found", "No such provider.")
            return await self._profile(session, row)

    async def listed_status(self, session: AsyncSession, provider_id: str) -> bool:
        row = await self._row(session, provider_id)
        return row is not None and row.status == ProviderStatus.LISTED

    # --- search ----------------------------------------------------------------------------

    async def search(
        self,
        caller: Caller,
        *,
        checklist_id: str | None,
        market: str | None,
        codes: list[str],
        status: str | None,
        limit: int,
    ) -> tuple[list[tuple[Profile, domain.Match | None]], domain.Checklist | None]:
        checklist = None
        needed: list[domain.Requirement] = []
        if checklist_id:
            checklist = await self.rules.checklist(checklist_id)
            if not caller.is_admin and checklist.owner_id != caller.user_id:
                raise domain.NotFound("checklist-not-found", "No such checklist.")
            market = checklist.market
            wanted = set(codes)
            needed = [r for r in checklist.applicable if not wanted or r.code in wanted]
        else:
            needed = [domain.Requirement(c, c, "", True, True) for c in codes]
        conditions = [providers.c.status == (status if caller.is_admin and status else "listed")]
        async with self.db.read() as session:
            rows = (await session.execute(select(providers).where(*conditions))).all()
            by_id = {row.user_id: row for row in rows}
            if not needed and market is None:
                ordered = sorted(rows, key=lambda r: ((r.display_name or "").lower(), r.user_id))
                return [(await self._profile(session, r), None) for r in ordered[:limit]], None
            coverage = [
                domain.ProviderCoverage(
                    provider_id=row.user_id,
                    requirement_codes=frozenset(orjson.loads(row.requirement_codes)),
                    evidence_types=frozenset(orjson.loads(row.evidence_types)),
                    markets=frozenset(orjson.loads(row.markets)),
                    turnaround_days=row.turnaround_days,
                )
                for row in rows
            ]
            matches = domain.rank_providers(coverage, needed, market)[:limit]
            return [
                (await self._profile(session, by_id[m.provider_id]), m) for m in matches
            ], checklist
