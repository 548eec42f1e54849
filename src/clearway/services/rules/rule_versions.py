"""Rules and their versions: creating, changing, publishing and retiring them, each change in
one transaction with its history and its events; and what administrators read of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.rules import RulePublished, RuleRetired, RuleVersionEvent
from clearway.kit.bus import publish
from clearway.kit.db import Database
from clearway.services.rules import tables as t
from clearway.services.rules.domain import Conflict, Invalid, NotFound
from clearway.services.rules.domain.checking import build_content
from clearway.services.rules.domain.content import RuleContent
from clearway.services.rules.domain.versions import (
    Change,
    Ending,
    RuleVersion,
    Status,
    check_publishable,
    check_window,
    diff,
    plan_change,
    retirement,
    supersede,
)
from clearway.services.rules.rows import read_versions, version_of, version_row
from clearway.services.rules.snapshot import RuleSnapshot


class RuleVersions:
    def __init__(self, db: Database, snapshot: RuleSnapshot) -> None:
        self.db = db
        self.snapshot = snapshot

    # --- reading for administrators -----------------------------------------------------

    async def versions(self, code: str) -> list[RuleVersion]:
        async with self.db.read() as session:
            found = await read_versions(session, code.upper())
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
        return [version_of(r) for r in rows], int(total or 0)

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
        content, errors = build_content(raw, self.snapshot.catalogs)
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
            if await read_versions(session, content.code):
                raise Conflict("rule-exists", f"Rule {content.code} exists; change it instead.")
            return await self.write(session, actor, None, content, source=None)

    async def update(self, actor: str, code: str, changes: Mapping[str, Any]) -> RuleVersion:
        """Change a rule: edits its draft, or starts a new draft from the newest version."""
        async with self.db.transaction() as session:
            versions = await read_versions(session, code.upper())
            if not versions:
                raise NotFound("no-such-rule", f"There is no rule {code[:64]!r}.")
            latest = versions[-1]
            if "code" in changes and str(changes["code"]).upper() != latest.code:
                raise Invalid("code-fixed", "A rule's code cannot change; create a new rule.")
            content = self._content({**latest.content.to_dict(), **changes})
            return await self.write(session, actor, latest, content, source=None)

    async def write(
        self,
        session: AsyncSession,
        actor: str,
        latest: RuleVersion | None,
        content: RuleContent,
        *,
        source: str | None,
    ) -> RuleVersion:
        """Make or edit the draft that `content` asks for, in the caller's transaction (an
        import applies many in one); `latest` itself when nothing changes."""
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
            await session.execute(insert(t.rule_versions).values(**version_row(version)))
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
            versions = await read_versions(session, code.upper())
            if not versions:
                raise NotFound("no-such-rule", f"There is no rule {code[:64]!r}.")
            published = await self.publish_in(
                session, actor, versions, effective_from, effective_to, source=None
            )
        await self.snapshot.reload()
        return published

    async def publish_in(
        self,
        session: AsyncSession,
        actor: str,
        versions: Sequence[RuleVersion],
        effective_from: datetime | None,
        effective_to: datetime | None,
        *,
        source: str | None,
    ) -> RuleVersion:
        """Publish the newest of `versions` in the caller's transaction."""
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
            versions = await read_versions(session, code.upper())
            if not versions:
                raise NotFound("no-such-rule", f"There is no rule {code[:64]!r}.")
            await self.retire_in(session, actor, versions, at, source=None)
            result = await read_versions(session, code.upper())
        await self.snapshot.reload()
        return result

    async def retire_in(
        self,
        session: AsyncSession,
        actor: str,
        versions: Sequence[RuleVersion],
        at: datetime | None,
        *,
        source: str | None,
    ) -> None:
        """Retire the rule of `versions` in the caller's transaction."""
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
