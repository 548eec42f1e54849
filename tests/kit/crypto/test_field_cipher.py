from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from clearway.kit.crypto import (
    DecryptionError,
    FieldCipher,
    LocalKeyStore,
    Sealer,
    ShreddedError,
    data_keys,
)
from clearway.kit.db import Database

from .conftest import ROOT_SECRET

NewCipher = Callable[[], FieldCipher]


async def encrypt(cipher: FieldCipher, db: Database, subject: str, record: str, text: str) -> bytes:
    async with db.transaction() as session:
        return await cipher.encrypt(session, subject, "users", "name", record, text)


async def decrypt(cipher: FieldCipher, db: Database, record: str, ciphertext: bytes) -> str:
    async with db.read() as session:
        return await cipher.decrypt(session, "users", "name", record, ciphertext)


def holding(directory: Path, plaintext: str) -> list[str]:
    """The service database and key store files that contain `plaintext`."""
    paths = [*directory.glob("t.db*"), *directory.glob("keys.db*")]
    return sorted(path.name for path in paths if plaintext.encode() in path.read_bytes())


async def test_round_trip(cipher: FieldCipher, db: Database, new_cipher: NewCipher) -> None:
    ciphertext = await encrypt(cipher, db, "user:1", "1", "Ada Lovelace")
    assert ciphertext[0] == 0x01
    assert b"Ada" not in ciphertext
    assert await decrypt(cipher, db, "1", ciphertext) == "Ada Lovelace"
    # A fresh process unwraps the stored data key.
    assert await decrypt(new_cipher(), db, "1", ciphertext) == "Ada Lovelace"


async def test_one_data_key_per_subject(cipher: FieldCipher, db: Database) -> None:
    first = await encrypt(cipher, db, "user:1", "1", "a")
    second = await encrypt(cipher, db, "user:1", "1", "b")
    other = await encrypt(cipher, db, "user:2", "2", "c")
    assert first[1:17] == second[1:17] != other[1:17]
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(data_keys)) == 2


async def test_ciphertext_moved_elsewhere_fails(cipher: FieldCipher, db: Database) -> None:
    ciphertext = await encrypt(cipher, db, "user:1", "1", "Ada")
    async with db.read() as session:
        for table, column, record in [
            ("users", "name", "2"),
            ("users", "phone", "1"),
            ("orders", "name", "1"),
        ]:
            with pytest.raises(DecryptionError):
                await cipher.decrypt(session, table, column, record, ciphertext)
        other_service = FieldCipher("other", cipher._keys, cipher._cache)
        with pytest.raises(DecryptionError):
            await other_service.decrypt(session, "users", "name", "1", ciphertext)


async def test_any_tampered_byte_fails(cipher: FieldCipher, db: Database) -> None:
    ciphertext = await encrypt(cipher, db, "user:1", "1", "Ada")
    for position in range(len(ciphertext)):
        tampered = bytearray(ciphertext)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionError):
            await decrypt(cipher, db, "1", bytes(tampered))
    with pytest.raises(DecryptionError, match="truncated"):
        await decrypt(cipher, db, "1", ciphertext[:20])
    with pytest.raises(DecryptionError, match="unknown ciphertext format 2"):
        await decrypt(cipher, db, "1", b"\x02" + ciphertext[1:])


async def test_cached_decrypt_runs_no_query(
    cipher: FieldCipher,
    db: Database,
    new_cipher: NewCipher,
    store: LocalKeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Decrypting is fast because, once a data key is unwrapped, reads need neither the
    database nor the key service: counted here, not timed."""
    fields = {c: await encrypt(cipher, db, "user:1", "1", f"{c} value") for c in "abcd"}
    queries: list[str] = []
    unwraps: list[bytes] = []
    real_unwrap = store.unwrap

    def count(*args: Any) -> None:
        queries.append(args[2])

    def counting_unwrap(wrapped: bytes, context: bytes) -> bytes:
        unwraps.append(context)
        return real_unwrap(wrapped, context)

    monkeypatch.setattr(store, "unwrap", counting_unwrap)
    event.listen(db.reader.sync_engine, "before_cursor_execute", count)
    reader = new_cipher()  # an empty cache, as in a freshly started process
    rounds = 1000
    async with db.read() as session:
        await session.execute(text("SELECT 1"))  # the transaction's own BEGIN, out of the way
        queries.clear()
        assert await reader.decrypt(session, "users", "name", "1", fields["a"]) == "a value"
        assert (len(queries), len(unwraps)) == (1, 1)  # the subject's key, read and unwrapped
        for _ in range(rounds):
            for column, value in fields.items():
                assert await reader.decrypt(session, "users", "name", "1", value) == (
                    f"{column} value"
                )
    assert (len(queries), len(unwraps)) == (1, 1), "every later row came from the cache"


async def test_key_from_a_rolled_back_transaction_is_not_reused(
    cipher: FieldCipher, db: Database, new_cipher: NewCipher
) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await cipher.encrypt(session, "user:1", "users", "name", "1", "lost")
            raise RuntimeError("rolled back")
    ciphertext = await encrypt(cipher, db, "user:1", "1", "kept")
    assert await decrypt(new_cipher(), db, "1", ciphertext) == "kept"


async def test_shred_destroys_only_that_subject(
    cipher: FieldCipher, db: Database, new_cipher: NewCipher
) -> None:
    ada = await encrypt(cipher, db, "user:1", "1", "Ada")
    bob = await encrypt(cipher, db, "user:2", "2", "Bob")
    async with db.transaction() as session:
        assert await cipher.shred(session, "user:1") == 1
        assert await cipher.shred(session, "user:1") == 0
    for reader in (cipher, new_cipher()):
        with pytest.raises(ShreddedError):
            await decrypt(reader, db, "1", ada)
        assert await decrypt(reader, db, "2", bob) == "Bob"
    async with db.read() as session:
        row = (
            await session.execute(select(data_keys).where(data_keys.c.subject == "user:1"))
        ).one()
    assert row.wrapped is None
    assert row.destroyed_at is not None
    # New data for the subject gets a new key.
    again = await encrypt(cipher, db, "user:1", "1", "Ada again")
    assert again[1:17] != ada[1:17]
    assert await decrypt(cipher, db, "1", again) == "Ada again"


async def test_rotation_then_rewrap(
    store: LocalKeyStore, cipher: FieldCipher, db: Database, new_cipher: NewCipher
) -> None:
    sealer = Sealer(store)
    sealed = sealer.seal(b"event payload", "event:order.created")
    records = {
        str(i): await encrypt(cipher, db, f"user:{i}", str(i), f"name {i}") for i in range(7)
    }
    async with db.transaction() as session:
        await cipher.shred(session, "user:6")
    del records["6"]

    assert store.rotate() == 2
    for record, ciphertext in records.items():
        assert await decrypt(new_cipher(), db, record, ciphertext) == f"name {record}"

    async with db.transaction() as session:
        assert await cipher.rewrap(session, batch=2) == 2
    assert await cipher.rewrap_all(db, batch=2) == 4
    assert await cipher.rewrap_all(db) == 0
    async with db.read() as session:
        versions = (
            await session.scalars(
                select(data_keys.c.master_version).where(data_keys.c.wrapped.is_not(None))
            )
        ).all()
    assert versions == [2] * 6
    fresh = new_cipher()
    for record, ciphertext in records.items():
        assert await decrypt(fresh, db, record, ciphertext) == f"name {record}"
    # Envelopes sealed before the rotation still open with the retired private key.
    assert sealer.open(sealed, "event:order.created") == b"event payload"


async def test_stale_key_store_never_rewraps_backwards(
    store: LocalKeyStore, store_path: Path, cipher: FieldCipher, db: Database
) -> None:
    await encrypt(cipher, db, "user:1", "1", "Ada")
    stale = LocalKeyStore(store_path, ROOT_SECRET)
    stale.ensure()
    store.rotate()
    assert await cipher.rewrap_all(db) == 1
    behind = FieldCipher("t", stale, cipher._cache)
    assert await behind.rewrap_all(db) == 0


async def test_database_file_holds_no_plaintext(
    store: LocalKeyStore, cipher: FieldCipher, db: Database, tmp_path: Path
) -> None:
    secret = "Zebulon Quartermaine-Xylophone"
    control = "Plainly Stored Control Value"  # proves the scan would see a plaintext
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE users (id TEXT PRIMARY KEY, name BLOB)"))
        ciphertext = await cipher.encrypt(session, "user:1", "users", "name", "1", secret)
        insert = text("INSERT INTO users (id, name) VALUES (:id, :name)")
        await session.execute(insert, {"id": "1", "name": ciphertext})
        await session.execute(insert, {"id": "2", "name": control.encode()})
    assert holding(tmp_path, control) == ["t.db-wal"]
    assert holding(tmp_path, secret) == []
    async with db.read() as session:
        stored = await session.scalar(text("SELECT name FROM users WHERE id = '1'"))
        assert await cipher.decrypt(session, "users", "name", "1", stored) == secret
    await db.dispose()  # checkpoints the WAL into the main file
    assert holding(tmp_path, control) == ["t.db"]
    assert holding(tmp_path, secret) == []
