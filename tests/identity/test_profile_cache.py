"""The profile cache behind `/me`: expired entries are served while one read refreshes them."""

from __future__ import annotations

import asyncio

import pytest

from clearway.services.identity.profile_cache import ProfileCache


class Store:
    def __init__(self) -> None:
        self.value = "v1"
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.reading = asyncio.Event()

    async def load(self, user_id: str) -> str:
        self.reads += 1
        self.reading.set()
        value = self.value  # what the database held when the read ran
        await self.gate.wait()
        if value == "gone":
            raise LookupError(user_id)
        return value


async def test_a_cold_entry_is_read_once_however_many_ask() -> None:
    store = Store()
    store.gate.clear()
    cache = ProfileCache(store.load, seconds=60, size=10)
    waiting = [asyncio.create_task(cache.get("u")) for _ in range(20)]
    await asyncio.sleep(0)
    store.gate.set()
    assert await asyncio.gather(*waiting) == ["v1"] * 20
    assert store.reads == 1


async def test_an_expired_entry_is_served_while_one_read_refreshes_it() -> None:
    store = Store()
    cache = ProfileCache(store.load, seconds=0, size=10)  # expired as soon as kept
    assert await cache.get("u") == "v1"
    store.value = "v2"
    store.gate.clear()
    answers = [await cache.get("u") for _ in range(5)]
    assert answers == ["v1"] * 5  # nobody waited for the read
    await asyncio.sleep(0)
    assert store.reads == 2  # one refresh, not five
    store.gate.set()
    await asyncio.sleep(0.01)
    assert await cache.get("u") == "v2"


async def test_a_drop_is_never_undone_by_a_read_that_started_before_it() -> None:
    store = Store()
    cache = ProfileCache(store.load, seconds=60, size=10)
    store.gate.clear()
    early = asyncio.create_task(cache.get("u"))  # reads the old value...
    await store.reading.wait()
    store.value = "v2"
    cache.drop("u")  # ...while the change is written and announced
    store.gate.set()
    assert await early == "v1"  # its own caller gets what it read
    assert await cache.get("u") == "v2"  # but it was not kept


async def test_a_profile_that_is_gone_is_no_longer_served() -> None:
    store = Store()
    cache = ProfileCache(store.load, seconds=0, size=10)
    assert await cache.get("u") == "v1"
    store.value = "gone"
    assert await cache.get("u") == "v1"  # served stale while the refresh runs
    await asyncio.sleep(0.01)
    with pytest.raises(LookupError):
        await cache.get("u")
