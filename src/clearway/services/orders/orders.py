"""Orders' use cases: orders and their transitions, messages, attachments, reports.

Every change is one transaction that also writes its event (outbox). Who may see an order is
checked here, per object: its customer, its provider, and administrators; to anyone else an
order does not exist (404, so ids cannot be probed).
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.orders import (
    AttachmentAdded,
    MessagePosted,
    OrderAnswerReminder,
    OrderCreated,
    ReportExpiring,
    ReportIssued,
    ReportWithdrawn,
)
from clearway.kit.bus import publish
from clearway.kit.caller import Caller
from clearway.kit.crypto import FieldCipher
from clearway.kit.db import Database
from clearway.kit.files import FileNotFound, FileStore
from clearway.services.orders import domain
from clearway.services.orders.attachments import Scanner, check_upload
from clearway.services.orders.clearances import revoke_for_order, revoke_relying_on
from clearway.services.orders.domain import Action, Party, State
from clearway.services.orders.erasure import ERASED, FILES, order_subject, readable
from clearway.services.orders.providers import Directory
from clearway.services.orders.rules import RulesClient
from clearway.services.orders.storage import check_open, check_quota
from clearway.services.orders.tables import (
    attachments,
    idempotency_keys,
    messages,
    order_transitions,
    orders,
    reports,
)
from clearway.settings import Settings

NOT_FOUND = domain.NotFound("order-not-found", "No such order.")
ATTACHMENT_ERASED = domain.Gone(
    "attachment-erased", "This attachment was erased with the account of one of the order's users."
)


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def party_of(caller: Caller, row: Any) -> Party:
    """The caller's side of this order; raises NotFound for anyone who has none."""
    if caller.role == "customer" and caller.user_id == row.customer_id:
        return Party.CUSTOMER
    if caller.role == "provider" and caller.user_id == row.provider_id:
        return Party.PROVIDER
    if caller.is_admin:
        return Party.ADMIN
    raise NOT_FOUND


def visible_to(caller: Caller) -> Any:
    """The SQL condition for the orders a caller may list."""
    if caller.is_admin:
        return orders.c.id.is_not(None)
    if caller.role == "provider":
        return orders.c.provider_id == caller.user_id
    return orders.c.customer_id == caller.user_id


class Orders:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        cipher: FieldCipher,
        files: FileStore,
        scanner: Scanner,
        rules: RulesClient,
        directory: Directory,
    ) -> None:
        self.settings = settings
        self.db = db
        self.cipher = cipher
        self.files = files
        self.scanner = scanner
        self.rules = rules
        self.directory = directory

    # --- helpers -------------------------------------------------------------------------

    async def _encrypt(
        self, session: AsyncSession, order_id: str, table: str, column: str, rid: str, text: str
    ) -> bytes:
        return await self.cipher.encrypt(session, order_subject(order_id), table, column, rid, text)

    async def _decrypt(
        self, session: AsyncSession, table: str, column: str, rid: str, value: bytes | None
    ) -> str | None:
        return await readable(self.cipher, session, table, column, rid, value)

    async def _order_row(self, session: AsyncSession, caller: Caller, order_id: str) -> Any:
        row = (await session.execute(select(orders).where(orders.c.id == order_id))).first()
        if row is None:
            raise NOT_FOUND
        party_of(caller, row)
        return row

    async def _view(self, session: AsyncSession, row: Any, history: bool = True) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": row.id,
            "customer_id": row.customer_id,
            "provider_id": row.provider_id,
            "checklist_id": row.checklist_id,
            "market": row.market,
            "hs_code": row.hs_code,
            "requirements": orjson.loads(row.requirements),
            "state": row.state,
            "version": row.version,
            "quote": None,
            "answer_by": row.answer_by,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
        if row.quote_amount is not None:
            view["quote"] = {
                "amount": row.quote_amount,
                "currency": row.quote_currency,
                "turnaround_days": row.quote_turnaround_days,
            }
        if history:
            steps = (
                await session.execute(
                    select(order_transitions)
                    .where(order_transitions.c.order_id == row.id)
                    .order_by(order_transitions.c.at, order_transitions.c.id)
                )
            ).all()
            view["history"] = [
                {
                    "action": s.action,
                    "from_state": s.from_state,
                    "to_state": s.to_state,
                    "party": s.party,
                    "actor_id": s.actor_id,
                    "reason": await self._decrypt(
                        session, "order_transitions", "reason_enc", s.id, s.reason_enc
                    ),
                    "at": s.at,
                }
                for s in steps
            ]
        return view

    async def _record(
        self,
        session: AsyncSession,
        order_id: str,
        action: str,
        source: State | None,
        target: State,
        party: Party,
        actor_id: str | None,
        reason: str | None,
        now: datetime,
    ) -> None:
        step_id = uuid.uuid4().hex
        await session.execute(
            order_transitions.insert().values(
                id=step_id,
                order_id=order_id,
                action=action,
                from_state=source.value if source else None,
                to_state=target.value,
                party=party.value,
                actor_id=actor_id,
                reason_enc=(
                    await self._encrypt(
                        session, order_id, "order_transitions", "reason_enc", step_id, reason
                    )
                    if reason
                    else None
                ),
                at=now,
            )
        )

    # --- orders --------------------------------------------------------------------------

    async def _replayed(
        self, session: AsyncSession, customer_id: str, key: str, digest: str
    ) -> dict[str, Any] | None:
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
        row = (await session.execute(select(orders).where(orders.c.id == known.order_id))).one()
        return await self._view(session, row)

    async def create(
        self, caller: Caller, body: dict[str, Any], key: str
    ) -> tuple[dict[str, Any], bool]:
        """The new order, or the one an earlier request with the same key made (True)."""
        assert caller.user_id is not None
        digest = request_hash(body)
        async with self.db.read() as session:
            earlier = await self._replayed(session, caller.user_id, key, digest)
        if earlier is not None:
            return earlier, True
        checklist = await self.rules.owned_checklist(body["checklist_id"], caller.user_id)
        codes = domain.order_requirements(checklist, body.get("requirement_codes"))
        by_code = {r.code: r for r in checklist.requirements}
        try:
            return await self._insert(caller.user_id, body, key, digest, checklist, codes, by_code)
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
        body: dict[str, Any],
        key: str,
        digest: str,
        checklist: domain.Checklist,
        codes: list[str],
        by_code: dict[str, domain.Requirement],
    ) -> tuple[dict[str, Any], bool]:
        now = datetime.now(UTC)
        order_id = uuid.uuid4().hex
        provider_id = body["provider_id"]
        async with self.db.transaction() as session:
            earlier = await self._replayed(session, customer_id, key, digest)
            if earlier is not None:
                return earlier, True
            coverage = await self.directory.listed_coverage(session, provider_id)
            if coverage is None:
                raise domain.Invalid(
                    "provider-not-listed", "This provider is not listed in the directory."
                )
            domain.check_covered(coverage, [by_code[c] for c in codes])
            requirements = [
                {
                    "code": c,
                    "title": by_code[c].title,
                    "evidence_type": by_code[c].evidence_type,
                }
                for c in codes
            ]
            await session.execute(
                orders.insert().values(
                    id=order_id,
                    customer_id=customer_id,
                    provider_id=provider_id,
                    checklist_id=checklist.id,
                    market=checklist.market,
                    hs_code=checklist.hs_code,
                    requirements=orjson.dumps(requirements).decode(),
                    state=State.SUBMITTED.value,
                    version=1,
                    answer_by=now + timedelta(days=self.settings.orders_answer_within_days),
                    created_at=now,
                    updated_at=now,
                )
            )
            await self._record(
                session,
                order_id,
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
                    order_id=order_id,
                    created_at=now,
                )
            )
            if body.get("note"):
                await self._insert_message(
                    session, order_id, customer_id, Party.CUSTOMER, body["note"], now
                )
            await publish(
                session,
                OrderCreated(
                    order_id=order_id,
                    customer_id=customer_id,
                    provider_id=provider_id,
                    market=checklist.market,
                    hs_code=checklist.hs_code,
                    requirements=codes,
                    state=State.SUBMITTED.value,
                    notify=[provider_id],
                ),
            )
            row = (await session.execute(select(orders).where(orders.c.id == order_id))).one()
            return await self._view(session, row), False

    async def get(self, caller: Caller, order_id: str) -> dict[str, Any]:
        async with self.db.read() as session:
            return await self._view(session, await self._order_row(session, caller, order_id))

    async def find(
        self, caller: Caller, state: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        conditions = [visible_to(caller)]
        if state:
            conditions.append(orders.c.state == state)
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

    async def transition(
        self,
        caller: Caller,
        order_id: str,
        action: Action,
        *,
        reason: str | None,
        expected_version: int | None,
        quote: dict[str, Any] | None,
    ) -> dict[str, Any]:
        async with self.db.transaction() as session:
            row = await self._order_row(session, caller, order_id)
            party = party_of(caller, row)
            domain.check_version(row.version, expected_version)
            target = domain.decide(State(row.state), action, party, reason)
            values: dict[str, Any] = {}
            if action is Action.QUOTE:
                if quote is None:
                    raise domain.Invalid("quote-required", "A quote needs an amount and currency.")
                values = {
                    "quote_amount": quote["amount"],
                    "quote_currency": quote["currency"],
                    "quote_turnaround_days": quote.get("turnaround_days"),
                }
            elif quote is not None:
                raise domain.Invalid("unexpected-quote", "Only the quote action takes a quote.")
            if action is Action.DELIVER:
                await self._check_all_reported(session, row)
            await self._apply(session, row, action, target, party, caller.user_id, reason, values)
            if target is State.CANCELLED:
                await revoke_for_order(session, row.id, datetime.now(UTC))
            return await self._view(
                session, (await session.execute(select(orders).where(orders.c.id == row.id))).one()
            )

    async def _apply(
        self,
        session: AsyncSession,
        row: Any,
        action: Action,
        target: State,
        party: Party,
        actor_id: str | None,
        reason: str | None,
        values: dict[str, Any],
    ) -> None:
        """The conditional write that makes a transition: only from the version that was read."""
        now = datetime.now(UTC)
        result = await session.execute(
            update(orders)
            .where(orders.c.id == row.id, orders.c.version == row.version)
            .values(state=target.value, version=row.version + 1, updated_at=now, **values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise domain.CONCURRENT_CHANGE
        await self._record(
            session, row.id, action.value, State(row.state), target, party, actor_id, reason, now
        )
        await publish(
            session,
            domain.EVENT_OF[action](
                order_id=row.id,
                customer_id=row.customer_id,
                provider_id=row.provider_id,
                from_state=row.state,
                state=target.value,
                party=party.value,
                version=row.version + 1,
                notify=domain.other_party(party, row.customer_id, row.provider_id),
            ),
        )

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

    async def expire_unanswered(self, now: datetime) -> int:
        """Orders a provider has not answered in time expire (the platform's transition)."""
        async with self.db.read() as session:
            due = (
                await session.execute(
                    select(orders.c.id).where(
                        orders.c.state == State.SUBMITTED, orders.c.answer_by <= now
                    )
                )
            ).all()
        expired = 0
        for (order_id,) in due:
            async with self.db.transaction() as session:
                row = (await session.execute(select(orders).where(orders.c.id == order_id))).one()
                if row.state != State.SUBMITTED:
                    continue  # answered meanwhile
                target = domain.decide(State(row.state), Action.EXPIRE, Party.SYSTEM, None)
                reason = f"Not answered within {self.settings.orders_answer_within_days} days."
                await self._apply(
                    session, row, Action.EXPIRE, target, Party.SYSTEM, None, reason, {}
                )
                expired += 1
        return expired

    async def remind_providers(self, now: datetime) -> int:
        """Remind a provider once, shortly before an unanswered order expires."""
        soon = now + timedelta(hours=self.settings.orders_reminder_before_hours)
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(orders).where(
                        orders.c.state == State.SUBMITTED,
                        orders.c.reminded_at.is_(None),
                        orders.c.answer_by <= soon,
                        orders.c.answer_by > now,
                    )
                )
            ).all()
            for row in rows:
                await session.execute(
                    update(orders).where(orders.c.id == row.id).values(reminded_at=now)
                )
                await publish(
                    session,
                    OrderAnswerReminder(
                        order_id=row.id,
                        customer_id=row.customer_id,
                        provider_id=row.provider_id,
                        state=row.state,
                        answer_by=row.answer_by,
                        notify=[row.provider_id],
                    ),
                )
            return len(rows)

    # --- messages ------------------------------------------------------------------------

    async def _insert_message(
        self,
        session: AsyncSession,
        order_id: str,
        author_id: str,
        party: Party,
        text: str,
        now: datetime,
    ) -> dict[str, Any]:
        message_id = uuid.uuid4().hex
        await session.execute(
            messages.insert().values(
                id=message_id,
                order_id=order_id,
                author_id=author_id,
                author_party=party.value,
                body_enc=await self._encrypt(
                    session, order_id, "messages", "body_enc", message_id, text
                ),
                created_at=now,
            )
        )
        return {
            "id": message_id,
            "order_id": order_id,
            "author_id": author_id,
            "author_party": party.value,
            "body": text,
            "created_at": now,
        }

    def _require_side(self, party: Party) -> None:
        if party not in (Party.CUSTOMER, Party.PROVIDER):
            raise domain.Forbidden(
                "not-a-party", "Only the customer and the provider of an order take part in it."
            )

    async def post_message(self, caller: Caller, order_id: str, text: str) -> dict[str, Any]:
        assert caller.user_id is not None
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await self._order_row(session, caller, order_id)
            party = party_of(caller, row)
            self._require_side(party)
            check_open(row.state, "messages")
            message = await self._insert_message(session, row.id, caller.user_id, party, text, now)
            await publish(
                session,
                MessagePosted(
                    order_id=row.id,
                    message_id=message["id"],
                    party=party.value,
                    notify=domain.other_party(party, row.customer_id, row.provider_id),
                ),
            )
            return message

    async def list_messages(self, caller: Caller, order_id: str) -> list[dict[str, Any]]:
        async with self.db.read() as session:
            row = await self._order_row(session, caller, order_id)
            found = (
                await session.execute(
                    select(messages)
                    .where(messages.c.order_id == row.id)
                    .order_by(messages.c.created_at, messages.c.id)
                )
            ).all()
            return [
                {
                    "id": m.id,
                    "order_id": m.order_id,
                    "author_id": m.author_id,
                    "author_party": m.author_party,
                    "body": await self._decrypt(session, "messages", "body_enc", m.id, m.body_enc),
                    "created_at": m.created_at,
                }
                for m in found
            ]

    # --- attachments ---------------------------------------------------------------------

    async def add_attachment(
        self, caller: Caller, order_id: str, filename: str, content_type: str, content: bytes
    ) -> dict[str, Any]:
        assert caller.user_id is not None
        async with self.db.read() as session:
            row = await self._order_row(session, caller, order_id)
        party = party_of(caller, row)
        self._require_side(party)
        check_open(row.state, "attachments")
        upload = check_upload(
            filename, content_type, content, self.settings.orders_attachment_max_bytes
        )
        verdict = await self.scanner.scan(upload)
        if not verdict.clean:
            raise domain.Invalid("file-rejected", f"The file was refused: {verdict.reason}.")
        attachment_id = uuid.uuid4().hex
        stored = await self.files.put(FILES, attachment_id, upload.content, upload.content_type)
        now = datetime.now(UTC)
        try:
            async with self.db.transaction() as session:
                current = await self._order_row(session, caller, order_id)
                check_open(current.state, "attachments")
                await check_quota(
                    session,
                    order_id=row.id,
                    user_id=caller.user_id,
                    size=stored.size,
                    order_limit=self.settings.orders_order_storage_bytes,
                    user_limit=self.settings.orders_user_storage_bytes,
                )
                await session.execute(
                    attachments.insert().values(
                        id=attachment_id,
                        order_id=row.id,
                        uploader_id=caller.user_id,
                        filename_enc=await self._encrypt(
                            session,
                            row.id,
                            "attachments",
                            "filename_enc",
                            attachment_id,
                            upload.filename,
                        ),
                        content_type=stored.content_type,
                        size=stored.size,
                        sha256=stored.sha256,
                        created_at=now,
                    )
                )
                await publish(
                    session,
                    AttachmentAdded(
                        order_id=row.id,
                        attachment_id=attachment_id,
                        party=party.value,
                        notify=domain.other_party(party, row.customer_id, row.provider_id),
                    ),
                )
        except BaseException:
            with contextlib.suppress(Exception):
                await self.files.delete(FILES, attachment_id)
            raise
        return {
            "id": attachment_id,
            "order_id": row.id,
            "uploader_id": caller.user_id,
            "filename": upload.filename,
            "content_type": stored.content_type,
            "size": stored.size,
            "sha256": stored.sha256,
            "created_at": now,
        }

    async def list_attachments(self, caller: Caller, order_id: str) -> list[dict[str, Any]]:
        async with self.db.read() as session:
            row = await self._order_row(session, caller, order_id)
            found = (
                await session.execute(
                    select(attachments)
                    .where(attachments.c.order_id == row.id)
                    .order_by(attachments.c.created_at, attachments.c.id)
                )
            ).all()
            return [await self._attachment(session, a) for a in found]

    async def _attachment(self, session: AsyncSession, a: Any) -> dict[str, Any]:
        return {
            "id": a.id,
            "order_id": a.order_id,
            "uploader_id": a.uploader_id,
            "filename": await self._decrypt(
                session, "attachments", "filename_enc", a.id, a.filename_enc
            ),
            "content_type": a.content_type,
            "size": a.size,
            "sha256": a.sha256,
            "created_at": a.created_at,
        }

    async def download(
        self, caller: Caller, order_id: str, attachment_id: str
    ) -> tuple[dict[str, Any], bytes]:
        async with self.db.read() as session:
            row = await self._order_row(session, caller, order_id)
            found = (
                await session.execute(
                    select(attachments).where(
                        attachments.c.id == attachment_id, attachments.c.order_id == row.id
                    )
                )
            ).first()
            if found is None:
                raise domain.NotFound("attachment-not-found", "No such attachment.")
            meta = await self._attachment(session, found)
        if meta["filename"] == ERASED:
            raise ATTACHMENT_ERASED
        try:
            content, _ = await self.files.get(FILES, attachment_id)
        except FileNotFound as exc:
            raise ATTACHMENT_ERASED from exc
        return meta, content

    # --- reports -------------------------------------------------------------------------

    async def issue_report(
        self, caller: Caller, order_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await self._order_row(session, caller, order_id)
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
            codes = list(dict.fromkeys(body["requirement_codes"]))
            unknown = sorted(set(codes) - ordered)
            if unknown:
                raise domain.Invalid(
                    "unknown-requirement",
                    "Not requirements of this order: " + ", ".join(unknown),
                    unknown=unknown,
                )
            domain.check_report_dates(body["issued_on"], body["expires_on"], now.date())
            attachment_id = body.get("attachment_id")
            if attachment_id is not None:
                found = (
                    await session.execute(
                        select(attachments.c.id).where(
                            attachments.c.id == attachment_id, attachments.c.order_id == row.id
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
                    title=body["title"],
                    reference=body.get("reference"),
                    attachment_id=attachment_id,
                    issued_on=body["issued_on"],
                    expires_on=body["expires_on"],
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
                    expires_on=body["expires_on"],
                    notify=[row.customer_id],
                ),
            )
            return await self._report(session, await self._report_row(session, report_id))

    async def _report_row(self, session: AsyncSession, report_id: str) -> Any:
        return (await session.execute(select(reports).where(reports.c.id == report_id))).first()

    async def _report(self, session: AsyncSession, r: Any) -> dict[str, Any]:
        today = datetime.now(UTC).date()
        return {
            "id": r.id,
            "order_id": r.order_id,
            "provider_id": r.provider_id,
            "customer_id": r.customer_id,
            "market": r.market,
            "hs_code": r.hs_code,
            "requirement_codes": orjson.loads(r.requirement_codes),
            "title": r.title,
            "reference": r.reference,
            "attachment_id": r.attachment_id,
            "issued_on": r.issued_on,
            "expires_on": r.expires_on,
            "status": report_status(r.withdrawn_at, r.expires_on, today),
            "withdrawn_at": r.withdrawn_at,
            "withdrawn_reason": await self._decrypt(
                session, "reports", "withdrawn_reason_enc", r.id, r.withdrawn_reason_enc
            ),
            "created_at": r.created_at,
        }

    async def _visible_report(self, session: AsyncSession, caller: Caller, report_id: str) -> Any:
        r = await self._report_row(session, report_id)
        if r is None or not (caller.is_admin or caller.user_id in (r.customer_id, r.provider_id)):
            raise domain.NotFound("report-not-found", "No such report.")
        return r

    async def get_report(self, caller: Caller, report_id: str) -> dict[str, Any]:
        async with self.db.read() as session:
            return await self._report(
                session, await self._visible_report(session, caller, report_id)
            )

    async def list_reports(
        self, caller: Caller, order_id: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        async with self.db.read() as session:
            conditions = []
            if order_id is not None:
                row = await self._order_row(session, caller, order_id)
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

    async def withdraw_report(self, caller: Caller, report_id: str, reason: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            r = await self._visible_report(session, caller, report_id)
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
                    withdrawn_reason_enc=await self._encrypt(
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
            return await self._report(session, await self._report_row(session, r.id))

    async def warn_expiring_reports(self, now: datetime) -> int:
        """Warn a customer once when a report it may rely on is about to expire."""
        today = now.date()
        horizon = today + timedelta(days=self.settings.orders_report_warning_days)
        async with self.db.transaction() as session:
            due = (
                await session.execute(
                    select(reports).where(
                        reports.c.withdrawn_at.is_(None),
                        reports.c.expiry_warned_at.is_(None),
                        reports.c.expires_on <= horizon,
                        reports.c.expires_on >= today,
                    )
                )
            ).all()
            for r in due:
                await session.execute(
                    update(reports).where(reports.c.id == r.id).values(expiry_warned_at=now)
                )
                await publish(
                    session,
                    ReportExpiring(
                        order_id=r.order_id,
                        report_id=r.id,
                        customer_id=r.customer_id,
                        provider_id=r.provider_id,
                        expires_on=r.expires_on,
                        notify=[r.customer_id],
                    ),
                )
            return len(due)


def report_status(withdrawn_at: datetime | None, expires_on: date, today: date) -> str:
    if withdrawn_at is not None:
        return "withdrawn"
    return "expired" if expires_on < today else "valid"
