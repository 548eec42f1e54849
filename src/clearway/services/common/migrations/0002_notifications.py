"""In-app notifications.

Revision ID: common_0002
Revises: common_0001
"""

from alembic import op

from clearway.services.common.tables import notifications

revision = "common_0002"
down_revision = "common_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # checkfirst: the first revision creates every table of the metadata on a new database.
    notifications.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    notifications.drop(op.get_bind())
