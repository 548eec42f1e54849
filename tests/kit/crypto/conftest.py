from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection

from clearway.kit.crypto import DataKeyCache, FieldCipher, LocalKeyStore, data_keys
from clearway.kit.db import Database

ROOT_SECRET = b"r" * 32


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "keys.db"


@pytest.fixture
def store(store_path: Path) -> LocalKeyStore:
    store = LocalKeyStore(store_path, ROOT_SECRET)
    store.ensure()
    return store


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database("t", f"sqlite+aiosqlite:///{tmp_path}/t.db")

    def create(connection: Connection) -> None:
        data_keys.create(connection)

    async with db.writer.begin() as connection:
        await connection.run_sync(create)
    yield db
    await db.dispose()


@pytest.fixture
def new_cipher(store: LocalKeyStore) -> Callable[[], FieldCipher]:
    """Makes ciphers with an empty cache, as in a freshly started process."""

    def make() -> FieldCipher:
        return FieldCipher("t", store, DataKeyCache(max_age_seconds=300, max_uses=100_000))

    return make


@pytest.fixture
def cipher(new_cipher: Callable[[], FieldCipher]) -> FieldCipher:
    return new_cipher()
