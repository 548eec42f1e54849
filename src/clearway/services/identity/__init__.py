"""identity: accounts, roles, credentials, sessions, password reset."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.common import KeyRotated
from clearway.contracts.identity import SigningKeyRotated
from clearway.kit.bus import publish, subscribe
from clearway.kit.service import Job, Service, ServiceContext, serve_routes, service_api
from clearway.services.identity import domain
from clearway.services.identity.accounts import PROFILE_KEY, Accounts
from clearway.services.identity.api import build_router
from clearway.services.identity.browser import BrowserSessions
from clearway.services.identity.tokens import RELOAD_SECONDS, TokenIssuer

log = logging.getLogger("clearway.identity")

DEMO_PASSWORD = "demo-password-1"  # noqa: S105  # printed with --demo, for local trials only


def create(context: ServiceContext) -> Service:
    settings = context.settings
    issuer = TokenIssuer(
        context.cipher,
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.access_token_ttl_seconds,
    )
    accounts = Accounts(
        settings,
        context.db,
        context.cipher,
        context.blind_index,
        context.sealer,
        issuer,
        context.cache,
    )

    def on_cache_message(key: str) -> None:
        if key.startswith(PROFILE_KEY):
            accounts.drop_profile(key.removeprefix(PROFILE_KEY))

    context.cache.subscribe("identity", on_cache_message)
    api = service_api(
        "identity", "Clearway identity", "Accounts, roles, sessions and password reset."
    )
    serve_routes(api, build_router(accounts, BrowserSessions(settings)))

    async def start() -> None:
        async with context.db.transaction() as session:
            await issuer.load(session)
        await _first_start(accounts, context)

    async def on_key_rotated(event: KeyRotated, session: AsyncSession) -> None:
        # A platform key rotation also rotates the token signing key; old tokens stay valid.
        kid = await issuer.rotate(session)
        await publish(session, SigningKeyRotated(kid=kid))

    async def reload_signing_keys() -> None:
        async with context.db.read() as session:
            await issuer.load(session)

    return Service(
        name="identity",
        api=api,
        migrations=Path(__file__).parent / "migrations",
        subscriptions=[subscribe(KeyRotated, on_key_rotated)],
        jobs=[
            Job("identity-signing-keys", RELOAD_SECONDS, reload_signing_keys, every_process=True),
            Job("identity-prune-throttle", 3600, accounts.prune_throttle),
        ],
        on_start=[start],
    )


async def _first_start(accounts: Accounts, context: ServiceContext) -> None:
    settings = context.settings
    existing = await accounts.an_admin()
    if existing is not None:
        # Said every start, so whoever set CLEARWAY_ADMIN_PASSWORD knows whom it is not for.
        log.info("Administrator %s exists", existing)
        if settings.admin_password is not None:
            log.info(
                "CLEARWAY_ADMIN_PASSWORD is used only to create the first administrator; "
                "%s keeps its own password",
                existing,
            )
    else:
        password = settings.admin_password.get_secret_value() if settings.admin_password else None
        generated = password is None
        password = password or secrets.token_urlsafe(18)
        await accounts.ensure_user(
            email=settings.admin_email,
            password=password,
            role=domain.Role.ADMIN,
            name="Administrator",
        )
        log.info(
            "Administrator %s created (%s)",
            settings.admin_email,
            "password printed once below" if generated else "password from CLEARWAY_ADMIN_PASSWORD",
        )
        if generated:
            # Shown once: it is stored only as an argon2 hash.
            print(
                f"\n  Administrator created: {settings.admin_email}"
                f"\n  Password (shown once): {password}\n",
                flush=True,
            )
    if settings.demo:
        created = [
            await accounts.ensure_user(
                email=email, password=DEMO_PASSWORD, role=role, name=name, country=country
            )
            for email, role, name, country in (
                ("customer@demo.clearway.example", domain.Role.CUSTOMER, "Demo Customer", "DE"),
                ("provider@demo.clearway.example", domain.Role.PROVIDER, "Demo Test Lab", "DE"),
            )
        ]
        if any(created):
            print(
                f"\n  Demo accounts (password {DEMO_PASSWORD}):"
                " customer@demo.clearway.example, provider@demo.clearway.example\n",
                flush=True,
            )
