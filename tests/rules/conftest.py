"""Fixtures for the rules suites: the parts a platform's rules service was built from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

import clearway.services.rules as rules_service
from clearway.kit.db import Database
from clearway.services.rules.parts import Parts
from tests.conftest import Api


@dataclass
class Served:
    """A platform behind `api`, and the parts its rules service serves from (the snapshot, and
    the clock its kept answers go by)."""

    api: Api
    rules: Parts


@pytest.fixture
def assembled(monkeypatch: pytest.MonkeyPatch) -> list[Parts]:
    """Every rules service built from here on, as the service's own wiring builds it."""
    built: list[Parts] = []
    assemble: Callable[[Database], Parts] = rules_service.assemble

    def keep(db: Database) -> Parts:
        built.append(assemble(db))
        return built[-1]

    monkeypatch.setattr(rules_service, "assemble", keep)
    return built


@pytest.fixture
def served(assembled: list[Parts], api: Api) -> Served:
    """`api`, with the rules service it reaches (`assembled` runs first: it is named first)."""
    db = api.platform.hosted["rules"].context.db
    [parts] = [p for p in assembled if p.db is db]
    return Served(api, parts)
