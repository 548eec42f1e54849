"""Unknown key ids: a rotated-in key is fetched at once, random kids cannot make the gateway
fetch the JWKS at will."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from joserfc.jwk import OKPKey

from clearway.gateway import auth
from clearway.gateway.auth import InvalidToken, RevocationList, TokenVerifier
from tests.support import mint


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "clearway",
        "aud": "clearway-api",
        "sub": "u1",
        "role": "customer",
        "sid": "s1",
        "iat": now,
        "exp": now + 300,
    }


def _key(kid: str) -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid, "alg": "Ed25519"})


async def test_a_new_key_is_fetched_at_once_and_random_kids_share_fetches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An interval far longer than the test: every fetch after the first waits for it, and the
    # waiting is recorded instead of slept (one turn of the loop, so other requests get in).
    monkeypatch.setattr(auth, "JWKS_REFRESH_MIN_SECONDS", 600.0)
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float) -> None:
        waits.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(auth.asyncio, "sleep", sleep)
    published = [_key("old")]
    fetches = 0

    async def fetch() -> dict[str, Any]:
        nonlocal fetches
        fetches += 1
        return {"keys": [k.as_dict(private=False) for k in published]}

    verifier = TokenVerifier("clearway", "clearway-api", fetch, RevocationList())
    await verifier.refresh_keys()
    assert (await verifier.authenticate(mint(published[0], _claims()))).user_id == "u1"

    # Rotation right after a fetch: the new key's token passes after the fetch interval at
    # most, not on a schedule.
    published.append(_key("new"))
    assert (await verifier.authenticate(mint(published[1], _claims()))).role == "customer"
    assert len(waits) == 1 and 0 < waits[0] <= 600, waits
    assert fetches == 2

    # Fifty tokens with made-up kids at once: one more fetch, all refused.
    strangers = [mint(_key(f"kid-{i}"), _claims()) for i in range(50)]
    results = await asyncio.gather(
        *(verifier.authenticate(t) for t in strangers), return_exceptions=True
    )
    assert all(isinstance(r, InvalidToken) for r in results)
    assert fetches == 3
    assert len(waits) == 2  # the first of them waited out the interval; the rest shared it


async def test_unknown_kid_is_refused_when_the_jwks_does_not_have_it() -> None:
    key = _key("only")

    async def fetch() -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False)]}

    verifier = TokenVerifier("clearway", "clearway-api", fetch, RevocationList())
    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier.authenticate(mint(_key("other"), _claims()))
