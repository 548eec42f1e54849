"""A checklist's counts kept beside its requirements, so that a list of checklists shows them
without reading tens of kilobytes of requirements per checklist; counted here for the
checklists saved before.

Revision ID: rules_0003
Revises: rules_0002
"""

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "rules_0003"
down_revision = "rules_0002"
branch_labels = None
depends_on = None

COUNTS = ("requirement_count", "applies_count", "undecided_count", "open_question_count")
BATCH = 500


def _counts(requirements: list[dict[str, Any]]) -> dict[str, int]:
    # Frozen, like the revision: how `checklists.counts` counted when it was written.
    asked = {q for r in requirements for q in r.get("open_questions", ())}
    return {
        "requirement_count": len(requirements),
        "applies_count": sum(1 for r in requirements if r["applies"] and r["decided"]),
        "undecided_count": sum(1 for r in requirements if not r["decided"]),
        "open_question_count": len(asked),
    }


def upgrade() -> None:
    with op.batch_alter_table("checklists") as batch:
        for name in COUNTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    bind = op.get_bind()
    checklists = sa.table(
        "checklists",
        sa.column("id", sa.String()),
        sa.column("requirements", sa.Text()),
        *(sa.column(name, sa.Integer()) for name in COUNTS),
    )
    update = (
        sa.update(checklists)
        .where(checklists.c.id == sa.bindparam("row_id"))
        .values({name: sa.bindparam(name) for name in COUNTS})
    )
    after = ""
    while rows := bind.execute(
        sa.select(checklists.c.id, checklists.c.requirements)
        .where(checklists.c.id > after)
        .order_by(checklists.c.id)
        .limit(BATCH)
    ).all():
        bind.execute(update, [{"row_id": i, **_counts(orjson.loads(r))} for i, r in rows])
        after = rows[-1][0]
