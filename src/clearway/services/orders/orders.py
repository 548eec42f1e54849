"""Orders: placing one with a provider (once per Idempotency-Key), reading and listing them,
and moving them on (quoting, accepting, declining, ...) as `domain.TRANSITIONS` allows.

Every change is one transaction that also writes its event (outbox). Who may see an order is
checked per object (`access`).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.orders import OrderCreated
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.db import Database
from clearway.services.orders import domain
from clearway.services.orders.access import order_row, party_of, visible_to
from clearway.services.orders.clearances import revoke_for_order
from clearway.services.orders.domain import Action, Party, State
from clearway.services.orders.erasure import OrderTexts
from clearway.services.orders.messages import insert_message
from clearway.services.orders.providers import Directory
from clearway.services.orders.rules import RulesClient
from clearway.services.orders.tables import idempotency_keys, order_transitions, orders, reports
from clearway.services.orders.transitions import apply_transition, record_step


@dataclass(frozen=True)
class OrderRequest:
    """What a customer orders. Its fields, as JSON, are what an Idempotency-Key stands for."""

    provider_id: str
    checklist_id: str
    requirement_codes: list[str] | None
    note: str | None


@dataclass(frozen=True)
class QuoteTerms:
    amount: int  # minor units
    currency: str
    turnaround_days: int | None


@dataclass(frozen=True)
class OrderedRequirement:
    code: str
    title: str
    evidence_type: str


@dataclass(frozen=True)
class Step:
    action: str
    from_state: str | None
    to_state: str
    party: str
    actor_id: str | None
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class Order:
    id: str
    customer_id: str
    provider_id: str
    checklist_id: str
    market: str
    hs_code: str
    requirements: list[OrderedRequirement]
    state: str
    version: int
    quote: QuoteTerms | None
    answer_by: datetime
    created_at: datetime
    updated_at: datetime
    history: list[Step] | None = None  # in a single order's view, not in lists


def request_hash(request: OrderRequest) -> str:
    return hashlib.sha256(orjson.dumps(asdict(request), option=orjson.OPT_SORT_KEYS)).hexdigest()


class Orders:
    def __init__(
        self,
        db: Database,
        texts: OrderTexts,
        rules: RulesClient,
        directory: Directory,
        answer_within_days: int,
    ) -> None:
        self.db = db
        self.texts = texts
        self.rules = rules
        self.directory = directory
        self.answer_within_days = answer_within_days

    async def _view(self, session: AsyncSession, row: Any, history: bool = True) -> Order:
        steps = None
        if history:
            found = (
                await session.execute(
                    select(order_transitions)
                    .where(order_transitions.c.order_id == row.id)
                    .order_by(order_transitions.c.at, order_transitions.c.id)
                )
            ).all()
            steps = [
                Step(
                    action=s.action,
                    from_state=s.from_state,
                    to_state=s.to_state,
                    party=s.party,
                    actor_id=s.actor_id,
                    reason=await self.texts.read(
                        session, "order_transitions", "reason_enc", s.id, s.reason_enc
                    ),
                    at=s.at,
                )
                for s in found
            ]
        return Order(
            id=row.id,
            customer_id=row.customer_id,
            provider_id=row.provider_id,
            checklist_id=row.checklist_id,
            market=row.market,
            hs_code=row.hs_code,
            requirements=[OrderedRequirement(**r) for r in orjson.loads(row.requirements)],
            state=row.state,
            version=row.version,
            quote=(
                None
                if row.quote_amount is None
                else QuoteTerms(row.quote_amount, row.quote_currency, row.quote_turnaround_days)
            ),
            answer_by=row.answer_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            history=steps,
        )

    async def _reread(self, session: AsyncSession, order_id: str) -> Order:
        return await self._view(
            session, (await session.execute(select(orders).where(orders.c.id == order_id))).one()
        )

    # --- placing an order ----------------------------------------------------------------

    async def _replayed(
        self, session: AsyncSession, customer_id: str, key: str, digest: str
    ) -> Order | None:
        known = (
            await session.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.customer_id == customer_id, idempotency_keys.c.key == key
                )
            )
        ).first()
        if known is None:
            return None
        if known.request_hash != digest:
            raise domain.Invalid(
                "idempotency-key-reused",
                "This Idempotency-Key was already used for a different request.",
            )
        return await self._reread(session, known.order_id)

    async def place(self, caller: Caller, request: OrderRequest, key: str) -> tuple[Order, bool]:
        """The new order, or the one an earlier request with the same key made (True)."""
        assert caller.user_id is not None
        digest = request_hash(request)
        async with self.db.read() as session:
            earlier = await self._replayed(session, caller.user_id, key, digest)
        if earlier is not None:
            return earlier, True
        checklist = await self.rules.owned_checklist(request.checklist_id, caller.user_id)
        codes = domain.order_requirements(checklist, request.requirement_codes)
        try:
            return await self._insert(caller.user_id, request, key, digest, checklist, codes), False
        except IntegrityError:
            # A concurrent request with the same key won the race; answer with its order.
            async with self.db.read() as session:
                earlier = await self._replayed(session, caller.user_id, key, digest)
            if earlier is None:
                raise
            return earlier, True

    async def _insert(
        self,
        customer_id: str,
        request: OrderRequest,
        key: str,
        digest: str,
        checklist: domain.Checklist,
        codes: list[str],
    ) -> Order:
        now = datetime.now(UTC)
        provider_id = request.provider_id
        by_code = {r.code: r for r in checklist.requirements}
        placed = Order(
            id=uuid.uuid4().hex,
            customer_id=customer_id,
            provider_id=provider_id,
            checklist_id=checklist.id,
            market=checklist.market,
            hs_code=checklist.hs_code,
            requirements=[
                OrderedRequirement(c, by_code[c].title, by_code[c].evidence_type) for c in codes
            ],
            state=State.SUBMITTED.value,
            version=1,
            quote=None,
            answer_by=now + timedelta(days=self.answer_within_days),
            created_at=now,
            updated_at=now,
            history=[
                Step(
                    "submit",
                    None,
                    State.SUBMITTED.value,
                    Party.CUSTOMER.value,
                    customer_id,
                    None,
                    now,
                )
            ],
        )
        # SQLite has one writer, and each statement in its transaction costs two turns of a busy
        # event loop: the transaction holds only the writes and the one read that must be in it
        # (the provider still listed). A concurrent request with the same key is caught by the
        # key's primary key (`place`), and the new order is answered from what was written.
        async with self.db.transaction() as session:
            coverage = await self.directory.listed_coverage(session, provider_id)
            if coverage is None:
                raise domain.Invalid(
                    "provider-not-listed", "This provider is not listed in the directory."
                )
            domain.check_covered(coverage, [by_code[c] for c in codes])
            await session.execute(
                orders.insert().values(
                    id=placed.id,
                    customer_id=customer_id,
                    provider_id=provider_id,
                    checklist_id=checklist.id,
                    market=checklist.market,
                    hs_code=checklist.hs_code,
                    requirements=orjson.dumps([asdict(r) for r in placed.requirements]).decode(),
                    state=placed.state,
                    version=placed.version,
                    answer_by=placed.answer_by,
                    created_at=now,
                    updated_at=now,
                )
            )
            await record_step(
                session,
                self.texts,
                placed.id,
                "submit",
                None,
                State.SUBMITTED,
                Party.CUSTOMER,
                customer_id,
                None,
                now,
            )
            await session.execute(
                idempotency_keys.insert().values(
                    customer_id=customer_id,
                    key=key,
                    request_hash=digest,
                    order_id=placed.id,
                    created_at=now,
                )
            )
            if request.note:
                await insert_message(
                    session, self.texts, placed.id, customer_id, Party.CUSTOMER, request.note, now
                )
            await publish(
                session,
                OrderCreated(
                    order_id=placed.id,
                    customer_id=customer_id,
                    provider_id=provider_id,
                    market=checklist.market,
                    hs_code=checklist.hs_code,
                    requirements=codes,
                    state=placed.state,
                    notify=[provider_id],
                ),
            )
        return placed

    # --- reading -------------------------------------------------------------------------

    async def get(self, caller: Caller, order_id: str) -> Order:
        async with self.db.read() as session:
            return await self._view(session, await order_row(session, caller, order_id))

    async def find(
        self, caller: Caller, state: State | None, limit: int, offset: int
    ) -> list[Order]:
        conditions = [visible_to(caller)]
        if state:
            conditions.append(orders.c.state == state.value)
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(orders)
                    .where(*conditions)
                    .order_by(orders.c.created_at.desc(), orders.c.id)
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
            return [await self._view(session, row, history=False) for row in rows]

    # --- moving an order on --------------------------------------------------------------

    async def transition(
        self,
        caller: Caller,
        order_id: str,
        action: Action,
        *,
        reason: str | None,
        expected_version: int | None,
        quote: QuoteTerms | None,
    ) -> Order:
        async with self.db.transaction() as session:
            row = await order_row(session, caller, order_id)
            party = party_of(caller, row)
            domain.check_version(row.version, expected_version)
            target = domain.decide(State(row.state), action, party, reason)
            values: dict[str, Any] = {}
            if action is Action.QUOTE:
                if quote is None:
                    raise domain.Invalid("quote-required", "A quote needs an amount and currency.")
                values = {
                    "quote_amount": quote.amount,
                    "quote_currency": quote.currency,
                    "quote_turnaround_days": quote.turnaround_days,
                }
            elif quote is not None:
                raise domain.Invalid("unexpected-quote", "Only the quote action takes a quote.")
            if action is Action.DELIVER:
                await self._check_all_reported(session, row)
            await apply_transition(
                session, self.texts, row, action, target, party, caller.user_id, reason, values
            )
            if target is State.CANCELLED:
                await revoke_for_order(session, row.id, datetime.now(UTC))
            return await self._reread(session, row.id)

    async def _check_all_reported(self, session: AsyncSession, row: Any) -> None:
        issued = (
            await session.execute(
                select(reports.c.requirement_codes).where(
                    reports.c.order_id == row.id, reports.c.withdrawn_at.is_(None)
                )
            )
        ).all()
        covered = {code for (codes,) in issued for code in orjson.loads(codes)}
        missing = [r["code"] for r in orjson.loads(row.requirements) if r["code"] not in covered]
        if missing:
            raise domain.Invalid(
                "reports-missing",
                "Deliver a report for every requirement of the order first: " + ", ".join(missing),
                missing=missing,
            )
