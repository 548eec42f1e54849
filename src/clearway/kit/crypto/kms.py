"""The key service on AWS: KMS asymmetric master keys wrap the data keys, Secrets Manager keeps
the named secrets.

Each master key version is a KMS key (RSA 3072, encrypt/decrypt) under the alias
`<prefix>/v<version>`; the highest version is the active one, older ones stay so existing
wraps keep opening until they are rewrapped (rotation as in `LocalKeyStore`). Wrapping happens
here with the public key, fetched once per version: no KMS call per wrap. Unwrapping is a KMS
Decrypt, which only the key service's role may call (the key policy says so): in a function
that lacks it, `decrypt` is a call to that function (`clearway.runtime.aws.keys`).

RSA-OAEP takes no associated data, so the context is bound inside the plaintext: the data key
followed by a hash of the version and context, checked after Decrypt. A wrap moved to another
context opens to a hash that does not match, which is the same refusal HPKE's `info` gives.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from clearway.kit.crypto.errors import DecryptionError, KeyStoreError
from clearway.kit.crypto.keystore import VERSION_BYTES, KeyState, MasterKey

ALGORITHM = "RSAES_OAEP_SHA_256"
KEY_SPEC = "RSA_3072"
DIGEST_BYTES = 32
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

Decrypt = Callable[[str, bytes], bytes]
"""(key id or alias, ciphertext) → plaintext: KMS Decrypt, here or in the key service."""


def binding(prefix: bytes, context: bytes) -> bytes:
    """What ties a wrapped data key to its master key version and context."""
    return hashlib.sha256(b"clearway|kms-wrap|" + prefix + context).digest()


def check_unwrapped(plaintext: bytes, prefix: bytes, context: bytes) -> bytes:
    """The data key out of a decrypted wrap, once its binding matches `context`."""
    data_key, bound = plaintext[:-DIGEST_BYTES], plaintext[-DIGEST_BYTES:]
    if len(plaintext) <= DIGEST_BYTES or not hmac.compare_digest(bound, binding(prefix, context)):
        raise DecryptionError("wrapped key does not open in this context")
    return data_key


def kms_decrypt(kms: Any) -> Decrypt:
    """Decrypt with KMS itself (in the key service's function)."""

    def decrypt(key: str, ciphertext: bytes) -> bytes:
        try:
            answer = kms.decrypt(
                KeyId=key, CiphertextBlob=ciphertext, EncryptionAlgorithm=ALGORITHM
            )
        except kms.exceptions.InvalidCiphertextException as exc:
            raise DecryptionError("KMS could not decrypt the wrapped key") from exc
        plaintext: bytes = answer["Plaintext"]
        return plaintext

    return decrypt


@dataclass(frozen=True, slots=True)
class _Version:
    version: int
    alias: str
    public: rsa.RSAPublicKey | None


class KmsKeyStore:
    """`KeyService` and key administration on KMS; named secrets in Secrets Manager."""

    def __init__(
        self,
        kms: Any,
        secrets: Any,
        *,
        alias_prefix: str = "alias/clearway/master",
        secrets_prefix: str = "clearway/",
        decrypt: Decrypt | None = None,
    ) -> None:
        if not alias_prefix.startswith("alias/"):
            raise KeyStoreError(f"the KMS alias prefix must start with 'alias/': {alias_prefix}")
        self._kms = kms
        self._secrets_client = secrets
        self.alias_prefix = alias_prefix.rstrip("/")
        self.secrets_prefix = secrets_prefix
        self._decrypt = decrypt or kms_decrypt(kms)
        self._versions: dict[int, _Version] = {}
        self._active = 0
        self._secrets: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def alias(self, version: int) -> str:
        return f"{self.alias_prefix}/v{version}"

    def ensure(self) -> None:
        """Create master key version 1 if there is none (the template normally has), then load."""
        self.reload()
        if not self._versions:
            self._create(1)
            self.reload()

    def reload(self) -> None:
        """Re-read the versions: another process may have rotated."""
        found: dict[int, _Version] = {}
        paginator = self._kms.get_paginator("list_aliases")
        for page in paginator.paginate():
            for alias in page["Aliases"]:
                name: str = alias["AliasName"]
                stem, _, number = name.rpartition("/v")
                if stem == self.alias_prefix and number.isdigit() and "TargetKeyId" in alias:
                    version = int(number)
                    known = self._versions.get(version)
                    found[version] = known or _Version(version, name, None)
        with self._lock:
            self._versions = found
            self._active = max(found, default=0)

    def active_version(self) -> int:
        if not self._active:
            self.ensure()
        return self._active

    def versions(self) -> tuple[MasterKey, ...]:
        keys = []
        for version in sorted(self._versions):
            described = self._kms.describe_key(KeyId=self.alias(version))["KeyMetadata"]
            created = described["CreationDate"]
            if isinstance(created, datetime) and created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            state: KeyState = "active" if version == self._active else "retired"
            keys.append(MasterKey(version, state, created))
        return tuple(keys)

    def rotate(self) -> int:
        """A new KMS key becomes the active version; the old ones stay for existing wraps."""
        self.reload()
        self._create(self._active + 1)
        self.reload()
        return self._active

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        version = self.active_version()
        prefix = version.to_bytes(VERSION_BYTES, "big")
        public = self._public(version)
        return prefix + public.encrypt(data_key + binding(prefix, context), OAEP)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        if len(wrapped) <= VERSION_BYTES:
            raise DecryptionError("wrapped key is truncated")
        prefix = wrapped[:VERSION_BYTES]
        version = int.from_bytes(prefix, "big")
        if version not in self._versions:
            self.reload()
            if version not in self._versions:
                raise DecryptionError(f"unknown master key version {version}")
        plaintext = self._decrypt(self.alias(version), wrapped[VERSION_BYTES:])
        return check_unwrapped(plaintext, prefix, context)

    def secret(self, name: str, size: int = 32) -> bytes:
        """A named random secret in Secrets Manager, created on first use."""
        value = self._secrets.get(name)
        if value is None:
            value = self._read_or_create_secret(self.secrets_prefix + name, size)
            self._secrets[name] = value
        if len(value) != size:
            raise KeyStoreError(f"secret {name!r} holds {len(value)} bytes, not {size}")
        return value

    def _read_or_create_secret(self, secret_id: str, size: int) -> bytes:
        client = self._secrets_client
        try:
            value: bytes = client.get_secret_value(SecretId=secret_id)["SecretBinary"]
            return value
        except client.exceptions.ResourceNotFoundException:
            pass
        # Another function may make it first: then theirs is read.
        with suppress(client.exceptions.ResourceExistsException):
            client.create_secret(Name=secret_id, SecretBinary=os.urandom(size))
        created: bytes = client.get_secret_value(SecretId=secret_id)["SecretBinary"]
        return created

    def _public(self, version: int) -> rsa.RSAPublicKey:
        known = self._versions[version]
        if known.public is not None:
            return known.public
        der = self._kms.get_public_key(KeyId=known.alias)["PublicKey"]
        public = serialization.load_der_public_key(der)
        if not isinstance(public, rsa.RSAPublicKey):
            raise KeyStoreError(f"master key {known.alias} is not an RSA key")
        with self._lock:
            self._versions[version] = _Version(version, known.alias, public)
        return public

    def _create(self, version: int) -> None:
        options: dict[str, Any] = {}
        if version > 1:
            # The new version is guarded as the old one: only the key service may decrypt.
            # GetKeyPolicy takes a key id, not an alias.
            previous = self._kms.describe_key(KeyId=self.alias(version - 1))["KeyMetadata"]
            policy = self._kms.get_key_policy(KeyId=previous["KeyId"], PolicyName="default")
            options["Policy"] = policy["Policy"]
        key = self._kms.create_key(
            KeySpec=KEY_SPEC,
            KeyUsage="ENCRYPT_DECRYPT",
            Description=f"Clearway master key version {version}",
            **options,
        )
        key_id = key["KeyMetadata"]["KeyId"]
        self._kms.create_alias(AliasName=self.alias(version), TargetKeyId=key_id)
