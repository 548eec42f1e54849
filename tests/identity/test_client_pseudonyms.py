"""Failed sign-ins name the client by a keyed pseudonym, never by its address: the security
events, and the audit trail that keeps them, can follow an attack without storing who made it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from clearway.contracts import identity
from clearway.contracts.identity import Lockout, LoginFailed
from tests.conftest import Api, bearer
from tests.support import capture_published, client_at, eventually

LOGIN = "/api/identity/login"
ATTACKER, ELSEWHERE = "198.51.100.71", "198.51.100.72"
REFERENCE = re.compile(r"^[0-9a-f]{16}$")


async def _fail(api: Api, email: str) -> None:
    response = await api.client.post(LOGIN, json={"email": email, "password": "wrong-password-1"})
    assert response.status_code == 401, response.text


async def _audited(api: Api, action: str, count: int) -> list[dict[str, Any]]:
    admin = await api.admin_token()
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        nonlocal found
        response = await api.client.get(
            "/api/monitor/audit", params={"limit": "1000"}, headers=bearer(admin)
        )
        assert response.status_code == 200, response.text
        assert ATTACKER not in response.text and ELSEWHERE not in response.text
        found = [item for item in response.json()["items"] if item["action"] == action]
        return len(found) >= count

    await eventually(arrived)
    return found


@pytest.mark.asyncio
async def test_failed_sign_ins_carry_a_pseudonym_of_the_client_never_its_address(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = "pseudonymous@example.com"
    await api.register(email)
    user_id = await api.user_id(email)
    published = capture_published(api.platform, monkeypatch)
    free = api.platform.settings.login_free_failures
    async with client_at(api, ATTACKER) as attacker:
        for _ in range(free):  # the last one starts the back-off: a lockout is reported
            await _fail(attacker, email)
    async with client_at(api, ELSEWHERE) as elsewhere:
        await _fail(elsewhere, "nobody-pseudonymous@example.com")

    def of(kind: type[LoginFailed | Lockout]) -> list[dict[str, Any]]:
        return [e.data for e in published if e.type == kind.TYPE]

    async def all_published() -> bool:
        return len(of(LoginFailed)) == free + 1 and len(of(Lockout)) == 1

    await eventually(all_published)
    # (The gateway's request records carry the address: the monitor stores a pseudonym of it.)
    said = str([e.data for e in published if e.source == identity.SOURCE])
    assert ATTACKER not in said and ELSEWHERE not in said
    failed, [lockout] = of(LoginFailed), of(Lockout)
    # Version 1 consumers still find the field they expect, empty.
    assert all(data["client"] is None for data in [*failed, lockout])
    attacks = {data["client_ref"] for data in failed if data["user_id"] == user_id}
    [stranger] = [data["client_ref"] for data in failed if data["user_id"] is None]
    # One address, one reference: the attack can be followed, and told from another client.
    assert len(attacks) == 1 and attacks != {stranger}
    [reference] = attacks
    assert REFERENCE.match(reference) and REFERENCE.match(stranger)
    assert lockout == {
        "user_id": user_id,
        "client": None,
        "client_ref": reference,
        "scope": "account-address",
    }

    # The audit trail keeps the reference, and no address anywhere.
    audited = await _audited(api, LoginFailed.TYPE, free + 1)
    refs = [entry["details"]["client_ref"] for entry in audited]
    assert refs.count(reference) == free and refs.count(stranger) == 1
    [locked] = await _audited(api, Lockout.TYPE, 1)
    assert locked["details"]["client_ref"] == reference
