"""Mail cannot be turned into phishing or a flood: no control characters in names, and one
"someone registered with your address" mail an hour at most."""

from __future__ import annotations

import pytest

from tests.conftest import Api, bearer
from tests.support import assert_problem, capture_published, eventually, mails

pytestmark = pytest.mark.asyncio(loop_scope="package")

CONTROLS = [
    "Eve\nBcc: victim@example.com",
    "Eve\r",
    "Eve\x00",
    "Eve\x1b[31m",
    "Eve\u202egnp.exe",
    "A\u2028B",
    "Eve\tTab",
]


@pytest.fixture
def api(shared_api: Api) -> Api:
    return shared_api


async def test_control_characters_are_refused_in_every_name_like_field(api: Api) -> None:
    for i, text in enumerate(CONTROLS):
        for field in ("name", "company"):
            response = await api.register(f"ctl{i}-{field}@example.com", **{field: text})
            problem = assert_problem(response, 422)
            assert field in str(problem), problem
    token = await api.customer("ctl-me@example.com")
    for text in CONTROLS:
        for field in ("name", "company"):
            response = await api.client.patch(
                "/api/identity/me", json={field: text}, headers=bearer(token)
            )
            assert_problem(response, 422)
    # Letters of every script, and joiners inside words, stay welcome.
    fine = await api.client.patch(
        "/api/identity/me",
        json={"name": "Zoë Ñandú 王小明 क्‍ष", "company": "Ørsted & Söhne"},
        headers=bearer(token),
    )
    assert fine.status_code == 200, fine.text


async def test_repeated_registrations_mail_the_owner_once_an_hour(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await api.register("often@example.com")
    published = capture_published(api.platform, monkeypatch)
    for _ in range(4):
        assert (await api.register("often@example.com")).status_code == 201

    async def relayed() -> bool:
        return any(e.type == "user.registration_repeated" for e in published)

    await eventually(relayed)
    # Every registration is answered alike, but the owner is told once.
    repeated = [e for e in published if e.type == "user.registration_repeated"]
    assert len(repeated) == 1
    assert len(await mails(api, "often@example.com", "registration_repeated")) == 1
