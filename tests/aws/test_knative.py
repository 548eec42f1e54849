"""deploy/knative/: a Knative Service per part, lined up with `clearway serve` and the settings.

There is no cluster on the development machines, so the manifests are checked for structure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import httpx
import orjson
import pytest
import yaml

from clearway.cli.hosting import serve
from clearway.runtime.processes import ServiceProcess
from clearway.settings import SERVICES, Settings
from tests.conftest import test_settings

KNATIVE = Path(__file__).parents[2] / "deploy" / "knative"


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((KNATIVE / name).read_text()) if d]


def knative_services() -> dict[str, dict[str, Any]]:
    found = {}
    for document in documents("services.yaml"):
        assert document["apiVersion"] == "serving.knative.dev/v1"
        assert document["kind"] == "Service"
        found[document["metadata"]["name"]] = document
    return found


def test_one_knative_service_per_part_running_clearway_serve() -> None:
    argument = next(p for p in serve.params if p.name == "part")
    assert isinstance(argument.type, click.Choice)
    services = knative_services()
    assert sorted(services) == sorted(argument.type.choices) == sorted(("gateway", *SERVICES))
    for name, service in services.items():
        [container] = service["spec"]["template"]["spec"]["containers"]
        port = container["ports"][0]["containerPort"]
        assert container["args"] == ["serve", name, "--port", str(port)]


def test_services_scale_to_zero_and_the_gateway_keeps_one() -> None:
    for name, service in knative_services().items():
        template = service["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        minimum = annotations["autoscaling.knative.dev/min-scale"]
        assert minimum == ("1" if name == "gateway" else "0")
        target = int(annotations["autoscaling.knative.dev/target"])
        assert annotations["autoscaling.knative.dev/metric"] == "concurrency"
        assert 0 < target <= template["spec"]["containerConcurrency"]
        labels = service["metadata"]["labels"]
        # Only the gateway is reachable from outside the cluster.
        assert (labels.get("networking.knative.dev/visibility") == "cluster-local") == (
            name != "gateway"
        )


def test_readiness_and_liveness_probes() -> None:
    for name, service in knative_services().items():
        [container] = service["spec"]["template"]["spec"]["containers"]
        # The gateway's /readyz asks every service, which would keep them all awake.
        wanted = "/healthz" if name == "gateway" else "/readyz"
        assert container["readinessProbe"]["httpGet"]["path"] == wanted
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_settings_come_from_the_config_map_and_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = {d["kind"]: d for d in documents("config.yaml")}
    names = {config["ConfigMap"]["metadata"]["name"], config["Secret"]["metadata"]["name"]}
    variables = {**config["ConfigMap"]["data"], **config["Secret"]["stringData"]}
    known = {f"CLEARWAY_{field.upper()}" for field in Settings.model_fields}
    assert set(variables) <= known, set(variables) - known
    # The settings parse, and every service URL is one Knative serves inside the cluster.
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    services = knative_services()
    for service in SERVICES:
        url = httpx.URL(settings.service_url(service))
        assert url.host == f"{service}.clearway.svc.cluster.local"
        assert services[service]["metadata"]["namespace"] == "clearway"
    for service in services.values():
        [container] = service["spec"]["template"]["spec"]["containers"]
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == names
    assert orjson.loads(config["ConfigMap"]["data"]["CLEARWAY_SERVICE_URLS"])


async def test_a_service_answers_readyz_without_the_internal_credential(tmp_path: Path) -> None:
    """What the readiness probe asks: 503 until started, then 200, and nothing else told."""
    process = ServiceProcess(test_settings(tmp_path), "rules")
    transport = httpx.ASGITransport(app=process)
    async with httpx.AsyncClient(transport=transport, base_url="http://rules") as client:
        before = await client.get("/readyz")
        await process.host.start()
        try:
            after = await client.get("/readyz")
            internal = await client.get("/_clearway/ready")
        finally:
            await process.host.stop()
    assert (before.status_code, before.json()) == (503, {"ready": False})
    assert (after.status_code, after.json()) == (200, {"ready": True})
    assert internal.status_code == 401
