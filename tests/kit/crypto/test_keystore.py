import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from clearway.kit.crypto import DecryptionError, KeyStoreError, LocalKeyStore

from .conftest import ROOT_SECRET

DATA_KEY = bytes(range(32))


def test_first_use_creates_version_one(store_path: Path) -> None:
    store = LocalKeyStore(store_path, ROOT_SECRET)
    assert not store_path.exists()
    assert store.active_version() == 1
    assert [(k.version, k.state) for k in store.versions()] == [(1, "active")]
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600


def test_wrap_round_trip_names_the_master_version(store: LocalKeyStore) -> None:
    wrapped = store.wrap(DATA_KEY, b"ctx")
    assert wrapped[:4] == (1).to_bytes(4, "big")
    assert DATA_KEY not in wrapped
    assert store.unwrap(wrapped, b"ctx") == DATA_KEY


def test_wrong_context_fails(store: LocalKeyStore) -> None:
    wrapped = store.wrap(DATA_KEY, b"t|data_key|a")
    with pytest.raises(DecryptionError):
        store.unwrap(wrapped, b"t|data_key|b")


def test_tampered_or_unknown_wraps_fail(store: LocalKeyStore) -> None:
    wrapped = bytearray(store.wrap(DATA_KEY, b"ctx"))
    wrapped[-1] ^= 1
    with pytest.raises(DecryptionError):
        store.unwrap(bytes(wrapped), b"ctx")
    with pytest.raises(DecryptionError, match="unknown master key version 9"):
        store.unwrap((9).to_bytes(4, "big") + bytes(wrapped[4:]), b"ctx")
    with pytest.raises(DecryptionError):
        store.unwrap(b"\x00\x00", b"ctx")


def test_wrong_root_secret_fails_loudly(store: LocalKeyStore, store_path: Path) -> None:
    intruder = LocalKeyStore(store_path, b"w" * 32)
    with pytest.raises(KeyStoreError, match="root secret"):
        intruder.active_version()
    with pytest.raises(KeyStoreError, match="root secret"):
        intruder.rotate()
    with pytest.raises(KeyStoreError, match="root secret"):
        intruder.secret("blind-index")
    # Nothing was added under the wrong secret.
    assert [k.version for k in LocalKeyStore(store_path, ROOT_SECRET).versions()] == [1]


def test_short_root_secret_is_refused(store_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="at least 16 bytes"):
        LocalKeyStore(store_path, b"short")


def test_damaged_file_fails_loudly(store_path: Path) -> None:
    store_path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(KeyStoreError, match="unusable"):
        LocalKeyStore(store_path, ROOT_SECRET).ensure()


def test_reload_of_missing_store_fails(store_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="no key store"):
        LocalKeyStore(store_path, ROOT_SECRET).reload()


def test_rotation_keeps_old_versions_for_unwrapping(store: LocalKeyStore) -> None:
    before = store.wrap(DATA_KEY, b"ctx")
    assert store.rotate() == 2
    after = store.wrap(DATA_KEY, b"ctx")
    assert after[:4] == (2).to_bytes(4, "big")
    assert store.unwrap(before, b"ctx") == DATA_KEY
    assert store.unwrap(after, b"ctx") == DATA_KEY
    assert [(k.version, k.state) for k in store.versions()] == [(1, "retired"), (2, "active")]


def test_rotation_by_another_process(store: LocalKeyStore, store_path: Path) -> None:
    cli = LocalKeyStore(store_path, ROOT_SECRET)
    cli.rotate()
    wrapped_by_cli = cli.wrap(DATA_KEY, b"ctx")
    assert store.active_version() == 1  # until it re-reads the file
    # A version it does not know makes it re-read the file by itself.
    assert store.unwrap(wrapped_by_cli, b"ctx") == DATA_KEY
    assert store.active_version() == 2
    cli.rotate()
    store.reload()
    assert store.active_version() == 3


def test_secrets_are_stable_sized_and_sealed(store: LocalKeyStore, store_path: Path) -> None:
    blind = store.secret("blind-index")
    assert len(blind) == 32
    assert store.secret("blind-index") == blind
    assert LocalKeyStore(store_path, ROOT_SECRET).secret("blind-index") == blind
    assert store.secret("other", size=64) != blind[:32]
    with pytest.raises(KeyStoreError, match="holds 32 bytes"):
        store.secret("blind-index", size=16)
    assert blind not in store_path.read_bytes()


def test_file_holds_no_private_key(store: LocalKeyStore, store_path: Path) -> None:
    store.rotate()
    content = store_path.read_bytes()
    for version in (1, 2):
        assert store._loaded().private[version].private_bytes_raw() not in content


def test_processes_starting_together_agree(store_path: Path) -> None:
    def start(store: LocalKeyStore) -> bytes:
        store.ensure()
        return store.secret("blind-index")

    stores = [LocalKeyStore(store_path, ROOT_SECRET) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = list(pool.map(start, stores))
    assert len(set(secrets)) == 1
    assert [k.version for k in stores[0].versions()] == [1]
