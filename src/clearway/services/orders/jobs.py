"""The scheduled jobs: unanswered orders expire, providers are reminded before they do,
customers are warned before a report expires, clearances resting on expired reports are
revoked. Each returns how many things it acted on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from clearway.contracts.orders import OrderAnswerReminder, ReportExpiring
from clearway.kit.bus import publish
from clearway.kit.db import Database
from clearway.kit.service import Job
from clearway.services.orders import domain
from clearway.services.orders.clearances import Clearances
from clearway.services.orders.domain import Action, Party, State
from clearway.services.orders.erasure import OrderTexts
from clearway.services.orders.tables import orders, reports
from clearway.services.orders.transitions import apply_transition
from clearway.settings import Settings


class Deadlines:
    """What falls due with time: unanswered orders, their reminders, reports about to expire."""

    def __init__(self, settings: Settings, db: Database, texts: OrderTexts) -> None:
        self.settings = settings
        self.db = db
        self.texts = texts

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
                await apply_transition(
                    session, self.texts, row, Action.EXPIRE, target, Party.SYSTEM, None, reason, {}
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


def scheduled(deadlines: Deadlines, clearances: Clearances, interval: float) -> list[Job]:
    """The jobs by their platform-wide names, each run at the moment of its turn."""

    def at_now(run: Callable[[datetime], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
        return lambda: run(datetime.now(UTC))

    runs = {
        "orders-expire-unanswered": deadlines.expire_unanswered,
        "orders-remind-providers": deadlines.remind_providers,
        "orders-warn-expiring-reports": deadlines.warn_expiring_reports,
        "orders-revoke-expired-clearances": clearances.revoke_expired,
    }
    return [Job(name, interval, at_now(run)) for name, run in runs.items()]
