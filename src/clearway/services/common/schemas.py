"""What common's routes take and answer, as the OpenAPI describes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field, model_validator

QUEUE_NAME = r"^[a-z][a-z0-9_.-]{0,63}$"
MAX_REPLAY_IDS = 1000


class MailOut(BaseModel):
    id: str
    message_id: str
    template: str | None
    recipient: str
    subject: str
    text: str
    html: str | None
    created_at: datetime


class MailPage(BaseModel):
    items: list[MailOut]
    total: int
    limit: int
    offset: int


class KeyVersion(BaseModel):
    version: int
    state: str
    created_at: datetime


class Rotated(BaseModel):
    version: int


class NotificationOut(BaseModel):
    id: str
    type: str
    title: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


class DeadLetterOut(BaseModel):
    id: int
    queue: str
    event_id: str
    event_type: str
    event_source: str
    subject: str | None
    data: dict[str, Any]
    attempts: int
    last_error: str
    failed_at: datetime


class ReplayIn(BaseModel):
    """Name the dead letters to replay, or ask for all of them (optionally of one queue)."""

    ids: list[int] = Field(default_factory=list, max_length=MAX_REPLAY_IDS)
    all: bool = False
    queue: str | None = Field(default=None, pattern=QUEUE_NAME)

    @model_validator(mode="after")
    def ids_or_all(self) -> Self:
        if bool(self.ids) == self.all:
            raise ValueError("name the ids to replay, or set all to true (not both)")
        return self


class Replayed(BaseModel):
    replayed: int
