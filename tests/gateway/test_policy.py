"""The gateway's verdict for every route in the table and every role, generated from the table.

A route added to `ROUTES` is covered here without a line of test: anonymous callers get 401 on
protected routes, signed-in callers outside the policy get 403, allowed callers get past the
gateway (whatever the service then answers about the dummy ids and empty bodies).
"""

from __future__ import annotations

import re

from clearway.gateway.routes import ROUTES, Route
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, Api, bearer
from tests.support import assert_problem

ROLES = ("anonymous", "customer", "provider", "admin")
DUMMY_ID = "0123456789abcdef0123456789abcdef"
GATEWAY_403 = "Your role may not use this route."


def concrete(route: Route) -> str:
    return re.sub(r"\{[^}]+\}", DUMMY_ID, route.path)


CREDENTIALS = {
    "customer": ("policy-customer@example.com", PASSWORD),
    "provider": ("policy-provider@example.com", PASSWORD),
    "admin": (ADMIN_EMAIL, ADMIN_PASSWORD),
}


async def test_every_route_for_every_role(api: Api) -> None:
    await api.customer("policy-customer@example.com")
    await api.provider("policy-provider@example.com")
    # Routes with side effects on the platform itself (key rotation) go last.
    ordered = sorted(ROUTES, key=lambda r: r.path == "/api/common/keys/rotate")
    tokens: dict[str, str] = {}
    verdicts: list[str] = []
    for route in ordered:
        path = concrete(route)
        for role in ROLES:
            headers = {}
            if role != "anonymous":
                if role not in tokens:
                    tokens[role] = await api.token(*CREDENTIALS[role])
                headers = bearer(tokens[role])
            response = await api.client.request(route.method, path, headers=headers)
            if route.limit == "auth":
                tokens.pop(role, None)  # credential routes (logout) may have ended the session
            what = f"{route.method} {route.path} as {role}: {response.status_code}"
            if role in route.allow:
                # Past the gateway, refresh without a token (body or cookie) is identity's 401.
                no_token = "/invalid-refresh-token" in response.text
                if response.status_code in (401, 403) and not no_token:
                    verdicts.append(f"{what}, expected to pass the gateway ({response.text})")
            elif role == "anonymous":
                if response.status_code != 401:
                    verdicts.append(f"{what}, expected 401")
                else:
                    assert_problem(response, 401)
                    assert response.headers["www-authenticate"].startswith("Bearer")
            elif response.status_code != 403 or response.json().get("detail") != GATEWAY_403:
                verdicts.append(f"{what}, expected the gateway's 403")
            else:
                assert_problem(response, 403)
    assert not verdicts, "\n".join(verdicts)


def test_the_table_is_sound() -> None:
    seen: set[tuple[str, str]] = set()
    for route in ROUTES:
        key = (route.method, route.path)
        assert key not in seen, f"{key} is listed twice"
        seen.add(key)
        assert route.method in {"GET", "POST", "PUT", "PATCH", "DELETE"}, key
        assert "/internal/" not in route.path, key
        assert route.allow, key
        assert route.allow <= set(ROLES), f"{key}: 'service' or unknown roles are not for outsiders"
