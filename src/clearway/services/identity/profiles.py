"""Identity's profiles: a user reads their own (from memory, see `profile_cache`) and changes
it; a change shows at once in every process."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from clearway.contracts.identity import UserUpdated
from clearway.kit.bus import publish
from clearway.kit.cache_bus import CacheBus
from clearway.kit.db import Database
from clearway.services.identity.domain import ProfileEdit
from clearway.services.identity.profile_cache import ProfileCache
from clearway.services.identity.records import Profile, UserRecords
from clearway.services.identity.tables import users

CACHE_SECONDS = 5.0
CACHE_SIZE = 50_000
CACHE_CHANNEL = "identity"
PROFILE_KEY = "profile:"  # cache-bus key: profile:<user id>


class Profiles:
    def __init__(self, db: Database, records: UserRecords, cache: CacheBus) -> None:
        self.db = db
        self.records = records
        self.cache = cache
        self.memory = ProfileCache(self.read, CACHE_SECONDS, CACHE_SIZE)

    async def read(self, user_id: str) -> Profile:
        """The profile as stored now; `NotFound` for no user or a deleted one."""
        async with self.db.read() as session:
            return await self.records.profile(session, await self.records.user(session, user_id))

    async def me(self, user_id: str) -> Profile:
        """The caller's own profile, from memory: a write shows at once."""
        return await self.memory.get(user_id)

    async def changed(self, user_id: str) -> None:
        """Drop the cached profile here and, through the cache bus, in every other process."""
        self.memory.drop(user_id)
        await self.cache.publish(CACHE_CHANNEL, PROFILE_KEY + user_id)

    def on_cache_message(self, key: str) -> None:
        """What another process published on the cache bus (see `changed`)."""
        if key.startswith(PROFILE_KEY):
            self.memory.drop(key.removeprefix(PROFILE_KEY))

    async def update(self, user_id: str, edit: ProfileEdit) -> Profile:
        now = datetime.now(UTC)
        changes = edit.changed()
        async with self.db.transaction() as session:
            await self.records.user(session, user_id)
            values: dict[str, Any] = {"updated_at": now}
            for column in ("name", "company", "phone"):
                if column in changes:
                    values[f"{column}_enc"] = await self.records.encrypt(
                        session, user_id, column, changes[column]
                    )
            if "country" in changes:
                values["country"] = changes["country"]
            await session.execute(update(users).where(users.c.id == user_id).values(**values))
            await publish(session, UserUpdated(user_id=user_id, fields=sorted(changes)))
            profile = await self.records.profile(session, await self.records.user(session, user_id))
        await self.changed(user_id)
        return profile
