"""The rule base as searches read it: an in-memory snapshot of the published versions and the
questions, with the catalogues (nomenclature, markets, categories, phrases, coverage) beside it.

Writes go to the database; after a change to what customers can see, the snapshot is rebuilt.
Other processes rebuild theirs when `rule.published`/`rule.retired` reaches them (see
`events`), and a cheap periodic check catches anything else.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.db import Database
from clearway.services.rules import tables as t
from clearway.services.rules.answers import Answers
from clearway.services.rules.domain.categories import load_categories
from clearway.services.rules.domain.classify import Phrases
from clearway.services.rules.domain.coverage import Coverage
from clearway.services.rules.domain.hs import nomenclature
from clearway.services.rules.domain.lookup import Catalogs, RuleBase, TextMatcher, terms
from clearway.services.rules.domain.markets import Markets
from clearway.services.rules.domain.questions import Question
from clearway.services.rules.domain.versions import Status
from clearway.services.rules.rows import question_of, version_of

log = logging.getLogger("clearway.rules")

DATA = Path(__file__).parent / "data"


class RuleSnapshot:
    def __init__(self, db: Database, *, data: Path = DATA) -> None:
        self.db = db
        self.nomenclature = nomenclature()
        self.markets = Markets.from_yaml(data / "markets.yaml")
        self.categories = load_categories(data / "categories.yaml", self.nomenclature)
        self.questions: dict[str, Question] = {}
        self.shipped = data / "rules"
        self.base = RuleBase((), self.categories)
        self.matcher = TextMatcher(self.categories.values(), self.nomenclature)
        self.phrases = Phrases.load(
            data / "phrases.yaml", self.categories, self.nomenclature, terms
        )
        self.coverage = Coverage.from_yaml(data / "coverage.yaml", self.markets, self.categories)
        # Search answers rendered from this snapshot; categories, markets and the nomenclature
        # never change in a process, so only a swap of `base`/`questions` resets it.
        self.answers = Answers()
        self._stamp: tuple[Any, ...] | None = None
        self._reload_lock = asyncio.Lock()
        self._pending: asyncio.Task[None] | None = None
        self._stale = False

    @property
    def catalogs(self) -> Catalogs:
        return Catalogs(self.nomenclature, self.markets, self.categories, self.questions)

    async def reload(self) -> None:
        """Rebuild the snapshot from published versions (a few ms for a few thousand rules)."""
        async with self._reload_lock:
            async with self.db.read() as session:
                stamp = await self._read_stamp(session)
                rows = (
                    await session.execute(
                        select(t.rule_versions).where(t.rule_versions.c.status == Status.PUBLISHED)
                    )
                ).all()
                questions = (await session.execute(select(t.questions))).all()
            self._swap(
                RuleBase((version_of(r) for r in rows), self.categories),
                {q.id: question_of(q) for q in questions},
            )
            self._stamp = stamp

    def _swap(self, base: RuleBase, questions: dict[str, Question]) -> None:
        """Replace the snapshot, and forget the answers rendered from the old one (no await in
        between, so no request sees one without the other)."""
        self.base = base
        self.questions = questions
        self.answers.reset(base)

    def invalidate(self) -> None:
        """Check soon whether what searches read changed, once for however many events arrive
        together. A first start or a rule file brings hundreds of `rule.published` at once:
        each used to rebuild the snapshot in every process (about 90 rebuilds per worker on a
        first start). A check finds the stamp unchanged after the first rebuild and stops
        there; an event that arrives while a check runs gets one more check after it, so a
        change committed meanwhile is not left to the periodic job."""
        self._stale = True
        if self._pending is None or self._pending.done():
            self._pending = asyncio.get_running_loop().create_task(self._refresh_while_stale())

    async def _refresh_while_stale(self) -> None:
        while self._stale:
            self._stale = False
            await asyncio.sleep(0)  # let a burst of invalidations coalesce
            try:
                await self.refresh_if_changed()
            except Exception:
                log.exception("reloading the rule base failed; the periodic check retries")
                return

    async def refresh_if_changed(self) -> bool:
        """The periodic check: one small query, a reload only if something changed."""
        async with self.db.read() as session:
            stamp = await self._read_stamp(session)
        if stamp == self._stamp:
            return False
        await self.reload()
        return True

    async def _read_stamp(self, session: AsyncSession) -> tuple[Any, ...]:
        versions = (
            await session.execute(
                select(func.count(), func.max(t.rule_versions.c.updated_at)).select_from(
                    t.rule_versions
                )
            )
        ).one()
        questions = (
            await session.execute(
                select(func.count(), func.max(t.questions.c.updated_at)).select_from(t.questions)
            )
        ).one()
        return (*versions, *questions)

    async def is_empty(self) -> bool:
        """No rule was ever written (a first start: the shipped rule base goes in)."""
        async with self.db.read() as session:
            return not await session.scalar(select(func.count()).select_from(t.rule_versions))

    async def stop(self) -> None:
        if self._pending is not None:
            await asyncio.gather(self._pending, return_exceptions=True)
