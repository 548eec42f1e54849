"""The rule base: versions in the database, served from an in-memory snapshot.

Writes go to the database (one transaction each, with their history and events); after a
change to what customers can see, the snapshot is rebuilt. Other processes rebuild theirs when
`rule.published`/`rule.retired` reaches them, and a cheap periodic check catches anything else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import yaml  # type: ignore[import-untyped]
from sqlalchemy import Row, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.rules import RulePublished, RuleRetired, RuleVersionEvent
from clearway.kit.bus import publish
from clearway.kit.db import Database
from clearway.services.rules import tables as t
from clearway.services.rules.answers import Answers
from clearway.services.rules.domain import Conflict, Invalid, NotFound
from clearway.services.rules.domain.classify import Phrases
from clearway.services.rules.domain.coverage import Coverage
from clearway.services.rules.domain.files import (
    FileError,
    FileRule,
    RuleFile,
    RuleFileInvalid,
    with_defaults,
)
from clearway.services.rules.domain.hs import Nomenclature, nomenclature
from clearway.services.rules.domain.lookup import Catalogs, RuleBase, TextMatcher, terms
from clearway.services.rules.domain.markets import Markets
from clearway.services.rules.domain.model import (
    Category,
    Change,
    Ending,
    Question,
    RuleContent,
    RuleVersion,
    Status,
    build_content,
    check_publishable,
    check_question,
    check_window,
    diff,
    plan_change,
    retirement,
    supersede,
)

log = logging.getLogger("clearway.rules")

DATA = Path(__file__).parent / "data"


def load_categories(path: Path, nomenclature: Nomenclature) -> dict[str, Category]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    categories = {}
    for key, item in document["categories"].items():
        codes = tuple(nomenclature.normalize(str(code)) for code in item["hs_codes"])
        categories[key] = Category(
            key,
            item["name"],
            codes,
            tuple(str(k) for k in item.get("keywords", ())),
            item.get("description", ""),
        )
    return categories


class _DryRun(Exception):
    """Raised at the end of a dry run so that its transaction rolls back."""


@dataclass
class Planned:
    """One line of an import's report."""

    code: str
    file: str
    line: int
    action: str  # create, update, publish, reschedule, retire, unchanged
    version: int
    changes: dict[str, Any] = field(default_factory=dict)


class RuleStore:
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

    @property
    def catalogs(self) -> Catalogs:
        return Catalogs(self.nomenclature, self.markets, self.categories, self.questions)

    # --- the in-memory snapshot -----------------------------------------------------------

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
                RuleBase((_version(r) for r in rows), self.categories),
                {q.id: _question(q) for q in questions},
            )
            self._stamp = stamp

    def _swap(self, base: RuleBase, questions: dict[str, Question]) -> None:
        """Replace the snapshot, and forget the answers rendered from the old one (no await in
        between, so no request sees one without the other)."""
        self.base = base
        self.questions = questions
        self.answers.reset(base)

    def invalidate(self) -> None:
        """Reload soon, once however many events arrive together."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.get_running_loop().create_task(self._reload_later())

    async def _reload_later(self) -> None:
        await asyncio.sleep(0)  # let a burst of invalidations coalesce
        try:
            await self.reload()
        except Exception:
            log.exception("reloading the rule base failed; the periodic check retries")

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

    async def stop(self) -> None:
        if self._pending is not None:
            await asyncio.gather(self._pending, return_exceptions=True)

    # --- reading for administrators -----------------------------------------------------

    async def versions(self, code: str) -> list[RuleVersion]:
        async with self.db.read() as session:
            found = await _versions(session, code.upper())
        if not found:
            raise NotFound("no-such-rule", f"There is no rule {code[:64]!r}.")
        return found

    async def newest(
        self,
        *,
        market: str | None,
        status: Status | None,
        text: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[RuleVersion], int]:
        """The newest version of each rule, filtered."""
        newest = (
            select(t.rule_versions.c.code, func.max(t.rule_versions.c.version).label("version"))
            .group_by(t.rule_versions.c.code)
            .subquery()
        )
        query = select(t.rule_versions).join(
            newest,
            and_(
                t.rule_versions.c.code == newest.c.code,
                t.rule_versions.c.version == newest.c.version,
            ),
        )
        if market:
            query = query.where(t.rule_versions.c.market == market)
        if status:
            query = query.where(t.rule_versions.c.status == status)
        if text:
            like = f"%{text.lower()}%"
            query = query.where(func.lower(t.rule_versions.c.content).like(like))
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = (
                await session.execute(
                    query.order_by(t.rule_versions.c.code).limit(limit).offset(offset)
                )
            ).all()
        return [_version(r) for r in rows], int(total or 0)

    async def history(self, code: str) -> list[dict[str, Any]]:
        await self.versions(code)
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(t.rule_history)
                    .where(t.rule_history.c.code == code.upper())
                    .order_by(t.rule_history.c.id)
                )
            ).all()
        return [
            {
                "version": r.version,
                "action": r.action,
                "actor": r.actor,
                "at": r.at,
                "source": r.source,
                "changes": orjson.loads(r.changes),
            }
            for r in rows
        ]

    # --- writing ----------------------------------------------------------------------------

    def _content(self, raw: Mapping[str, Any]) -> RuleContent:
        content, errors = build_content(raw, self.catalogs)
        if content is None:
            raise Invalid(
                "invalid-rule",
                "; ".join(f"{e.field} {e.message}" for e in errors),
                errors=[{"field": e.field, "message": e.message} for e in errors],
            )
        return content

    async def create(self, actor: str, raw: Mapping[str, Any]) -> RuleVersion:
        content = self._content(raw)
        async with self.db.transaction() as session:
            if await _versions(session, content.code):
                raise Conflict("rule-exists", f"Rule {content.code} exists; change it instead.")
            return await self._write(session, actor, None, content, source=None)

    async def update(self, actor: str, code: str, changes: Mapping[str, Any]) -> RuleVersion:
        """Change a rule: edits its draft, or starts a new draft from the newest version."""
        async with self.db.transaction() as session:
            versions = await _versions(session, code.upper())
            if not versions:
                raise NotFound("no-such-rule", f"There is no rule {code[:64]!r}.")
            latest = versions[-1]
            if "code" in changes and str(changes["code"]).upper() != latest.code:
                raise Invalid("code-fixed", "A rule's code cannot change; create a new rule.")
            content = self._content({**latest.content.to_dict(), **changes})
            return await self._write(session, actor, latest, content, source=None)

    async def _write(
        self,
        session: AsyncSession,
        actor: str,
        latest: RuleVersion | None,
        content: RuleContent,
        *,
        source: str | None,
    ) -> RuleVersion:
        now = datetime.now(UTC)
        change = plan_change(latest, content)
        if change is Change.UNCHANGED:
            assert latest is not None
            return latest
        before = latest.content.to_dict() if latest else None
        if change is Change.EDIT_DRAFT:
            assert latest is not None
            await session.execute(
                update(t.rule_versions)
                .where(
                    t.rule_versions.c.code == latest.code,
                    t.rule_versions.c.version == latest.version,
                )
                .values(
                    content=orjson.dumps(content.to_dict()).decode(),
                    market=content.market,
                    updated_at=now,
                    updated_by=actor,
                )
            )
            version = replace(latest, content=content, updated_at=now, updated_by=actor)
        else:
            number = latest.version + 1 if latest else 1
            version = RuleVersion(content, number, Status.DRAFT, None, None, now, actor, now, actor)
            await session.execute(insert(t.rule_versions).values(**_row(version)))
        action = "create" if change is Change.CREATE else "update"
        await _record(session, version, action, actor, diff(before, content.to_dict()), source)
        return version

    async def publish(
        self,
        actor: str,
        code: str,
        effective_from: datetime | None,
        effective_to: datetime | None,
    ) -> RuleVersion:
        async with self.db.transaction() as session:
            versions = await _versions(session, code.upper())
            if not versions:
                raise NotFound("no-such-rule", f"There is no rule {code[:64]!r}.")
            published = await self._publish(
                session, actor, versions, effective_from, effective_to, source=None
            )
        await self.reload()
        return published

    async def _publish(
        self,
        session: AsyncSession,
        actor: str,
        versions: Sequence[RuleVersion],
        effective_from: datetime | None,
        effective_to: datetime | None,
        *,
        source: str | None,
    ) -> RuleVersion:
        latest = versions[-1]
        check_publishable(latest)
        now = datetime.now(UTC)
        starts = effective_from or now
        check_window(starts, effective_to)
        for ending in supersede(versions[:-1], starts):
            await self._end(session, actor, versions, ending, now, source, "superseded")
        await session.execute(
            update(t.rule_versions)
            .where(
                t.rule_versions.c.code == latest.code, t.rule_versions.c.version == latest.version
            )
            .values(
                status=Status.PUBLISHED,
                effective_from=starts,
                effective_to=effective_to,
                updated_at=now,
                updated_by=actor,
            )
        )
        published = replace(
            latest,
            status=Status.PUBLISHED,
            effective_from=starts,
            effective_to=effective_to,
            updated_at=now,
            updated_by=actor,
        )
        await _record(
            session,
            published,
            "publish",
            actor,
            diff(
                {"status": latest.status.value, "effective_from": None, "effective_to": None},
                {
                    "status": Status.PUBLISHED.value,
                    "effective_from": starts.isoformat(),
                    "effective_to": effective_to.isoformat() if effective_to else None,
                },
            ),
            source,
        )
        await _event(session, RulePublished, published)
        return published

    async def retire(self, actor: str, code: str, at: datetime | None) -> list[RuleVersion]:
        async with self.db.transaction() as session:
            versions = await _versions(session, code.upper())
            if not versions:
                raise NotFound("no-such-rule", f"There is no rule {code[:64]!r}.")
            await self._retire(session, actor, versions, at, source=None)
            result = await _versions(session, code.upper())
        await self.reload()
        return result

    async def _retire(
        self,
        session: AsyncSession,
        actor: str,
        versions: Sequence[RuleVersion],
        at: datetime | None,
        *,
        source: str | None,
    ) -> None:
        now = datetime.now(UTC)
        for ending in retirement(versions, at or now, now):
            await self._end(session, actor, versions, ending, now, source, "retire")
        await _event(session, RuleRetired, versions[-1], at=at or now)

    async def _end(
        self,
        session: AsyncSession,
        actor: str,
        versions: Sequence[RuleVersion],
        ending: Ending,
        now: datetime,
        source: str | None,
        action: str,
    ) -> None:
        version = next(v for v in versions if v.version == ending.version)
        await session.execute(
            update(t.rule_versions)
            .where(
                t.rule_versions.c.code == version.code, t.rule_versions.c.version == version.version
            )
            .values(
                status=ending.status,
                effective_to=ending.effective_to,
                updated_at=now,
                updated_by=actor,
            )
        )
        changes = diff(
            {
                "status": version.status.value,
                "effective_to": _iso(version.effective_to),
            },
            {"status": ending.status.value, "effective_to": _iso(ending.effective_to)},
        )
        await _record(session, version, action, actor, changes, source)

    async def put_question(self, actor: str, question_id: str, spec: Any) -> Question:
        """Create or change a question: its text, or `{text, kind, unit, min, max}`."""
        question = check_question(question_id, spec)
        async with self.db.transaction() as session:
            await self._put_question(session, actor, question, source=None)
        await self.reload()
        return question

    async def _put_question(
        self, session: AsyncSession, actor: str, question: Question, *, source: str | None
    ) -> bool:
        now = datetime.now(UTC)
        row = (
            await session.execute(select(t.questions).where(t.questions.c.id == question.id))
        ).first()
        current = _question(row) if row else None
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

    # --- rule files -------------------------------------------------------------------------

    async def import_files(
        self,
        actor: str,
        files: Sequence[RuleFile],
        *,
        dry_run: bool,
        progress: Callable[[Planned], None] | None = None,
    ) -> list[Planned]:
        """Apply rule files all or nothing. A dry run does the same work and rolls it back, so
        what it reports is exactly what the import would do."""
        codes: dict[str, FileRule] = {}
        errors = []
        for rule_file in files:
            for rule in rule_file.rules:
                other = codes.get(rule.content.code)
                if other is not None:
                    errors.append(
                        FileError(
                            rule.file,
                            rule.line,
                            f"rule {rule.content.code} is also in {other.file}, line {other.line}",
                        )
                    )
                codes[rule.content.code] = rule
        if errors:
            raise RuleFileInvalid(errors)
        plan: list[Planned] = []
        try:
            async with self.db.transaction() as session:
                for rule_file in files:
                    for question in rule_file.questions:
                        await self._put_question(
                            session,
                            actor,
                            question,
                            source=rule_file.rules[0].file if rule_file.rules else None,
                        )
                    for rule in rule_file.rules:
                        plan.append(await self._apply(session, actor, rule))
                        if progress is not None:
                            progress(plan[-1])
                if dry_run:
                    raise _DryRun
        except _DryRun:
            return plan
        if any(p.action != "unchanged" for p in plan) or any(f.questions for f in files):
            await self.reload()
        return plan

    async def _apply(self, session: AsyncSession, actor: str, rule: FileRule) -> Planned:
        source = f"{rule.file}:{rule.line}"
        versions = await _versions(session, rule.content.code)
        latest = versions[-1] if versions else None
        written = await self._write(session, actor, latest, rule.content, source=source)
        changed = written is not latest
        action = "unchanged" if not changed else ("create" if latest is None else "update")
        changes = diff(latest.content.to_dict() if latest else None, rule.content.to_dict())
        if changed:
            versions = await _versions(session, rule.content.code)
        current = versions[-1]

        def refuse(message: str) -> RuleFileInvalid:
            return RuleFileInvalid([FileError(rule.file, rule.line, message)])

        if rule.status is Status.DRAFT and current.status is not Status.DRAFT:
            raise refuse(
                f"rule {current.code} version {current.version} is {current.status}; a file"
                " cannot make it a draft again (change a field to start a new draft)"
            )
        if rule.status is Status.PUBLISHED:
            if current.status is Status.DRAFT:
                rule = with_defaults(rule, datetime.now(UTC))
                await self._publish(
                    session, actor, versions, rule.effective_from, rule.effective_to, source=source
                )
                action = "publish" if action == "unchanged" else action
            elif current.status is Status.RETIRED or not _same_window(current, rule):
                raise refuse(
                    f"rule {current.code} version {current.version} is {current.status} with"
                    " other dates; change a field to publish a new version, or retire it"
                )
        if rule.status is Status.RETIRED and current.status is not Status.RETIRED:
            await self._retire(session, actor, versions, rule.effective_to, source=source)
            action = "retire" if action == "unchanged" else action
        return Planned(rule.content.code, rule.file, rule.line, action, current.version, changes)

    async def export(self, market: str | None = None) -> list[FileRule]:
        """The newest version of every rule, as a rule file holds it."""
        found, _ = await self.newest(
            market=market, status=None, text=None, limit=1_000_000, offset=0
        )
        return [
            FileRule("export", 0, v.content, v.status, v.effective_from, v.effective_to)
            for v in found
        ]

    async def is_empty(self) -> bool:
        async with self.db.read() as session:
            return not await session.scalar(select(func.count()).select_from(t.rule_versions))


# --- rows ---------------------------------------------------------------------------------


async def _versions(session: AsyncSession, code: str) -> list[RuleVersion]:
    rows = (
        await session.execute(
            select(t.rule_versions)
            .where(t.rule_versions.c.code == code)
            .order_by(t.rule_versions.c.version)
        )
    ).all()
    return [_version(r) for r in rows]


def _version(row: Row[Any]) -> RuleVersion:
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


def _question(row: Row[Any]) -> Question:
    spec = orjson.loads(row.spec) if row.spec else {}
    return Question(
        row.id,
        row.text,
        spec.get("kind", "yes_no"),
        spec.get("unit"),
        spec.get("min"),
        spec.get("max"),
    )


def _row(version: RuleVersion) -> dict[str, Any]:
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


def _same_window(version: RuleVersion, rule: FileRule) -> bool:
    """A file that names no effective date keeps the one the version has."""
    starts = rule.effective_from or version.effective_from
    return (starts, rule.effective_to) == (version.effective_from, version.effective_to)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def _record(
    session: AsyncSession,
    version: RuleVersion,
    action: str,
    actor: str,
    changes: dict[str, Any],
    source: str | None,
) -> None:
    await session.execute(
        insert(t.rule_history).values(
            code=version.code,
            version=version.version,
            action=action,
            actor=actor,
            at=datetime.now(UTC),
            changes=orjson.dumps(changes).decode(),
            source=source,
        )
    )


async def _event(
    session: AsyncSession, kind: type[RuleVersionEvent], version: RuleVersion, **extra: Any
) -> None:
    await publish(
        session,
        kind(
            code=version.code,
            version=version.version,
            market=version.content.market,
            effective_from=version.effective_from,
            effective_to=version.effective_to,
            **extra,
        ),
    )


def rule_files(directory: Path) -> Iterable[Path]:
    return sorted(directory.glob("*.yaml"))
