"""Monitor's HTTP API: statistics, activity and the audit trail for administrators (JSON or
CSV), and Prometheus metrics on an internal route only."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from clearway.contracts.monitor import METRICS_ROUTE
from clearway.kit.caller import Admin
from clearway.kit.problems import Problem
from clearway.services.monitor.audit import AuditTrail
from clearway.services.monitor.domain.stats import (
    Granularity,
    RangeError,
    SearchDimension,
    check_range,
)
from clearway.services.monitor.metrics import CONTENT_TYPE, MonitorMetrics
from clearway.services.monitor.schemas import (
    ActiveUsersOut,
    ActivityOut,
    AuditOut,
    AuditVerdictOut,
    FunnelOut,
    RequestStatsOut,
    TopSearchesOut,
)
from clearway.services.monitor.statistics import Statistics

DEFAULT_SPAN = {"minute": timedelta(hours=1), "hour": timedelta(days=1), "day": timedelta(days=30)}
CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")

From = Annotated[datetime | None, Query(alias="from", description="Start (inclusive), RFC 3339")]
To = Annotated[datetime | None, Query(alias="to", description="End (exclusive); default now")]
# The JSON body is the route's response model; the same rows as CSV on request.
AS_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
Format = Annotated[Literal["json", "csv"] | None, Query(description="Or send Accept: text/csv")]


def time_range(
    start: datetime | None, end: datetime | None, granularity: Granularity = "hour"
) -> tuple[datetime, datetime]:
    end = end or datetime.now(UTC)
    start = start or end - DEFAULT_SPAN[granularity]
    try:
        check_range(start, end, granularity)
    except RangeError as error:
        raise Problem(422, detail=str(error), type="invalid-range") from error
    return start.astimezone(UTC), end.astimezone(UTC)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(CSV_FORMULA):
        return "'" + value  # a spreadsheet must not run it as a formula
    return value


def table(
    request: Request,
    format: str | None,
    name: str,
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    document: dict[str, Any],
) -> Response:
    """`document` as JSON, or `rows` as CSV when asked for with `format=csv` or Accept."""
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if not wants_csv:
        return Response(
            orjson.dumps(document, option=orjson.OPT_UTC_Z), media_type="application/json"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}.csv"'},
    )


def build_router(stats: Statistics, audit: AuditTrail, metrics: MonitorMetrics) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/api/monitor/requests/stats",
        tags=["monitor"],
        response_model=RequestStatsOut,
        responses=AS_CSV,
    )
    async def request_stats(
        request: Request,
        _: Admin,
        start: From = None,
        end: To = None,
        granularity: Granularity = "minute",
        route: Annotated[str | None, Query(max_length=200)] = None,
        method: Annotated[str | None, Query(max_length=10)] = None,
        format: Format = None,
    ) -> Response:
        """Requests, requests/s, error rate (5xx) and p50/p95/p99 latency per route and bucket.

        Percentiles come from fixed-bin histograms: never below the exact nearest-rank value,
        at most 9 % above it (and never above the bucket's maximum).
        """
        start, end = time_range(start, end, granularity)
        items = await stats.requests(start, end, granularity, route, method)
        columns = list(items[0]) if items else ["start", "route", "method", "requests"]
        document = {"from": start, "to": end, "granularity": granularity, "items": items}
        return table(request, format, "request-stats", columns, items, document)

    @router.get(
        "/api/monitor/searches/top",
        tags=["monitor"],
        response_model=TopSearchesOut,
        responses=AS_CSV,
    )
    async def top_searches(
        request: Request,
        _: Admin,
        start: From = None,
        end: To = None,
        by: SearchDimension = "product",
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        granularity: Annotated[
            Literal["hour", "day"] | None, Query(description="Also a series per bucket")
        ] = None,
        format: Format = None,
    ) -> Response:
        """The most searched products (HS code, heading, chapter, category) or markets."""
        start, end = time_range(start, end, granularity or "hour")
        result = await stats.top_searches(start, end, by, limit, granularity)
        document = {"from": start, "to": end, **result}
        return table(request, format, f"top-{by}", ["key", "count"], result["items"], document)

    @router.get(
        "/api/monitor/users/active",
        tags=["monitor"],
        response_model=ActiveUsersOut,
        responses=AS_CSV,
    )
    async def active(
        request: Request, _: Admin, start: From = None, end: To = None, format: Format = None
    ) -> Response:
        """Distinct signed-in users per role in the range (whole days), and per day."""
        start, end = time_range(start, end, "day")
        result = await stats.active_users(start, end)
        document = {"from": start, "to": end, **result}
        rows = result["by_day"]
        return table(request, format, "active-users", ["day", "role", "users"], rows, document)

    @router.get(
        "/api/monitor/orders/funnel", tags=["monitor"], response_model=FunnelOut, responses=AS_CSV
    )
    async def funnel(
        request: Request, _: Admin, start: From = None, end: To = None, format: Format = None
    ) -> Response:
        """Orders submitted in the range, and how many of them were accepted and completed."""
        start, end = time_range(start, end, "day")
        result = await stats.funnel(start, end)
        document = {"from": start, "to": end, **result}
        return table(request, format, "order-funnel", list(result), [result], document)

    @router.get(
        "/api/monitor/activity", tags=["monitor"], response_model=ActivityOut, responses=AS_CSV
    )
    async def user_activity(
        request: Request,
        _: Admin,
        user_id: Annotated[str, Query(min_length=1, max_length=64)],
        start: From = None,
        end: To = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        format: Format = None,
    ) -> Response:
        """What one user did: requests and domain events, newest first."""
        start, end = time_range(start, end, "day")
        items = await stats.activity(user_id, start, end, limit)
        document = {"from": start, "to": end, "user_id": user_id, "items": items}
        columns = ["time", "kind", "action", "status", "subject"]
        return table(request, format, "activity", columns, items, document)

    @router.get("/api/monitor/audit", tags=["monitor"], response_model=AuditOut, responses=AS_CSV)
    async def audit_trail(
        request: Request,
        _: Admin,
        start: From = None,
        end: To = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        format: Format = None,
    ) -> Response:
        """Administrator actions and security events, oldest first, with their chain hashes."""
        start, end = time_range(start, end, "day")
        entries, total = await audit.page(start, end, limit, offset)
        items = [
            {
                "seq": e.seq,
                "time": e.time,
                "actor": e.actor,
                "action": e.action,
                "details": orjson.loads(e.details),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in entries
        ]
        document = {"from": start, "to": end, "items": items, "total": total}
        document |= {"limit": limit, "offset": offset}
        rows = [item | {"details": orjson.dumps(item["details"]).decode()} for item in items]
        columns = ["seq", "time", "actor", "action", "details", "prev_hash", "hash"]
        return table(request, format, "audit", columns, rows, document)

    @router.get("/api/monitor/audit/verify", tags=["monitor"], response_model=AuditVerdictOut)
    async def audit_verify(_: Admin) -> dict[str, Any]:
        """Check the whole chain; names the first broken seq and whether it was edited,
        inserted or deleted."""
        verdict = await audit.verify()
        metrics.audit_ok.set(1 if verdict.ok else 0)
        return verdict.as_dict()

    @router.get(METRICS_ROUTE, include_in_schema=False)
    async def prometheus() -> Response:
        """Prometheus text format; internal only (never in the gateway's route table)."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return router
