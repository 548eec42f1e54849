"""What the monitor's routes answer, as the OpenAPI describes it (JSON; CSV has the same rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clearway.services.monitor.domain.audit_chain import TamperKind
from clearway.services.monitor.domain.stats import Granularity, SearchDimension


class Window(BaseModel):
    """The range asked for: from (inclusive) to (exclusive)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime


class RequestBucket(BaseModel):
    start: datetime
    route: str
    method: str
    requests: int
    errors: int
    client_errors: int
    error_rate: float
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    max_ms: float | None


class RequestStatsOut(Window):
    granularity: Granularity
    items: list[RequestBucket]


class SearchCount(BaseModel):
    key: str
    count: int


class SearchBucket(SearchCount):
    start: datetime


class TopSearchesOut(Window):
    by: SearchDimension
    items: list[SearchCount]
    series: list[SearchBucket] | None = None


class RoleUsers(BaseModel):
    role: str
    users: int


class DayRoleUsers(RoleUsers):
    day: datetime


class ActiveUsersOut(Window):
    items: list[RoleUsers]
    by_day: list[DayRoleUsers]


class FunnelOut(Window):
    submitted: int
    accepted: int
    completed: int
    declined: int
    cancelled: int
    expired: int
    accepted_rate: float | None
    completed_rate: float | None
    completed_of_accepted: float | None


class ActivityItem(BaseModel):
    time: datetime
    kind: str
    action: str
    status: int | None
    subject: str | None


class ActivityOut(Window):
    user_id: str
    items: list[ActivityItem]


class AuditItem(BaseModel):
    seq: int
    time: datetime
    actor: str
    action: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditOut(Window):
    items: list[AuditItem]
    total: int
    limit: int
    offset: int


class AuditVerdictOut(BaseModel):
    ok: bool
    checked: int
    seq: int | None
    kind: TamperKind | None
    detail: str
