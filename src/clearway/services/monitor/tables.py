"""Monitor's tables: raw records (kept days), roll-ups (kept long), and the audit chain (kept)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

from clearway.kit.db import UTCDateTime

metadata = MetaData()

Id = BigInteger().with_variant(Integer, "sqlite")

# One row per request through the gateway (raw; removed after the raw retention period, once
# folded into the roll-ups). The id orders rows by arrival, which is what the fold follows.
# The unique event id makes ingest idempotent without an inbox row per request: the raw
# retention period is the de-duplication window.
requests = Table(
    "requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("time", UTCDateTime(), nullable=False),
    Column("route", String(200), nullable=False),
    Column("method", String(10), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("role", String(16), nullable=False),
    Column("user_id", String(64), nullable=True),
    Column("client", String(64), nullable=True),
    Column("request_id", String(128), nullable=False),
    sqlite_autoincrement=True,
)
Index("ix_requests_time", requests.c.time)
Index("ix_requests_user_time", requests.c.user_id, requests.c.time)

# Request statistics per (granularity, bucket start, route, method): sums and a latency histogram
# with the fixed bins of `domain.BOUNDS`, so coarser buckets are exact sums of finer ones.
request_rollups = Table(
    "request_rollups",
    metadata,
    Column("granularity", String(6), primary_key=True),
    Column("start", UTCDateTime(), primary_key=True),
    Column("route", String(200), primary_key=True),
    Column("method", String(10), primary_key=True),
    Column("requests", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("client_errors", Integer, nullable=False),
    Column("latency_sum", Float, nullable=False),
    Column("latency_max", Float, nullable=False),
    Column("histogram", Text, nullable=False),
)

# How far the fold has read `requests` (by id, so late arrivals are folded too).
fold_state = Table(
    "fold_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_id", BigInteger, nullable=False),
)

# Distinct signed-in users per day and role.
active_users = Table(
    "active_users",
    metadata,
    Column("day", UTCDateTime(), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("user_id", String(64), primary_key=True),
)

# Raw search records (no free-text query: it may hold anything a user typed).
searches = Table(
    "searches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("time", UTCDateTime(), nullable=False, index=True),
    Column("hs_code", String(64), nullable=True),
    Column("hs_chapter", String(64), nullable=True),
    Column("hs_heading", String(64), nullable=True),
    Column("category", String(64), nullable=True),
    Column("market", String(64), nullable=True),
    Column("role", String(16), nullable=True),
    sqlite_autoincrement=True,
)

search_rollups = Table(
    "search_rollups",
    metadata,
    Column("hour", UTCDateTime(), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
)

# First time each order reached each stage: the funnel follows the orders submitted in a range.
order_stages = Table(
    "order_stages",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("stage", String(32), primary_key=True),
    Column("time", UTCDateTime(), nullable=False, index=True),
)

# What each user's domain events say they did (raw; the request records hold the rest).
activity = Table(
    "activity",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("time", UTCDateTime(), nullable=False, index=True),
    Column("user_id", String(64), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(100), nullable=True),
    sqlite_autoincrement=True,
)
Index("ix_activity_user_time", activity.c.user_id, activity.c.time)

# The audit trail: append-only, hash-chained, each hash MAC'd with a key kept outside this db.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("time", UTCDateTime(), nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(100), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("mac", String(64), nullable=False),
)

# The chain's head in one row, locked by every append (serialises appenders on PostgreSQL).
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Periodic MAC'd copies of the head: a truncated tail falls short of the last one.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("mac", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    sqlite_autoincrement=True,
)
