"""The internal credential as the gateway forwards it: the current token, encoded once per token."""

from __future__ import annotations

import time

import pytest

from clearway.kit import internal_auth
from clearway.kit.internal_auth import (
    INTERNAL_HEADER,
    LIFETIME_SECONDS,
    RENEW_BEFORE_SECONDS,
    InternalCredentials,
)


def test_the_header_carries_the_current_token_and_follows_its_renewal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    credentials = InternalCredentials(b"s" * 32)
    first = credentials.token()
    assert credentials.header() == (INTERNAL_HEADER, first.encode())
    renewal_due = time.time() + LIFETIME_SECONDS - RENEW_BEFORE_SECONDS + 1
    monkeypatch.setattr(internal_auth.time, "time", lambda: renewal_due)
    name, value = credentials.header()
    assert value != first.encode()
    assert (name, value) == (INTERNAL_HEADER, credentials.token().encode())
    assert credentials.verify(value.decode())
