"""Admission: a few requests in the services at once, the rest queued in arrival order; a
request takes its turn once its body is in, and gives it back when its response starts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from clearway.gateway.admission import Admission
from clearway.kit.problems import Problem
from tests.conftest import bearer
from tests.support import assert_problem, hold_forward, platform_api


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


async def test_the_gateway_queues_requests_once_their_body_is_in(
    tmp_path: Path, seeded_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with platform_api(
        tmp_path / "data", seed=seeded_data_dir, gateway_max_in_flight=1
    ) as api:
        token = await api.customer("queued@example.com")
        admission = api.platform.gateway.admission
        assert admission.limit == 1
        held = hold_forward(api.platform, monkeypatch, "/api/identity/me")
        first = asyncio.create_task(api.client.get("/api/identity/me", headers=bearer(token)))
        await _until(lambda: admission.full)
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
        await _until(lambda: "/api/rules/checklists" in held.forwarded)
        assert admission.waiting == 1
        # ...until the whole body is in: then it queues behind the search, in arrival order.
        rest.set()
        await _until(lambda: admission.waiting == 2)
        assert not saving.done()
        held.release.set()
        assert (await first).status_code == 200
        assert (await second).status_code == 200
        saved = await saving
        assert saved.status_code == 201, saved.text
        assert admission.waiting == 0
        assert not admission.full


async def test_the_gateway_answers_503_when_the_queue_is_too_slow(
    tmp_path: Path, seeded_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with platform_api(
        tmp_path / "data", seed=seeded_data_dir, gateway_max_in_flight=1
    ) as api:
        token = await api.customer("busy@example.com")
        admission = api.platform.gateway.admission
        stuck = hold_forward(api.platform, monkeypatch, "/api/identity/me")
        held = asyncio.create_task(api.client.get("/api/identity/me", headers=bearer(token)))
        await _until(lambda: admission.full)
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
        stuck.release.set()
        assert (await held).status_code == 200
        monkeypatch.setattr(admission, "queue_timeout", 30.0)
        saved = await api.client.get("/api/rules/checklists", headers=bearer(token))
        assert saved.status_code == 200, saved.text
        assert saved.json()["total"] == 0
