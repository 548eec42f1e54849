"""AWS without an account: moto's in-process stand-in for SNS, SQS, KMS, S3, Secrets Manager
(with the one KMS operation moto lacks taught to it: `moto_kms`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.kms.models import KmsBackend

from clearway.kit import aws

from .moto_kms import decrypt_rsa_oaep

REGION = "eu-central-1"


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
    monkeypatch.setattr(KmsBackend, "decrypt", decrypt_rsa_oaep(KmsBackend.decrypt))
    aws._client.cache_clear()
    with mock_aws():
        yield
    aws._client.cache_clear()
