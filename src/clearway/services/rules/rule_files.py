"""Rule files as a whole: importing them all or nothing (the shipped rule base on first start,
an administrator's upload, the CLI), and exporting the rule base as a file that imports back
unchanged."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.db import Database
from clearway.services.rules.domain.csv_files import dump_csv
from clearway.services.rules.domain.file_model import (
    FileError,
    FileRule,
    RuleFile,
    RuleFileInvalid,
    with_defaults,
)
from clearway.services.rules.domain.files import Format, read_rule_files
from clearway.services.rules.domain.versions import SYSTEM, RuleVersion, Status, diff
from clearway.services.rules.domain.yaml_files import dump_yaml
from clearway.services.rules.questions import Questions
from clearway.services.rules.rows import read_versions
from clearway.services.rules.rule_versions import RuleVersions
from clearway.services.rules.snapshot import RuleSnapshot

log = logging.getLogger("clearway.rules")


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


def report(filename: str, dry_run: bool, plan: Sequence[Planned]) -> dict[str, Any]:
    """An import's report: how many rules each action touched, and each rule's line."""
    counts: dict[str, int] = {}
    for item in plan:
        counts[item.action] = counts.get(item.action, 0) + 1
    return {
        "dry_run": dry_run,
        "file": filename,
        "counts": counts,
        "items": [item.__dict__ for item in plan],
    }


class RuleFiles:
    def __init__(
        self, db: Database, snapshot: RuleSnapshot, versions: RuleVersions, questions: Questions
    ) -> None:
        self.db = db
        self.snapshot = snapshot
        self.versions = versions
        self.questions = questions

    async def load_shipped(self) -> int:
        """The rule base shipped with the project, imported on first start."""
        sources = [(p.name, p.read_bytes(), "yaml") for p in rule_files(self.snapshot.shipped)]
        files = read_rule_files(sources, self.snapshot.catalogs)  # type: ignore[arg-type]
        plan = await self.import_files(SYSTEM, files, dry_run=False)
        log.info("loaded the shipped rule base: %d rules", len(plan))
        return len(plan)

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
                        await self.questions.put_in(
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
            await self.snapshot.reload()
        return plan

    async def _apply(self, session: AsyncSession, actor: str, rule: FileRule) -> Planned:
        source = f"{rule.file}:{rule.line}"
        versions = await read_versions(session, rule.content.code)
        latest = versions[-1] if versions else None
        written = await self.versions.write(session, actor, latest, rule.content, source=source)
        changed = written is not latest
        action = "unchanged" if not changed else ("create" if latest is None else "update")
        changes = diff(latest.content.to_dict() if latest else None, rule.content.to_dict())
        if changed:
            versions = await read_versions(session, rule.content.code)
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
                await self.versions.publish_in(
                    session, actor, versions, rule.effective_from, rule.effective_to, source=source
                )
                action = "publish" if action == "unchanged" else action
            elif current.status is Status.RETIRED or not _same_window(current, rule):
                raise refuse(
                    f"rule {current.code} version {current.version} is {current.status} with"
                    " other dates; change a field to publish a new version, or retire it"
                )
        if rule.status is Status.RETIRED and current.status is not Status.RETIRED:
            await self.versions.retire_in(
                session, actor, versions, rule.effective_to, source=source
            )
            action = "retire" if action == "unchanged" else action
        return Planned(rule.content.code, rule.file, rule.line, action, current.version, changes)

    async def export(self, market: str | None = None) -> list[FileRule]:
        """The newest version of every rule (of `market`), as a rule file holds it."""
        found, _ = await self.versions.newest(
            market=market, status=None, text=None, limit=1_000_000, offset=0
        )
        return [
            FileRule("export", 0, v.content, v.status, v.effective_from, v.effective_to)
            for v in found
        ]

    def dump(self, fmt: Format, rules: Sequence[FileRule]) -> str:
        """Exported rules as a file, with the questions they ask."""
        return dump_yaml(rules, self.snapshot.questions) if fmt == "yaml" else dump_csv(rules)


def _same_window(version: RuleVersion, rule: FileRule) -> bool:
    """A file that names no effective date keeps the one the version has."""
    starts = rule.effective_from or version.effective_from
    return (starts, rule.effective_to) == (version.effective_from, version.effective_to)


def rule_files(directory: Path) -> Iterable[Path]:
    return sorted(directory.glob("*.yaml"))
