"""Orders' first schema: providers, orders, messages, attachments, reports, clearances, keys.

Revision ID: orders_0001
Revises:
"""

from alembic import op

from clearway.kit.tables import create_kit_tables
from clearway.services.orders.tables import metadata

revision = "orders_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    create_kit_tables(bind)
    metadata.create_all(bind)
