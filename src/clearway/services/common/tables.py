"""Common's tables: the local mailbox (contents encrypted per field, under the recipient's key),
in-app notifications."""

from __future__ import annotations

from sqlalchemy import Column, Index, LargeBinary, MetaData, String, Table, UniqueConstraint

from clearway.kit.db import UTCDateTime

metadata = MetaData()

mailbox = Table(
    "mailbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("message_id", String(255), nullable=False, unique=True),
    Column("template", String(64), nullable=True, index=True),
    Column("event_id", String(64), nullable=True),
    # The blind index of the address; "erased" once its user is deleted.
    Column("recipient_index", String(64), nullable=False, index=True),
    # Whose mail it is (its fields are encrypted under that user's key); NULL for older mail.
    Column("user_id", String(32), nullable=True, index=True),
    Column("recipient_enc", LargeBinary, nullable=False),
    Column("subject_enc", LargeBinary, nullable=False),
    Column("text_enc", LargeBinary, nullable=False),
    Column("html_enc", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
)

# In-app notifications: what happened, for whom. Titles name ids and states, never personal data.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("type", String(100), nullable=False),
    Column("title", String(300), nullable=False),
    Column("link", String(300), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime(), nullable=True),
    UniqueConstraint("user_id", "event_id"),
    Index("ix_notifications_user_created", "user_id", "created_at"),
)
