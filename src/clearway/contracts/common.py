"""What the common service publishes: mail it was asked for and mail it sent, and the
platform's master key rotations (every service rewraps its data keys)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from clearway.kit.bus.contract import Event

SOURCE = "/clearway/common"


class CommonEvent(Event):
    SOURCE: ClassVar[str] = SOURCE


class Update(BaseModel):
    """What an `order_update` or `account_update` mail says: a headline, where to look in the
    app and, for an account, what the change means."""

    headline: str
    path: str
    detail: str | None = None


class MailRequested(CommonEvent):
    """Mail for a user known only by id; its delivery looks the address up with identity."""

    TYPE: ClassVar[str] = "mail.requested"
    SUBJECT: ClassVar[str | None] = "user_id"
    user_id: str
    template: str
    values: Update
    cause: str
    """The id of the event the mail tells of."""


class MailSent(CommonEvent):
    TYPE: ClassVar[str] = "mail.sent"
    template: str
    event_id: str
    """The event the mail was sent for."""
    user_id: str


class KeyRotated(CommonEvent):
    """A new master key version: every service wraps new data keys with it from now on."""

    TYPE: ClassVar[str] = "key.rotated"
    version: int
    by: str | None


EVENTS: tuple[type[Event], ...] = (MailRequested, MailSent, KeyRotated)
