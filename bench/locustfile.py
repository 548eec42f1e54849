"""The load test's virtual user: what a Clearway user does, in the proportions it does it.

Taurus runs this file with its Locust executor (`make loadtest`); Locust can run it alone too:
`locust -f bench/locustfile.py --host http://127.0.0.1:8000` with `LOADTEST_SEED` naming the
JSON file `bench.loadtest` writes (signed-in customers, a provider, a checklist).

Closed loop, no think time: each user sends its next request as soon as the last one answered,
as the published test's threads did. The mix (weights out of 100) and why:

| weight | request | why |
|---|---|---|
| 30 | search by HS code, across markets | the question Clearway exists to answer |
| 15 | search by free text | sellers who do not know their HS code describe the product instead |
| 10 | self-check questions | the step after a search that found conditional requirements |
| 15 | `/me` | every page of the web app reads the signed-in user first |
|  8 | my orders | customers and providers come back to follow their orders |
|  8 | provider directory | choosing who assesses the product |
|  5 | my checklists | reopening saved answers |
|  5 | write: save a checklist | the most common write: a self-check turned into a checklist |
|  4 | write: place an order | rarer than reads, but it touches orders, rules and events |

Reads are 91 % of the mix: a compliance portal is looked at far more than it is changed.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any

from locust import task
from locust.contrib.fasthttp import FastHttpUser

SEED: dict[str, Any] = json.loads(open(os.environ["LOADTEST_SEED"]).read())  # noqa: SIM115

MARKETS = ("EU", "US", "GB", "CN", "JP", "KR", "CA", "AU", "IN", "BR")
HS_CODES = ("8518.22", "8517.13", "8471.30", "9503.00", "8516.71", "8507.60", "8509.40", "6403")
PHRASES = (
    "bluetooth speaker",
    "smartphone",
    "laptop",
    "wooden toy",
    "coffee machine",
    "power bank",
    "led lamp",
    "hair dryer",
)


class Seller(FastHttpUser):
    """A signed-in customer of the seeded pool; Taurus sets how many run at once."""

    # Each user keeps one connection, like a browser tab or one published load thread.
    concurrency = 1
    # As long as `bench.loadtest` lets a request queue in the server (its PATIENCE_SECONDS).
    connection_timeout = network_timeout = float(os.environ.get("LOADTEST_TIMEOUT", "120"))

    def on_start(self) -> None:
        customer = random.choice(SEED["customers"])
        self.auth = {"authorization": f"Bearer {customer['token']}"}

    def get(self, path: str, name: str) -> None:
        self.client.get(path, headers=self.auth, name=name)

    @task(30)
    def search_hs_code(self) -> None:
        market, code = random.choice(MARKETS), random.choice(HS_CODES)
        self.get(f"/api/rules/search?market={market}&hs_code={code}", "search by HS code")

    @task(15)
    def search_text(self) -> None:
        market, phrase = random.choice(MARKETS), random.choice(PHRASES)
        self.get(f"/api/rules/search?market={market}&q={phrase}", "search by text")

    @task(10)
    def self_check(self) -> None:
        market, code = random.choice(MARKETS), random.choice(HS_CODES)
        self.get(f"/api/rules/self-check?market={market}&hs_code={code}", "self-check")

    @task(15)
    def me(self) -> None:
        self.get("/api/identity/me", "/me")

    @task(8)
    def orders(self) -> None:
        self.get("/api/orders/orders?limit=20", "my orders")

    @task(8)
    def providers(self) -> None:
        self.get("/api/orders/providers?market=EU", "provider directory")

    @task(5)
    def checklists(self) -> None:
        self.get("/api/rules/checklists?limit=20", "my checklists")

    @task(5)
    def save_checklist(self) -> None:
        body = {"market": "EU", "hs_code": "8518.22", "answers": {"radio": True}}
        self.client.post(
            "/api/rules/checklists", json=body, headers=self.auth, name="save checklist"
        )

    @task(4)
    def place_order(self) -> None:
        body = {
            "provider_id": SEED["provider_id"],
            "checklist_id": SEED["checklist_id"],
            "requirement_codes": SEED["requirement_codes"],
        }
        headers = {**SEED["order_customer_auth"], "idempotency-key": str(uuid.uuid4())}
        self.client.post("/api/orders/orders", json=body, headers=headers, name="place order")
