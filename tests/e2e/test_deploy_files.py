"""deploy/: the compose file and image line up with `clearway serve` and the settings.

Docker does not run on the development machines, so the files are checked for structure here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import yaml  # type: ignore[import-untyped]

from clearway.cli.hosting import serve
from clearway.settings import SERVICES, Settings

DEPLOY = Path(__file__).parents[2] / "deploy"


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def parts() -> dict[str, dict[str, Any]]:
    """The compose services that run `clearway serve PART`, by part."""
    found = {}
    for name, service in compose()["services"].items():
        command = service.get("command", [])
        if command[:1] == ["serve"]:
            assert name == command[1], f"{name} runs {command}"
            found[command[1]] = service
    return found


def test_every_serve_choice_runs_once() -> None:
    argument = next(p for p in serve.params if p.name == "part")
    assert isinstance(argument.type, click.Choice)
    assert sorted(parts()) == sorted(argument.type.choices) == sorted(("gateway", *SERVICES))


def test_environment_names_real_settings_and_wires_every_service() -> None:
    fields = set(Settings.model_fields)
    for part, service in parts().items():
        env = service["environment"]
        for key in env:
            assert key.startswith("CLEARWAY_"), key
            assert key.removeprefix("CLEARWAY_").lower() in fields, f"{part}: {key}"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            service_urls=yaml.safe_load(env["CLEARWAY_SERVICE_URLS"]),
            data_dir=Path("/nonexistent"),
        )
        for name in SERVICES:
            url = urlsplit(settings.service_url(name))
            assert url.hostname in compose()["services"], f"{name} points at {url.hostname}"
            assert url.port == 8000
        assert env["CLEARWAY_BUS_URL"].startswith("nats://")
        assert env["CLEARWAY_RATELIMIT_BACKEND"].startswith("redis://")
        assert env["CLEARWAY_CACHE_BACKEND"].startswith("redis://")
        assert "{service}" in env["CLEARWAY_DATABASE_URL"]
        assert "init" in service["depends_on"]


def test_engines_and_the_public_port() -> None:
    services = compose()["services"]
    assert {"postgres", "nats", "redis"} <= set(services)
    assert "--jetstream" in services["nats"]["command"]
    assert "--store_dir" in services["nats"]["command"]
    assert services["gateway"]["ports"] == ["8000:8000"]
    assert [p for p, s in parts().items() if s.get("ports")] == ["gateway"]  # only it is public
    init = (DEPLOY / "postgres-init.sql").read_text()
    for name in SERVICES:
        assert f"CREATE DATABASE {name};" in init


def test_the_image_runs_clearway_as_a_non_root_user() -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    assert "FROM python:3.11-slim" in lines
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["clearway"]' in lines
