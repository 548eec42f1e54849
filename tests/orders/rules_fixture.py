"""Checklists for the orders suites, saved through the rules service.

Until the rules service is hosted by the platform, a stand-in that honours the same internal
contract (`GET /internal/rules/checklists/{id}`) takes its place.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from clearway.kit.problems import Problem
from clearway.kit.service import Service, ServiceContext, service_api
from clearway.runtime import platform
from tests.conftest import Api, bearer

MARKET = "EU"
HS_CODE = "851822"
MANDATORY = ["EU-LVD", "EU-EMC", "EU-ROHS"]
CONDITIONAL = "EU-RED"  # applies when the product has a radio
LAB_COVERS = [*MANDATORY, CONDITIONAL]
OTHER_COVERS = ["EU-EMC"]

_checklists: dict[str, dict[str, Any]] = {}


def new_key() -> str:
    return uuid.uuid4().hex


def _fake_rules(context: ServiceContext) -> Service:
    api: FastAPI = service_api("rules", "stand-in rules", "")

    @api.get("/internal/rules/checklists/{checklist_id}")
    async def checklist(checklist_id: str) -> dict[str, Any]:
        if checklist_id not in _checklists:
            raise Problem(404, detail="No such checklist.")
        return _checklists[checklist_id]

    migrations = Path(tempfile.mkdtemp(prefix="rules-stand-in-"))
    (migrations / "0001_kit.py").write_text(_KIT_MIGRATION)
    return Service(name="rules", api=api, migrations=migrations)


_KIT_MIGRATION = """
from alembic import op

from clearway.kit.tables import create_kit_tables

revision = "rules_standin_0001"
down_revision = None


def upgrade() -> None:
    create_kit_tables(op.get_bind())
"""


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    if "rules" not in platform.SERVICE_FACTORIES:
        monkeypatch.setitem(platform.SERVICE_FACTORIES, "rules", _fake_rules)


async def save_checklist(api: Api, token: str, *, radio: bool) -> str:
    me = await api.client.get("/api/identity/me", headers=bearer(token))
    checklist_id = uuid.uuid4().hex
    requirements = [
        {"code": c, "title": c, "evidence_type": "test_report", "mandatory": True,
         "applies": True, "reason": "mandatory"}
        for c in MANDATORY
    ] + [
        {"code": CONDITIONAL, "title": "Radio equipment", "evidence_type": "test_report",
         "mandatory": False, "applies": radio, "reason": "has a radio" if radio else None}
    ]  # fmt: skip
    _checklists[checklist_id] = {
        "id": checklist_id,
        "owner_id": me.json()["id"],
        "market": MARKET,
        "hs_code": HS_CODE,
        "category": "loudspeakers",
        "created_at": datetime.now(UTC).isoformat(),
        "requirements": requirements,
    }
    return checklist_id
