"""Shipment clearance: issued when at least one requirement applies and every one that does is
covered by a valid report of a delivered order; a signed certificate anyone can verify, revoked
when what it rests on goes (a report withdrawn or expired, its order cancelled, or the
checklist's answers changed so that a requirement no report covers now applies)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.orders import ClearanceIssued, ClearanceRevoked
from clearway.contracts.rules import ChecklistAnswered
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.db import Database
from clearway.services.orders import domain
from clearway.services.orders.certificates import CertificateSigner, InvalidCertificate
from clearway.services.orders.rules import RulesClient
from clearway.services.orders.tables import clearance_reports, clearances, orders, reports

VALID = "valid"
REVOKED = "revoked"
NOT_FOUND = domain.NotFound("clearance-not-found", "No such clearance.")


@dataclass(frozen=True)
class ReliedReport:
    code: str
    report_id: str
    provider_id: str
    expires_on: date


@dataclass(frozen=True)
class PublicClearance:
    """What anyone may know about a certificate: whether it stands, and what it covers."""

    id: str
    valid: bool
    status: Literal["valid", "revoked"]
    reason: str | None
    market: str
    hs_code: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    requirements: list[ReliedReport]


@dataclass(frozen=True)
class Clearance(PublicClearance):
    customer_id: str
    checklist_id: str
    certificate: str  # the compact JWS


@dataclass(frozen=True)
class Verification:
    valid: bool
    signature_valid: bool
    status: Literal["valid", "revoked", "invalid"]
    reason: str | None
    # For a certificate this platform issued: what stands now, and the claims as signed.
    id: str | None = None
    market: str | None = None
    hs_code: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    requirements: list[ReliedReport] | None = None
    claims: dict[str, Any] | None = None


async def revoke_relying_on(
    session: AsyncSession, report_ids: list[str], reason: str, now: datetime
) -> list[str]:
    """Revoke every valid clearance that relies on one of these reports; their ids."""
    found = (
        await session.execute(
            select(clearances.c.id)
            .join(clearance_reports, clearance_reports.c.clearance_id == clearances.c.id)
            .where(clearance_reports.c.report_id.in_(report_ids), clearances.c.status == VALID)
            .distinct()
        )
    ).all()
    for (clearance_id,) in found:
        await revoke(session, clearance_id, reason, now)
    return [clearance_id for (clearance_id,) in found]


async def revoke(session: AsyncSession, clearance_id: str, reason: str, now: datetime) -> None:
    """Revoke a valid clearance, saying why (shown on its public verification)."""
    result = await session.execute(
        update(clearances)
        .where(clearances.c.id == clearance_id, clearances.c.status == VALID)
        .values(status=REVOKED, revoked_reason=reason[:300], revoked_at=now)
        .returning(clearances.c.customer_id)
    )
    customer_id = result.scalar_one_or_none()
    if customer_id is None:
        return  # revoked already
    await publish(
        session,
        ClearanceRevoked(
            clearance_id=clearance_id, customer_id=customer_id, reason=reason, notify=[customer_id]
        ),
    )


def end_of_day(day: date) -> datetime:
    """The instant a day ends (UTC); the last representable day ends at its last microsecond."""
    try:
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    except OverflowError:
        return datetime.combine(day, time.max, tzinfo=UTC)


async def revoke_for_order(session: AsyncSession, order_id: str, now: datetime) -> list[str]:
    """A cancelled order takes the clearances relying on its reports with it."""
    report_ids = list(
        (await session.scalars(select(reports.c.id).where(reports.c.order_id == order_id))).all()
    )
    if not report_ids:
        return []
    return await revoke_relying_on(
        session, report_ids, f"order {order_id} behind a report it relies on was cancelled", now
    )


class Clearances:
    def __init__(
        self, db: Database, rules: RulesClient, signer: CertificateSigner, issuer: str
    ) -> None:
        self.db = db
        self.rules = rules
        self.signer = signer
        self.issuer = issuer

    async def request(self, caller: Caller, checklist_id: str, report_ids: list[str]) -> Clearance:
        """Issue a certificate, or refuse (422) saying what is missing and which reports fail."""
        assert caller.user_id is not None
        checklist = await self.rules.owned_checklist(checklist_id, caller.user_id)
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(reports, orders.c.state.label("order_state"))
                    .join(orders, orders.c.id == reports.c.order_id)
                    .where(reports.c.id.in_(report_ids), reports.c.customer_id == caller.user_id)
                )
            ).all()
            # Reports of other customers are as unknown as reports that do not exist.
            unknown = sorted(set(report_ids) - {r.id for r in rows})
            evidence = [
                domain.Evidence(
                    report_id=r.id,
                    requirement_codes=frozenset(orjson.loads(r.requirement_codes)),
                    market=r.market,
                    hs_code=r.hs_code,
                    expires_on=r.expires_on,
                    withdrawn=r.withdrawn_at is not None,
                    order_state=domain.State(r.order_state),
                )
                for r in rows
            ]
            assessment = domain.assess_clearance(checklist, evidence, now.date())
            rejected = {rid: "no such report of yours" for rid in unknown} | assessment.rejected
            if not assessment.complete:
                raise domain.Invalid(
                    "clearance-refused",
                    "Not every requirement that applies is covered by a valid report.",
                    missing=[
                        {"code": r.code, "title": r.title, "mandatory": r.mandatory}
                        for r in assessment.missing
                    ],
                    rejected_reports=[
                        {"report_id": rid, "reason": why} for rid, why in sorted(rejected.items())
                    ],
                )
            if unknown:
                raise domain.Invalid(
                    "unknown-report",
                    "Some reports are not yours or do not exist.",
                    rejected_reports=[
                        {"report_id": rid, "reason": rejected[rid]} for rid in unknown
                    ],
                )
            by_id = {r.id: r for r in rows}
            relied = [(code, by_id[rid]) for code, rid in sorted(assessment.covered.items())]
            # Valid through the last day of the earliest expiring report it relies on.
            expires_at = end_of_day(min(r.expires_on for _, r in relied))
            clearance_id = uuid.uuid4().hex
            claims = {
                "iss": self.issuer,
                "sub": clearance_id,
                "jti": clearance_id,
                "iat": int(now.timestamp()),
                "exp": int(expires_at.timestamp()),
                "market": checklist.market,
                "hs_code": checklist.hs_code,
                "checklist_id": checklist.id,
                "holder": caller.user_id,
                "requirements": [
                    {
                        "code": code,
                        "report_id": r.id,
                        "provider_id": r.provider_id,
                        "expires_on": r.expires_on.isoformat(),
                    }
                    for code, r in relied
                ],
            }
            certificate = self.signer.sign(claims)
            await session.execute(
                clearances.insert().values(
                    id=clearance_id,
                    customer_id=caller.user_id,
                    checklist_id=checklist.id,
                    market=checklist.market,
                    hs_code=checklist.hs_code,
                    certificate=certificate,
                    kid=self.signer.kid,
                    status=VALID,
                    issued_at=now,
                    expires_at=expires_at,
                )
            )
            if relied:
                await session.execute(
                    clearance_reports.insert(),
                    [
                        {"clearance_id": clearance_id, "requirement_code": code, "report_id": r.id}
                        for code, r in relied
                    ],
                )
            await publish(
                session,
                ClearanceIssued(
                    clearance_id=clearance_id,
                    customer_id=caller.user_id,
                    market=checklist.market,
                    hs_code=checklist.hs_code,
                    reports=sorted({r.id for _, r in relied}),
                    notify=[caller.user_id],
                ),
            )
            return await self._clearance(session, await self._row(session, clearance_id))

    async def _row(self, session: AsyncSession, clearance_id: str) -> Any:
        return (
            await session.execute(select(clearances).where(clearances.c.id == clearance_id))
        ).first()

    async def _status(self, session: AsyncSession, row: Any) -> PublicClearance:
        relied = (
            await session.execute(
                select(clearance_reports.c.requirement_code, reports)
                .join(reports, reports.c.id == clearance_reports.c.report_id)
                .where(clearance_reports.c.clearance_id == row.id)
                .order_by(clearance_reports.c.requirement_code)
            )
        ).all()
        status, reason = row.status, row.revoked_reason
        now = datetime.now(UTC)
        lapsed = next((r.id for r in relied if r.expires_on < now.date()), None)
        if status == VALID and (lapsed or row.expires_at <= now):
            # The expiry job revokes it on its next turn; the answer is right already.
            status = REVOKED
            reason = f"report {lapsed} has expired" if lapsed else "a report it relies on expired"
        return PublicClearance(
            id=row.id,
            valid=status == VALID,
            status=status,
            reason=reason,
            market=row.market,
            hs_code=row.hs_code,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            requirements=[
                ReliedReport(r.requirement_code, r.id, r.provider_id, r.expires_on) for r in relied
            ],
        )

    async def _clearance(self, session: AsyncSession, row: Any) -> Clearance:
        return Clearance(
            **vars(await self._status(session, row)),
            customer_id=row.customer_id,
            checklist_id=row.checklist_id,
            certificate=row.certificate,
        )

    async def get(self, caller: Caller, clearance_id: str) -> Clearance:
        async with self.db.read() as session:
            row = await self._row(session, clearance_id)
            if row is None or not (caller.is_admin or caller.user_id == row.customer_id):
                raise NOT_FOUND
            return await self._clearance(session, row)

    async def find(self, caller: Caller, limit: int, offset: int) -> list[Clearance]:
        conditions = [] if caller.is_admin else [clearances.c.customer_id == caller.user_id]
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(clearances)
                    .where(*conditions)
                    .order_by(clearances.c.issued_at.desc(), clearances.c.id)
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
            return [await self._clearance(session, row) for row in rows]

    async def status(self, clearance_id: str) -> PublicClearance:
        """What anyone may know about a certificate: whether it stands, and what it covers."""
        async with self.db.read() as session:
            row = await self._row(session, clearance_id)
            if row is None:
                raise NOT_FOUND
            return await self._status(session, row)

    async def verify(self, certificate: str) -> Verification:
        """Check a presented certificate: the signature, then whether it still stands."""
        async with self.db.read() as session:
            try:
                claims = await self.signer.verify(session, certificate)
            except InvalidCertificate as exc:
                return Verification(
                    valid=False, signature_valid=False, status="invalid", reason=str(exc)
                )
            row = await self._row(session, str(claims.get("sub", "")))
            if row is None or claims.get("iss") != self.issuer:
                return Verification(
                    valid=False,
                    signature_valid=True,
                    status="invalid",
                    reason="not a certificate this platform issued",
                )
            return Verification(
                signature_valid=True, claims=claims, **vars(await self._status(session, row))
            )

    async def on_checklist_answered(self, event: ChecklistAnswered, session: AsyncSession) -> None:
        """New answers can make a requirement apply that a clearance has no report for: the
        clearance no longer stands. The checklist is read as it is now, so late or repeated
        events decide on the current answers."""
        checklist_id = event.checklist_id
        standing = (
            await session.scalars(
                select(clearances.c.id).where(
                    clearances.c.checklist_id == checklist_id, clearances.c.status == VALID
                )
            )
        ).all()
        if not standing:
            return
        try:
            checklist = await self.rules.checklist(checklist_id)
        except domain.NotFound:
            return  # deleted since: the certificates say what they covered then
        now = datetime.now(UTC)
        for clearance_id in standing:
            relied = (
                await session.scalars(
                    select(clearance_reports.c.requirement_code).where(
                        clearance_reports.c.clearance_id == clearance_id
                    )
                )
            ).all()
            unmet = domain.newly_unmet(checklist, relied)
            if unmet:
                reason = "the checklist's answers changed; nothing it relies on covers " + (
                    ", ".join(unmet)
                )
                await revoke(session, clearance_id, reason, now)

    async def revoke_expired(self, now: datetime) -> int:
        """Clearances whose earliest report has expired are revoked (and their holders told)."""
        async with self.db.transaction() as session:
            expired = (
                await session.execute(
                    select(clearance_reports.c.report_id)
                    .join(clearances, clearances.c.id == clearance_reports.c.clearance_id)
                    .join(reports, reports.c.id == clearance_reports.c.report_id)
                    .where(clearances.c.status == VALID, reports.c.expires_on < now.date())
                    .distinct()
                )
            ).all()
            revoked = set()
            for (report_id,) in expired:
                revoked.update(
                    await revoke_relying_on(
                        session, [report_id], f"report {report_id} has expired", now
                    )
                )
            return len(revoked)
