"""Orders' tables. Messages, file names, provider contacts and reasons are encrypted per field."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from clearway.kit.db import UTCDateTime

metadata = MetaData()

providers = Table(
    "providers",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("display_name", String(200), nullable=True),  # a business name, shown publicly
    Column("description", Text, nullable=True),
    Column("requirement_codes", Text, nullable=False),  # JSON lists
    Column("evidence_types", Text, nullable=False),
    Column("markets", Text, nullable=False),
    Column("accreditations", Text, nullable=False),
    Column("turnaround_days", Integer, nullable=True),
    Column("price_min", Integer, nullable=True),
    Column("price_max", Integer, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("contact_email_enc", LargeBinary, nullable=True),
    Column("contact_phone_enc", LargeBinary, nullable=True),
    Column("verified", Integer, nullable=False),  # the account was verified by an administrator
    Column("suspended", Integer, nullable=False),  # the listing is suspended
    Column("removed", Integer, nullable=False),  # the account was deleted
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("provider_id", String(32), nullable=False, index=True),
    Column("checklist_id", String(64), nullable=False),
    Column("market", String(16), nullable=False),
    Column("hs_code", String(16), nullable=False),
    Column("requirements", Text, nullable=False),  # JSON: [{code, title, evidence_type}]
    Column("state", String(20), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("quote_amount", Integer, nullable=True),  # minor units
    Column("quote_currency", String(3), nullable=True),
    Column("quote_turnaround_days", Integer, nullable=True),
    Column("answer_by", UTCDateTime(), nullable=False),
    Column("reminded_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Every transition of an order: who, when, why (the reason is encrypted).
order_transitions = Table(
    "order_transitions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("from_state", String(20), nullable=True),
    Column("to_state", String(20), nullable=False),
    Column("party", String(16), nullable=False),
    Column("actor_id", String(32), nullable=True),
    Column("reason_enc", LargeBinary, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
)

# A retried creation finds the order the first attempt made.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("customer_id", String(32), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("order_id", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, index=True),
    Column("author_id", String(32), nullable=False),
    Column("author_party", String(16), nullable=False),
    Column("body_enc", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, index=True),
    Column("uploader_id", String(32), nullable=False),
    Column("filename_enc", LargeBinary, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# The bytes of attachments per order and per uploader: a quota is taken by one conditional
# UPDATE of the row, so concurrent uploads cannot both pass on any engine.
storage_usage = Table(
    "storage_usage",
    metadata,
    Column("scope", String(8), primary_key=True),  # order | user
    Column("owner_id", String(32), primary_key=True),
    Column("used_bytes", BigInteger, nullable=False),
)

reports = Table(
    "reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, index=True),
    Column("provider_id", String(32), nullable=False, index=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("market", String(16), nullable=False),
    Column("hs_code", String(16), nullable=False),
    Column("requirement_codes", Text, nullable=False),  # JSON list
    Column("title", String(200), nullable=False),
    Column("reference", String(100), nullable=True),
    Column("attachment_id", String(32), nullable=True),
    Column("issued_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False, index=True),
    Column("withdrawn_at", UTCDateTime(), nullable=True),
    Column("withdrawn_reason_enc", LargeBinary, nullable=True),
    Column("expiry_warned_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

clearances = Table(
    "clearances",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("checklist_id", String(64), nullable=False),
    Column("market", String(16), nullable=False),
    Column("hs_code", String(16), nullable=False),
    Column("certificate", Text, nullable=False),  # the compact JWS
    Column("kid", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),  # valid | revoked
    Column("revoked_reason", String(300), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

clearance_reports = Table(
    "clearance_reports",
    metadata,
    Column("clearance_id", String(32), ForeignKey("clearances.id"), primary_key=True),
    Column("requirement_code", String(100), primary_key=True),
    Column("report_id", String(32), ForeignKey("reports.id"), nullable=False, index=True),
)

# The platform's certificate signing keys; retired keys stay to verify what they signed.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_enc", LargeBinary, nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("retired_at", UTCDateTime(), nullable=True),
)

Index("ix_orders_state_answer_by", orders.c.state, orders.c.answer_by)
