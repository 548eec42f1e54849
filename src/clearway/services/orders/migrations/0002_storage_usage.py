"""Attachment storage per order and per uploader, counted in a row each (quotas taken atomically).

Revision ID: orders_0002
Revises: orders_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "orders_0002"
down_revision = "orders_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storage_usage",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("used_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "owner_id"),
    )
    # What the attachments stored so far already take.
    op.execute(
        "INSERT INTO storage_usage (scope, owner_id, used_bytes) "
        "SELECT 'order', order_id, SUM(size) FROM attachments GROUP BY order_id"
    )
    op.execute(
        "INSERT INTO storage_usage (scope, owner_id, used_bytes) "
        "SELECT 'user', uploader_id, SUM(size) FROM attachments GROUP BY uploader_id"
    )
