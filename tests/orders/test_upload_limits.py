"""The gateway's body limit goes by route class: upload routes take a real lab report (25 MiB
by default), every other route keeps the small limit."""

from __future__ import annotations

import base64

from tests.orders.conftest import World, assert_problem


async def test_upload_routes_take_larger_bodies_than_the_rest(world: World) -> None:
    settings = world.api.platform.settings
    assert settings.orders_attachment_max_bytes == 25 * 1_048_576
    order = await world.order()
    path = f"/api/orders/orders/{order['id']}"
    content = b"measurement, value\n" * (2 * 1_048_576 // 19)  # a 2 MiB CSV
    assert len(content) > settings.body_limit_bytes
    uploaded = await world.client.post(
        f"{path}/attachments",
        json={
            "filename": "results.csv",
            "content_type": "text/csv",
            "content_base64": base64.b64encode(content).decode(),
        },
        headers=world.alice.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["size"] == len(content)
    fetched = await world.client.get(
        f"{path}/attachments/{uploaded.json()['id']}", headers=world.lab.headers
    )
    assert fetched.content == content
    # The same size of body anywhere else is refused at the gateway, with the figure.
    message = await world.client.post(
        f"{path}/messages", json={"body": "x" * len(content)}, headers=world.alice.headers
    )
    refused = assert_problem(message, 413)
    assert refused["max_bytes"] == settings.body_limit_bytes
    assert str(settings.body_limit_bytes) in refused["detail"]
