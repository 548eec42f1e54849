"""common: notifications (mail and in-app), the mailbox, the key service, the dead letters."""

from __future__ import annotations

from pathlib import Path

from clearway.kit.mail import MailTemplates, SmtpMailer
from clearway.kit.service import Capability, Service, ServiceContext, serve_routes, service_api
from clearway.services.common import events
from clearway.services.common.api import build_router
from clearway.services.common.domain import SUBJECT_VALUES
from clearway.services.common.mailbox import Mailbox
from clearway.services.common.notifications import InAppNotifications

TEMPLATE_DIR = Path(__file__).parent / "templates"
MIGRATIONS = Path(__file__).parent / "migrations"
# It hosts the key service and shows administrators the dead letters.
NEEDS = frozenset({Capability.KEY_ADMINISTRATION, Capability.DEAD_LETTERS})


def create(context: ServiceContext) -> Service:
    settings = context.settings
    if context.key_admin is None:
        raise RuntimeError("the common service hosts the key service and needs its store")
    if context.dead_letters is None:
        raise RuntimeError("the common service shows the dead letters and needs the bus")
    mailbox = Mailbox(context.db, context.cipher, context.blind_index)
    smtp = None
    if settings.mail_backend == "smtp":
        smtp = SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
        )
    inapp = InAppNotifications(context.db)
    notifier = events.Notifier(
        MailTemplates(TEMPLATE_DIR, subject_values=SUBJECT_VALUES),
        context.sealer,
        mailbox,
        smtp,
        settings.public_url,
        inapp,
        context.calls,
    )
    api = service_api("common", "Clearway common", "Mailbox, notifications and key service.")
    serve_routes(
        api, build_router(mailbox, inapp, context.key_admin, context.db, context.dead_letters)
    )
    return Service(
        name="common",
        api=api,
        migrations=MIGRATIONS,
        subscriptions=events.subscriptions(notifier),
    )
