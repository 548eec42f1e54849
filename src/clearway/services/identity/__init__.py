"""identity: accounts, roles, credentials, sessions, password reset, second factor.

Wiring only: builds the use cases over the service's context and returns the `Service`.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

from argon2 import PasswordHasher

from clearway.kit.service import Job, Service, ServiceContext, serve_routes, service_api
from clearway.services.identity import events
from clearway.services.identity.api import UseCases, build_router
from clearway.services.identity.browser import BrowserSessions
from clearway.services.identity.domain import BackoffPolicy
from clearway.services.identity.first_start import DEMO_PASSWORD, first_start
from clearway.services.identity.hashing import PasswordHashing
from clearway.services.identity.passwords import Passwords
from clearway.services.identity.profiles import CACHE_CHANNEL, Profiles
from clearway.services.identity.records import UserRecords
from clearway.services.identity.registration import Registrations
from clearway.services.identity.second_factor import SecondFactors
from clearway.services.identity.sessions import Sessions
from clearway.services.identity.throttle import BACKOFF_MEMORY, LoginThrottle
from clearway.services.identity.tokens import RELOAD_SECONDS, TokenIssuer
from clearway.services.identity.users import Users

__all__ = ["DEMO_PASSWORD", "create"]


def create(context: ServiceContext) -> Service:
    settings, db = context.settings, context.db
    issuer = TokenIssuer(
        context.cipher,
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.access_token_ttl_seconds,
    )
    hashing = PasswordHashing(
        PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib),
        settings.password_hashing_concurrency,
        settings.password_hashing_queue,
    )
    throttle = LoginThrottle(
        db,
        context.blind_index,
        BackoffPolicy(
            free_failures=settings.login_free_failures,
            first_wait=timedelta(seconds=settings.login_backoff_seconds),
            longest_wait=timedelta(seconds=settings.login_backoff_max_seconds),
            forget_after=BACKOFF_MEMORY,
        ),
    )
    records = UserRecords(context.cipher, context.blind_index, context.sealer)
    second_factors = SecondFactors(settings, db, context.cipher, records, hashing)
    sessions = Sessions(settings, db, records, hashing, second_factors, throttle, issuer)
    profiles = Profiles(db, records, context.cache)
    context.cache.subscribe(CACHE_CHANNEL, profiles.on_cache_message)
    registration = Registrations(db, records, hashing)
    users = Users(db, context.cipher, records, profiles, sessions, second_factors)
    use_cases = UseCases(
        issuer=issuer,
        registration=registration,
        sessions=sessions,
        passwords=Passwords(settings, db, records, hashing, sessions, throttle),
        second_factors=second_factors,
        profiles=profiles,
        users=users,
    )
    api = service_api(
        "identity", "Clearway identity", "Accounts, roles, sessions and password reset."
    )
    serve_routes(api, build_router(use_cases, BrowserSessions(settings)))

    return Service(
        name="identity",
        api=api,
        migrations=Path(__file__).parent / "migrations",
        subscriptions=events.subscriptions(issuer),
        jobs=[
            Job(
                "identity-signing-keys",
                RELOAD_SECONDS,
                partial(db.reading, issuer.load),
                every_process=True,
            ),
            Job("identity-prune-throttle", 3600, throttle.prune),
        ],
        # The signing keys first (creating the first one): seeding may issue nothing before.
        on_start=[
            partial(db.in_transaction, issuer.load),
            partial(first_start, settings, registration, users),
        ],
    )
