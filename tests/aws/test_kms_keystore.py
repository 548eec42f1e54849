"""Master keys in KMS: wrapped here with the public key, unwrapped by KMS Decrypt (moto)."""

from __future__ import annotations

import os

import boto3
import orjson
import pytest

from clearway.kit.crypto import DecryptionError, KeyStore, Sealer
from clearway.kit.crypto.kms import KmsKeyStore
from clearway.runtime.aws import handlers
from clearway.runtime.aws.invoke import lambda_decrypt
from clearway.settings import Settings

from .conftest import REGION

pytestmark = pytest.mark.usefixtures("aws_stand_in")


def kms_store(**options: object) -> KmsKeyStore:
    store = KmsKeyStore(
        boto3.client("kms", region_name=REGION),
        boto3.client("secretsmanager", region_name=REGION),
        **options,  # type: ignore[arg-type]
    )
    store.ensure()
    return store


def test_wraps_locally_and_unwraps_through_kms_decrypt() -> None:
    store = kms_store()
    data_key = os.urandom(32)
    wrapped = store.wrap(data_key, b"orders|user-1")
    assert store.active_version() == 1
    assert int.from_bytes(wrapped[:4], "big") == 1
    assert store.unwrap(wrapped, b"orders|user-1") == data_key
    with pytest.raises(DecryptionError, match="context"):
        store.unwrap(wrapped, b"orders|user-2")
    tampered = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(DecryptionError):
        store.unwrap(tampered, b"orders|user-1")


def test_the_public_key_is_fetched_once_per_version(monkeypatch: pytest.MonkeyPatch) -> None:
    store = kms_store()
    calls: list[str] = []
    fetch = store._kms.get_public_key

    def counted(**kwargs: str) -> object:
        calls.append(kwargs["KeyId"])
        return fetch(**kwargs)

    monkeypatch.setattr(store._kms, "get_public_key", counted)
    for _ in range(5):
        store.wrap(os.urandom(32), b"c")
    assert calls == ["alias/clearway/master/v1"]


def test_rotation_keeps_old_wraps_opening_and_is_seen_by_other_processes() -> None:
    store = kms_store()
    other = kms_store()  # another function of the same deployment
    old = store.wrap(b"k" * 32, b"ctx")
    kms = boto3.client("kms", region_name=REGION)
    first = kms.describe_key(KeyId="alias/clearway/master/v1")["KeyMetadata"]["KeyId"]
    guarded = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "KeyServiceOnly",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    kms.put_key_policy(KeyId=first, PolicyName="default", Policy=orjson.dumps(guarded).decode())
    assert store.rotate() == 2
    assert [(k.version, k.state) for k in store.versions()] == [(1, "retired"), (2, "active")]
    new = store.wrap(b"n" * 32, b"ctx")
    assert int.from_bytes(new[:4], "big") == 2
    policies = [
        kms.get_key_policy(
            KeyId=kms.describe_key(KeyId=f"alias/clearway/master/v{n}")["KeyMetadata"]["KeyId"],
            PolicyName="default",
        )["Policy"]
        for n in (1, 2)
    ]
    assert [orjson.loads(p) for p in policies] == [guarded, guarded], "the policy is kept"
    # The other process meets version 2 for the first time: it re-reads the aliases.
    assert other.unwrap(new, b"ctx") == b"n" * 32
    assert other.unwrap(old, b"ctx") == b"k" * 32


def test_named_secrets_live_in_secrets_manager_and_are_shared() -> None:
    first, second = kms_store(), kms_store()
    secret = first.secret("internal-credential")
    assert len(secret) == 32
    assert second.secret("internal-credential") == secret
    stored = boto3.client("secretsmanager", region_name=REGION).get_secret_value(
        SecretId="clearway/internal-credential"
    )
    assert stored["SecretBinary"] == secret


def test_sealed_envelopes_open_on_kms() -> None:
    """The envelope code is the one every service uses, only the key service differs."""
    store: KeyStore = kms_store()
    sealer = Sealer(store)
    sealed = sealer.seal(b"hello", "file|docs|a")
    assert sealer.open(sealed, "file|docs|a") == b"hello"
    with pytest.raises(DecryptionError):
        sealer.open(sealed, "file|docs|b")


def test_only_the_key_service_function_calls_decrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """A function without kms:Decrypt unwraps through the key service's function (Invoke)."""
    monkeypatch.setenv("CLEARWAY_AWS_REGION", REGION)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        aws_region=REGION,
        kms_unwrap_function="clearway-keys",
    )
    invoked: list[str] = []

    def invoke(function: str, payload: bytes) -> bytes:
        invoked.append(function)
        # As Lambda does: JSON in, JSON out.
        return orjson.dumps(handlers.keys(orjson.loads(payload), None))

    owner = kms_store()
    user = kms_store(decrypt=lambda_decrypt(settings, invoke))
    wrapped = owner.wrap(b"d" * 32, b"ctx")
    assert user.unwrap(wrapped, b"ctx") == b"d" * 32
    assert invoked == ["clearway-keys"]
    with pytest.raises(DecryptionError):
        user.unwrap(wrapped, b"other")
    with pytest.raises(ValueError, match="Clearway master key"):
        handlers.keys({"key": "alias/someone-else", "ciphertext": ""}, None)
