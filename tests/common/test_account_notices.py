"""An account's owner is told when an administrator verifies, suspends or reinstates it:
a mail and an in-app notification."""

from __future__ import annotations

import pytest

from tests.conftest import Api, bearer
from tests.support import eventually, mails


@pytest.mark.asyncio
async def test_a_provider_hears_of_verification_suspension_and_reinstatement(api: Api) -> None:
    email = "lab-notices@example.com"
    assert (await api.register(email, role="provider")).status_code == 201
    user_id = await api.user_id(email)
    admin = await api.admin_token()

    verified = await api.client.post(f"/api/identity/users/{user_id}/verify", headers=bearer(admin))
    assert verified.status_code == 200
    [mail] = await mails(api, email, "account_update")
    assert mail["subject"] == "Your Clearway account is verified"
    assert "sign in" in mail["text"]
    token = await api.token(email)

    async def notified(count: int) -> bool:
        response = await api.client.get("/api/common/notifications", headers=bearer(token))
        assert response.status_code == 200, response.text
        return response.json()["total"] >= count

    await eventually(lambda: notified(1))
    listed = await api.client.get("/api/common/notifications", headers=bearer(token))
    [note] = listed.json()["items"]
    assert (note["type"], note["title"]) == ("user.verified", "Your Clearway account is verified")

    for sent, (action, subject) in enumerate(
        (
            ("suspend", "Your Clearway account is suspended"),
            ("reinstate", "Your Clearway account is active again"),
        ),
        start=2,
    ):
        changed = await api.client.post(
            f"/api/identity/users/{user_id}/{action}", headers=bearer(admin)
        )
        assert changed.status_code == 200, changed.text
        found = await mails(api, email, "account_update", at_least=sent)
        assert found[0]["subject"] == subject  # newest first
    token = await api.token(email)
    await eventually(lambda: notified(3))
