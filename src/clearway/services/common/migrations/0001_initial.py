"""Common's first schema: the mailbox and the kit tables.

Revision ID: common_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from clearway.kit.migrations import create_kit_tables

revision = "common_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Explicit operations, not the current `tables.py`: replaying history builds the same schema.
    create_kit_tables()
    op.create_table(
        "mailbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("recipient_index", sa.String(length=64), nullable=False),
        sa.Column("recipient_enc", sa.LargeBinary(), nullable=False),
        sa.Column("subject_enc", sa.LargeBinary(), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("html_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(op.f("ix_mailbox_created_at"), "mailbox", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_mailbox_recipient_index"), "mailbox", ["recipient_index"], unique=False
    )
    op.create_index(op.f("ix_mailbox_template"), "mailbox", ["template"], unique=False)
