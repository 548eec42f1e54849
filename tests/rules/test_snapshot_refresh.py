"""Another process's snapshot, told of changes by events: a stream of them rebuilds it once, an
event for a change it already holds rebuilds nothing, and a change committed while it rebuilds
is picked up by one more check rather than left to the periodic job."""

from __future__ import annotations

import pytest

from clearway.services.rules.snapshot import RuleSnapshot
from tests.rules.conftest import Served
from tests.rules.support import MARKET, create, publish


def rebuilt_codes(snapshot: RuleSnapshot) -> set[str]:
    return {
        code
        for code, versions in snapshot.base.versions.items()
        if versions[0].content.market == MARKET
    }


@pytest.fixture
async def other(served: Served) -> RuleSnapshot:
    snapshot = RuleSnapshot(served.rules.db)
    await snapshot.reload()
    return snapshot


def count_rebuilds(snapshot: RuleSnapshot, monkeypatch: pytest.MonkeyPatch) -> list[None]:
    rebuilds: list[None] = []
    reload = snapshot.reload

    async def counted() -> None:
        rebuilds.append(None)
        await reload()

    monkeypatch.setattr(snapshot, "reload", counted)
    return rebuilds


async def settled(snapshot: RuleSnapshot) -> None:
    """Until the checks asked for so far are done (one task runs them all, one after another)."""
    await snapshot.stop()


async def test_a_stream_of_events_for_one_change_rebuilds_once(
    served: Served, other: RuleSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = served.api
    admin = await api.admin_token()
    for code in ("T-ONE", "T-TWO", "T-THREE"):
        await create(api, admin, code=code)
        await publish(api, admin, code)
    rebuilds = count_rebuilds(other, monkeypatch)
    for _ in range(20):  # one event per rule and its cache-bus echoes, delivered in turn
        other.invalidate()
        await settled(other)
    assert rebuilt_codes(other) == {"T-ONE", "T-TWO", "T-THREE"}
    assert len(rebuilds) == 1


async def test_an_event_for_a_change_already_held_rebuilds_nothing(
    served: Served, other: RuleSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilds = count_rebuilds(other, monkeypatch)
    other.invalidate()
    await settled(other)
    assert rebuilds == []


async def test_a_change_committed_during_a_rebuild_is_picked_up(
    served: Served, other: RuleSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = served.api
    admin = await api.admin_token()
    await create(api, admin, code="T-FIRST")
    await publish(api, admin, "T-FIRST")
    reload = other.reload
    rebuilds: list[set[str]] = []

    async def meanwhile() -> None:
        await reload()
        rebuilds.append(rebuilt_codes(other))
        if len(rebuilds) == 1:  # a second publish lands, and its event arrives, mid-rebuild
            await create(api, admin, code="T-SECOND")
            await publish(api, admin, "T-SECOND")
            other.invalidate()

    monkeypatch.setattr(other, "reload", meanwhile)
    other.invalidate()
    await settled(other)
    assert rebuilds == [{"T-FIRST"}, {"T-FIRST", "T-SECOND"}]
