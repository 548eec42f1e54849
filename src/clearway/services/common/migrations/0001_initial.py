"""Common's first schema: the mailbox and the kit tables.

Revision ID: common_0001
Revises:
"""

from alembic import op

from clearway.kit.tables import create_kit_tables
from clearway.services.common.tables import metadata

revision = "common_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    create_kit_tables(bind)
    metadata.create_all(bind)
