"""The rules service's pieces on one database, built once per process by the service and
once per run by an operator command."""

from __future__ import annotations

from dataclasses import dataclass

from clearway.kit.db import Database
from clearway.services.rules.checklists import Checklists
from clearway.services.rules.questions import Questions
from clearway.services.rules.rule_files import RuleFiles
from clearway.services.rules.rule_versions import RuleVersions
from clearway.services.rules.snapshot import RuleSnapshot


@dataclass(frozen=True)
class Parts:
    """The service's pieces on one database: the snapshot searches read, and the use cases
    that write (the service builds them once per process, a CLI command once per run)."""

    db: Database
    snapshot: RuleSnapshot
    versions: RuleVersions
    questions: Questions
    files: RuleFiles
    checklists: Checklists

    async def start(self) -> None:
        """Read the rule base; a new installation's is the shipped one."""
        await self.snapshot.reload()
        if await self.snapshot.is_empty():
            await self.files.load_shipped()


def assemble(db: Database) -> Parts:
    snapshot = RuleSnapshot(db)
    versions = RuleVersions(db, snapshot)
    questions = Questions(db, snapshot)
    files = RuleFiles(db, snapshot, versions, questions)
    return Parts(db, snapshot, versions, questions, files, Checklists(db, snapshot))
