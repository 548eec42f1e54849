"""Files on S3 (moto): sealed by Clearway, encrypted by S3 under KMS, metadata on the object."""

from __future__ import annotations

import boto3
import pytest

from clearway.kit.crypto import DecryptionError, Sealer
from clearway.kit.crypto.kms import KmsKeyStore
from clearway.kit.files import FileCorrupted, FileNotFound
from clearway.kit.files_s3 import S3FileStore

from .conftest import REGION

pytestmark = pytest.mark.usefixtures("aws_stand_in")
BUCKET = "clearway-files-test"


@pytest.fixture
def s3() -> object:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


@pytest.fixture
def sealer() -> Sealer:
    keys = KmsKeyStore(
        boto3.client("kms", region_name=REGION), boto3.client("secretsmanager", region_name=REGION)
    )
    keys.ensure()
    return Sealer(keys)


@pytest.fixture
def kms_key() -> str:
    key = boto3.client("kms", region_name=REGION).create_key(Description="files")
    return str(key["KeyMetadata"]["KeyId"])


async def test_put_get_delete_round_trip(s3: object, sealer: Sealer, kms_key: str) -> None:
    store = S3FileStore(s3, BUCKET, "orders", sealer, kms_key)
    content = b"%PDF-1.7 report" * 1000
    stored = await store.put("reports", "r1.pdf", content, "application/pdf")
    assert await store.exists("reports", "r1.pdf")
    got, meta = await store.get("reports", "r1.pdf")
    assert got == content
    assert meta == stored
    await store.delete("reports", "r1.pdf")
    await store.delete("reports", "r1.pdf")  # deleting twice is harmless
    assert not await store.exists("reports", "r1.pdf")
    with pytest.raises(FileNotFound):
        await store.get("reports", "r1.pdf")


async def test_objects_are_sealed_and_encrypted_under_kms(
    s3: object, sealer: Sealer, kms_key: str
) -> None:
    store = S3FileStore(s3, BUCKET, "orders", sealer, kms_key)
    await store.put("reports", "r1.pdf", b"secret findings", "application/pdf")
    raw = s3.get_object(Bucket=BUCKET, Key="orders/reports/r1.pdf")  # type: ignore[attr-defined]
    assert raw["ServerSideEncryption"] == "aws:kms"
    assert raw["SSEKMSKeyId"].endswith(kms_key)
    assert b"secret findings" not in raw["Body"].read()


async def test_an_object_copied_under_another_key_does_not_open(s3: object, sealer: Sealer) -> None:
    store = S3FileStore(s3, BUCKET, "orders", sealer)
    await store.put("reports", "a", b"alpha", "text/plain")
    s3.copy_object(  # type: ignore[attr-defined]
        Bucket=BUCKET,
        Key="orders/reports/b",
        CopySource={"Bucket": BUCKET, "Key": "orders/reports/a"},
    )
    with pytest.raises(DecryptionError):
        await store.get("reports", "b")


async def test_names_and_metadata_are_checked(s3: object, sealer: Sealer) -> None:
    store = S3FileStore(s3, BUCKET, "orders", sealer)
    with pytest.raises(ValueError, match="invalid key"):
        await store.put("reports", "../escape", b"x", "text/plain")
    with pytest.raises(ValueError, match="content_type"):
        await store.put("reports", "ok", b"x", "text/plain\r\nx-evil: 1")
    s3.put_object(Bucket=BUCKET, Key="orders/reports/bare", Body=b"x")  # type: ignore[attr-defined]
    with pytest.raises(FileCorrupted):
        await store.get("reports", "bare")
