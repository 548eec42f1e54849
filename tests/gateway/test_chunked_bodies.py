"""A body without a declared length (chunked) goes on to the service as it arrives, and is
refused with 413 the moment it crosses the route's limit, with nothing of it kept."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from clearway.settings import Settings
from tests.conftest import Api, test_settings
from tests.orders.conftest import World
from tests.support import assert_problem

UPLOAD_LIMIT = 256 * 1024
CHUNK = 16 * 1024
ROW = b"measurement, value\n"


@pytest.fixture
def settings(tmp_path: Path, seeded_data_dir: Path) -> Settings:
    """A small body limit for upload routes; the service's own per-file limit stays larger,
    so what refuses a large upload here is the gateway."""
    shutil.copytree(seeded_data_dir, tmp_path / "data")
    return test_settings(tmp_path / "data", body_limit_upload_bytes=UPLOAD_LIMIT)


def multipart(content: bytes) -> tuple[bytes, str]:
    """A form with `content` as its `file`, encoded as httpx encodes one, and its media type."""
    form = httpx.Request(
        "POST", "http://form", files={"file": ("results.csv", content, "text/csv")}
    )
    return form.read(), form.headers["content-type"]


class Chunks:
    """A request body sent in parts, with no length declared; counts the parts taken."""

    def __init__(self, body: bytes, size: int = CHUNK) -> None:
        self.parts = [body[i : i + size] for i in range(0, len(body), size)]
        self.taken = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            self.taken += 1
            yield part


def stored_files(api: Api) -> list[Path]:
    root = api.platform.settings.resolved_data_dir / "files" / "orders"
    return [path for path in root.rglob("*") if path.is_file()]


async def upload_chunked(
    world: World, order_id: str, body: Chunks, media_type: str
) -> httpx.Response:
    return await world.client.post(
        f"/api/orders/orders/{order_id}/attachments",
        content=body,
        headers={**world.alice.headers, "content-type": media_type},
    )


async def test_a_chunked_upload_within_the_limit_arrives_whole(world: World) -> None:
    order = await world.order()
    content = ROW * (200 * 1024 // len(ROW))
    form, media_type = multipart(content)
    assert len(form) < UPLOAD_LIMIT
    body = Chunks(form)
    uploaded = await upload_chunked(world, order["id"], body, media_type)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in uploaded.request.headers
    assert body.taken == len(body.parts) > 1
    fetched = await world.client.get(
        f"/api/orders/orders/{order['id']}/attachments/{uploaded.json()['id']}",
        headers=world.lab.headers,
    )
    assert fetched.status_code == 200
    assert fetched.content == content


async def test_a_chunked_upload_over_the_limit_is_refused_as_it_crosses_and_nothing_is_kept(
    world: World,
) -> None:
    order = await world.order()
    before = stored_files(world.api)
    form, media_type = multipart(ROW * (2 * UPLOAD_LIMIT // len(ROW)))
    body = Chunks(form)
    refused = await upload_chunked(world, order["id"], body, media_type)
    problem = assert_problem(refused, 413)
    assert problem["max_bytes"] == UPLOAD_LIMIT
    assert str(UPLOAD_LIMIT) in problem["detail"]
    # Read up to the part that crossed the limit, and not one part further.
    assert body.taken == UPLOAD_LIMIT // CHUNK + 1 < len(body.parts)
    listed = await world.client.get(
        f"/api/orders/orders/{order['id']}/attachments", headers=world.alice.headers
    )
    assert listed.status_code == 200, listed.text
    assert listed.json() == []
    assert stored_files(world.api) == before
    # The same order still takes a file: nothing half-done stands in the way.
    small, media_type = multipart(ROW * 10)
    again = await upload_chunked(world, order["id"], Chunks(small), media_type)
    assert again.status_code == 201, again.text


# Through the gateway to a stand-in service (an ASGI app), on the package's shared platform.


@pytest.mark.asyncio(loop_scope="package")
async def test_the_service_reads_the_first_part_before_the_client_sends_the_last(
    shared_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []  # who touched which part, in order
    received = bytearray()

    class Logged(Chunks):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for n, part in enumerate(self.parts):
                seen.append(f"client sends {n}")
                yield part

    async def service(name: str, scope: Scope, receive: Receive, send: Send) -> None:
        n = 0
        while True:
            message = await receive()
            seen.append(f"service reads {n}")
            received.extend(message.get("body", b""))
            n += 1
            if not message.get("more_body", False):
                break
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": str(len(received)).encode()})

    monkeypatch.setattr(shared_api.platform.upstreams, "forward", service)
    body = bytes(range(256)) * 64
    sent = Logged(body, size=4096)
    response = await shared_api.client.post("/api/identity/login", content=sent)
    assert response.status_code == 200, response.text
    assert bytes(received) == body
    last = len(sent.parts) - 1
    assert seen.index("service reads 0") < seen.index(f"client sends {last}"), seen


@pytest.mark.asyncio(loop_scope="package")
async def test_a_service_cut_off_at_the_limit_gets_no_say_in_the_answer(
    shared_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = shared_api.platform.gateway
    limit = 10_000
    monkeypatch.setattr(gateway, "body_limit", limit)
    got = bytearray()
    failures: list[BaseException] = []

    async def service(name: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while True:
                message: Message = await receive()
                got.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            status = 200
        except Exception as exc:  # as a web framework does: its own 400 for a broken body
            failures.append(exc)
            status = 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"the service's own answer"})

    monkeypatch.setattr(shared_api.platform.upstreams, "forward", service)
    sent = Chunks(b"x" * 3 * limit, size=1000)
    response = await shared_api.client.post("/api/identity/login", content=sent)
    problem = assert_problem(response, 413)
    assert problem["max_bytes"] == limit
    assert len(failures) == 1  # the service's read of the body broke off
    assert len(got) == limit  # every byte up to the limit, none past it
    assert sent.taken == limit // 1000 + 1
