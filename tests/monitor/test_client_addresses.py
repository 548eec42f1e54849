"""Request records keep no client address: a keyed pseudonym, the same one the audit uses."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.conftest import Api
from tests.monitor.conftest import ingested, publish, query, request

ROUTE = "/api/test/addresses"


async def test_request_records_store_a_pseudonym_never_the_address(api: Api) -> None:
    platform = api.platform
    now = datetime.now(UTC)
    await publish(
        platform,
        [
            request(now, ROUTE, client="203.0.113.9"),
            request(now, ROUTE, client="203.0.113.9"),
            request(now, ROUTE, client="198.51.100.7"),
            # a denial is audited: its reference must match the request record's
            request(now, ROUTE, status=403, client="203.0.113.9", user_id="u-denied"),
        ],
    )
    await ingested(platform, "requests", 4, f"route = '{ROUTE}'")
    await ingested(platform, "audit_log", 1, "action = 'access.denied'")

    stored = [
        row[0] for row in query(platform, f"SELECT client FROM requests WHERE route = '{ROUTE}'")
    ]
    assert not [c for c in stored if "203.0.113" in c or "198.51.100" in c]
    assert len(set(stored)) == 2  # one address, one reference: an attack can still be followed
    dump = str(query(platform, "SELECT * FROM requests")) + str(
        query(platform, "SELECT details FROM audit_log")
    )
    assert "203.0.113.9" not in dump and "198.51.100.7" not in dump
    (details,) = query(platform, "SELECT details FROM audit_log WHERE action = 'access.denied'")[0]
    assert stored.count(str(json.loads(details)["client_ref"])) == 3
