"""Reports: what a provider delivers for some of an order's requirements, valid until they
expire or the provider withdraws them (which revokes the clearances relying on them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import orjson
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.orders import ReportIssued, ReportWithdrawn
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.db import Database
from clearway.services.orders import domain
from clearway.services.orders.access import order_row, party_of
from clearway.services.orders.clearances import revoke_relying_on
from clearway.services.orders.domain import Party, State
from clearway.services.orders.erasure import OrderTexts
from clearway.services.orders.tables import attachments, reports

ReportStatus = Literal["valid", "expired", "withdrawn"]


@dataclass(frozen=True)
class ReportRequest:
    requirement_codes: list[str]
    title: str
    reference: str | None
    issued_on: date
    expires_on: date
    attachment_id: str | None


@dataclass(frozen=True)
class Report:
    id: str
    order_id: str
    provider_id: str
    customer_id: str
    market: str
    hs_code: str
    requirement_codes: list[str]
    title: str
    reference: str | None
    attachment_id: str | None
    issued_on: date
    expires_on: date
    status: ReportStatus
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    created_at: datetime


def report_status(withdrawn_at: datetime | None, expires_on: date, today: date) -> ReportStatus:
    if withdrawn_at is not None:
        return "withdrawn"
    return "expired" if expires_on < today else "valid"


class Reports:
    def __init__(self, db: Database, texts: OrderTexts) -> None:
        self.db = db
        self.texts = texts

    async def issue(self, caller: Caller, order_id: str, request: ReportRequest) -> Report:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await order_row(session, caller, order_id)
            if party_of(caller, row) is not Party.PROVIDER:
                raise domain.Forbidden(
                    "party-not-allowed", "Only the provider of an order delivers its reports."
                )
            if row.state != State.IN_PROGRESS:
                raise domain.Conflict(
                    "invalid-state",
                    "Reports are delivered while the order is in progress; it is "
                    + domain.in_words(row.state)
                    + ".",
                )
            ordered = {r["code"] for r in orjson.loads(row.requirements)}
            codes = list(dict.fromkeys(request.requirement_codes))
            unknown = sorted(set(codes) - ordered)
            if unknown:
                raise domain.Invalid(
                    "unknown-requirement",
                    "Not requirements of this order: " + ", ".join(unknown),
                    unknown=unknown,
                )
            domain.check_report_dates(request.issued_on, request.expires_on, now.date())
            if request.attachment_id is not None:
                found = (
                    await session.execute(
                        select(attachments.c.id).where(
                            attachments.c.id == request.attachment_id,
                            attachments.c.order_id == row.id,
                        )
                    )
                ).first()
                if found is None:
                    raise domain.Invalid(
                        "unknown-attachment", "The attachment is not one of this order's."
                    )
            report_id = uuid.uuid4().hex
            await session.execute(
                reports.insert().values(
                    id=report_id,
                    order_id=row.id,
                    provider_id=row.provider_id,
                    customer_id=row.customer_id,
                    market=row.market,
                    hs_code=row.hs_code,
                    requirement_codes=orjson.dumps(codes).decode(),
                    title=request.title,
                    reference=request.reference,
                    attachment_id=request.attachment_id,
                    issued_on=request.issued_on,
                    expires_on=request.expires_on,
                    created_at=now,
                )
            )
            await publish(
                session,
                ReportIssued(
                    order_id=row.id,
                    report_id=report_id,
                    provider_id=row.provider_id,
                    customer_id=row.customer_id,
                    requirements=codes,
                    expires_on=request.expires_on,
                    notify=[row.customer_id],
                ),
            )
            return await self._report(session, await self._row(session, report_id))

    async def _row(self, session: AsyncSession, report_id: str) -> Any:
        return (await session.execute(select(reports).where(reports.c.id == report_id))).first()

    async def _report(self, session: AsyncSession, r: Any) -> Report:
        today = datetime.now(UTC).date()
        return Report(
            id=r.id,
            order_id=r.order_id,
            provider_id=r.provider_id,
            customer_id=r.customer_id,
            market=r.market,
            hs_code=r.hs_code,
            requirement_codes=orjson.loads(r.requirement_codes),
            title=r.title,
            reference=r.reference,
            attachment_id=r.attachment_id,
            issued_on=r.issued_on,
            expires_on=r.expires_on,
            status=report_status(r.withdrawn_at, r.expires_on, today),
            withdrawn_at=r.withdrawn_at,
            withdrawn_reason=await self.texts.read(
                session, "reports", "withdrawn_reason_enc", r.id, r.withdrawn_reason_enc
            ),
            created_at=r.created_at,
        )

    async def _visible(self, session: AsyncSession, caller: Caller, report_id: str) -> Any:
        r = await self._row(session, report_id)
        if r is None or not (caller.is_admin or caller.user_id in (r.customer_id, r.provider_id)):
            raise domain.NotFound("report-not-found", "No such report.")
        return r

    async def get(self, caller: Caller, report_id: str) -> Report:
        async with self.db.read() as session:
            return await self._report(session, await self._visible(session, caller, report_id))

    async def find(
        self, caller: Caller, order_id: str | None, limit: int, offset: int
    ) -> list[Report]:
        """Reports the caller received or issued (all for administrators), or an order's."""
        async with self.db.read() as session:
            conditions = []
            if order_id is not None:
                row = await order_row(session, caller, order_id)
                conditions.append(reports.c.order_id == row.id)
            if not caller.is_admin:
                conditions.append(
                    or_(
                        reports.c.customer_id == caller.user_id,
                        reports.c.provider_id == caller.user_id,
                    )
                )
            found = (
                await session.execute(
                    select(reports)
                    .where(*conditions)
                    .order_by(reports.c.created_at.desc(), reports.c.id)
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
            return [await self._report(session, r) for r in found]

    async def withdraw(self, caller: Caller, report_id: str, reason: str) -> Report:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            r = await self._visible(session, caller, report_id)
            if caller.user_id != r.provider_id:
                raise domain.Forbidden(
                    "party-not-allowed", "Only the provider that issued a report withdraws it."
                )
            if r.withdrawn_at is not None:
                raise domain.Conflict("already-withdrawn", "This report is already withdrawn.")
            result = await session.execute(
                update(reports)
                .where(reports.c.id == r.id, reports.c.withdrawn_at.is_(None))
                .values(
                    withdrawn_at=now,
                    withdrawn_reason_enc=await self.texts.seal(
                        session, r.order_id, "reports", "withdrawn_reason_enc", r.id, reason
                    ),
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise domain.CONCURRENT_CHANGE
            await publish(
                session,
                ReportWithdrawn(
                    order_id=r.order_id,
                    report_id=r.id,
                    provider_id=r.provider_id,
                    customer_id=r.customer_id,
                    notify=[r.customer_id],
                ),
            )
            await revoke_relying_on(session, [r.id], f"report {r.id} was withdrawn", now)
            return await self._report(session, await self._row(session, r.id))
