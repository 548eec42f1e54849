"""The runtime's tests that use the `database` fixture run on both engines, as the service
suites do; `fresh_settings` is an empty data directory on the engine under test."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearway.settings import Settings
from tests.conftest import ENGINES, postgres, test_settings


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", ENGINES, indirect=True, scope="session")


@pytest.fixture
def fresh_settings(database: str, tmp_path: Path) -> Settings:
    if database == "postgresql":
        return test_settings(tmp_path, database_url=postgres.app_url(postgres.create()))
    return test_settings(tmp_path)
