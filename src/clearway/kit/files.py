"""File storage for uploaded documents and reports, encrypted at rest.

`FileStore` is what services use; `LocalFileStore` is the embedded default (a directory);
`S3FileStore` (`clearway.kit.files_s3`) implements the same protocol on AWS.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from clearway.kit.owner_only import owner_only_directory

# Names become file names: an allowlist rules out traversal ("..", "/", absolute paths),
# control characters and hidden files (temp files start with "."), and the length leaves room
# for the blob suffix within the usual 255-byte file name limit.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")
_BLOB_SUFFIX = re.compile(r"\.[0-9a-f]{32}\.blob")
_SIDECAR_VERSION = 1
# A concurrent put replaces the blob a reader is about to open; re-reading the sidecar finds
# the new one. More attempts than this means something else removed the blob.
_READ_ATTEMPTS = 3


class Sealing(Protocol):
    """Envelope encryption bound to a context (`clearway.kit.crypto.Sealer` fits).

    `open` raises when the context differs from the one used to seal, or on tampering.
    Called from worker threads, so implementations must be thread-safe.
    """

    def seal(self, plaintext: bytes, context: str) -> bytes: ...

    def open(self, sealed: bytes, context: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What is known about a stored file without reading its content."""

    namespace: str
    key: str
    content_type: str
    size: int
    sha256: str
    created: datetime


class FileStoreError(Exception):
    """Base of the errors a file store raises."""


class FileNotFound(FileStoreError):
    """No file under that namespace and key."""


class FileCorrupted(FileStoreError):
    """Metadata and content disagree, or one of them is unreadable."""


class FileStore(Protocol):
    async def put(
        self, namespace: str, key: str, content: bytes, content_type: str
    ) -> StoredFile: ...

    async def get(self, namespace: str, key: str) -> tuple[bytes, StoredFile]: ...

    async def delete(self, namespace: str, key: str) -> None: ...

    async def exists(self, namespace: str, key: str) -> bool: ...


def check_name(value: str, what: str) -> None:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"invalid {what} {value!r}: use 1-200 of A-Z a-z 0-9 . _ -, not starting with '.'"
        )


def check_content_type(content_type: str) -> None:
    # It is served back as a Content-Type header: printable ASCII only.
    if not content_type or not (content_type.isascii() and content_type.isprintable()):
        raise ValueError("content_type must be printable ASCII")


def file_context(namespace: str, key: str) -> str:
    return f"file|{namespace}|{key}"


def describe(namespace: str, key: str, content: bytes, content_type: str) -> StoredFile:
    """What a store records of a file it is about to keep (every store, local or S3)."""
    check_content_type(content_type)
    return StoredFile(
        namespace=namespace,
        key=key,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created=datetime.now(UTC),
    )


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write so that a crash leaves either the old file or the complete new one, durably."""
    fd, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_directory(path.parent)


@dataclass(frozen=True, slots=True)
class _Sidecar:
    stored: StoredFile
    blob: str


class LocalFileStore:
    """Files in a local directory: `root/namespace/key.json` plus the sealed blob it names.

    Content is sealed with the context `file|namespace|key`, so a blob copied under another
    key fails to open. The sidecar JSON holds the metadata and names the blob, which has a
    fresh name on every put: replacing the sidecar is the one atomic step that commits a put,
    so a crash or a concurrent reader never pairs new metadata with old content. File I/O and
    sealing run in a worker thread to keep large documents off the event loop.
    """

    def __init__(self, root: Path, sealing: Sealing) -> None:
        self._root = root
        self._sealing = sealing

    def _directory(self, namespace: str, key: str) -> Path:
        check_name(namespace, "namespace")
        check_name(key, "key")
        return self._root / namespace

    async def put(self, namespace: str, key: str, content: bytes, content_type: str) -> StoredFile:
        directory = self._directory(namespace, key)
        stored = describe(namespace, key, content, content_type)
        await asyncio.to_thread(self._put, directory, stored, content)
        return stored

    def _put(self, directory: Path, stored: StoredFile, content: bytes) -> None:
        sealed = self._sealing.seal(content, file_context(stored.namespace, stored.key))
        if not directory.is_dir():
            owner_only_directory(directory)
            _fsync_directory(directory.parent)
        blob = f"{stored.key}.{uuid.uuid4().hex}.blob"
        _write_atomic(directory / blob, sealed)
        try:
            previous = self._read_sidecar(directory, stored.namespace, stored.key)
        except FileStoreError:
            previous = None
        document = {
            "version": _SIDECAR_VERSION,
            "blob": blob,
            "content_type": stored.content_type,
            "size": stored.size,
            "sha256": stored.sha256,
            "created": stored.created.isoformat(),
        }
        _write_atomic(directory / f"{stored.key}.json", json.dumps(document).encode())
        if previous is not None:
            (directory / previous.blob).unlink(missing_ok=True)

    def _read_sidecar(self, directory: Path, namespace: str, key: str) -> _Sidecar:
        try:
            raw = (directory / f"{key}.json").read_bytes()
        except FileNotFoundError:
            raise FileNotFound(f"no file {namespace}/{key}") from None
        try:
            document = json.loads(raw)
            blob = document["blob"]
            # The blob name is read from disk; it must not lead anywhere but to this key's blob.
            if not (
                isinstance(blob, str)
                and blob.startswith(key)
                and _BLOB_SUFFIX.fullmatch(blob[len(key) :])
            ):
                raise ValueError("unexpected blob name")
            stored = StoredFile(
                namespace=namespace,
                key=key,
                content_type=str(document["content_type"]),
                size=int(document["size"]),
                sha256=str(document["sha256"]),
                created=datetime.fromisoformat(document["created"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise FileCorrupted(f"unreadable metadata for {namespace}/{key}") from exc
        return _Sidecar(stored=stored, blob=blob)

    async def get(self, namespace: str, key: str) -> tuple[bytes, StoredFile]:
        """Content and metadata; the sealing's own error if the blob does not open."""
        directory = self._directory(namespace, key)
        return await asyncio.to_thread(self._get, directory, namespace, key)

    def _get(self, directory: Path, namespace: str, key: str) -> tuple[bytes, StoredFile]:
        for _ in range(_READ_ATTEMPTS):
            sidecar = self._read_sidecar(directory, namespace, key)
            try:
                sealed = (directory / sidecar.blob).read_bytes()
            except FileNotFoundError:
                continue
            content = self._sealing.open(sealed, file_context(namespace, key))
            stored = sidecar.stored
            if len(content) != stored.size or hashlib.sha256(content).hexdigest() != stored.sha256:
                raise FileCorrupted(f"content of {namespace}/{key} does not match its metadata")
            return content, stored
        raise FileCorrupted(f"content of {namespace}/{key} is missing")

    async def delete(self, namespace: str, key: str) -> None:
        """Remove the file; deleting a missing file is not an error, so retries are safe."""
        directory = self._directory(namespace, key)
        await asyncio.to_thread(self._delete, directory, namespace, key)

    def _delete(self, directory: Path, namespace: str, key: str) -> None:
        try:
            blob: str | None = self._read_sidecar(directory, namespace, key).blob
        except FileNotFound:
            return
        except FileCorrupted:
            blob = None
        # Sidecar first: once it is gone the file does not exist, whatever happens next.
        (directory / f"{key}.json").unlink(missing_ok=True)
        _fsync_directory(directory)
        if blob is not None:
            (directory / blob).unlink(missing_ok=True)

    async def exists(self, namespace: str, key: str) -> bool:
        directory = self._directory(namespace, key)
        return await asyncio.to_thread((directory / f"{key}.json").is_file)
