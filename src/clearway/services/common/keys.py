"""The key service: versions of the platform master key, and rotating it."""

from __future__ import annotations

from clearway.contracts.common import KeyRotated
from clearway.kit.bus import publish
from clearway.kit.crypto import KeyStore, MasterKey
from clearway.kit.db import Database


def master_key_versions(keystore: KeyStore) -> tuple[MasterKey, ...]:
    """As the store has them now: another process (`clearway keys rotate`) may have rotated."""
    keystore.reload()
    return keystore.versions()


async def rotate_master_key(keystore: KeyStore, db: Database, by: str | None) -> int:
    """A new active version; `key.rotated` has every service rewrap its data keys with it."""
    version = keystore.rotate()
    async with db.transaction() as session:
        await publish(session, KeyRotated(version=version, by=by))
    return version
