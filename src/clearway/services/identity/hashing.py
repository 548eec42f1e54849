"""Password hashing under a cap: argon2 is slow on purpose, so a flood of sign-ins must not
take every core and its memory. At most `concurrency` hashes run at once in a process and
`queue` more wait for a turn; any beyond are refused at once (503, Retry-After) rather than
piling up behind each other until every answer times out."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clearway.kit.errors import Unavailable

T = TypeVar("T")
RETRY_SECONDS = 1


class PasswordHashing:
    def __init__(self, hasher: PasswordHasher, concurrency: int, queue: int) -> None:
        self._hasher = hasher
        self._turns = asyncio.Semaphore(concurrency)
        self._capacity = concurrency + queue
        self._admitted = 0
        # Verified against when there is no stored hash, so both answers take as long.
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await self._run(lambda: self._hasher.hash(password))

    async def matches(self, stored: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(stored or self._dummy_hash, password) and bool(stored)
            except (VerificationError, InvalidHashError):
                return False

        return await self._run(check)

    async def _run(self, work: Callable[[], T]) -> T:
        if self._admitted >= self._capacity:
            raise Unavailable(
                "busy",
                "Too many sign-ins are being checked right now; try again in a moment.",
                headers={"retry-after": str(RETRY_SECONDS)},
            )
        self._admitted += 1
        try:
            async with self._turns:
                return await asyncio.to_thread(work)
        finally:
            self._admitted -= 1
