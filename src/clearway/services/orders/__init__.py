"""orders: the provider directory, assessment orders, messages, attachments, reports and
shipment clearances with signed certificates."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from clearway.kit.service import Service, ServiceContext, serve_routes, service_api
from clearway.services.orders.accounts import AccountsClient
from clearway.services.orders.api import build_router
from clearway.services.orders.attachments import Attachments
from clearway.services.orders.certificates import CertificateSigner
from clearway.services.orders.clearances import Clearances
from clearway.services.orders.demo import DemoSeed
from clearway.services.orders.erasure import Erasure, OrderTexts
from clearway.services.orders.events import subscriptions
from clearway.services.orders.jobs import Deadlines, scheduled
from clearway.services.orders.messages import Messages
from clearway.services.orders.orders import Orders
from clearway.services.orders.providers import Directory
from clearway.services.orders.reports import Reports
from clearway.services.orders.rules import RulesClient
from clearway.services.orders.scanning import Scanner, SignatureScanner

MIGRATIONS = Path(__file__).parent / "migrations"


def create(context: ServiceContext, scanner: Scanner | None = None) -> Service:
    settings = context.settings
    rules = RulesClient(context.calls)
    accounts = AccountsClient(context.calls)
    texts = OrderTexts(context.cipher)
    directory = Directory(context.db, context.cipher, rules, accounts)
    orders = Orders(context.db, texts, rules, directory, settings.orders_answer_within_days)
    attachments = Attachments(
        settings, context.db, texts, context.files, scanner or SignatureScanner()
    )
    signer = CertificateSigner(context.cipher)
    clearances = Clearances(context.db, rules, signer, settings.jwt_issuer)
    api = service_api(
        "orders",
        "Clearway orders",
        "Provider directory, assessment orders, reports and shipment clearances.",
    )
    serve_routes(
        api,
        build_router(
            directory=directory,
            orders=orders,
            messages=Messages(context.db, texts),
            attachments=attachments,
            reports=Reports(context.db, texts),
            clearances=clearances,
        ),
    )

    return Service(
        name="orders",
        api=api,
        migrations=MIGRATIONS,
        subscriptions=subscriptions(
            directory,
            Erasure(context.cipher, context.files),
            signer,
            clearances,
            DemoSeed(directory, rules, accounts) if settings.demo else None,
        ),
        jobs=scheduled(
            Deadlines(settings, context.db, texts),
            clearances,
            settings.orders_jobs_interval_seconds,
        ),
        on_start=[partial(context.db.in_transaction, signer.load)],
    )
