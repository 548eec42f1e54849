"""Personal data is never on disk in clear, a moved ciphertext does not open, keys rotate."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    PASSWORD,
    Api,
    bearer,
    database_contents,
    query_sql,
    run_sql,
)
from tests.support import assert_problem, claims_of, eventually, mails, platform_api

pytestmark = pytest.mark.asyncio(loop_scope="package")

PEOPLE = [
    {
        "email": "zebulon.quintessa@plaintext-probe.example",
        "name": "Zebulon Quintessa",
        "company": "Xylophage Kombinat",
        "phone": "+49 171 9988776",
    },
    {
        "email": "ophelia.marchbanks@plaintext-probe.example",
        "name": "Ophelia Marchbanks",
        "company": "Quarkwerk Precision",
        "phone": "+33 6 55443322",
    },
]


def _disk_bytes(data_dir: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}


async def _populate(api: Api) -> list[str]:
    ids = []
    for person in PEOPLE:
        response = await api.register(
            person["email"],
            role="provider",
            name=person["name"],
            company=person["company"],
            phone=person["phone"],
            country="DE",
        )
        assert response.status_code == 201
        ids.append(await api.user_id(person["email"]))
    # Mail, a reset link and a changed profile put the values into other tables too.
    for person in PEOPLE:
        await mails(api, person["email"], "welcome")
        await api.client.post("/api/identity/password/forgot", json={"email": person["email"]})
        await mails(api, person["email"], "password_reset")
    return ids


async def test_no_personal_data_in_clear_on_disk(shared_api: Api) -> None:
    api = shared_api
    await _populate(api)
    settings = api.platform.settings
    files = _disk_bytes(settings.resolved_data_dir)
    if settings.database_url:  # PostgreSQL keeps its files elsewhere: read what it holds
        files |= {Path(s): database_contents(settings, s) for s in api.platform.hosted}
    else:
        assert any(p.name == "identity.db" for p in files)
        assert any(p.name.endswith("-wal") for p in files)
    leaks = []
    for person in PEOPLE:
        for value in person.values():
            for form in {value, value.lower(), value.replace(" ", "")}:
                for encoding in ("utf-8", "utf-16-le"):
                    needle = form.encode(encoding)
                    leaks += [f"{form!r} in {p}" for p, blob in files.items() if needle in blob]
    assert not leaks, leaks


async def test_a_ciphertext_moved_to_another_row_does_not_open(
    tmp_path: Path, seeded_data_dir: Path
) -> None:
    async with platform_api(tmp_path / "data", seed=seeded_data_dir) as api:
        await _moved_ciphertext(api)


async def _moved_ciphertext(api: Api) -> None:
    a_id, b_id = await _populate(api)
    settings = api.platform.settings
    ((a_name,),) = query_sql(settings, "identity", "SELECT name_enc FROM users WHERE id = ?", a_id)
    run_sql(settings, "identity", [("UPDATE users SET name_enc = ? WHERE id = ?", (a_name, b_id))])
    admin = await api.admin_token()
    response = await api.client.get(f"/api/identity/users/{b_id}", headers=bearer(admin))
    assert PEOPLE[0]["name"] not in response.text
    assert PEOPLE[0]["email"] not in response.text
    body = assert_problem(response)
    assert "Traceback" not in response.text
    # Tampered storage is an integrity failure, not bad input: a 500 that says which kind.
    assert response.status_code == 500
    assert body["type"].endswith("/data-integrity")
    listing = await api.client.get("/api/identity/users", headers=bearer(admin))
    assert PEOPLE[0]["name"] not in listing.text.replace(PEOPLE[0]["email"], "")
    # A is untouched.
    a = await api.client.get(f"/api/identity/users/{a_id}", headers=bearer(admin))
    assert a.json()["name"] == PEOPLE[0]["name"]


async def test_master_key_rotation_keeps_everything_readable(shared_api: Api) -> None:
    api = shared_api
    ids = await _populate(api)
    customer = await api.customer("before-rotation@example.com")
    before_kid = {k["kid"] for k in (await api.client.get("/.well-known/jwks.json")).json()["keys"]}
    admin = await api.admin_token()
    settings = api.platform.settings

    def stale_keys(version: int) -> list[tuple[str, int]]:
        stale = []
        for service in api.platform.hosted:
            ((count,),) = query_sql(
                settings,
                service,
                "SELECT count(*) FROM data_keys WHERE wrapped IS NOT NULL AND master_version != ?",
                version,
            )
            if count:
                stale.append((service, count))
        return stale

    before = (await api.client.get("/api/common/keys", headers=bearer(admin))).json()
    old = next(v["version"] for v in before if v["state"] == "active")
    assert {s for s, _ in stale_keys(old + 1)} >= {"identity", "common"}, "keys to rewrap"

    rotated = await api.client.post("/api/common/keys/rotate", headers=bearer(admin))
    assert rotated.status_code == 200, rotated.text
    version = rotated.json()["version"]
    assert version == old + 1
    versions = (await api.client.get("/api/common/keys", headers=bearer(admin))).json()
    assert [v["version"] for v in versions if v["state"] == "active"] == [version]
    assert {v["version"] for v in versions if v["state"] == "retired"} >= {old}

    async def rewrapped() -> bool:
        for service in api.platform.hosted:
            api.platform.jobs.trigger(f"{service}-rewrap-data-keys")
        await asyncio.sleep(0.05)
        return not stale_keys(version)

    await eventually(rewrapped)

    # Every record reads, through every path.
    for user_id, person in zip(ids, PEOPLE, strict=True):
        profile = await api.client.get(f"/api/identity/users/{user_id}", headers=bearer(admin))
        assert profile.status_code == 200
        assert {k: profile.json()[k] for k in person} == person
        assert (await mails(api, person["email"], "welcome"))[0]["recipient"] == person["email"]
    # Tokens signed before the rotation still pass; the JWKS keeps their key.
    me = await api.client.get("/api/identity/me", headers=bearer(customer))
    assert me.status_code == 200
    after_kid = {k["kid"] for k in (await api.client.get("/.well-known/jwks.json")).json()["keys"]}
    assert before_kid <= after_kid
    # Sign-in still works, and the new token passes the gateway at once.
    fresh = await api.login("before-rotation@example.com", PASSWORD)
    me = await api.client.get("/api/identity/me", headers=bearer(fresh["access_token"]))
    assert me.status_code == 200, me.text
    admin_again = await api.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    listing = await api.client.get("/api/identity/users", headers=bearer(admin_again))
    assert listing.status_code == 200, listing.text
    assert claims_of(admin_again)["role"] == "admin"
    # New data goes under the new version.
    await api.register("after-rotation@example.com", name="After Rotation")
    assert not stale_keys(version)
    assert (await mails(api, "after-rotation@example.com", "welcome"))[0]
