"""Fixtures for the orders suites: a customer, another customer, a listed provider, checklists."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Api, bearer
from tests.orders import rules_fixture
from tests.support import PATIENCE


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = PATIENCE, interval: float = 0.05
) -> None:
    """Poll until `check` holds (events are delivered asynchronously)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(interval)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@dataclass
class User:
    email: str
    token: str
    id: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class World:
    api: Api
    alice: User  # a customer
    bob: User  # another customer
    lab: User  # a verified, listed provider covering EU safety and EMC
    other_lab: User  # another listed provider
    admin: User

    @property
    def client(self) -> httpx.AsyncClient:
        return self.api.client

    async def checklist(self, owner: User, *, radio: bool = False) -> str:
        """A saved self-check for a loudspeaker (HS 851822) going to the EU."""
        return await rules_fixture.save_checklist(self.api, owner.token, radio=radio)

    async def applicable(self, owner: User, checklist_id: str) -> list[str]:
        return await rules_fixture.applicable(self.api, owner.token, checklist_id)

    async def order(self, customer: User | None = None, **body: Any) -> dict[str, Any]:
        customer = customer or self.alice
        body.setdefault("provider_id", self.lab.id)
        if "checklist_id" not in body:
            body["checklist_id"] = await self.checklist(customer)
        response = await self.client.post(
            "/api/orders/orders",
            json=body,
            headers={**customer.headers, "idempotency-key": rules_fixture.new_key()},
        )
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order

    async def move(self, who: User, order_id: str, action: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/orders/orders/{order_id}/transitions",
            json={"action": action, **body},
            headers=who.headers,
        )

    async def in_progress(self, customer: User | None = None, **body: Any) -> dict[str, Any]:
        order = await self.order(customer, **body)
        customer = customer or self.alice
        quote = {"amount": 120000, "currency": "EUR", "turnaround_days": 10}
        steps = (
            (self.lab, "quote", {"quote": quote}),
            (customer, "accept", {}),
            (self.lab, "start", {}),
        )
        for who, action, extra in steps:
            response = await self.move(who, order["id"], action, **extra)
            assert response.status_code == 200, response.text
        return order

    async def deliver(self, order_id: str) -> None:
        """The provider delivers the order (every requirement has a report by now)."""
        response = await self.move(self.lab, order_id, "deliver")
        assert response.status_code == 200, response.text

    async def report(
        self, order_id: str, codes: list[str], expires_on: str = "2099-12-31", **extra: Any
    ) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/orders/orders/{order_id}/reports",
            json={
                "requirement_codes": codes,
                "title": "Test report",
                "issued_on": "2025-01-15",
                "expires_on": expires_on,
                **extra,
            },
            headers=self.lab.headers,
        )
        assert response.status_code == 201, response.text
        report: dict[str, Any] = response.json()
        return report


async def _user(api: Api, email: str, role: str) -> User:
    token = await (api.customer(email) if role == "customer" else api.provider(email))
    me = await api.client.get("/api/identity/me", headers=bearer(token))
    return User(email, token, me.json()["id"])


async def list_provider(api: Api, user: User, profile: dict[str, Any]) -> None:
    async def listed() -> bool:
        response = await api.client.get("/api/orders/providers/me", headers=user.headers)
        return response.status_code == 200 and response.json()["status"] == "listed"

    await eventually(listed)
    response = await api.client.put("/api/orders/providers/me", json=profile, headers=user.headers)
    assert response.status_code == 200, response.text


@pytest.fixture
async def world(api: Api) -> World:
    alice = await _user(api, "alice@example.com", "customer")
    bob = await _user(api, "bob@example.com", "customer")
    lab = await _user(api, "lab@example.com", "provider")
    other = await _user(api, "other-lab@example.com", "provider")
    admin_token = await api.admin_token()
    me = await api.client.get("/api/identity/me", headers=bearer(admin_token))
    admin = User("admin", admin_token, me.json()["id"])
    # The lab covers everything a loudspeaker, with a radio or without, needs in the EU.
    applicable = {
        radio: await rules_fixture.applicable(
            api, lab.token, await rules_fixture.save_checklist(api, lab.token, radio=radio)
        )
        for radio in (True, False)
    }
    covers = list(dict.fromkeys(applicable[True] + applicable[False]))
    # The other lab covers one requirement that applies only with a radio (EU-RED).
    radio_only = [code for code in applicable[True] if code not in applicable[False]]
    await list_provider(
        api,
        lab,
        {
            "display_name": "Acme Test Lab",
            "requirement_codes": covers,
            "markets": ["EU"],
            "accreditations": [{"kind": "notified-body", "identifier": "0123"}],
            "turnaround_days": 10,
            "price_min": 50000,
            "price_max": 300000,
            "currency": "EUR",
            "contact_email": "desk@acme-lab.example",
        },
    )
    await list_provider(
        api,
        other,
        {
            "display_name": "Other Lab",
            "requirement_codes": radio_only[:1],
            "markets": ["US"],
            "turnaround_days": 5,
        },
    )
    return World(api, alice, bob, lab, other, admin)
