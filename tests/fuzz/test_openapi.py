"""The OpenAPI tells the truth: schemathesis against a real `clearway up`, as every role.

Every operation of `/api/openapi.json`, with data that fits the schema and data that does
not, as anonymous, customer, provider and administrator; every answer must be no server
error, a documented status, a documented content type, and a body of the documented shape.
Bounded and reproducible: a fixed number of examples per operation, derandomized (the same
examples on every run), no shrinking.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clearway.gateway.routes import ROUTES
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD
from tests.e2e.support import COMMAND, clearway_env, free_ports, wait_until_ready

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 6  # per generation mode
ROLES = ("anonymous", "customer", "provider", "admin")


@dataclass
class Live:
    base: str
    # Per role, sessions signed in before the fuzzing: its random sign-ins count as failures
    # from this address and soon throttle it, so no role signs in again during the run.
    sessions: dict[str, list[str]]
    schema: schemathesis.BaseSchema

    def sign_in(self, role: str) -> dict[str, str]:
        """Headers for `role`: its session, or a spare when the fuzzer signed it out."""
        spare = self.sessions.get(role)
        while spare:
            headers = {"authorization": f"Bearer {spare[0]}"}
            with httpx.Client(base_url=self.base, timeout=60) as client:
                if client.get("/api/identity/me", headers=headers).status_code == 200:
                    return headers
            spare.pop(0)
        assert role not in self.sessions, f"no session of {role} is left"
        return {}


@dataclass
class Figures:
    operations: int = 0
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


SPARE_SESSIONS = 8


def _sign_up(client: httpx.Client) -> dict[str, list[str]]:
    """A customer, a verified provider and the administrator, each signed in a few times."""
    customer, lab = "fuzz-customer@example.com", "fuzz-lab@example.com"
    for email, role in ((customer, "customer"), (lab, "provider")):
        body = {"email": email, "password": PASSWORD, "role": role, "name": f"Fuzz {role}"}
        assert client.post("/api/identity/register", json=body).status_code == 201

    def sessions(email: str, password: str = PASSWORD) -> list[str]:
        tokens = []
        for _ in range(SPARE_SESSIONS):
            response = client.post(
                "/api/identity/login", json={"email": email, "password": password}
            )
            assert response.status_code == 200, response.text
            tokens.append(str(response.json()["access_token"]))
        return tokens

    admin = sessions(ADMIN_EMAIL, ADMIN_PASSWORD)
    headers = {"authorization": f"Bearer {admin[0]}"}
    users = client.get("/api/identity/users", params={"email": lab}, headers=headers)
    lab_id = users.json()["items"][0]["id"]
    verified = client.post(f"/api/identity/users/{lab_id}/verify", headers=headers)
    assert verified.status_code == 200, verified.text
    return {"customer": sessions(customer), "provider": sessions(lab), "admin": admin}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    (port,) = free_ports(1)
    env = {
        **clearway_env(tmp_path_factory.mktemp("fuzz") / "data", port),
        # The fuzzer is one client sending thousands of requests: not what limits are for.
        "CLEARWAY_RATELIMIT_USER_PER_SECOND": "100000",
        "CLEARWAY_RATELIMIT_USER_BURST": "100000",
        "CLEARWAY_RATELIMIT_ADDRESS_PER_SECOND": "100000",
        "CLEARWAY_RATELIMIT_ADDRESS_BURST": "100000",
        "CLEARWAY_RATELIMIT_AUTH_PER_SECOND": "100000",
        "CLEARWAY_RATELIMIT_AUTH_BURST": "100000",
    }
    process = subprocess.Popen([*COMMAND, "up"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/readyz", process, 90.0)
        with httpx.Client(base_url=base, timeout=60) as client:
            sessions = _sign_up(client)
        schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
        yield Live(base, sessions, schema)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _describe(error: BaseException) -> list[str]:
    if isinstance(error, FailureGroup):
        return [line for failure in error.exceptions for line in _describe(failure)]
    if isinstance(error, Failure):
        return [f"{type(error).__name__}: {error.title}"]
    return [f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"]


def fuzz_operation(
    live: Live,
    operation: schemathesis.APIOperation,
    mode: schemathesis.GenerationMode,
    headers: dict[str, str],
    figures: Figures,
) -> None:
    where = f"{operation.method.upper()} {operation.path} [{mode.value}]"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=live.base, headers=headers, timeout=60)
        figures.cases += 1
        figures.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as error:
            for line in _describe(error):
                failure = f"{where} -> {response.status_code}: {line}"
                if failure not in figures.failures:
                    figures.failures.append(failure)

    try:
        run()
    except Unsatisfiable:
        assert mode is schemathesis.GenerationMode.NEGATIVE  # nothing to get wrong


def _cases() -> list[object]:
    return [
        pytest.param(role, route.method, route.path, id=f"{role}-{route.method}-{route.path}")
        for role in ROLES
        for route in ROUTES
    ]


@pytest.fixture(scope="module")
def tally() -> Iterator[dict[str, Figures]]:
    """Per role, over the whole module: printed at the end (`pytest -s` shows it)."""
    figures = {role: Figures() for role in ROLES}
    yield figures
    for role, f in figures.items():
        print(
            f"\nschemathesis as {role}: {f.operations} operations, {f.cases} cases, "
            f"{len(f.failures)} failures; statuses {dict(sorted(f.statuses.items()))}"
        )


def test_the_document_has_every_route(live: Live) -> None:
    operations = {(op.ok().method.upper(), op.ok().path) for op in live.schema.get_all_operations()}
    assert operations == {(route.method, route.path) for route in ROUTES}


@pytest.mark.parametrize(("role", "method", "path"), _cases())
def test_the_operation_answers_as_documented(
    live: Live, tally: dict[str, Figures], role: str, method: str, path: str
) -> None:
    figures = tally[role]
    before = len(figures.failures)
    operation = live.schema[path][method]
    figures.operations += 1
    headers = live.sign_in(role)
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
        fuzz_operation(live, operation, mode, headers, figures)
    assert figures.failures[before:] == []
