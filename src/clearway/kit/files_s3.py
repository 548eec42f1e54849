"""File storage on S3: the `FileStore` of a deployment on AWS.

Objects live at `<service>/<namespace>/<key>` in one bucket, encrypted by S3 under the
deployment's KMS key (SSE-KMS, with an S3 Bucket Key so S3 does not call KMS per object) and,
as everywhere, sealed by Clearway first with the context `file|namespace|key`: a bucket reader
without the key service sees ciphertext, and an object copied under another key does not open.
Metadata travels as the object's own metadata, so a put is one atomic request, and a reader
never pairs new metadata with old content. Reads stream the body in chunks; the content is
sealed, so a presigned URL would only hand out ciphertext: downloads go through the service.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from typing import Any

from clearway.kit.files import (
    FileCorrupted,
    FileNotFound,
    Sealing,
    StoredFile,
    check_name,
    describe,
    file_context,
)

CHUNK = 1024 * 1024


class S3FileStore:
    """Files of one service in an S3 bucket (SSE-KMS), sealed by Clearway before upload."""

    def __init__(
        self, s3: Any, bucket: str, service: str, sealing: Sealing, kms_key_id: str = ""
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._service = service
        self._sealing = sealing
        self._kms_key_id = kms_key_id

    def _object(self, namespace: str, key: str) -> str:
        check_name(namespace, "namespace")
        check_name(key, "key")
        return f"{self._service}/{namespace}/{key}"

    async def put(self, namespace: str, key: str, content: bytes, content_type: str) -> StoredFile:
        name = self._object(namespace, key)
        stored = describe(namespace, key, content, content_type)
        await asyncio.to_thread(self._put, name, stored, content)
        return stored

    def _put(self, name: str, stored: StoredFile, content: bytes) -> None:
        sealed = self._sealing.seal(content, file_context(stored.namespace, stored.key))
        encryption: dict[str, Any] = {"ServerSideEncryption": "aws:kms", "BucketKeyEnabled": True}
        if self._kms_key_id:
            encryption["SSEKMSKeyId"] = self._kms_key_id
        self._s3.put_object(
            Bucket=self._bucket,
            Key=name,
            Body=sealed,
            ContentType="application/octet-stream",
            Metadata={
                "content-type": stored.content_type,
                "size": str(stored.size),
                "sha256": stored.sha256,
                "created": stored.created.isoformat(),
            },
            **encryption,
        )

    async def get(self, namespace: str, key: str) -> tuple[bytes, StoredFile]:
        name = self._object(namespace, key)
        return await asyncio.to_thread(self._get, name, namespace, key)

    def _get(self, name: str, namespace: str, key: str) -> tuple[bytes, StoredFile]:
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=name)
        except self._s3.exceptions.NoSuchKey:
            raise FileNotFound(f"no file {namespace}/{key}") from None
        sealed = b"".join(answer["Body"].iter_chunks(CHUNK))
        try:
            metadata = answer["Metadata"]
            stored = StoredFile(
                namespace=namespace,
                key=key,
                content_type=str(metadata["content-type"]),
                size=int(metadata["size"]),
                sha256=str(metadata["sha256"]),
                created=datetime.fromisoformat(metadata["created"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise FileCorrupted(f"unreadable metadata for {namespace}/{key}") from exc
        content = self._sealing.open(sealed, file_context(namespace, key))
        if len(content) != stored.size or hashlib.sha256(content).hexdigest() != stored.sha256:
            raise FileCorrupted(f"content of {namespace}/{key} does not match its metadata")
        return content, stored

    async def delete(self, namespace: str, key: str) -> None:
        """Remove the file; deleting a missing file is not an error (S3 agrees)."""
        name = self._object(namespace, key)
        await asyncio.to_thread(self._s3.delete_object, Bucket=self._bucket, Key=name)

    async def exists(self, namespace: str, key: str) -> bool:
        name = self._object(namespace, key)
        return await asyncio.to_thread(self._exists, name)

    def _exists(self, name: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=name)
        except self._s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True
