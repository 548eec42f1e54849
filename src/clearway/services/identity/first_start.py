"""What identity does on every start: make sure an administrator exists (its password shown
once when generated) and, for local trials (`--demo`), seed demo accounts."""

from __future__ import annotations

import logging
import secrets

from clearway.services.identity.domain import Role
from clearway.services.identity.registration import Registrations
from clearway.services.identity.users import Users
from clearway.settings import Settings

log = logging.getLogger("clearway.identity")

DEMO_PASSWORD = "demo-password-1"  # noqa: S105  # printed with --demo, for local trials only
DEMO_ACCOUNTS = (
    ("customer@demo.clearway.example", Role.CUSTOMER, "Demo Customer", "DE"),
    ("provider@demo.clearway.example", Role.PROVIDER, "Demo Test Lab", "DE"),
)


async def first_start(settings: Settings, registration: Registrations, users: Users) -> None:
    existing = await users.an_admin()
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
        await _create_admin(settings, registration)
    if settings.demo:
        created = [
            await registration.ensure_user(
                email=email, password=DEMO_PASSWORD, role=role, name=name, country=country
            )
            for email, role, name, country in DEMO_ACCOUNTS
        ]
        if any(created):
            print(
                f"\n  Demo accounts (password {DEMO_PASSWORD}):"
                f" {', '.join(email for email, *_ in DEMO_ACCOUNTS)}\n",
                flush=True,
            )


async def _create_admin(settings: Settings, registration: Registrations) -> None:
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    generated = password is None
    password = password or secrets.token_urlsafe(18)
    await registration.ensure_user(
        email=settings.admin_email, password=password, role=Role.ADMIN, name="Administrator"
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
