"""The deciding questions, shared by the rules that ask them: created or changed by
administrators and rule files, each change recorded in the rules' history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.db import Database
from clearway.services.rules import tables as t
from clearway.services.rules.domain.questions import Question, check_question
from clearway.services.rules.domain.versions import diff
from clearway.services.rules.rows import question_of
from clearway.services.rules.snapshot import RuleSnapshot


class Questions:
    def __init__(self, db: Database, snapshot: RuleSnapshot) -> None:
        self.db = db
        self.snapshot = snapshot

    async def put(self, actor: str, question_id: str, spec: Any) -> Question:
        """Create or change a question: its text, or `{text, kind, unit, min, max}`."""
        question = check_question(question_id, spec)
        async with self.db.transaction() as session:
            await self.put_in(session, actor, question, source=None)
        await self.snapshot.reload()
        return question

    async def put_in(
        self, session: AsyncSession, actor: str, question: Question, *, source: str | None
    ) -> bool:
        """Write `question` in the caller's transaction; whether it changed anything."""
        now = datetime.now(UTC)
        row = (
            await session.execute(select(t.questions).where(t.questions.c.id == question.id))
        ).first()
        current = question_of(row) if row else None
        if current == question:
            return False
        spec = question.spec()
        values = {
            "text": question.text,
            "spec": orjson.dumps(spec).decode() if spec else None,
            "updated_at": now,
            "updated_by": actor,
        }
        if current is None:
            await session.execute(insert(t.questions).values(id=question.id, **values))
        else:
            await session.execute(
                update(t.questions).where(t.questions.c.id == question.id).values(**values)
            )
        await session.execute(
            insert(t.rule_history).values(
                code=f"?{question.id}",
                version=0,
                action="question",
                actor=actor,
                at=now,
                changes=orjson.dumps(
                    diff(
                        {"text": current.text, "spec": current.spec()} if current else None,
                        {"text": question.text, "spec": question.spec()},
                    )
                ).decode(),
                source=source,
            )
        )
        return True
