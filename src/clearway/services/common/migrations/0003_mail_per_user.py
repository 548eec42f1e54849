"""Mail knows its user: its fields are encrypted under that user's key, shredded on deletion.

Revision ID: common_0003
Revises: common_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "common_0003"
down_revision = "common_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mailbox") as batch:
        batch.add_column(sa.Column("user_id", sa.String(length=32), nullable=True))
        batch.create_index(op.f("ix_mailbox_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mailbox") as batch:
        batch.drop_index(op.f("ix_mailbox_user_id"))
        batch.drop_column("user_id")
