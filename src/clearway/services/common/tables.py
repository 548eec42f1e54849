"""Common's tables: the local mailbox (contents encrypted per field)."""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, MetaData, String, Table

from clearway.kit.db import UTCDateTime

metadata = MetaData()

mailbox = Table(
    "mailbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("message_id", String(255), nullable=False, unique=True),
    Column("template", String(64), nullable=True, index=True),
    Column("event_id", String(64), nullable=True),
    Column("recipient_index", String(64), nullable=False, index=True),  # blind index
    Column("recipient_enc", LargeBinary, nullable=False),
    Column("subject_enc", LargeBinary, nullable=False),
    Column("text_enc", LargeBinary, nullable=False),
    Column("html_enc", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
)
