"""Rule versions and questions as the tables hold them, and back."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.services.rules import tables as t
from clearway.services.rules.domain.content import RuleContent
from clearway.services.rules.domain.questions import Question
from clearway.services.rules.domain.versions import RuleVersion, Status


async def read_versions(session: AsyncSession, code: str) -> list[RuleVersion]:
    """Every version of a rule, oldest first."""
    rows = (
        await session.execute(
            select(t.rule_versions)
            .where(t.rule_versions.c.code == code)
            .order_by(t.rule_versions.c.version)
        )
    ).all()
    return [version_of(r) for r in rows]


def version_of(row: Row[Any]) -> RuleVersion:
    return RuleVersion(
        content=RuleContent.from_dict(orjson.loads(row.content)),
        version=row.version,
        status=Status(row.status),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def question_of(row: Row[Any]) -> Question:
    spec = orjson.loads(row.spec) if row.spec else {}
    return Question(
        row.id,
        row.text,
        spec.get("kind", "yes_no"),
        spec.get("unit"),
        spec.get("min"),
        spec.get("max"),
    )


def version_row(version: RuleVersion) -> dict[str, Any]:
    return {
        "code": version.code,
        "version": version.version,
        "status": version.status.value,
        "market": version.content.market,
        "content": orjson.dumps(version.content.to_dict()).decode(),
        "effective_from": version.effective_from,
        "effective_to": version.effective_to,
        "created_at": version.created_at,
        "created_by": version.created_by,
        "updated_at": version.updated_at,
        "updated_by": version.updated_by,
    }
