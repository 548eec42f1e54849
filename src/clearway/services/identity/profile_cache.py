"""Identity's profile cache: `/me` answered from memory, refreshed behind the requests.

A fresh entry is served as is. An entry past its time is still served, while one read
refreshes it in the background: under load a read takes several turns of a busy event loop,
and every request that met an expired entry used to wait for it (the p99 of `/me` was those
waits). Only a profile not held at all is waited for, one read however many ask.

Changes never wait for the expiry: a write drops the entry here at once and in every other
process through the cache bus; the expiry only bounds how long a lost message can matter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ProfileCache(Generic[T]):
    def __init__(self, load: Callable[[str], Awaitable[T]], seconds: float, size: int) -> None:
        self._load = load
        self.seconds = seconds
        self.size = size
        self._entries: dict[str, tuple[float, T]] = {}
        self._loading: dict[str, asyncio.Task[T]] = {}
        # Bumped by every drop: a read that started before a drop may hold the old profile,
        # so what it brings back is returned to its waiters but not kept.
        self._drops = 0

    async def get(self, user_id: str) -> T:
        cached = self._entries.get(user_id)
        if cached is not None:
            if cached[0] <= time.monotonic():
                self._start_load(user_id)  # refresh behind this answer
            return cached[1]
        return await asyncio.shield(self._start_load(user_id))

    def drop(self, user_id: str) -> None:
        self._drops += 1
        self._entries.pop(user_id, None)

    def _start_load(self, user_id: str) -> asyncio.Task[T]:
        loading = self._loading.get(user_id)
        if loading is None:
            loading = asyncio.create_task(self._read(user_id, self._drops))
            self._loading[user_id] = loading
            loading.add_done_callback(lambda task: self._loaded(user_id, task))
        return loading

    def _loaded(self, user_id: str, task: asyncio.Task[T]) -> None:
        self._loading.pop(user_id, None)
        if not task.cancelled():
            task.exception()  # a refresh nobody awaited failed: its error is not "unretrieved"

    async def _read(self, user_id: str, drops: int) -> T:
        try:
            value = await self._load(user_id)
        except Exception:
            self._entries.pop(user_id, None)  # gone or failing: never serve the old one again
            raise
        if drops == self._drops:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[user_id] = (time.monotonic() + self.seconds, value)
        return value
