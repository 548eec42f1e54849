"""No user enumeration: registration, password reset and sign-in answer alike for any address."""

from __future__ import annotations

from pathlib import Path

import argon2
import pytest

from tests.conftest import PASSWORD, Api
from tests.support import mails, platform_api


def _same(a: object, b: object) -> None:
    assert a == b, f"{a!r} != {b!r}"


async def test_registering_a_taken_address_looks_like_a_new_registration(api: Api) -> None:
    first = await api.register("taken@example.com", name="First Owner")
    again = await api.register("taken@example.com", name="Someone Else", role="provider")
    fresh = await api.register("fresh@example.com")
    for response in (first, again):
        _same(response.status_code, fresh.status_code)
        _same(response.json(), fresh.json())
        _same(response.headers["content-type"], fresh.headers["content-type"])
    # The owner learns of the attempt by mail; the account is unchanged.
    notice = await mails(api, "taken@example.com", "registration_repeated")
    assert "First Owner" in notice[0]["text"]
    assert "Someone Else" not in notice[0]["text"]
    tokens = await api.login("taken@example.com")
    assert tokens["access_token"]


async def test_sign_in_answers_alike_for_unknown_address_and_wrong_password(
    tmp_path: Path, seeded_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same work for both: one argon2 verification per attempt, against a hash of the same
    # cost (an unknown address is checked against a stand-in hash). Counted rather than timed,
    # so a busy machine cannot make the answer flip.
    verified: list[argon2.Parameters] = []
    real_verify = argon2.PasswordHasher.verify

    def counting_verify(self: argon2.PasswordHasher, hash: str | bytes, password: str) -> bool:
        verified.append(argon2.extract_parameters(hash if isinstance(hash, str) else hash.decode()))
        return real_verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    async with platform_api(tmp_path / "data", seed=seeded_data_dir) as api:
        await api.register("real@example.com")
        work: dict[str, list[argon2.Parameters]] = {"unknown": [], "wrong": []}
        bodies: dict[str, set[bytes]] = {"unknown": set(), "wrong": set()}
        statuses: set[int] = set()
        # Four of each stays under the back-off (after 5 per account and address) and the
        # address limit (20).
        for attempt in range(4):
            for kind, email in (
                ("unknown", f"ghost{attempt}@example.com"),
                ("wrong", "real@example.com"),
            ):
                verified.clear()
                response = await api.client.post(
                    "/api/identity/login", json={"email": email, "password": "wrong-password-1"}
                )
                assert len(verified) == 1, (kind, verified)
                work[kind].extend(verified)
                bodies[kind].add(response.content)
                statuses.add(response.status_code)
        assert statuses == {401}
        assert bodies["unknown"] == bodies["wrong"]
        assert work["unknown"] == work["wrong"], work
        await api.login("real@example.com", PASSWORD)


pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def api(shared_api: Api) -> Api:
    """The package's shared platform: these tests only add users of their own."""
    return shared_api


async def test_forgot_password_answers_alike(api: Api) -> None:
    await api.register("member@example.com")
    known = await api.client.post(
        "/api/identity/password/forgot", json={"email": "member@example.com"}
    )
    unknown = await api.client.post(
        "/api/identity/password/forgot", json={"email": "stranger@example.com"}
    )
    _same(known.status_code, unknown.status_code)
    _same(known.content, unknown.content)
    _same(known.headers["content-type"], unknown.headers["content-type"])
