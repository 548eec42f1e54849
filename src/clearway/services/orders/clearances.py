"""Shipment clearance: issued when every requirement that applies is covered by a valid report;
a signed certificate anyone can verify, revoked when a report it relies on stops counting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.orders import ClearanceIssued, ClearanceRevoked
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.db import Database
from clearway.services.orders import domain
from clearway.services.orders.certificates import CertificateSigner, InvalidCertificate
from clearway.services.orders.rules import RulesClient
from clearway.services.orders.tables import clearance_reports, clearances, reports

VALID = "valid"
REVOKED = "revoked"
NOT_FOUND = domain.NotFound("clearance-not-found", "No such clearance.")


async def revoke_relying_on(
    session: AsyncSession, report_ids: list[str], reason: str, now: datetime
) -> list[str]:
    """Revoke every valid clearance that relies on one of these reports; their ids."""
    found = (
        await session.execute(
            select(clearances.c.id, clearances.c.customer_id)
            .join(clearance_reports, clearance_reports.c.clearance_id == clearances.c.id)
            .where(clearance_reports.c.report_id.in_(report_ids), clearances.c.status == VALID)
            .distinct()
        )
    ).all()
    for clearance_id, customer_id in found:
        await session.execute(
            update(clearances)
            .where(clearances.c.id == clearance_id, clearances.c.status == VALID)
            .values(status=REVOKED, revoked_reason=reason, revoked_at=now)
        )
        await publish(
            session,
            ClearanceRevoked(
                clearance_id=clearance_id,
                customer_id=customer_id,
                reason=reason,
                notify=[customer_id],
            ),
        )
    return [clearance_id for clearance_id, _ in found]


class Clearances:
    def __init__(
        self, db: Database, rules: RulesClient, signer: CertificateSigner, issuer: str
    ) -> None:
        self.db = db
        self.rules = rules
        self.signer = signer
        self.issuer = issuer

    async def request(
        self, caller: Caller, checklist_id: str, report_ids: list[str]
    ) -> dict[str, Any]:
        """Issue a certificate, or refuse (422) saying what is missing and which reports fail."""
        assert caller.user_id is not None
        checklist = await self.rules.owned_checklist(checklist_id, caller.user_id)
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(reports).where(
                        reports.c.id.in_(report_ids), reports.c.customer_id == caller.user_id
                    )
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
            last_day = min((r.expires_on for _, r in relied), default=now.date() + timedelta(365))
            expires_at = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)
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
            return await self._view(session, await self._row(session, clearance_id))

    async def _row(self, session: AsyncSession, clearance_id: str) -> Any:
        return (
            await session.execute(select(clearances).where(clearances.c.id == clearance_id))
        ).first()

    async def _view(
        self, session: AsyncSession, row: Any, *, public: bool = False
    ) -> dict[str, Any]:
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
        view: dict[str, Any] = {
            "id": row.id,
            "valid": status == VALID,
            "status": status,
            "reason": reason,
            "market": row.market,
            "hs_code": row.hs_code,
            "issued_at": row.issued_at,
            "expires_at": row.expires_at,
            "revoked_at": row.revoked_at,
            "requirements": [
                {
                    "code": r.requirement_code,
                    "report_id": r.id,
                    "provider_id": r.provider_id,
                    "expires_on": r.expires_on,
                }
                for r in relied
            ],
        }
        if not public:
            view |= {
                "customer_id": row.customer_id,
                "checklist_id": row.checklist_id,
                "certificate": row.certificate,
            }
        return view

    async def get(self, caller: Caller, clearance_id: str) -> dict[str, Any]:
        async with self.db.read() as session:
            row = await self._row(session, clearance_id)
            if row is None or not (caller.is_admin or caller.user_id == row.customer_id):
                raise NOT_FOUND
            return await self._view(session, row)

    async def find(self, caller: Caller, limit: int, offset: int) -> list[dict[str, Any]]:
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
            return [await self._view(session, row) for row in rows]

    async def status(self, clearance_id: str) -> dict[str, Any]:
        """What anyone may know about a certificate: whether it stands, and what it covers."""
        async with self.db.read() as session:
            row = await self._row(session, clearance_id)
            if row is None:
                raise NOT_FOUND
            return await self._view(session, row, public=True)

    async def verify(self, certificate: str) -> dict[str, Any]:
        """Check a presented certificate: the signature, then whether it still stands."""
        async with self.db.read() as session:
            try:
                claims = await self.signer.verify(session, certificate)
            except InvalidCertificate as exc:
                return {
                    "valid": False,
                    "signature_valid": False,
                    "status": "invalid",
                    "reason": str(exc),
                }
            row = await self._row(session, str(claims.get("sub", "")))
            if row is None or claims.get("iss") != self.issuer:
                return {
                    "valid": False,
                    "signature_valid": True,
                    "status": "invalid",
                    "reason": "not a certificate this platform issued",
                }
            view = await self._view(session, row, public=True)
            return {"signature_valid": True, "claims": claims, **view}

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
