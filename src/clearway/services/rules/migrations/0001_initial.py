"""Rules' first schema: rule versions, their history, questions, checklists, kit tables.

Revision ID: rules_0001
Revises:
"""

from alembic import op

from clearway.kit.tables import create_kit_tables
from clearway.services.rules.tables import metadata

revision = "rules_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    create_kit_tables(bind)
    metadata.create_all(bind)
