"""Revision rules_0003 counts the checklists saved before it, as a list then shows them."""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic import command
from sqlalchemy import Connection, text

from clearway.kit.db import Database
from clearway.kit.migrations import alembic_config, migrate
from clearway.services.rules import MIGRATIONS


def _requirement(code: str, applies: bool, decided: bool, asks: list[str]) -> dict[str, object]:
    return {"code": code, "applies": applies, "decided": decided, "open_questions": asks}


async def test_checklists_saved_before_the_counts_are_counted(tmp_path: Path) -> None:
    db = Database("rules", f"sqlite+aiosqlite:///{tmp_path / 'rules.db'}")

    def to_0002(connection: Connection) -> None:
        command.upgrade(alembic_config(MIGRATIONS, connection), "rules_0002")

    saved = [
        _requirement("A", applies=True, decided=True, asks=[]),
        _requirement("B", applies=False, decided=True, asks=[]),
        _requirement("C", applies=True, decided=False, asks=["battery", "radio"]),
        _requirement("D", applies=True, decided=False, asks=["battery"]),
    ]
    try:
        async with db.writer.connect() as connection:
            await connection.run_sync(to_0002)
            for number, requirements in enumerate((saved, []), start=1):
                await connection.execute(
                    text(
                        "INSERT INTO checklists (id, owner_id, market, answers, requirements,"
                        " created_at, updated_at) VALUES (:id, 'o', 'EU', '{}', :requirements,"
                        " '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
                    ),
                    {"id": f"c{number}", "requirements": orjson.dumps(requirements).decode()},
                )
            await connection.commit()
        await migrate(db, MIGRATIONS)
        async with db.read() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT id, requirement_count, applies_count, undecided_count,"
                        " open_question_count FROM checklists ORDER BY id"
                    )
                )
            ).all()
    finally:
        await db.dispose()
    assert [tuple(r) for r in rows] == [("c1", 4, 1, 2, 2), ("c2", 0, 0, 0, 0)]
