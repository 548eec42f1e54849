"""AWS without an account: moto's in-process stand-in for SNS, SQS, KMS, S3, Secrets Manager.

moto 5 keeps asymmetric KMS keys but does not decrypt an RSAES_OAEP ciphertext made outside it
(its Decrypt only opens its own symmetric format). `aws` teaches it that one operation, with the
key's own private key and the padding KMS documents, so wrapping with the public key here and
unwrapping through KMS Decrypt are both exercised.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.kms.exceptions import InvalidCiphertextException
from moto.kms.models import KmsBackend

from clearway.kit import aws
from clearway.kit.crypto.kms import OAEP

REGION = "eu-central-1"


def _decrypt_rsa_oaep(original: Any) -> Any:
    def decrypt(
        self: KmsBackend,
        ciphertext_blob: bytes,
        encryption_context: dict[str, str],
        key_id: str | None = None,
    ) -> tuple[bytes, str]:
        if key_id is not None:
            key = self.keys[self.any_id_to_key_id(key_id)]
            if key.key_spec.startswith("RSA_") and key.key_usage == "ENCRYPT_DECRYPT":
                try:
                    plaintext = key.private_key.private_key.decrypt(ciphertext_blob, OAEP)
                except ValueError:
                    raise InvalidCiphertextException() from None
                return plaintext, key.arn
        result: tuple[bytes, str] = original(self, ciphertext_blob, encryption_context, key_id)
        return result

    return decrypt


@pytest.fixture
def aws_stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto active for the test, with fake credentials and fresh clients."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(KmsBackend, "decrypt", _decrypt_rsa_oaep(KmsBackend.decrypt))
    aws._client.cache_clear()
    with mock_aws():
        yield
    aws._client.cache_clear()
