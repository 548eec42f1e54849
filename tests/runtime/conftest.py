"""The runtime's tests that use the `database` fixture run on both engines, as the service
suites do; `fresh_settings` is an empty data directory on the engine under test, and `hosted`
points the `clearway` command at it and records the services it builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearway.runtime.foundation import Foundation
from clearway.runtime.service_host import ServiceHost
from clearway.settings import Settings
from tests.conftest import test_settings
from tests.databases import ENGINES, postgres


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", ENGINES, indirect=True, scope="session")


@pytest.fixture
def fresh_settings(database: str, tmp_path: Path) -> Settings:
    if database == "postgresql":
        return test_settings(tmp_path, database_url=postgres.app_url(postgres.create()))
    return test_settings(tmp_path)


@pytest.fixture
def hosted(fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The services the command builds, in order; its settings come from the environment."""
    monkeypatch.setenv("CLEARWAY_DATA_DIR", str(fresh_settings.data_dir))
    monkeypatch.setenv("CLEARWAY_DATABASE_URL", fresh_settings.database_url)
    assert fresh_settings.root_secret is not None
    monkeypatch.setenv("CLEARWAY_ROOT_SECRET", fresh_settings.root_secret.get_secret_value())
    names: list[str] = []
    build = ServiceHost.__init__

    def recording(self: ServiceHost, name: str, base: Foundation, calls: object) -> None:
        names.append(name)
        build(self, name, base, calls)  # type: ignore[arg-type]

    monkeypatch.setattr(ServiceHost, "__init__", recording)
    return names
