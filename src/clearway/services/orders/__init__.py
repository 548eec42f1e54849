"""orders: the provider directory, assessment orders, messages, attachments, reports and
shipment clearances with signed certificates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts import ACCOUNT_STANDING
from clearway.contracts.common import KeyRotated
from clearway.contracts.identity import UserDeleted, UserVerified
from clearway.contracts.rules import ChecklistAnswered
from clearway.kit.bus import subscribe
from clearway.kit.service import Job, Service, ServiceContext, serve_routes, service_api
from clearway.services.orders.accounts import AccountsClient
from clearway.services.orders.api import build_router
from clearway.services.orders.attachments import Scanner, SignatureScanner
from clearway.services.orders.certificates import CertificateSigner
from clearway.services.orders.clearances import Clearances
from clearway.services.orders.demo import DemoSeed
from clearway.services.orders.erasure import Erasure
from clearway.services.orders.orders import Orders
from clearway.services.orders.providers import Directory
from clearway.services.orders.rules import RulesClient

MIGRATIONS = Path(__file__).parent / "migrations"


def jobs(orders: Orders, clearances: Clearances) -> dict[str, Callable[[], Awaitable[int]]]:
    """The scheduled jobs by name; each returns how many things it acted on."""

    def at_now(run: Callable[[datetime], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
        return lambda: run(datetime.now(UTC))

    return {
        "orders-expire-unanswered": at_now(orders.expire_unanswered),
        "orders-remind-providers": at_now(orders.remind_providers),
        "orders-warn-expiring-reports": at_now(orders.warn_expiring_reports),
        "orders-revoke-expired-clearances": at_now(clearances.revoke_expired),
    }


def create(context: ServiceContext, scanner: Scanner | None = None) -> Service:
    settings = context.settings
    rules = RulesClient(context.calls)
    accounts = AccountsClient(context.calls)
    directory = Directory(context.db, context.cipher, rules, accounts)
    orders = Orders(
        settings,
        context.db,
        context.cipher,
        context.files,
        scanner or SignatureScanner(),
        rules,
        directory,
    )
    signer = CertificateSigner(context.cipher)
    clearances = Clearances(context.db, rules, signer, settings.jwt_issuer)
    api = service_api(
        "orders",
        "Clearway orders",
        "Provider directory, assessment orders, reports and shipment clearances.",
    )
    serve_routes(api, build_router(directory, orders, clearances))

    async def start() -> None:
        async with context.db.transaction() as session:
            await signer.load(session)

    async def on_key_rotated(event: KeyRotated, session: AsyncSession) -> None:
        # A platform key rotation also rotates the certificate key; old certificates verify.
        await signer.rotate(session)

    interval = settings.orders_jobs_interval_seconds
    return Service(
        name="orders",
        api=api,
        migrations=MIGRATIONS,
        subscriptions=[
            subscribe(ACCOUNT_STANDING, directory.on_account_event),
            subscribe(UserDeleted, Erasure(context.cipher, context.files).on_user_deleted),
            subscribe(KeyRotated, on_key_rotated),
            subscribe(ChecklistAnswered, clearances.on_checklist_answered),
            *(
                [subscribe(UserVerified, DemoSeed(directory, rules, accounts).on_provider_verified)]
                if settings.demo
                else []
            ),
        ],
        jobs=[Job(name, interval, run) for name, run in jobs(orders, clearances).items()],
        on_start=[start],
    )
