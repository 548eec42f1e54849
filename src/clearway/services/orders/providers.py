"""The provider directory: profiles, listing by account verification, search for a checklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

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
from clearway.services.orders.accounts import AccountsClient
from clearway.services.orders.domain import ProviderStatus
from clearway.services.orders.rules import RulesClient
from clearway.services.orders.tables import providers
from clearway.services.orders.vocabulary import check_profile

LISTS = ("requirement_codes", "evidence_types", "markets", "accreditations")
PLAIN = ("display_name", "description", "turnaround_days", "price_min", "price_max", "currency")
CONTACT = ("contact_email", "contact_phone")


class ProfileFields(TypedDict, total=False):
    """A change to a profile: a field left out stays as it is, `None` clears it."""

    display_name: str | None
    description: str | None
    requirement_codes: list[str]
    evidence_types: list[str]
    markets: list[str]
    accreditations: list[dict[str, str | None]]
    turnaround_days: int | None
    price_min: int | None
    price_max: int | None
    currency: str | None
    contact_email: str | None
    contact_phone: str | None


def _subject(user_id: str) -> str:
    return f"provider:{user_id}"


def stored_list(raw: str | None) -> list[Any]:
    """A JSON list column as stored, read leniently: whatever an older version may have left
    there (`null`, not JSON, not a list) reads as empty rather than breaking every reader."""
    try:
        value = orjson.loads(raw) if raw is not None else None
    except orjson.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []


def _strings(raw: str | None) -> list[str]:
    return [v for v in stored_list(raw) if isinstance(v, str)]


def _coverage(row: Any) -> domain.ProviderCoverage:
    return domain.ProviderCoverage(
        provider_id=row.user_id,
        requirement_codes=frozenset(_strings(row.requirement_codes)),
        evidence_types=frozenset(_strings(row.evidence_types)),
        markets=frozenset(_strings(row.markets)),
        turnaround_days=row.turnaround_days,
    )


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
    def __init__(
        self, db: Database, cipher: FieldCipher, rules: RulesClient, accounts: AccountsClient
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.rules = rules
        self.accounts = accounts

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
            requirement_codes=_strings(row.requirement_codes),
            evidence_types=_strings(row.evidence_types),
            markets=_strings(row.markets),
            accreditations=[a for a in stored_list(row.accreditations) if isinstance(a, dict)],
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
        self, session: AsyncSession, user_id: str, changes: ProfileFields
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column, value in changes.items():
            if column in LISTS:
                values[column] = orjson.dumps(value).decode()
            elif column in CONTACT:
                values[f"{column}_enc"] = (
                    await self.cipher.encrypt(
                        session, _subject(user_id), "providers", f"{column}_enc", user_id, value
                    )
                    if isinstance(value, str)
                    else None
                )
            elif column in PLAIN:
                values[column] = value
        return values

    async def _check_terms(self, changes: ProfileFields) -> None:
        if any(changes.get(field) for field in ("requirement_codes", "evidence_types", "markets")):
            check_profile(changes, await self.rules.vocabulary())

    async def _change(
        self, session: AsyncSession, row: Any, changes: ProfileFields, by: str | None
    ) -> Profile:
        lowest = changes.get("price_min", row.price_min)
        highest = changes.get("price_max", row.price_max)
        if lowest is not None and highest is not None and lowest > highest:
            raise domain.Invalid("price-range", "The lowest price exceeds the highest.")
        await self._save(session, row, await self._values(session, row.user_id, changes), by=by)
        return await self._profile(session, await self._row(session, row.user_id))

    async def update(self, caller: Caller, provider_id: str, changes: ProfileFields) -> Profile:
        """A provider edits its own profile; an administrator edits any."""
        if not caller.is_admin and caller.user_id != provider_id:
            raise domain.NotFound("provider-not-found", "No such provider.")
        await self._check_terms(changes)
        async with self.db.transaction() as session:
            row = await self._row(session, provider_id)
            if row is None or row.status == ProviderStatus.REMOVED:
                raise domain.NotFound("provider-not-found", "No such provider.")
            return await self._change(session, row, changes, caller.user_id)

    async def add(self, admin: Caller, provider_id: str, profile: ProfileFields) -> Profile:
        """An administrator adds a profile for a provider's account; it is listed once the
        account is verified. All or nothing: a refused profile leaves no empty one behind."""
        account = await self.accounts.find(provider_id)
        if account is None:
            raise domain.Invalid("unknown-user", "There is no account with this id.")
        if account.role != "provider":
            raise domain.Invalid(
                "not-a-provider",
                f"This account is a {account.role}'s: only providers have a profile.",
            )
        await self._check_terms(profile)
        async with self.db.transaction() as session:
            if await self._row(session, provider_id) is not None:
                raise domain.Conflict("provider-exists", "This provider already has a profile.")
            await self._insert(session, provider_id)
            return await self._change(
                session, await self._row(session, provider_id), profile, admin.user_id
            )

    async def seed(self, session: AsyncSession, provider_id: str, profile: ProfileFields) -> None:
        """Fill in a profile inside the caller's transaction (the demo provider's)."""
        row = await self._row(session, provider_id)
        if row is not None:
            await self._save(session, row, await self._values(session, provider_id, profile), None)

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

    async def listed_coverage(
        self, session: AsyncSession, provider_id: str
    ) -> domain.ProviderCoverage | None:
        """What a listed provider covers; None when it is not listed."""
        row = await self._row(session, provider_id)
        if row is None or row.status != ProviderStatus.LISTED:
            return None
        return _coverage(row)

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
            coverage = [_coverage(row) for row in rows]
            matches = domain.rank_providers(coverage, needed, market)[:limit]
            return [
                (await self._profile(session, by_id[m.provider_id]), m) for m in matches
            ], checklist
