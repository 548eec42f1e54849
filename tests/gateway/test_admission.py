"""Admission: a few requests in the services at once, the rest queued in arrival order; a
request takes its turn once its body is in, and gives it back when its response starts; one
whose client leaves while it waits is never served."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from clearway.gateway.admission import Admission
from clearway.kit.problems import Problem
from clearway.runtime.platform import Platform
from clearway.runtime.server import server_config
from tests.conftest import Api, bearer
from tests.support import (
    HeldForward,
    assert_problem,
    capture_published,
    eventually,
    hold_forward,
    platform_api,
    serving,
)


async def _until(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition()` holds (no clock: it is a state, not a time)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


async def test_turns_are_given_in_arrival_order() -> None:
    admission = Admission(limit=1, queue_timeout=60)
    served: list[int] = []
    first = admission.turn()
    await first.take()

    async def request(n: int) -> None:
        turn = admission.turn()
        await turn.take()
        served.append(n)
        turn.end()

    waiting = [asyncio.create_task(request(n)) for n in range(5)]
    await _until(lambda: admission.waiting == 5)
    assert served == []
    first.end()
    await asyncio.gather(*waiting)
    assert served == [0, 1, 2, 3, 4]
    assert admission.waiting == 0
    assert not admission.full


async def test_a_turn_is_given_back_once() -> None:
    admission = Admission(limit=2, queue_timeout=60)
    turn = admission.turn()
    await turn.take()
    turn.end()
    turn.end()  # the response started, then the request ended: one turn given back, not two
    await turn.take()  # an ended turn is not taken again
    others = [admission.turn(), admission.turn()]
    for other in others:
        await other.take()
    assert admission.full
    third = asyncio.create_task(admission.turn().take())
    await _until(lambda: admission.waiting == 1)
    third.cancel()


async def test_a_turn_ended_while_it_waited_is_given_back() -> None:
    admission = Admission(limit=1, queue_timeout=60)
    holder = admission.turn()
    await holder.take()
    answered = admission.turn()
    waiting = asyncio.create_task(answered.take())
    await _until(lambda: admission.waiting == 1)
    answered.end()  # the request was answered (refused) before its turn came
    holder.end()
    await waiting
    assert not admission.full


async def test_waiting_past_the_queue_timeout_is_a_503() -> None:
    admission = Admission(limit=1, queue_timeout=0.05)
    await admission.turn().take()
    with pytest.raises(Problem) as refused:
        await admission.turn().take()
    assert refused.value.status == 503
    assert refused.value.headers["retry-after"] == "1"
    assert admission.waiting == 0


async def test_a_client_gone_leaves_the_queue_and_a_turn_granted_as_it_leaves_moves_on() -> None:
    admission = Admission(limit=1, queue_timeout=60)
    holder = admission.turn()
    await holder.take()
    leaving, left = admission.turn(), asyncio.Event()
    waiting = asyncio.create_task(leaving.take(left.wait))
    await _until(lambda: admission.waiting == 1)
    left.set()  # the client disconnects
    with pytest.raises(Problem) as gone:
        await waiting
    assert gone.value.status == 499
    assert admission.waiting == 0
    # The turn comes in the same turn of the loop as the client leaves: it goes to the next.
    racing, next_one = admission.turn(), admission.turn()
    both_left = asyncio.Event()
    racing_task = asyncio.create_task(racing.take(both_left.wait))
    next_task = asyncio.create_task(next_one.take())
    await _until(lambda: admission.waiting == 2)
    holder.end()
    both_left.set()
    with pytest.raises(Problem):
        await racing_task
    await next_task  # served
    next_one.end()
    assert not admission.full


async def test_a_watched_wait_past_the_queue_timeout_is_a_503() -> None:
    admission = Admission(limit=1, queue_timeout=0.05)
    await admission.turn().take()
    with pytest.raises(Problem) as refused:
        await admission.turn().take(asyncio.Event().wait)  # a client that stays
    assert refused.value.status == 503
    assert admission.waiting == 0


@dataclass(frozen=True)
class OneTurnHeld:
    """The gateway's one turn, taken by `first` (the customer's `/me`), stuck in its service
    until `held` is released."""

    api: Api
    token: str  # the customer's
    admission: Admission
    held: HeldForward
    first: asyncio.Task[httpx.Response]


@asynccontextmanager
async def one_turn_held(
    tmp_path: Path,
    seeded_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    email: str,
    **settings: object,
) -> AsyncIterator[OneTurnHeld]:
    """A platform whose gateway has one turn, taken by `email`'s `/me`, whose service is stuck
    until the held forward is released: every other request queues."""
    async with platform_api(
        tmp_path / "data", seed=seeded_data_dir, gateway_max_in_flight=1, **settings
    ) as api:
        token = await api.customer(email)
        admission = api.platform.gateway.admission
        held = hold_forward(api.platform, monkeypatch, "/api/identity/me")
        first = asyncio.create_task(api.client.get("/api/identity/me", headers=bearer(token)))
        await _until(lambda: admission.full)
        yield OneTurnHeld(api, token, admission, held, first)


async def test_the_gateway_queues_requests_once_their_body_is_in(
    tmp_path: Path, seeded_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with one_turn_held(tmp_path, seeded_data_dir, monkeypatch, "queued@example.com") as turn:
        api, token, admission = turn.api, turn.token, turn.admission
        assert admission.limit == 1
        second = asyncio.create_task(
            api.client.get("/api/rules/search?market=EU&hs_code=8518.22", headers=bearer(token))
        )
        await _until(lambda: admission.waiting == 1)
        assert not second.done()
        # A request whose body is still arriving holds no turn and waits for none...
        part_sent = asyncio.Event()
        rest = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            yield b'{"market": "EU", "hs_code": '
            part_sent.set()
            await rest.wait()
            yield b'"8518.22", "answers": {}}'

        headers = {**bearer(token), "content-type": "application/json"}
        saving = asyncio.create_task(
            api.client.post("/api/rules/checklists", content=slow_body(), headers=headers)
        )
        await part_sent.wait()
        await _until(lambda: "/api/rules/checklists" in turn.held.forwarded)
        assert admission.waiting == 1
        # ...until the whole body is in: then it queues behind the search, in arrival order.
        rest.set()
        await _until(lambda: admission.waiting == 2)
        assert not saving.done()
        turn.held.release.set()
        assert (await turn.first).status_code == 200
        assert (await second).status_code == 200
        saved = await saving
        assert saved.status_code == 201, saved.text
        assert admission.waiting == 0
        assert not admission.full


async def test_the_gateway_answers_503_when_the_queue_is_too_slow(
    tmp_path: Path, seeded_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with one_turn_held(tmp_path, seeded_data_dir, monkeypatch, "busy@example.com") as turn:
        api, token, admission = turn.api, turn.token, turn.admission
        # What `gateway_queue_timeout_seconds` sets, shortened on the running gateway.
        monkeypatch.setattr(admission, "queue_timeout", 0.05)
        busy = await api.client.get("/api/rules/search?market=EU&q=lamp", headers=bearer(token))
        assert_problem(busy, 503)
        assert busy.headers["retry-after"] == "1"
        # A request with a body is refused the same way once its body is in, whatever the
        # service made of its broken-off read, and nothing of it is kept.
        body = {"market": "EU", "hs_code": "8518.22", "answers": {}}
        refused = await api.client.post("/api/rules/checklists", json=body, headers=bearer(token))
        assert_problem(refused, 503)
        assert refused.headers["retry-after"] == "1"
        turn.held.release.set()
        assert (await turn.first).status_code == 200
        monkeypatch.setattr(admission, "queue_timeout", 30.0)
        saved = await api.client.get("/api/rules/checklists", headers=bearer(token))
        assert saved.status_code == 200, saved.text
        assert saved.json()["total"] == 0


async def test_a_request_with_a_body_may_queue_past_its_body_deadline(
    tmp_path: Path, seeded_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once its body is in, a request's wait for its turn is bounded by the queue timeout
    alone: it is not the service taking too long (504), whatever the body deadline was."""
    async with one_turn_held(
        tmp_path,
        seeded_data_dir,
        monkeypatch,
        "patient@example.com",
        edge_body_timeout_seconds=2.0,
    ) as turn:
        api, token, admission = turn.api, turn.token, turn.admission
        gateway = api.platform.gateway
        # What `upstream_timeout_seconds` sets, shortened while the request queues (the held
        # request's own deadline was set before), and restored before its turn comes.
        monkeypatch.setattr(gateway, "upstream_timeout", 0.5)
        body = {"market": "EU", "hs_code": "8518.22", "answers": {}}
        saving = asyncio.create_task(
            api.client.post("/api/rules/checklists", json=body, headers=bearer(token))
        )
        await _until(lambda: admission.waiting == 1)
        await asyncio.sleep(4.0)  # queued past the body's deadline and the service's after it
        assert not saving.done()
        monkeypatch.setattr(gateway, "upstream_timeout", 30.0)
        turn.held.release.set()
        await turn.first
        saved = await saving
        assert saved.status_code == 201, saved.text


def served(platform: Platform) -> AbstractAsyncContextManager[int]:
    """The running platform behind the real HTTP server (its lifespan is already run)."""
    config = server_config(platform, platform.settings)
    config.lifespan = "off"
    return serving(config)


async def test_a_queued_request_whose_client_leaves_is_never_served(
    tmp_path: Path, seeded_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with one_turn_held(tmp_path, seeded_data_dir, monkeypatch, "leaving@example.com") as turn:
        api, token, admission = turn.api, turn.token, turn.admission
        published = capture_published(api.platform, monkeypatch)
        body = json.dumps({"market": "EU", "hs_code": "8518.22", "answers": {}})
        requests = [
            f"GET /api/rules/search?market=EU&q=lamp HTTP/1.1\r\nhost: t\r\n"
            f"authorization: Bearer {token}\r\n\r\n",
            f"POST /api/rules/checklists HTTP/1.1\r\nhost: t\r\n"
            f"authorization: Bearer {token}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n{body}",
        ]

        async def queued(count: int) -> bool:
            return admission.waiting == count

        async with served(api.platform) as port:
            for request in requests:  # without a body, and with one (queued once it is in)
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request.encode())
                await writer.drain()
                await eventually(lambda: queued(1), within=30)
                writer.close()  # the client leaves before its turn comes
                await writer.wait_closed()
                await eventually(lambda: queued(0), within=30)
                assert admission.full  # left the queue while the first still holds the turn
        turn.held.release.set()
        assert (await turn.first).status_code == 200
        # The search never reached its service; the checklist's read of its body was broken
        # off (it queues once its body is in, inside the service's read), and nothing was kept.
        assert "/api/rules/search" not in turn.held.forwarded
        saved = await api.client.get("/api/rules/checklists", headers=bearer(token))
        assert saved.json()["total"] == 0
        await api.platform.gateway_host.recorder.flush()
        records = [e.data for e in published if e.type == "gateway.request"]
        left = [(r["route"], r["status"]) for r in records if r["status"] == 499]
        assert left == [("/api/rules/search", 499), ("/api/rules/checklists", 499)]
