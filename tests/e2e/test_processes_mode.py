"""`clearway up --processes`: the gateway and five services in their own processes, over HTTP.

One real supervisor per module on free ports and a fresh data directory (so the first start,
done once by the parent, is tested too); every flow goes through the gateway over a socket.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from clearway.settings import SERVICES
from tests.conftest import Api, bearer
from tests.e2e.support import COMMAND, clearway_env, free_ports, wait_until_ready
from tests.orders import rules_fixture
from tests.orders.conftest import User, list_provider
from tests.support import assert_problem, mails

pytestmark = pytest.mark.slow

START_SECONDS = 90.0
STOP_SECONDS = 45.0


@dataclass
class Running:
    base: str
    service_urls: dict[str, str]
    process: subprocess.Popen[bytes]


def processes_env(data_dir: Path, port: int, service_urls: dict[str, str]) -> dict[str, str]:
    return {**clearway_env(data_dir, port), "CLEARWAY_SERVICE_URLS": json.dumps(service_urls)}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    port, *ports = free_ports(1 + len(SERVICES))
    urls = {name: f"http://127.0.0.1:{p}" for name, p in zip(SERVICES, ports, strict=True)}
    data_dir = tmp_path_factory.mktemp("processes") / "data"
    process = subprocess.Popen(
        [*COMMAND, "up", "--processes"], env=processes_env(data_dir, port, urls)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/readyz", process, START_SECONDS)
        yield Running(base, urls, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("clearway up --processes did not stop on SIGTERM") from None
    assert code == 0, f"exit code {code}"
    # Every child is gone: nothing listens on the services' ports any more.
    for url in urls.values():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=2)


@pytest.fixture
async def api(running: Running) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=running.base, timeout=30) as client:
        yield Api(client, None)  # type: ignore[arg-type]  # no platform object: another process


async def test_ready_with_every_service_and_docs(api: Api) -> None:
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    assert sorted(ready.json()["databases"]) == sorted(SERVICES)
    document = (await api.client.get("/api/openapi.json")).json()
    assert "/api/identity/login" in document["paths"]
    assert "/api/rules/search" in document["paths"]


def test_a_service_reached_directly_refuses(running: Running) -> None:
    for name, url in running.service_urls.items():
        response = httpx.get(f"{url}/internal/{name}/anything", timeout=30)
        assert_problem(response, 401)


async def test_accounts_profile_and_mail(api: Api) -> None:
    token = await api.customer("carla@example.com")
    me = await api.client.get("/api/identity/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["email"] == "carla@example.com"
    assert me.headers["x-request-id"]
    changed = await api.client.patch(
        "/api/identity/me", json={"name": "Carla Changed"}, headers=bearer(token)
    )
    assert changed.status_code == 200, changed.text
    again = await api.client.get("/api/identity/me", headers=bearer(token))
    assert again.json()["name"] == "Carla Changed"
    welcome = await mails(api, "carla@example.com", "welcome")
    assert welcome


async def test_admin_verifies_a_provider(api: Api) -> None:
    token = await api.provider("verified-lab@example.com")
    me = await api.client.get("/api/identity/me", headers=bearer(token))
    assert me.json()["status"] == "active"  # verified by the administrator


async def test_rules_search(api: Api) -> None:
    token = await api.customer("searcher@example.com")
    response = await api.client.get(
        "/api/rules/search",
        params={"market": "EU", "hs_code": "8518.22"},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    assert response.json()["market"]["code"] == "EU"


async def test_an_order_reaches_its_provider(api: Api) -> None:
    customer = await api.customer("orderer@example.com")
    lab = await api.provider("order-lab@example.com")
    covers = await rules_fixture.applicable(
        api, lab, await rules_fixture.save_checklist(api, lab, radio=False)
    )
    lab_me = (await api.client.get("/api/identity/me", headers=bearer(lab))).json()
    profile = {
        "display_name": "Processes Lab",
        "requirement_codes": covers,
        "markets": ["EU"],
        "turnaround_days": 10,
    }
    await list_provider(
        api, User("order-lab@example.com", lab, lab_me["id"]), profile
    )  # waits for user.verified to reach orders
    checklist = await rules_fixture.save_checklist(api, customer, radio=False)
    created = await api.client.post(
        "/api/orders/orders",
        json={"provider_id": lab_me["id"], "checklist_id": checklist},
        headers={**bearer(customer), "idempotency-key": rules_fixture.new_key()},
    )
    assert created.status_code == 201, created.text
    seen = await api.client.get("/api/orders/orders", headers=bearer(lab))
    assert created.json()["id"] in {o["id"] for o in seen.json()}


async def test_bodies_stream_through_and_limits_hold(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        body = json.dumps(
            {
                "email": "chunked@example.com",
                "password": "a-long-enough-passphrase",
                "role": "customer",
                "name": "Chunked",
            }
        ).encode()
        for i in range(0, len(body), 7):
            yield body[i : i + 7]

    registered = await api.client.post(
        "/api/identity/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert registered.status_code == 201, registered.text
    too_large = await api.client.post("/api/identity/register", content=b"x" * (1_048_576 + 1))
    assert_problem(too_large, 413)
    unknown = await api.client.get("/api/nowhere")
    assert_problem(unknown, 404)
