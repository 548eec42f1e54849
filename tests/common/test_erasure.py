"""Erasure reaches common: after a user is deleted, the admin mailbox shows nothing of their
mails but that they were sent ("erased"), and their in-app notifications are gone."""

from __future__ import annotations

import pytest

from clearway.contracts.orders import OrderCancelled
from tests.conftest import Api, bearer, query_sql
from tests.support import eventually, mails

NAME = "Grace Erasable"


@pytest.mark.asyncio
async def test_deleting_a_user_erases_their_mail_and_notifications(api: Api) -> None:
    email = "erase-me@example.com"
    assert (await api.register(email, role="provider", name=NAME)).status_code == 201
    user_id = await api.user_id(email)
    admin = await api.admin_token()
    assert (
        await api.client.post(f"/api/identity/users/{user_id}/verify", headers=bearer(admin))
    ).status_code == 200
    await mails(api, email, at_least=2)  # the welcome and the verification
    assert (await api.register("keep-me@example.com", name="Kept Person")).status_code == 201
    await mails(api, "keep-me@example.com", "welcome")

    def notifications() -> int:
        sql = "SELECT count(*) FROM notifications WHERE user_id = ?"
        return int(query_sql(api.platform.settings, "common", sql, user_id)[0][0])

    async def notified() -> bool:
        return notifications() == 1

    await eventually(notified)

    deleted = await api.client.delete(f"/api/identity/users/{user_id}", headers=bearer(admin))
    assert deleted.status_code == 204

    async def erased() -> bool:
        found = await api.client.get(
            "/api/common/mailbox", params={"recipient": email}, headers=bearer(admin)
        )
        return found.json()["total"] == 0

    await eventually(erased)
    everything = await api.client.get(
        "/api/common/mailbox", params={"limit": "100"}, headers=bearer(admin)
    )
    assert everything.status_code == 200
    text = everything.text
    assert email not in text and NAME not in text, [
        m for m in everything.json()["items"] if email in str(m) or NAME in str(m)
    ]
    gone = [m for m in everything.json()["items"] if m["recipient"] == "erased"]
    assert len(gone) == 2
    assert all(m["subject"] == m["text"] == "erased" and m["html"] is None for m in gone)
    assert {m["template"] for m in gone} == {"welcome", "account_update"}
    one = await api.client.get(f"/api/common/mailbox/{gone[0]['id']}", headers=bearer(admin))
    assert one.json()["recipient"] == "erased"
    # Others' mail is untouched; the user's notifications are gone.
    assert "Kept Person" in text
    assert notifications() == 0


@pytest.mark.asyncio
async def test_mail_that_arrives_after_the_erasure_is_not_kept(api: Api) -> None:
    email = "late@example.com"
    assert (await api.register(email)).status_code == 201
    user_id = await api.user_id(email)
    await mails(api, email, "welcome")
    admin = await api.admin_token()
    assert (
        await api.client.delete(f"/api/identity/users/{user_id}", headers=bearer(admin))
    ).status_code == 204

    async def erased() -> bool:
        found = await api.client.get(
            "/api/common/mailbox", params={"template": "welcome"}, headers=bearer(admin)
        )
        return any(m["recipient"] == "erased" for m in found.json()["items"])

    await eventually(erased)
    # An order event naming the user, handled only now: no notification, no mail for them.
    late = OrderCancelled(
        order_id="0" * 32,
        customer_id=user_id,
        provider_id="1" * 32,
        from_state="submitted",
        state="cancelled",
        party="customer",
        version=2,
        notify=[user_id],
    ).to_cloudevent()
    await api.platform.bus.publish_many([late])

    async def handled() -> bool:
        sql = "SELECT count(*) FROM inbox WHERE event_id = ?"
        return int(query_sql(api.platform.settings, "common", sql, late.id)[0][0]) >= 1

    await eventually(handled)
    sql = "SELECT count(*) FROM notifications WHERE user_id = ?"
    assert query_sql(api.platform.settings, "common", sql, user_id)[0][0] == 0
