"""Common's dead letters API: events a consumer failed on too often, listed and replayed by an
administrator (the same bus operations as `clearway events dlq list|replay`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, model_validator

from clearway.kit.bus import Bus
from clearway.kit.caller import Admin
from clearway.kit.problems import Problem

QUEUE_NAME = r"^[a-z][a-z0-9_.-]{0,63}$"
MAX_REPLAY_IDS = 1000


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


def build_dead_letters_router(bus: Bus) -> APIRouter:
    router = APIRouter()

    @router.get("/api/common/dead-letters", response_model=list[DeadLetterOut])
    async def list_dead_letters(
        _: Admin, queue: Annotated[str | None, Query(pattern=QUEUE_NAME)] = None
    ) -> Any:
        """Events a service's queue gave up on, oldest first; replay puts them back."""
        return [
            {
                "id": letter.id,
                "queue": letter.queue,
                "event_id": letter.event.id,
                "event_type": letter.event.type,
                "event_source": letter.event.source,
                "subject": letter.event.subject,
                "data": letter.event.data,
                "attempts": letter.attempts,
                "last_error": letter.last_error,
                "failed_at": letter.failed_at,
            }
            for letter in await bus.dead_letters(queue)
        ]

    @router.post("/api/common/dead-letters/replay", response_model=Replayed)
    async def replay_dead_letters(body: ReplayIn, _: Admin) -> Any:
        """Put dead letters back on their queues with fresh attempts."""
        count = await bus.replay(None if body.all else body.ids, body.queue)
        if body.ids and count == 0:
            raise Problem(404, detail="None of these dead letters exists (any more).")
        return {"replayed": count}

    return router
