"""Rule files v2: numeric questions (kind, unit, bounds), national tariff lines on checklists,
and the date a checklist was decided for and how well the rule base covered it.

Revision ID: rules_0002
Revises: rules_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "rules_0002"
down_revision = "rules_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # JSON {kind, unit, min, max} of a numeric question; NULL for a yes/no question.
    op.add_column("questions", sa.Column("spec", sa.Text(), nullable=True))
    with op.batch_alter_table("checklists") as batch:
        batch.alter_column("hs_code", type_=sa.String(length=10), existing_nullable=True)
        batch.add_column(sa.Column("as_of", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("coverage", sa.Text(), nullable=True))
