"""Monitor's first schema: request and search records, roll-ups, activity, the audit chain.

Revision ID: monitor_0001
Revises:
"""

from alembic import op

from clearway.kit.tables import create_kit_tables
from clearway.services.monitor.tables import metadata

revision = "monitor_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    create_kit_tables(bind)
    metadata.create_all(bind)
