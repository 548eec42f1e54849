"""LocalFileStore: sealed at rest, bound to its key, safe names, atomic and idempotent."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clearway.kit.files import (
    FileCorrupted,
    FileNotFound,
    FileStore,
    FileStoreError,
    LocalFileStore,
    StoredFile,
)

SECRET = b"CONFIDENTIAL test report for batch 4711: lead 0.02 mg/kg. " * 20


class FakeDecryptionError(Exception):
    pass


class FakeSealer:
    """AES-256-GCM with the context as associated data, like the real Sealer's contract."""

    def __init__(self) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], context.encode())
        except InvalidTag as exc:
            raise FakeDecryptionError(context) from exc


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def store(root: Path) -> LocalFileStore:
    return LocalFileStore(root, FakeSealer())


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def blobs(directory: Path, key: str) -> list[Path]:
    return sorted(directory.glob(f"{key}.*.blob"))


async def test_round_trip(store: LocalFileStore) -> None:
    as_protocol: FileStore = store

    stored = await as_protocol.put("attachments", "order-1.pdf", SECRET, "application/pdf")
    content, meta = await as_protocol.get("attachments", "order-1.pdf")

    assert content == SECRET
    assert meta == stored
    assert stored == StoredFile(
        namespace="attachments",
        key="order-1.pdf",
        content_type="application/pdf",
        size=len(SECRET),
        sha256=stored.sha256,
        created=stored.created,
    )
    assert len(stored.sha256) == 64
    assert stored.created.tzinfo is not None


async def test_empty_content_round_trips(store: LocalFileStore) -> None:
    await store.put("attachments", "empty", b"", "text/plain")

    assert (await store.get("attachments", "empty"))[0] == b""


async def test_nothing_on_disk_contains_the_plaintext(store: LocalFileStore, root: Path) -> None:
    await store.put("reports", "r1", SECRET, "application/pdf")

    files = files_under(root)
    assert len(files) == 2  # the sealed blob and its sidecar, no temp files left behind
    for path in files:
        data = path.read_bytes()
        assert SECRET[:16] not in data
        assert b"CONFIDENTIAL" not in data
        assert path.stat().st_mode & 0o077 == 0  # readable by the service's user only


async def test_sidecar_holds_the_metadata(store: LocalFileStore, root: Path) -> None:
    stored = await store.put("reports", "r1", SECRET, "application/pdf")

    sidecar = json.loads((root / "reports" / "r1.json").read_text())

    assert sidecar["content_type"] == "application/pdf"
    assert sidecar["size"] == len(SECRET)
    assert sidecar["sha256"] == stored.sha256
    assert sidecar["created"] == stored.created.isoformat()
    assert (root / "reports" / sidecar["blob"]).is_file()


async def test_blob_moved_to_another_key_does_not_open(store: LocalFileStore, root: Path) -> None:
    """Someone with disk access moves a report under another order's key."""
    await store.put("reports", "order-1", SECRET, "application/pdf")
    await store.put("reports", "order-2", b"the other report", "application/pdf")
    directory = root / "reports"
    [blob] = blobs(directory, "order-1")
    sidecar = json.loads((directory / "order-1.json").read_text())
    moved = "order-2" + blob.name.removeprefix("order-1")
    sidecar["blob"] = moved
    (directory / "order-2.json").write_text(json.dumps(sidecar))
    blob.rename(directory / moved)

    with pytest.raises(FakeDecryptionError):
        await store.get("reports", "order-2")


async def test_blob_moved_to_another_namespace_does_not_open(
    store: LocalFileStore, root: Path
) -> None:
    await store.put("reports", "x", SECRET, "application/pdf")
    await store.put("attachments", "x", b"other", "application/pdf")
    for path in (root / "reports").iterdir():
        path.replace(root / "attachments" / path.name)

    with pytest.raises(FakeDecryptionError):
        await store.get("attachments", "x")


async def test_sidecar_naming_a_foreign_blob_is_refused(store: LocalFileStore, root: Path) -> None:
    await store.put("reports", "a", SECRET, "application/pdf")
    await store.put("reports", "b", b"other", "application/pdf")
    directory = root / "reports"
    sidecar = json.loads((directory / "b.json").read_text())
    for foreign in (blobs(directory, "a")[0].name, "../../etc/passwd", 42):
        sidecar["blob"] = foreign
        (directory / "b.json").write_text(json.dumps(sidecar))

        with pytest.raises(FileCorrupted):
            await store.get("reports", "b")


async def test_tampered_blob_does_not_open(store: LocalFileStore, root: Path) -> None:
    await store.put("reports", "r1", SECRET, "application/pdf")
    [blob] = blobs(root / "reports", "r1")
    data = bytearray(blob.read_bytes())
    data[40] ^= 1
    blob.write_bytes(bytes(data))

    with pytest.raises(FakeDecryptionError):
        await store.get("reports", "r1")


async def test_metadata_not_matching_the_content_is_detected(
    store: LocalFileStore, root: Path
) -> None:
    await store.put("reports", "r1", SECRET, "application/pdf")
    sidecar_path = root / "reports" / "r1.json"
    sidecar = json.loads(sidecar_path.read_text())
    sidecar["sha256"] = "0" * 64
    sidecar_path.write_text(json.dumps(sidecar))

    with pytest.raises(FileCorrupted):
        await store.get("reports", "r1")


async def test_unreadable_sidecar_is_corrupted_not_missing(
    store: LocalFileStore, root: Path
) -> None:
    await store.put("reports", "r1", SECRET, "application/pdf")
    (root / "reports" / "r1.json").write_text("{not json")

    with pytest.raises(FileCorrupted):
        await store.get("reports", "r1")
    await store.delete("reports", "r1")
    assert not await store.exists("reports", "r1")


async def test_missing_blob_is_corrupted(store: LocalFileStore, root: Path) -> None:
    await store.put("reports", "r1", SECRET, "application/pdf")
    blobs(root / "reports", "r1")[0].unlink()

    with pytest.raises(FileCorrupted):
        await store.get("reports", "r1")


async def test_overwrite_replaces_content_and_removes_the_old_blob(
    store: LocalFileStore, root: Path
) -> None:
    await store.put("reports", "r1", b"first", "text/plain")
    second = await store.put("reports", "r1", b"second version", "text/markdown")

    assert await store.get("reports", "r1") == (b"second version", second)
    assert len(blobs(root / "reports", "r1")) == 1


async def test_read_racing_an_overwrite_gets_the_new_version(
    store: LocalFileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A put commits between a reader's sidecar read and its blob read (forced here)."""
    first = await store.put("reports", "hot", b"first", "text/plain")
    second = dataclasses.replace(first, size=6, sha256=hashlib.sha256(b"second").hexdigest())
    read_sidecar = store._read_sidecar
    raced: list[bool] = []

    def read_then_overwrite(directory: Path, namespace: str, key: str) -> Any:
        sidecar = read_sidecar(directory, namespace, key)
        if not raced:
            raced.append(True)
            store._put(directory, second, b"second")  # removes the blob `sidecar` names
        return sidecar

    monkeypatch.setattr(store, "_read_sidecar", read_then_overwrite)

    assert await store.get("reports", "hot") == (b"second", second)
    assert raced


async def test_delete(store: LocalFileStore, root: Path) -> None:
    await store.put("attachments", "a1", SECRET, "application/pdf")
    assert await store.exists("attachments", "a1")

    await store.delete("attachments", "a1")

    assert not await store.exists("attachments", "a1")
    with pytest.raises(FileNotFound):
        await store.get("attachments", "a1")
    assert list((root / "attachments").iterdir()) == []
    await store.delete("attachments", "a1")  # idempotent: a retried delete is fine


async def test_missing_file(store: LocalFileStore) -> None:
    assert not await store.exists("attachments", "nope")
    with pytest.raises(FileNotFound) as caught:
        await store.get("attachments", "nope")
    assert isinstance(caught.value, FileStoreError)


BAD_NAMES = [
    "",
    ".",
    "..",
    "../x",
    "a/../../b",
    "a/b",
    "a\\b",
    "/etc/passwd",
    "~root",
    "a\x00b",
    "a\nb",
    "a\tb",
    "a b",
    ".hidden",
    "Prüfbericht",
    "x" * 201,
]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_unsafe_keys_and_namespaces_are_rejected(
    store: LocalFileStore, tmp_path: Path, name: str
) -> None:
    for namespace, key in (("attachments", name), (name, "key")):
        with pytest.raises(ValueError):
            await store.put(namespace, key, SECRET, "application/pdf")
        with pytest.raises(ValueError):
            await store.get(namespace, key)
        with pytest.raises(ValueError):
            await store.exists(namespace, key)
        with pytest.raises(ValueError):
            await store.delete(namespace, key)
    assert files_under(tmp_path) == []


async def test_longest_allowed_name_fits(store: LocalFileStore) -> None:
    key = "k" * 200

    await store.put("n" * 200, key, SECRET, "application/pdf")

    assert (await store.get("n" * 200, key))[0] == SECRET


@pytest.mark.parametrize("content_type", ["", "text/plain\r\nX-Evil: 1", "text/\x00plain", "tëxt"])
async def test_content_type_must_be_a_safe_header_value(
    store: LocalFileStore, content_type: str
) -> None:
    with pytest.raises(ValueError):
        await store.put("attachments", "a1", SECRET, content_type)
