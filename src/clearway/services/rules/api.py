"""The rules service's HTTP API: the routers of each resource, in the order they are served
and documented."""

from __future__ import annotations

from fastapi import APIRouter

from clearway.kit.bus.telemetry import Telemetry
from clearway.services.rules.checklists import Checklists
from clearway.services.rules.questions import Questions
from clearway.services.rules.routes import admin, checklists, coverage, internal, reference, search
from clearway.services.rules.rule_files import RuleFiles
from clearway.services.rules.rule_versions import RuleVersions
from clearway.services.rules.snapshot import RuleSnapshot


def routers(
    snapshot: RuleSnapshot,
    versions: RuleVersions,
    questions: Questions,
    files: RuleFiles,
    saved: Checklists,
    telemetry: Telemetry,
) -> list[APIRouter]:
    return [
        search.router(snapshot, telemetry),
        coverage.router(snapshot),
        reference.router(snapshot),
        checklists.router(snapshot, saved),
        admin.router(snapshot, versions, questions, files),
        internal.router(snapshot, saved),
    ]
